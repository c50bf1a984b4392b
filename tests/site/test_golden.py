"""Golden files of the rendered pages of the fixed catalog.

The product pages' content (our template, not the theme around it), the generated Markdown pages
and the JSON API are compared byte for byte with tests/site/golden/. After an intended change,
regenerate them with ``PZCAT_UPDATE_GOLDEN=1 pytest tests/site/test_golden.py`` and review the diff.
Commit ids are normalised (they depend on the git version's object format only, but one
unexplained hash should not fail the suite).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from site_builder import render
from site_builder.collect import collect

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("PZCAT_UPDATE_GOLDEN") == "1"


def _normalise(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{40}\b", "<commit>", text)
    return re.sub(r"<code>[0-9a-f]{8}</code>", "<code><short></code>", text)


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    text = _normalise(text)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; run with PZCAT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (PZCAT_UPDATE_GOLDEN=1 to update)"


@pytest.fixture(scope="module")
def data(fixed_catalog, tmp_path_factory):
    return collect(fixed_catalog, tmp_path_factory.mktemp("cache"), workers=1)


@pytest.mark.parametrize("name", ["1_reference_redshifts", "2_ecdfs_training_set",
                                  "3_combined_redshifts", "4_bpz_model"])
def test_product_page_golden(data, name: str) -> None:
    m = next(m for m in data.manifests if m.internal_name == name)
    ctx = render.product_context(data, m)
    _check(f"product_{name}.html", render.render_product_content(ctx))
    _check(f"api_product_{name}.json",
           json.dumps(render.product_api(ctx, data.stats.get(name)), indent=1, sort_keys=True))


@pytest.mark.parametrize("page", ["index.md", "official/index.md", "product_types/index.md",
                                  "releases/index.md", "contribute/index.md", "downloads/index.md"])
def test_narrative_page_golden(data, page: str) -> None:
    summaries = [render.summary(m, data.catalog.config, data.stats.get(m.internal_name))
                 for m in data.manifests]
    pages = render.narrative_pages(data, summaries)
    _check("page_" + page.replace("/", "_"), pages[page])


def test_api_golden(data) -> None:
    summaries = [render.summary(m, data.catalog.config, data.stats.get(m.internal_name))
                 for m in data.manifests]
    docs = render.api_documents(data, summaries)
    for name, doc in docs.items():
        _check(f"api_{name}", json.dumps(doc, indent=1, sort_keys=True))


def test_long_histories_keep_the_page_small(data) -> None:
    """20 commits with long subjects: the page lists the latest 10, shortened; the JSON has all."""
    import dataclasses

    name = "1_reference_redshifts"
    m = next(m for m in data.manifests if m.internal_name == name)
    long = "Regenerate the reference sample " + "with a very long explanation " * 10
    entries = [
        {"commit": f"{k:040x}", "author": "alice", "date": "2026-01-01T00:00:00+00:00",
         "subject": f"{k}: {long}"}
        for k in range(20)
    ]
    busy = dataclasses.replace(data, histories={**data.histories, f"manifests/{name}.yaml": entries})
    ctx = render.product_context(busy, m)
    page = render.render_product_content(ctx)
    rows = re.findall(r"<tr><td>2026-01-01 00:00 UTC</td><td>alice</td><td>([^<]*)</td>", page)
    assert len(rows) == render.HISTORY_PAGE_ROWS and rows[0].startswith("0: Regenerate")
    assert all(len(r) <= render.HISTORY_SUBJECT_CHARS and r.endswith("…") for r in rows)
    assert "10 earlier changes in <a href=\"../../api/products/1_reference_redshifts.json\">" in page
    api = render.product_api(ctx, data.stats.get(name))
    assert [h["subject"] for h in api["history"]] == [e["subject"] for e in entries]

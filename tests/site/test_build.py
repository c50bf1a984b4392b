"""The strict site build of the fixed catalog: pages, navigation, JSON API, incremental rebuilds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from site_fixture_catalog import make_fixed_catalog

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from site_builder import render
from site_builder.build import build_site
from site_builder.plots import mollweide, nz_svg, sky_png
from site_builder.stats import table_stats

NAMES = ["1_reference_redshifts", "2_ecdfs_training_set", "3_combined_redshifts", "4_bpz_model"]


def _page(out: Path, name: str) -> str:
    return (out / "product" / name / "index.html").read_text(encoding="utf-8")


def test_strict_build_writes_every_page(built_site) -> None:
    out, result = built_site
    assert result.products == 4 and not result.problems
    assert result.pages_written == 4
    for page in ("index.html", "official/index.html", "user/index.html", "products/index.html",
                 "product_types/index.html", "releases/index.html", "pipelines/index.html",
                 "contribute/index.html", "downloads/index.html", "errors/index.html",
                 "assets/pzcat.js", "assets/pz-sky-frame.svg", ".nojekyll"):
        assert (out / page).is_file(), page
    for name in NAMES:
        assert (out / "product" / name / "index.html").is_file()
    assert not (out / "product" / render.SHELL_NAME).exists()
    assert render.SHELL_NAME not in (out / "sitemap.xml").read_text(encoding="utf-8")


def test_landing_page_has_three_cards_and_contributing(built_site) -> None:
    out, _ = built_site
    html = (out / "index.html").read_text(encoding="utf-8")
    cards = html[html.index('class="grid cards'):]
    for title in ("Official products", "User products", "Pipelines"):
        assert title in cards
    assert "How to contribute" in html


def test_product_pages_stay_out_of_the_navigation(built_site) -> None:
    out, _ = built_site
    for page in ("index.html", f"product/{NAMES[0]}/index.html"):
        html = (out / page).read_text(encoding="utf-8")
        start = html.index("md-nav--primary")
        nav = html[start:html.index('class="md-content"', start)]
        assert "product/" not in nav.replace("products/", "")
        assert "Official products" in nav


def test_product_page_content(built_site) -> None:
    out, _ = built_site
    ref = _page(out, "1_reference_redshifts")
    assert 'class="pz-badge pz-official"' in ref
    # the site and the server share an origin in catalog.yaml: relative links, any host and port
    assert 'href="../../../-/download/1_reference_redshifts.zip"' in ref
    assert 'href="../../../previews/1_reference_redshifts"' in ref
    assert 'href="../../../-/download/1_reference_redshifts/reference.csv"' in ref
    assert "127.0.0.1:8001/-/" not in ref and 'href="http://127.0.0.1:8001/previews' not in ref
    assert 'pz = PzServer(host="http://127.0.0.1:8001/site/"' in ref
    assert 'table = pz.get_product("1_reference_redshifts")' in ref and "table.to_pandas()" in ref
    assert 'id="pz-sky"' in ref and 'id="pz-nz"' in ref
    assert "pos.eq.ra;meta.main" in ref and "<th>Nulls</th>" in ref
    assert ref.count("<tr>", ref.index('id="pz-preview"')) >= 11   # header + 10 rows
    assert "<title>Reference redshifts - Test Photo-z Catalog</title>" in ref
    assert '<link rel="canonical" href="http://127.0.0.1:8001/site/product/1_reference_redshifts/">' in ref

    training = _page(out, "2_ecdfs_training_set")
    assert '<iframe class="pz-desc-frame" sandbox=""' in training
    assert "allow-scripts" not in training and "allow-same-origin" not in training
    assert "&lt;script&gt;alert" in training and "<script>alert" not in training
    assert 'id="pz-nz"' in training and 'id="pz-sky"' not in training    # no ra/dec: no sky map
    assert "Describe the ECDFS training set" in training and "alice" in training
    assert (out / "product" / "2_ecdfs_training_set" / "description.html").is_file()

    combined = _page(out, "3_combined_redshifts")
    assert "pzcat reproduce 3_combined_redshifts" in combined
    assert 'href="../1_reference_redshifts/"' in combined

    model = _page(out, "4_bpz_model")
    assert 'id="pz-preview"' not in model and "model.pkl" in model
    assert 'id="pz-datasette"' not in model              # no table, no Datasette link
    assert "pzcat reproduce" not in model


def test_product_pages_are_small(built_site) -> None:
    out, _ = built_site
    for name in NAMES:
        size = (out / "product" / name / "index.html").stat().st_size
        assert size <= 25 * 1024, (name, size)


def test_json_api(built_site) -> None:
    out, _ = built_site
    index = json.loads((out / "api" / "index.json").read_text(encoding="utf-8"))
    assert index["n_products"] == 4 and index["datasette_url"] == "../"
    assert index["admins"] == ["pz-coordination"]  # catalog.yaml's admins, user names only
    products = json.loads((out / "api" / "products.json").read_text(encoding="utf-8"))
    assert [p["internal_name"] for p in products["products"]] == NAMES
    assert products["count"] == 4
    assert "z_spec" in products["products"][1]["columns"]
    types = json.loads((out / "api" / "product_types.json").read_text(encoding="utf-8"))
    assert {t["name"]: t["count"] for t in types["product_types"]}["redshift_catalog"] == 2
    releases = json.loads((out / "api" / "releases.json").read_text(encoding="utf-8"))
    assert {r["name"]: r["count"] for r in releases["releases"]} == {"dp1": 2, "dr1": 0}
    one = json.loads((out / "api" / "products" / "1_reference_redshifts.json").read_text("utf-8"))
    assert one["manifest"]["internal_name"] == "1_reference_redshifts"
    z = next(c for c in one["statistics"]["columns"] if c["name"] == "z")
    assert z["nulls"] == 0 and z["min"] < z["mean"] < z["max"]
    assert one["statistics"]["n_rows"] == 200
    assert one["links"]["download"] == "../-/download/1_reference_redshifts.zip"   # from the site root


def test_client_reads_the_api(built_site) -> None:
    """The Python client's site mode reads exactly these files."""
    out, _ = built_site
    products = json.loads((out / "api" / "products.json").read_text(encoding="utf-8"))["products"]
    for p in products:
        doc = json.loads((out / p["api"]).read_text(encoding="utf-8"))
        assert doc["manifest"]["id"] == p["id"]
        assert (out / p["url"] / "index.html").is_file()


def test_pipelines_page_lists_the_translation_surveys(built_site) -> None:
    out, _ = built_site
    html = (out / "pipelines" / "index.html").read_text(encoding="utf-8")
    for text in ("Combine Redshift Catalogs", "Very high confidence", "Spectroscopic", "pull request"):
        assert text in html
    surveys, _ = render.translation_surveys(Path("/nonexistent"))
    if surveys:
        assert surveys[0] in html


def test_error_codes_page_is_generated(built_site) -> None:
    out, _ = built_site
    html = (out / "errors" / "index.html").read_text(encoding="utf-8")
    assert "checksum-mismatch" in html or "yaml-syntax" in html
    assert "site-build-failed" in html


def test_rebuild_is_incremental(tmp_path: Path) -> None:
    root = make_fixed_catalog(tmp_path / "catalog")
    out = tmp_path / "site"
    work = tmp_path / "work"
    first = build_site(Catalog.open(root), out, work_dir=work)
    assert first.pages_written == 4 and first.stats_computed == 3
    again = build_site(Catalog.open(root), out, work_dir=work)
    assert again.pages_written == 0 and again.stats_computed == 0 and again.stats_cached == 3

    path = root / "manifests" / "4_bpz_model.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["description"] = "A retrained BPZ prior."
    data["version"] = 2
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    changed = build_site(Catalog.open(root), out, work_dir=work)
    assert changed.pages_written == 1 and changed.stats_computed == 0
    assert "A retrained BPZ prior." in _page(out, "4_bpz_model")

    path.unlink()
    removed = build_site(Catalog.open(root), out, work_dir=work)
    assert not (out / "product" / "4_bpz_model").exists()
    assert not (out / "api" / "products" / "4_bpz_model.json").exists()
    assert removed.products == 3


def test_strict_build_fails_on_a_broken_link(tmp_path: Path, monkeypatch) -> None:
    root = make_fixed_catalog(tmp_path / "catalog")
    original = render.narrative_pages

    def broken(data, summaries):
        pages = original(data, summaries)
        pages["downloads/index.md"] += "\n[broken](../nowhere/missing.md)\n"
        return pages

    monkeypatch.setattr(render, "narrative_pages", broken)
    with pytest.raises(PzcatError) as info:
        build_site(Catalog.open(root), tmp_path / "site", work_dir=tmp_path / "work")
    assert info.value.code == "site-build-failed"
    assert "missing.md" in info.value.message


def test_cli_build_site(tmp_path: Path) -> None:
    from pzcat.cli import _register_extensions, cli

    _register_extensions()
    root = make_fixed_catalog(tmp_path / "catalog")
    result = CliRunner().invoke(cli, ["build-site", "--root", str(root), "--out",
                                      str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert "4 products" in result.output
    assert (tmp_path / "out" / "product" / "4_bpz_model" / "index.html").is_file()


# -- units -----------------------------------------------------------------------------------------

def test_table_stats_values(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("ra,dec,z,name\n10,-5,0.5,a\n20,5,,b\n30,0,1.5,\n", encoding="utf-8")
    st = table_stats(path, "csv", "ra", "dec", "z")
    cols = {c["name"]: c for c in st["columns"]}
    assert st["n_rows"] == 3 and st["error"] is None
    assert (cols["ra"]["min"], cols["ra"]["max"], cols["ra"]["mean"]) == (10, 30, 20)
    assert cols["z"]["nulls"] == 1 and cols["z"]["mean"] == 1.0
    assert cols["name"]["nulls"] == 1 and cols["name"]["min"] == "a"
    assert st["preview"]["rows"][1] == ["20", "5", None, "b"]
    assert st["sky"]["n"] == 3 and st["nz"]["n"] == 2


def test_table_stats_unreadable_gives_a_code(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not really")
    st = table_stats(path, "parquet")
    assert st["error"].startswith("truncated-parquet")


def test_mollweide_orientation() -> None:
    x, y = mollweide(np.array([0.0, 90.0, 270.0, 0.0]), np.array([0.0, 0.0, 0.0, 90.0]))
    assert abs(x[0]) < 1e-9 and abs(y[0]) < 1e-9
    assert x[1] < 0 < x[2]                    # RA increases to the left
    assert abs(y[3] - np.sqrt(2)) < 1e-6


def test_plots_are_deterministic() -> None:
    sky = {"w": 160, "h": 80, "n": 3, "cells": [[100, 1], [5000, 2]]}
    assert sky_png(sky) == sky_png(sky)
    assert sky_png(sky).startswith(b"\x89PNG")
    nz = {"step": 0.005, "n": 3, "outside": 0, "bins": [[10, 1], [200, 2]]}
    svg = nz_svg(nz)
    assert svg == nz_svg(nz)
    bars = re.search(r'<path class="pz-bars"[^>]* d="([^"]*)"', svg).group(1)
    assert bars.startswith("M60 260") and bars.endswith("V260z")   # one outline, from the axis
    assert [v for v in re.findall(r"V([\d.]+)", bars) if v != "260"] == ["140", "20"]  # 2 bars


def test_safe_markdown() -> None:
    html = str(render.safe_markdown("<img src=x onerror=alert(1)> [x](javascript:alert(1)) **b**"))
    assert "<img" not in html and "javascript:" not in html and "<strong>b</strong>" in html
    assert re.search(r"&lt;img", html)


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The repository's demo catalog (a git copy, so pages have their history), built strict."""
    from demo_copy import copy_catalog

    tmp = tmp_path_factory.mktemp("demo-site")
    catalog = Catalog.open(copy_catalog(tmp / "repo", git=True))
    out = tmp / "site"
    build_site(catalog, out, strict=True, work_dir=tmp / "work")
    return catalog, out


def test_every_demo_product_page_is_under_25_kb(demo_site) -> None:
    """The demo's widest pages (the 6-input combined product, the 81-column HATS one) included."""
    catalog, out = demo_site
    sizes = {m.internal_name: len(_page(out, m.internal_name).encode()) for m in catalog.manifests()}
    assert len(sizes) >= 12
    assert max(sizes.values()) < 25_000, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]


def test_combined_demo_product_shows_the_real_redshift_range(demo_site) -> None:
    """Its z keeps the inputs' placeholders (sentinels: keep, as the reference pipeline): the card,
    the column statistics and n(z) leave them out and say how many (pzcat.sentinels decides)."""
    import pyarrow.parquet as pq

    catalog, out = demo_site
    name = "12_combined_reference_redshifts"
    m = catalog.get(name)
    z = pq.read_table(catalog.resolve(m.main_file), columns=["z"]).column("z").to_numpy()
    # the placeholders in the file, counted independently of pzcat.sentinels: -1, -99 and 6dFGS's
    # -9.999 (z <= -1 is impossible) and VVDS/VANDELS' 9.9999 (some stored as float32) and 9.9994
    placeholder = (z <= -1) | ((z >= 9.999) & (z < 10))
    real = z[~placeholder & np.isfinite(z)]
    assert placeholder.sum() > 400 and (z >= 9.999).any() and (z < -1.5).any()
    page = _page(out, name)
    card = re.search(r'<dl class="pz-facts">.*?</dl>', page).group(0)
    redshift = re.search(r"<dt>Redshift \(z\)</dt><dd>([^<]*)</dd>", card).group(1)
    assert redshift.startswith(f"{real.min():.3g} – {real.max():.3g}, median "), redshift
    assert f"; {placeholder.sum():,} placeholder values" in redshift and "left out" in redshift
    assert real.max() < 9.9 and "– 10," not in redshift
    row = re.search(r"<tr><td><code>z</code></td>(.*?)</tr>", page).group(1)
    assert f"<td>{real.max():.6g}</td>" in row and f"+ {placeholder.sum():,} placeholders" in row
    assert f"left out: {placeholder.sum():,} placeholder values" in page  # the n(z) caption
    # the run's full configuration is a linked file next to the page, not inline
    assert 'href="provenance.txt"' in page and "<details><summary>Full configuration" not in page
    prov = (out / "product" / name / "provenance.txt").read_text(encoding="utf-8")
    assert "crossmatch_radius_arcsec" in prov and "software:" in prov
    assert yaml.safe_load(prov)["config"] == m.provenance.model_dump(mode="json")["config"]
    assert not (out / "product" / "1_vvds_final_release_sample" / "provenance.txt").exists()


def test_wide_tables_list_the_associated_columns_and_the_first_others(demo_site) -> None:
    """The demo's 81-column HATS product: the page lists 30 columns, every associated one among them."""
    catalog, out = demo_site
    name = "5_elais_s1_optical_ids_hats"
    page = _page(out, name)
    manifest = catalog.get(name)
    total = len(manifest.main_file.columns)
    assert total > render.MAX_PAGE_COLUMNS
    assert f"{render.MAX_PAGE_COLUMNS} of {total} columns listed" in page
    for assoc in manifest.columns.values():
        assert f"<td><code>{assoc.column}</code></td>" in page
    assert len((out / "product" / name / "index.html").read_bytes()) <= 25 * 1024
    api = json.loads((out / "api" / "products" / f"{name}.json").read_text())
    assert len(api["statistics"]["columns"]) == total


def test_private_previews_keep_rows_and_statistics_off_the_site(tmp_path) -> None:
    """previews_require_token: the static site (public, maybe on GitHub Pages) shows no first rows,
    statistics or plots, and its JSON API no statistics; metadata stays public."""
    import yaml
    from site_fixture_catalog import make_fixed_catalog

    from pzcat.catalog import Catalog
    from site_builder.build import build_site

    root = make_fixed_catalog(tmp_path / "catalog")
    config = yaml.safe_load((root / "catalog.yaml").read_text())
    config["previews_require_token"] = True
    (root / "catalog.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "www" / "site"
    build_site(Catalog.open(root), out, work_dir=tmp_path / "work")
    page = (out / "product" / "1_reference_redshifts" / "index.html").read_text(encoding="utf-8")
    assert 'id="pz-private"' in page and 'id="pz-preview"' not in page
    assert 'id="pz-sky"' not in page and 'id="pz-nz"' not in page and "median" not in page
    one = json.loads((out / "api" / "products" / "1_reference_redshifts.json").read_text("utf-8"))
    assert one["statistics"] is None and one["manifest"]["internal_name"] == "1_reference_redshifts"
    assert "<td>ra</td>" in page or "<code>ra</code>" in page       # columns are metadata


def test_build_and_golden_path_agree_when_the_manifest_omits_rows_and_columns(tmp_path) -> None:
    """A manifest without n_rows and columns: the real build lists the counts the tested path shows."""
    from site_builder.collect import collect

    root = make_fixed_catalog(tmp_path / "catalog")
    path = root / "manifests" / "1_reference_redshifts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for f in data["files"]:
        f.pop("n_rows", None)
        f.pop("columns", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    catalog = Catalog.open(root)
    tested = collect(catalog, tmp_path / "cache", workers=1)  # the golden tests' path
    m = next(m for m in tested.manifests if m.internal_name == "1_reference_redshifts")
    expected = render.summary(m, catalog.config, tested.stats.get(m.internal_name))
    assert expected["n_rows"] and expected["columns"]
    out = tmp_path / "site"
    build_site(catalog, out, work_dir=tmp_path / "work")
    listed = json.loads((out / "api" / "products.json").read_text(encoding="utf-8"))
    rows = listed["products"] if isinstance(listed, dict) else listed
    row = next(r for r in rows if r["internal_name"] == "1_reference_redshifts")
    assert row["n_rows"] == expected["n_rows"]
    assert row["columns"] == expected["columns"]

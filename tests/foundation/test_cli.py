"""The repository's own state through the CLI: schema current, codes documented, demo valid, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pzcat.codes import CODES, codes_markdown
from pzcat.manifest import json_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "pzcat" / "schema" / "manifest.schema.json"

#: Products of the repository's demo catalog (one manifest each).
N_PRODUCTS = len(list((Path(__file__).resolve().parents[2] / "manifests").glob("*.yaml")))


def test_committed_schema_is_current(pzcat) -> None:
    out = pzcat("schema", "--check", cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert json.loads(SCHEMA.read_text()) == json.loads(json.dumps(json_schema()))


def test_codes_markdown_lists_every_code(pzcat) -> None:
    out = pzcat("codes", "--format", "markdown")
    assert out.returncode == 0
    rows = [ln for ln in out.stdout.splitlines() if ln.startswith("| `")]
    listed = [ln.split("`")[1] for ln in rows]
    assert len(listed) == len(set(listed))
    # the console script also registers the codes of its extensions (pipeline, previews...)
    assert set(CODES) <= set(listed)
    for line in codes_markdown().splitlines()[2:]:
        assert line in rows, line
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] in ("error", "warning") and cells[2] and cells[3], line
    as_json = json.loads(pzcat("codes", "--format", "json").stdout)
    assert set(as_json) == set(listed)


def test_demo_catalog_validates(pzcat) -> None:
    out = pzcat("validate", cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"valid: {N_PRODUCTS} products, 0 errors" in out.stdout


def _demo_warnings() -> int:
    from pzcat.catalog import Catalog
    from pzcat.validate import validate_catalog

    report = validate_catalog(Catalog.open(REPO))
    return sum(len(p.warnings) for p in report.products) + sum(
        i.severity == "warning" for i in report.catalog_issues
    )


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    """The demo catalog with one checksum broken and one RA out of range."""
    import shutil

    root = tmp_path_factory.mktemp("broken") / "repo"
    root.mkdir()
    shutil.copy2(REPO / "catalog.yaml", root)
    for sub in ("manifests", "products"):
        shutil.copytree(REPO / sub, root / sub)
    csv = root / "products" / "11_dp1_field_centres" / "dp1_fields.csv"
    csv.write_text(csv.read_text().replace("53.13,-28.1", "533.1,-28.1"))  # same size
    (root / "products" / "ghost").mkdir()
    return root


def test_json_format(broken: Path, pzcat) -> None:
    out = pzcat("validate", "--format", "json", "--root", broken)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["valid"] is False
    assert data["stats"]["products"] == N_PRODUCTS and data["stats"]["errors"] == 2
    # the demo's own warnings (html-script, sentinels of real surveys) plus the orphan folder
    assert data["stats"]["warnings"] == _demo_warnings() + 1
    assert [e["code"] for e in data["errors"]] == ["orphan-product-dir"]
    bad = [p for p in data["products"] if not p["valid"]]
    assert [p["name"] for p in bad] == ["11_dp1_field_centres"]
    errors = {e["code"]: e for e in bad[0]["errors"]}
    assert set(errors) == {"checksum-mismatch", "bad-ra-range"}
    ra = errors["bad-ra-range"]
    assert ra["file"] == "products/11_dp1_field_centres/dp1_fields.csv"
    assert ra["column"] == "ra" and ra["rows"] == [4] and ra["count"] == 1  # rows from 1
    assert ra["severity"] == "error" and ra["fix"] == CODES["bad-ra-range"].fix
    assert errors["checksum-mismatch"]["key"] == "files.0.sha256"
    assert all(
        p["stats"].get("rows") for p in data["products"] if p["name"] != "7_bpz_inform_model"
    )


def test_github_format(broken: Path, pzcat) -> None:
    out = pzcat("validate", "--format", "github", "--root", broken)
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert lines[-1].startswith(
        f"INVALID: {N_PRODUCTS} products, 2 errors, {_demo_warnings() + 1} warnings"
    )
    annotations = lines[:-1]
    assert all(ln.startswith(("::error ", "::warning ")) for ln in annotations)
    assert (
        "::error file=products/11_dp1_field_centres/dp1_fields.csv,title=bad-ra-range::"
        in out.stdout
    )
    assert (
        "::error file=products/11_dp1_field_centres/dp1_fields.csv,title=checksum-mismatch::"
        in out.stdout
    )
    assert "::warning file=products/ghost,title=orphan-product-dir::" in out.stdout
    for ln in annotations:
        assert "\n" not in ln and " Fix: " in ln


def test_text_format_and_named_manifest(broken: Path) -> None:
    from click.testing import CliRunner

    from pzcat.cli import cli

    run = CliRunner().invoke
    out = run(
        cli,
        [
            "validate",
            "--root",
            str(broken),
            str(broken / "manifests" / "1_vvds_final_release_sample.yaml"),
        ],
    )
    assert out.exit_code == 0, out.stdout  # the orphan folder is only a warning
    out = run(cli, ["validate", "--root", str(broken), "-v"])
    assert out.exit_code == 1
    assert "11_dp1_field_centres: INVALID (7 rows)" in out.stdout
    assert "error[bad-ra-range]" in out.stdout and "fix: " in out.stdout


def test_could_not_run_exits_2(tmp_path: Path, pzcat) -> None:
    out = pzcat("validate", "--root", tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("error[catalog-config]: ")
    assert "Traceback" not in out.stderr

"""Product-type rules are data: a type added only in catalog.yaml is validated, built and shown.

No code knows ``spectra_catalog``: its display name, required and allowed roles, allowed formats,
tabular flag and pz_code rule come from the temporary catalog.yaml alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from site_fixture_catalog import make_fixed_catalog

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.products import add_product
from pzcat.validate import validate_catalog
from site_builder.build import build_site

NEW_TYPE = {
    "name": "spectra_catalog",
    "display_name": "Spectra Catalog",
    "order": 8,
    "description": "Positions of observed spectra.",
    "required_roles": ["ra", "dec"],
    "allowed_roles": ["id", "ra", "dec", "z"],
    "formats": ["csv"],
    "tabular": True,
    "pz_code": False,
}


def _catalog_with_new_type(tmp_path: Path) -> Catalog:
    root = make_fixed_catalog(tmp_path / "catalog")
    path = root / "catalog.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["product_types"].append(NEW_TYPE)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return Catalog.open(root)


def test_a_type_added_in_catalog_yaml_only(tmp_path: Path) -> None:
    catalog = _catalog_with_new_type(tmp_path)
    src = tmp_path / "spectra.csv"
    src.write_text("p1,p2,snr\n10.5,-30.25,12\n11.0,-31.0,8\n", encoding="utf-8")
    parquet = tmp_path / "spectra.parquet"
    import pandas as pd

    pd.read_csv(src).to_parquet(parquet, index=False)
    base = {"name": "Spectra", "product_type": "spectra_catalog", "uploaded_by": "someone"}

    # the type's rules refuse, by code, and change nothing
    refused = {
        "missing-required-column": {"main_file": src, "columns": ["ra=p1"]},
        "role-not-allowed": {"main_file": src, "columns": ["ra=p1", "dec=p2", "survey=snr"]},
        "format-not-allowed": {"main_file": parquet, "columns": ["ra=p1", "dec=p2"]},
        "pz-code-not-allowed": {"main_file": src, "columns": ["ra=p1"], "pz_code": "bpz"},
    }
    before = sorted(p.name for p in catalog.manifest_dir.iterdir())
    for code, options in refused.items():
        with pytest.raises(PzcatError) as err:
            add_product(catalog, **base, **options)
        assert code in {err.value.code, *(p["code"] for p in err.value.context.get("problems", []))}
    assert sorted(p.name for p in catalog.manifest_dir.iterdir()) == before

    m = add_product(catalog, **base, main_file=src, columns=["ra=p1", "dec=p2"])
    assert m.product_type == "spectra_catalog"
    report = validate_catalog(Catalog.open(catalog.root))
    mine = next(p for p in report.products if p.name == m.internal_name)
    assert mine.errors == [] and mine.stats["rows"] == 2

    out = tmp_path / "site"
    build_site(Catalog.open(catalog.root), out, work_dir=tmp_path / "work")
    types = json.loads((out / "api" / "product_types.json").read_text(encoding="utf-8"))
    row = next(t for t in types["product_types"] if t["name"] == "spectra_catalog")
    assert row["display_name"] == "Spectra Catalog" and row["count"] == 1
    assert row["required"] == ["ra", "dec"] and row["formats"] == ["csv"] and row["no_pz_code"]
    page = next(out.glob("*types*/index.html")).read_text(encoding="utf-8")
    assert "Spectra Catalog" in page and "main file: csv" in page
    assert (out / "product" / m.internal_name / "index.html").is_file()


def test_a_bad_rule_is_a_config_error(tmp_path: Path) -> None:
    root = make_fixed_catalog(tmp_path / "catalog")
    path = root / "catalog.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["product_types"].append({**NEW_TYPE, "required_roles": ["right_ascension"]})
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    with pytest.raises(PzcatError) as err:
        Catalog.open(root)
    assert "right_ascension" in err.value.message

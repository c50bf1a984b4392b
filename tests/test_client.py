"""The notebook API on a local clone: the same calls as LIneA's pzserver client."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml

from pzcat.client import PzCatalog
from pzcat.errors import PzcatError


@pytest.fixture
def pz(demo_root: Path) -> PzCatalog:
    return PzCatalog(demo_root)


def test_vocabularies(pz: PzCatalog) -> None:
    types = pz.display_product_types()
    assert "Training Set" in set(types["display_name"])
    assert {"dp0.2", "dp1", "dr1"} <= {r["name"] for r in pz.get_releases()}


def test_filters_accept_display_names_case_insensitively(pz: PzCatalog) -> None:
    found = pz.get_products_list(filters={"release": "DP1", "product_type": "Training Set"})
    assert [p["internal_name"] for p in found] == ["6_dp1_ecdfs_training_set"]
    several = pz.get_products_list(
        filters={"product_type": ["redshift_catalog", "Objects Catalog"]}
    )
    assert {p["product_type"] for p in several} == {"redshift_catalog", "object_catalog"}
    assert len(pz.display_products_list()) == len(pz.get_products_list())


def test_get_product_reads_the_main_table(pz: PzCatalog) -> None:
    product = pz.get_product("6_dp1_ecdfs_training_set")
    assert product.data is not None and len(product.data) == product.metadata["files"][0]["n_rows"]
    assert {"z", "mag_i"} <= set(product.data.columns)
    assert "internal_name" in set(product.display_metadata()["key"])
    assert pz.get_product(7).data is None  # a pickle is not a table


def test_download_product_zips_files_and_manifest(pz: PzCatalog, tmp_path: Path) -> None:
    path = pz.download_product(8, save_in=tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
        meta = yaml.safe_load(zf.read("8_bpz_validation_on_ecdfs/product_metadata.yaml"))
    assert {"bpz_validation_metrics.csv", "zphot_vs_zspec.png", "validation_report.html"} <= names
    assert meta["internal_name"] == "8_bpz_validation_on_ecdfs"


def test_unknown_product_is_a_coded_error(pz: PzCatalog) -> None:
    with pytest.raises(PzcatError) as err:
        pz.get_product_metadata("999_nothing")
    assert err.value.code == "product-not-found"


def test_pzcatalog_warns_that_it_is_deprecated(demo_root: Path) -> None:
    with pytest.warns(DeprecationWarning, match="from pzcat import PzServer"):
        PzCatalog(demo_root)

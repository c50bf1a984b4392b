"""`from pzcat import PzServer` on a local clone (writes through the library) and its guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from pzcat import PzServer
from pzcat.pzserver import PzServerError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "examples"


@pytest.fixture
def pz(demo_root, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTOR", "alice")
    return PzServer(host=demo_root)


def test_lists_filters_and_display(pz, capsys) -> None:
    assert [t["name"] for t in pz.get_product_types()][0] == "redshift_catalog"
    assert [
        p["id"] for p in pz.get_products_list({"release": "DP1", "product_type": "Training Set"})
    ] == [6]
    assert sorted(
        p["id"] for p in pz.get_products_list({"product_type__or": ["training", "estimates"]})
    ) == [6, 7, 9]
    with pytest.raises(ValueError, match="Invalid filter key"):
        pz.get_products_list({"colour": "red"})
    pz.display_products_list({"product_type": "estimates"})
    assert "9_bpz_estimates_for_ecdfs_objects" in capsys.readouterr().out
    frame = pz.display_product_metadata(3, show=False)
    assert {"n_rows", "columns_association", "product_type"} <= set(frame["key"])


def test_get_product_tables_and_guards(pz, tmp_path) -> None:
    from astropy.table import Table

    for pid, rows in ((1, 1000), (3, 1000), (6, 5000), (9, 4000), (5, 478)):
        table = pz.get_product(pid)
        assert isinstance(table, Table) and len(table) == rows, pid
    with pytest.raises(ValueError, match="non-tabular"):
        pz.get_product(7)
    zipped = pz.download_product(8, save_in=tmp_path)
    assert zipped.name == "8_bpz_validation_on_ecdfs.zip"
    meta = pz.get_product_metadata(6)
    meta["main_file"]["size"] = 300 * 1024**2
    pz.get_product_metadata = lambda *a, **k: meta
    with pytest.raises(ValueError, match="larger than 200 MB"):
        pz.get_product(6)


def test_upload_edit_delete_on_a_clone(pz, demo_root) -> None:
    up = pz.upload(
        name="clone upload",
        product_type="redshift_catalog",
        main_file=str(EXAMPLES / "upload_example.csv"),
        auxiliary_files=[str(EXAMPLES / "upload_example.html")],
    )
    assert sorted(up.columns) == ["DEC", "ID", "RA", "Z"]
    up.make_columns_association({"RA": "RA", "DEC": "Dec", "Z": "z"})
    up.save()
    manifest = (demo_root / "manifests" / f"{up.product_id}_clone_upload.yaml").read_text()
    assert "uploaded_by: alice" in manifest
    obj = pz.get_product_object(up.product_id)
    assert obj.attributes["is_owner"] and len(obj.get_auxiliary_files()) == 1
    obj.update_description("edited")
    assert pz.get_product_metadata(up.product_id)["description"] == "edited"
    pz.delete_product(up.product_id)
    assert pz.get_product_metadata(up.product_id)["product_status"] == "Deleted"
    with pytest.raises(ValueError, match="owner"):
        pz.delete_product(9)


def test_token_needed_for_a_server() -> None:
    with pytest.raises(ValueError, match="token"):
        PzServer(host="http://127.0.0.1:9/api/")


@pytest.mark.slow
def test_combine_on_a_clone_runs_through_the_library(pz, demo_root, capsys) -> None:
    """`run_and_wait` on a clone: `pzcat.runs` writes the output product into the clone."""
    crc = pz.combine_redshift_catalogs("clone combination")
    crc.append_catalog(1)
    crc.append_catalog(internal_name="4_6dfgs_dr3_sample")
    assert [c["id"] for c in crc.input_catalogs] == [1, 4]
    with pytest.raises(ValueError, match="expected type"):
        crc.append_catalog(6)  # a training set is not a redshift catalog
    crc.set_config({"combine_type": "concatenate_and_remove_duplicates", "output_format": "csv"})
    assert pz.run_and_wait(crc, poll_seconds=0) == "Successful"
    out = crc.output
    assert out["internal_name"] == f"{out['id']}_clone_combination"
    assert (demo_root / "manifests" / f"{out['internal_name']}.yaml").is_file()
    table = pz.get_product(out["id"])
    assert len(table) > 0 and {"ra", "dec", "z"} <= set(table.colnames)
    assert "Done! Results registered" in capsys.readouterr().out
    with pytest.raises(PzServerError) as err:
        pz.run_and_wait(pz.training_set_maker("tsm"), poll_seconds=0)
    assert err.value.code == "api-pipeline-unavailable"

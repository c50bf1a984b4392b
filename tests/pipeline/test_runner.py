"""run_combine: ids, modes, cut, empty columns, combined inputs, HATS input, progress."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.combine.errors import PipelineError
from pipelines.combine.inputs import CombineInput
from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine
from tests.pipeline.samples import DATA, REFERENCE_PARAMS, sample_inputs


def _run(inputs, tmp_path: Path, **config) -> tuple[pd.DataFrame, object]:
    lines: list[str] = []
    result = run_combine(make_plan(inputs, REFERENCE_PARAMS | config), tmp_path, lines.append)
    assert lines and lines[-1].startswith("done")
    return pd.read_parquet(tmp_path / "crd.parquet"), result


def test_crd_ids_continue_across_inputs_and_columns_are_ordered(tmp_path):
    inputs = sample_inputs()[:3]
    out, result = _run(inputs, tmp_path)
    assert out["CRD_ID"].tolist() == list(range(1, 3001))
    assert out["source"].iloc[1000] == inputs[1].internal_name
    assert list(out.columns) == [c["name"] for c in result.columns]
    assert list(out.columns)[:4] == ["CRD_ID", "id", "ra", "dec"]
    assert list(out.columns)[-2:] == [
        "tie_result",
        "group_id",
    ]  # no pair: compared_to empty, dropped
    assert out["survey"].str.isupper().all()
    assert result.summary["rows_out"] == {i.internal_name: 1000 for i in inputs}


def test_empty_columns_are_dropped(tmp_path):
    out, _ = _run(sample_inputs()[:1], tmp_path, duplicates="no")
    assert "z_err" not in out.columns  # 2dFGRS has no z_err
    assert "tie_result" not in out.columns


def test_cut_and_remove_modes(tmp_path):
    inputs = sample_inputs()
    mark, _ = _run(inputs, tmp_path / "m")
    cut, result = _run(inputs, tmp_path / "c", cut=3, duplicates="mark")
    assert (cut["z_flag_homogenized"] >= 3).all()
    assert len(cut) == (mark["z_flag_homogenized"] >= 3).sum()
    assert set(cut["CRD_ID"]) <= set(mark["CRD_ID"])
    assert "rows_after_cut" in result.summary
    keep, _ = _run(inputs, tmp_path / "k", duplicates="remove", keep_hard_ties=True)
    assert set(keep["CRD_ID"]) == set(mark.loc[mark["tie_result"] > 0, "CRD_ID"])


def test_combined_catalog_as_input_is_recomputed(tmp_path):
    first, _ = _run(sample_inputs()[3:7], tmp_path / "a")
    combined = CombineInput(
        "020_combined",
        1,
        tmp_path / "a" / "crd.parquet",
        "parquet",
        {"id": "CRD_ID", "ra": "ra", "dec": "dec", "z": "z", "survey": "survey"},
    )
    out, result = _run([sample_inputs()[8], combined], tmp_path / "b")
    part = out[out["source"] == "020_combined"]
    assert part["CRD_ID"].tolist() == list(range(1001, 1001 + len(first)))
    assert part["id"].tolist() == [str(i) for i in first["CRD_ID"]]
    assert (part["z_flag_homogenized"].to_numpy() == first["z_flag_homogenized"].to_numpy()).all()
    assert result.summary["duplicates"]["groups"] >= 1


def test_hats_input(tmp_path):
    path = DATA / "hats_samples" / "elaiss1oid_collection"
    hats = CombineInput(
        "001_elais",
        1,
        path,
        "hats",
        {
            "id": "XMMES1",
            "ra": "RAdeg",
            "dec": "DEdeg",
            "z": "zfinal",
            "z_flag": "zfinal_quality",
            "survey": "survey_name",
        },
    )
    parquet = CombineInput(
        "002_elais", 1, DATA / "samples" / "elaiss1oid.parquet", "parquet", dict(hats.columns)
    )
    out, _ = _run([hats, parquet], tmp_path)
    assert len(out) == 2 * 478
    # every non-star object is found twice (same position): a group of two, one winner
    galaxies = out[out["z_flag_homogenized"] != 6]
    assert (galaxies.groupby("group_id").size() == 2).all()
    assert (galaxies.groupby("group_id")["tie_result"].max() == 1).all()


def test_plan_refuses_missing_columns_before_work(tmp_path):
    bad = CombineInput("001_x", 1, sample_inputs()[0].path, "parquet", {"ra": "nope", "dec": "dec"})
    with pytest.raises(PipelineError) as info:
        make_plan([bad], {})
    assert info.value.code == "missing-column"


def test_instrument_type_in_one_input_only(tmp_path):
    frame = pd.DataFrame(
        {
            "ra": [1.0, 2.0],
            "dec": [0.0, 0.0],
            "z": [0.1, 0.2],
            "z_flag_homogenized": [3, 4],
            "type_homogenized": ["s", "p"],
            "inst": ["MOS", "PHOT"],
        }
    )
    frame.to_parquet(tmp_path / "a.parquet")
    a = CombineInput(
        "001_a",
        1,
        tmp_path / "a.parquet",
        "parquet",
        {"ra": "ra", "dec": "dec", "z": "z", "instrument_type": "inst"},
    )
    b = CombineInput(
        "002_b", 1, tmp_path / "a.parquet", "parquet", {"ra": "ra", "dec": "dec", "z": "z"}
    )
    out, _ = _run([a, b], tmp_path / "out")
    assert out["instrument_type"].iloc[:2].tolist() == ["MOS", "PHOT"]
    assert out["instrument_type"].iloc[2:].isna().all()
    assert out["tie_result"].tolist() == [1, 1, 0, 0]
    assert out["group_id"].tolist() == [1, 2, 1, 2]


def test_cut_removing_everything(tmp_path):
    with pytest.raises(PipelineError) as info:
        _run(sample_inputs()[10:11], tmp_path, cut=6)
    assert info.value.code == "no-rows"

"""Flags translation and the reference's four failure cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.combine.config import DEFAULT_FLAGS_FILE
from pipelines.combine.errors import PipelineError
from pipelines.combine.flags import load_translation
from pipelines.combine.inputs import CombineInput
from pipelines.combine.plan import make_plan
from pipelines.combine.prepare import prepare_partition
from pipelines.combine.runner import run_combine
from tests.pipeline.samples import BAD, REFERENCE_FLAGS, sample_inputs


def test_project_file_covers_reference_surveys():
    ours = load_translation(DEFAULT_FLAGS_FILE)
    ref = load_translation(REFERENCE_FLAGS)
    assert len(ref.surveys) == 38
    assert set(ref.surveys) <= set(ours.surveys)


@pytest.mark.parametrize("inp", sample_inputs(), ids=lambda i: i.internal_name)
def test_project_file_translates_samples_like_reference(inp):
    raw = pd.read_parquet(inp.path)
    a = prepare_partition(raw, inp, 1, 0, load_translation(DEFAULT_FLAGS_FILE), None)
    b = prepare_partition(raw, inp, 1, 0, load_translation(REFERENCE_FLAGS), None)
    assert a["z_flag_homogenized"].tolist() == b["z_flag_homogenized"].tolist()
    assert a["type_homogenized"].tolist() == b["type_homogenized"].tolist()


def test_homogenized_values_match_reference_output():
    ref = pd.read_parquet(Path(REFERENCE_FLAGS).parent / "reference" / "mark" / "crd.parquet")
    translation = load_translation(REFERENCE_FLAGS)
    for inp in sample_inputs():
        prefix = inp.internal_name[:3]
        rows = ref[ref["CRD_ID"].str.startswith(f"CRD{prefix}_")].copy()
        rows["k"] = rows["CRD_ID"].str.split("_").str[1].astype(int)
        rows = rows.sort_values("k")
        ours = prepare_partition(pd.read_parquet(inp.path), inp, 1, 0, translation, None)
        assert (
            ours["z_flag_homogenized"].tolist() == rows["z_flag_homogenized"].astype(int).tolist()
        )
        assert ours["type_homogenized"].tolist() == rows["instrument_type_homogenized"].tolist()


def _bad(name: str, columns: dict) -> CombineInput:
    return CombineInput(f"099_{name}", 1, BAD / f"{name}.parquet", "parquet", columns)


BASE = {"id": "id", "ra": "ra", "dec": "dec", "z": "z", "z_flag": "z_flag"}


def _run(bad: CombineInput, tmp_path: Path):
    inputs = sample_inputs()[:2] + [bad]
    plan = make_plan(inputs, {"duplicates": "mark", "flags_file": str(REFERENCE_FLAGS)})
    return run_combine(plan, tmp_path)


def test_survey_not_supported(tmp_path):
    bad = _bad("test_survey_not_supported", BASE | {"survey": "survey"})
    with pytest.raises(PipelineError) as info:
        _run(bad, tmp_path)
    assert info.value.code == "survey-not-supported"
    assert "NOT_SUPPORTED" in info.value.message and bad.internal_name in info.value.message
    assert "2DFGRS" in info.value.message  # lists supported surveys
    assert not list(tmp_path.iterdir())


def test_survey_column_missing(tmp_path):
    bad = _bad("test_survey_col_missing", BASE)
    with pytest.raises(PipelineError) as info:
        _run(bad, tmp_path)
    assert info.value.code == "survey-column-missing"
    assert bad.internal_name in info.value.message


def test_flags_translate_to_nothing(tmp_path):
    bad = _bad("test_survey_supported_but_wrong_flags", BASE | {"survey": "survey"})
    with pytest.raises(PipelineError) as info:
        _run(bad, tmp_path)
    assert info.value.code == "flags-untranslated"
    assert "2DFGRS" in info.value.message and "all rows" in info.value.message
    assert bad.internal_name in info.value.message
    assert not list(tmp_path.iterdir())


def test_homogenized_out_of_range(tmp_path):
    bad = _bad("test_homogenized_columns_out_of_range", BASE | {"z_flag": None, "survey": "survey"})
    with pytest.raises(PipelineError) as info:
        _run(bad, tmp_path)
    assert info.value.code == "homogenized-out-of-range"
    assert "z_flag_homogenized" in info.value.message and bad.internal_name in info.value.message
    assert "[0, 1, 2, 3, 4, 6]" in info.value.message


def test_user_homogenized_columns_are_used(tmp_path):
    frame = pd.DataFrame(
        {
            "ra": [10.0, 10.0 + 0.1 / 3600, 50.0],
            "dec": [0.0, 0.0, 1.0],
            "z": [0.5, 0.52, 1.0],
            "z_flag_homogenized": [3, 4, 6],
            "instrument_type_homogenized": ["s", "p", "s"],
        }
    )
    path = tmp_path / "user.parquet"
    frame.to_parquet(path)
    inp = CombineInput("001_user", 1, path, "parquet", {"ra": "ra", "dec": "dec", "z": "z"})
    out = tmp_path / "out"
    run_combine(make_plan([inp], {"duplicates": "mark"}), out)
    result = pd.read_parquet(out / "crd.parquet")
    assert result["tie_result"].tolist() == [0, 1, 0]
    assert result["type_homogenized"].tolist() == ["s", "p", "s"]


def test_invalid_positions(tmp_path):
    frame = pd.DataFrame(
        {
            "ra": [10.0, 400.0, float("nan")],
            "dec": [0.0, 0.0, 1.0],
            "z_flag_homogenized": [3, 4, 4],
            "type_homogenized": ["s", "s", "s"],
        }
    )
    path = tmp_path / "pos.parquet"
    frame.to_parquet(path)
    inp = CombineInput("001_pos", 1, path, "parquet", {"ra": "ra", "dec": "dec"})
    with pytest.raises(PipelineError) as info:
        make_plan([inp], {})
    assert info.value.code == "invalid-positions"
    assert "2 rows" in info.value.message and "row 2" in info.value.message


def test_rules_reading_a_missing_column(tmp_path):
    frame = pd.DataFrame({"ra": [1.0], "dec": [2.0], "z": [0.5], "survey": ["3D-HST"]})
    frame.to_parquet(tmp_path / "x.parquet")
    inp = CombineInput(
        "001_x",
        1,
        tmp_path / "x.parquet",
        "parquet",
        {"ra": "ra", "dec": "dec", "z": "z", "survey": "survey"},
    )
    with pytest.raises(PipelineError) as info:
        make_plan([inp], {"flags_file": str(REFERENCE_FLAGS)})
    assert info.value.code == "missing-column"
    assert "z_best_s" in info.value.message and "001_x" in info.value.message

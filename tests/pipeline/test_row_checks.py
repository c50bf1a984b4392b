"""Row checks done by the run's *prepare* tasks instead of the plan's serial scan.

``make_plan(..., scan_rows=False)`` reads footers only; every row problem the scan finds must
then end the run with the same code, naming the same input, leaving nothing; with several bad
pieces the error is the earliest piece's, whatever the order the workers finish in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.combine.errors import PipelineError
from pipelines.combine.inputs import CombineInput
from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine
from tests.pipeline.samples import BAD, REFERENCE_FLAGS, sample_inputs

BASE = {"id": "id", "ra": "ra", "dec": "dec", "z": "z", "z_flag": "z_flag"}
THREADS = {"kind": "local", "n_workers": 2}
PROCESSES = {"kind": "processes", "n_workers": 2, "threads_per_worker": 1, "memory_limit": "1GB"}


def _positions(tmp_path: Path) -> CombineInput:
    frame = pd.DataFrame(
        {
            "ra": [10.0, 400.0, float("nan")],
            "dec": [0.0, 0.0, 1.0],
            "z_flag_homogenized": [3, 4, 4],
            "type_homogenized": ["s", "s", "s"],
        }
    )
    frame.to_parquet(tmp_path / "pos.parquet")
    return CombineInput(
        "099_pos", 1, tmp_path / "pos.parquet", "parquet", {"ra": "ra", "dec": "dec"}
    )


def _rules_column(tmp_path: Path) -> CombineInput:
    frame = pd.DataFrame({"ra": [1.0], "dec": [2.0], "z": [0.5], "survey": ["3D-HST"]})
    frame.to_parquet(tmp_path / "x.parquet")
    columns = {"ra": "ra", "dec": "dec", "z": "z", "survey": "survey"}
    return CombineInput("099_x", 1, tmp_path / "x.parquet", "parquet", columns)


def _bad(name: str):
    def make(tmp_path: Path) -> CombineInput:
        columns = BASE | ({"z_flag": None} if "homogenized" in name else {}) | {"survey": "survey"}
        return CombineInput(f"099_{name}", 1, BAD / f"{name}.parquet", "parquet", columns)

    return make


CASES = {
    "invalid-positions": _positions,
    "missing-column": _rules_column,
    "survey-not-supported": _bad("test_survey_not_supported"),
    "flags-untranslated": _bad("test_survey_supported_but_wrong_flags"),
    "homogenized-out-of-range": _bad("test_homogenized_columns_out_of_range"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_prepare_tasks_raise_the_scans_codes(tmp_path, code):
    bad = CASES[code](tmp_path)
    inputs = [*sample_inputs()[:2], bad]
    config = {"duplicates": "mark", "flags_file": str(REFERENCE_FLAGS), "executor": THREADS}
    with pytest.raises(PipelineError) as scanned:
        make_plan(inputs, config)
    plan = make_plan(inputs, config, scan_rows=False)  # footers only: no row is read
    assert not any(p.scanned for p in plan.inputs)
    assert plan.total_rows == sum(len(pd.read_parquet(i.path)) for i in inputs)
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as ran:
        run_combine(plan, out)
    assert ran.value.code == scanned.value.code == code
    assert bad.internal_name in ran.value.message
    assert ran.value.context.get("input") == scanned.value.context.get("input")
    assert not out.exists()  # nothing written, not even the folder


@pytest.mark.parametrize(
    "executor",
    [THREADS, pytest.param(PROCESSES, marks=pytest.mark.slow)],
    ids=["threads", "local-cluster"],
)
def test_the_earliest_bad_piece_is_reported(tmp_path, executor):
    n = 40_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-80, 80, n),
            "z_flag_homogenized": np.full(n, 3),
            "type_homogenized": ["s"] * n,
        }
    )
    frame.loc[[25_000, 39_000], "ra"] = 999.0  # pieces 3 and 4 of 4 (row groups of 10,000)
    frame.to_parquet(tmp_path / "a.parquet", row_group_size=10_000)
    frame.loc[[5_000], "dec"] = 99.0  # the second input's first piece
    frame.to_parquet(tmp_path / "b.parquet", row_group_size=10_000)
    inputs = [
        CombineInput(
            f"00{k}_{name}", 1, tmp_path / f"{name}.parquet", "parquet", {"ra": "ra", "dec": "dec"}
        )
        for k, name in ((1, "a"), (2, "b"))
    ]
    config = {"duplicates": "remove", "partition_rows": 10_000, "executor": executor}
    with pytest.raises(PipelineError) as scanned:
        make_plan(inputs, config)
    assert scanned.value.context["rows"] == [25_001]
    messages = set()
    for _ in range(2):
        with pytest.raises(PipelineError) as info:
            run_combine(make_plan(inputs, config, scan_rows=False), tmp_path / "out")
        assert info.value.code == "invalid-positions"
        assert info.value.context["input"] == "001_a"
        assert info.value.context["rows"] == [25_001]  # the row the scan names
        messages.add(info.value.message)
    assert len(messages) == 1


def test_footer_plan_gives_the_scanned_plans_bytes(tmp_path):
    inputs = sample_inputs()[:4]
    config = {"duplicates": "mark", "flags_file": str(REFERENCE_FLAGS)}
    a, b = tmp_path / "a", tmp_path / "b"
    run_combine(make_plan(inputs, config), a)
    run_combine(make_plan(inputs, config, scan_rows=False), b)
    assert (a / "crd.parquet").read_bytes() == (b / "crd.parquet").read_bytes()

"""Same inputs and configuration, same bytes: whatever the workers and partitions."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine
from pzcat.files import path_digest
from tests.pipeline.samples import REFERENCE_PARAMS, sample_inputs


def _digest(folder):
    return {
        p.name: path_digest(p)[1] if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv", "fits", "hdf5", "hats"])
def test_bytes_do_not_depend_on_workers_or_partitions(fmt, tmp_path):
    inputs = sample_inputs()[3:9]
    digests = []
    for n_workers, partition_rows in ((1, 1_000_000), (2, 250), (2, 777)):
        config = REFERENCE_PARAMS | {
            "duplicates": "mark",
            "output_format": fmt,
            "partition_rows": partition_rows,
            "executor": {"kind": "local", "n_workers": n_workers},
        }
        folder = tmp_path / f"{n_workers}-{partition_rows}"
        result = run_combine(make_plan(inputs, config), folder)
        digests.append(_digest(folder))
        if fmt != "hats":
            assert [f["sha256"] for f in result.files] == list(digests[-1].values())
    assert digests[0] == digests[1] == digests[2]
    assert not [p for p in tmp_path.rglob(".*tmp*")]


@pytest.mark.slow
def test_distributed_executor_gives_the_same_bytes(tmp_path):
    from distributed import LocalCluster

    inputs = sample_inputs()[3:6]
    local = tmp_path / "local"
    run_combine(make_plan(inputs, REFERENCE_PARAMS | {"partition_rows": 300}), local)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        config = REFERENCE_PARAMS | {
            "partition_rows": 300,
            "executor": {"kind": "distributed", "address": cluster.scheduler_address},
        }
        remote = tmp_path / "remote"
        result = run_combine(make_plan(inputs, config), remote)
    assert result.executor["kind"] == "distributed"
    assert _digest(local) == _digest(remote)

"""Combine on a real Dask cluster: LocalCluster worker processes with a memory limit.

Same bytes as the threaded run; progress on every executor; no large graph; the driver's memory
stays flat whatever the rows; a killed worker and an unreadable piece end the run with a code
and leave nothing; a rerun succeeds; the SLURM cluster object is configured from the config.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.combine import graph
from pipelines.combine.config import ExecutorConfig
from pipelines.combine.errors import PipelineError
from pipelines.combine.inputs import CombineInput
from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine
from tests.pipeline.samples import REFERENCE_PARAMS, sample_inputs

REPO = Path(__file__).resolve().parents[2]
COLUMNS = {"id": "ID", "ra": "RA", "dec": "DEC", "z": "Z", "z_flag": "Q", "survey": "survey"}
PROCESSES = {"kind": "processes", "n_workers": 2, "threads_per_worker": 1, "memory_limit": "1.5GB"}


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def synthetic(
    folder: Path, rows: int, n_cat: int = 2, seed: int = 7, row_group: int = 50_000
) -> list[CombineInput]:
    """``n_cat`` Parquet catalogs of ``rows`` rows in all, 10 % duplicates of the first."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per = rows // n_cat
    ra0 = rng.uniform(0, 360, per)
    dec0 = np.degrees(np.arcsin(rng.uniform(-1, 1, per)))
    out = []
    for k in range(n_cat):
        if k == 0:
            ra, dec = ra0, dec0
        else:
            n_dup = per // 10
            pick = rng.integers(0, per, n_dup)
            ra = np.r_[rng.uniform(0, 360, per - n_dup), (ra0[pick] + 1e-5) % 360]
            dec = np.r_[np.degrees(np.arcsin(rng.uniform(-1, 1, per - n_dup))), dec0[pick]]
        frame = pd.DataFrame(
            {
                "ID": np.arange(per) + k * 10**7,
                "RA": ra,
                "DEC": dec,
                "Z": np.round(rng.uniform(0.01, 3, per), 4),
                "Q": rng.choice([1, 2, 3, 4], per),
                "survey": "VIMOS",
            }
        )
        path = folder / f"cat{k}.parquet"
        frame.to_parquet(path, index=False, row_group_size=row_group)
        out.append(CombineInput(f"{k + 1:03d}_syn", 1, path, "parquet", dict(COLUMNS)))
    return out


@pytest.mark.slow
def test_local_cluster_gives_the_threaded_bytes_without_large_graphs(tmp_path):
    inputs = sample_inputs()[3:9]
    params = REFERENCE_PARAMS | {"duplicates": "mark", "partition_rows": 300}
    threads = tmp_path / "threads"
    lines_threads: list[str] = []
    run_combine(make_plan(inputs, params), threads, lines_threads.append)
    cluster = tmp_path / "cluster"
    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_combine(
            make_plan(inputs, params | {"executor": PROCESSES}), cluster, lines.append
        )
    assert not [w for w in caught if "large graph" in str(w.message).lower()]
    assert result.executor == {"kind": "processes", "n_workers": 2}
    assert _digest(cluster) == _digest(threads)
    assert result.summary["duplicates"]["neighbour_partitions"] > 1
    # the same progress lines on both executors
    for phase in ("prepare", "duplicates", "finish", "write"):
        assert any(ln.startswith(f"{phase}: ") and ln.endswith(" tasks") for ln in lines)
        assert any(ln.startswith(f"{phase}: ") and ln.endswith(" tasks") for ln in lines_threads)


@pytest.mark.slow
def test_lsdb_catalog_search_on_a_cluster_gives_the_partitioned_bytes(tmp_path):
    # neighbor_search lsdb-catalog: one duplicates task, LSDB's crossmatch inside it (its own
    # Dask graph, computed on the worker); the partitioned search here has many partitions
    inputs = sample_inputs()[3:9]
    params = REFERENCE_PARAMS | {"duplicates": "mark", "partition_rows": 300}
    threads = tmp_path / "threads"
    done = run_combine(make_plan(inputs, params, scan_rows=False), threads)
    assert done.summary["duplicates"]["neighbour_partitions"] > 1
    cluster = tmp_path / "cluster"
    config = params | {"neighbor_search": "lsdb-catalog", "executor": PROCESSES}
    result = run_combine(make_plan(inputs, config, scan_rows=False), cluster)
    assert result.summary["duplicates"]["neighbour_partitions"] == 1
    assert _digest(cluster) == _digest(threads)
    assert result.summary["duplicates"]["pairs"] == done.summary["duplicates"]["pairs"]


@pytest.mark.slow
def test_parquet_dataset_files_follow_output_rows_not_pieces_or_workers(tmp_path):
    import pyarrow.dataset as ds

    inputs = sample_inputs()[3:9]
    params = REFERENCE_PARAMS | {
        "duplicates": "remove",
        "output_layout": "dataset",
        "dataset_file_rows": 1_234,
    }
    threads = tmp_path / "threads"
    run_combine(make_plan(inputs, params | {"partition_rows": 300}, scan_rows=False), threads)
    cluster = tmp_path / "cluster"
    config = params | {"partition_rows": 1_000, "executor": PROCESSES}
    result = run_combine(make_plan(inputs, config, scan_rows=False), cluster)
    assert _digest(cluster / "crd.parquet") == _digest(threads / "crd.parquet")
    assert [f["path"] for f in result.files] == [
        f"crd.parquet/{name}" for name in _digest(cluster / "crd.parquet")
    ]
    single = tmp_path / "single"
    run_combine(make_plan(inputs, params | {"output_layout": "file"}, scan_rows=False), single)
    expected = pq.read_table(single / "crd.parquet")
    sizes = [
        pq.ParquetFile(p).metadata.num_rows for p in sorted((cluster / "crd.parquet").iterdir())
    ]
    assert sizes[:-1] == [1_234] * (len(sizes) - 1) and 0 < sizes[-1] <= 1_234
    assert sum(sizes) == expected.num_rows
    table = ds.dataset(cluster / "crd.parquet", format="parquet").to_table()
    assert table.equals(expected)  # files in name order are the rows in CRD_ID order
    assert not [p for p in cluster.rglob(".*")]


@pytest.mark.slow
def test_hats_written_per_pixel_on_a_cluster_gives_the_threaded_bytes(tmp_path):
    import lsdb
    import pyarrow.dataset as ds

    from pzcat.files import path_digest

    inputs = sample_inputs()[3:9]
    params = REFERENCE_PARAMS | {
        "duplicates": "mark",
        "partition_rows": 700,
        "output_format": "hats",
        "hats_pixel_rows": 1_500,
    }
    threads = tmp_path / "threads"
    run_combine(make_plan(inputs, params, scan_rows=False), threads)
    cluster = tmp_path / "cluster"
    config = params | {"partition_rows": 2_000, "executor": PROCESSES}
    result = run_combine(make_plan(inputs, config, scan_rows=False), cluster)
    files = sorted(p.relative_to(cluster) for p in cluster.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(threads) for p in threads.rglob("*") if p.is_file())
    leaves = [f for f in files if f.name.startswith("Npix=")]
    assert len(leaves) > 12 and len({f.parts[3] for f in leaves}) > 1  # several orders
    assert path_digest(cluster / "crd.hats") == path_digest(threads / "crd.hats")
    assert [f["path"] for f in result.files] == [str(f) for f in files]
    # readable by LSDB and as a plain Parquet dataset; the same rows as the one-file output
    single = tmp_path / "single"
    run_combine(make_plan(inputs, params | {"output_format": "parquet"}, scan_rows=False), single)
    expected = pq.read_table(single / "crd.parquet")
    catalog = lsdb.read_hats(cluster / "crd.hats")
    got = catalog.compute()
    assert sorted(got["CRD_ID"]) == expected.column("CRD_ID").to_pylist()
    dataset = ds.dataset(cluster / "crd.hats" / "crd" / "dataset", format="parquet")
    table = dataset.to_table(columns=expected.column_names).sort_by("CRD_ID")
    assert table.equals(expected)
    for leaf in leaves:
        index = pq.read_table(cluster / leaf, columns=["_healpix_29"]).column(0).to_numpy()
        assert (np.diff(index) >= 0).all()  # each pixel's rows sorted by the spatial index


DRIVER = """
import json, resource, sys
from pathlib import Path
from pipelines.combine.__main__ import main
code = main([sys.argv[1], sys.argv[2], "--quiet", "--result", sys.argv[3]])
result = json.loads(Path(sys.argv[3]).read_text())
result["driver_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
Path(sys.argv[3]).write_text(json.dumps(result))
sys.exit(code)
"""


@pytest.mark.slow
def test_driver_memory_stays_flat_from_200k_to_2m_rows(tmp_path):
    peaks = {}
    # pieces of the same size (100,000 rows) whatever the total
    for rows in (200_000, 2_000_000):
        inputs = synthetic(tmp_path / f"in-{rows}", rows, row_group=100_000)
        spec = tmp_path / f"spec-{rows}.yaml"
        spec.write_text(
            yaml.safe_dump(
                {
                    "inputs": [
                        {
                            "internal_name": i.internal_name,
                            "path": str(i.path),
                            "format": "parquet",
                            "columns": i.columns,
                        }
                        for i in inputs
                    ],
                    "config": {
                        "duplicates": "remove",
                        "partition_rows": 100_000,
                        "executor": PROCESSES | {"memory_limit": "2GB"},
                    },
                }
            )
        )
        result = tmp_path / f"result-{rows}.json"
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, str(spec), str(tmp_path / f"out-{rows}"), str(result)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        data = json.loads(result.read_text())
        assert data["summary"]["rows_total_in"] == rows
        peaks[rows] = data["driver_maxrss_kib"] / 1024
    # 10 times the rows: the in-memory runner's driver grew by about 490 MB (270 MB per million
    # rows); this one moves by allocator and message-buffer noise only (30-110 MB measured)
    assert peaks[2_000_000] - peaks[200_000] < 200, peaks
    assert peaks[2_000_000] < 1024, peaks  # the target: the driver within 1 GB


def _corrupt_first_page(path: Path) -> bytes:
    """Overwrite the first data page header of a Parquet file (its footer stays readable)."""
    original = path.read_bytes()
    meta = pq.ParquetFile(path).metadata.row_group(0).column(0)
    offset = meta.dictionary_page_offset or meta.data_page_offset
    data = bytearray(original)
    data[offset : offset + 32] = b"\xff" * 32
    path.write_bytes(bytes(data))
    return original


@pytest.mark.slow
def test_unreadable_piece_on_a_worker_ends_the_run_with_a_code_then_a_rerun_succeeds(tmp_path):
    inputs = synthetic(tmp_path / "in", 60_000, row_group=10_000)
    config = {"duplicates": "mark", "partition_rows": 10_000, "executor": PROCESSES}
    plan = make_plan(inputs, config)
    original = _corrupt_first_page(inputs[1].path)  # after the plan: only a worker sees it
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        run_combine(plan, out)
    assert info.value.code == "input-unreadable"
    assert info.value.context["input"] == "002_syn"
    assert not out.exists()  # no output, no scratch left, not even the folder
    inputs[1].path.write_bytes(original)
    run_combine(make_plan(inputs, config), out)
    threads = tmp_path / "threads"
    run_combine(make_plan(inputs, config | {"executor": {"kind": "local"}}), threads)
    assert _digest(out) == _digest(threads)


@pytest.mark.slow
def test_killed_worker_ends_the_run_with_a_code_then_a_rerun_succeeds(tmp_path):
    import dask
    from distributed import Client, LocalCluster

    inputs = synthetic(tmp_path / "in", 400_000, row_group=50_000)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1.5GB",
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as watcher,
    ):
        config = {
            "duplicates": "mark",
            "partition_rows": 50_000,
            "executor": {"kind": "distributed", "address": cluster.scheduler_address},
        }
        plan = make_plan(inputs, config)
        killed: list[str] = []

        def kill_a_busy_worker():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                busy = [
                    w
                    for w, keys in watcher.processing().items()
                    if any("prepare_piece" in str(k) for k in keys)
                ]
                if busy:
                    pid = watcher.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.01)

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        out = tmp_path / "out"
        with pytest.raises(PipelineError) as info:
            run_combine(plan, out)
        killer.join()
        assert killed
        assert info.value.code == "worker-lost"
        assert not out.exists()
        watcher.wait_for_workers(2, timeout=60)  # the nanny restarted it
        run_combine(make_plan(inputs, config), out)
    threads = tmp_path / "threads"
    run_combine(make_plan(inputs, config | {"executor": {"kind": "local"}}), threads)
    assert _digest(out) == _digest(threads)


def test_unreachable_scheduler_is_a_coded_error(tmp_path):
    config = REFERENCE_PARAMS | {
        "executor": {"kind": "distributed", "address": "tcp://127.0.0.1:9", "connect_timeout": 1}
    }
    with pytest.raises(PipelineError) as info:
        run_combine(make_plan(sample_inputs()[:1], config), tmp_path / "out")
    assert info.value.code == "executor-unavailable"


def test_slurm_cluster_is_configured_from_the_run_configuration():
    config = ExecutorConfig.model_validate(
        {
            "kind": "slurm",
            "n_workers": 4,
            "threads_per_worker": 8,
            "memory_limit": "16GB",
            "slurm": {
                "queue": "lsst-cpu",
                "account": "pz",
                "walltime": "02:00:00",
                "scheduler_options": {"host": "127.0.0.1"},
            },
        }
    )
    cluster = graph.slurm_cluster(config)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p lsst-cpu" in script
    assert "#SBATCH -A pz" in script
    assert "#SBATCH -t 02:00:00" in script
    assert "--cpus-per-task=8" in script
    assert "--nthreads 8" in script
    assert "--memory-limit 14.90GiB" in script or "--memory-limit 16" in script


def _corner_catalogs(folder: Path, n_corners: int = 120, seed: int = 3) -> list[CombineInput]:
    """Three catalogs whose duplicates sit on HEALPix order-7 pixel corners and edges.

    Most groups straddle pixels (so partitions), some as chains (a - b - c with a, c too far
    apart), with flags and redshifts that make the rules decide some groups and leave hard ties.
    """
    from cdshealpix.nested import vertices

    rng = np.random.default_rng(seed)
    pix = rng.choice(12 * 4**7, n_corners, replace=False).astype(np.uint64)
    lon, lat = vertices(pix, 7)
    ra0 = lon.deg[:, 0]
    dec0 = lat.deg[:, 0]
    frames = []
    for k in range(3):
        theta = rng.uniform(0, 2 * np.pi, n_corners) + k * 2 * np.pi / 3
        step = rng.choice([0.05, 0.12, 0.2, 0.3], n_corners) / 3600
        dec = np.clip(dec0 + step * np.sin(theta), -90, 90)
        ra = (ra0 + step * np.cos(theta) / np.maximum(np.cos(np.radians(dec0)), 1e-3)) % 360
        z = np.round(0.5 + rng.choice([0, 0.0003, 0.01], n_corners), 5)
        frames.append(
            pd.DataFrame(
                {
                    "ID": np.arange(n_corners) + 1000 * k,
                    "RA": ra,
                    "DEC": dec,
                    "Z": z,
                    "Q": rng.choice([2, 3, 4], n_corners),
                    "survey": "VIMOS",
                }
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, frame in enumerate(frames):
        path = folder / f"corner{k}.parquet"
        frame.to_parquet(path, index=False, row_group_size=150)
        out.append(CombineInput(f"{k + 1:03d}_corner", 1, path, "parquet", dict(COLUMNS)))
    return out


@pytest.mark.parametrize("mode", ["mark", "remove"])
def test_groups_across_partition_borders_give_the_one_partition_bytes(tmp_path, mode):
    inputs = _corner_catalogs(tmp_path / "in")
    params = {"duplicates": mode, "crossmatch_radius_arcsec": 0.5, "n_neighbors": 3}
    whole = run_combine(make_plan(inputs, params | {"partition_rows": 10**6}), tmp_path / "one")
    split = run_combine(
        make_plan(inputs, params | {"partition_rows": 100, "neighbor_partition_rows": 1}),
        tmp_path / "many",
    )
    assert whole.summary["duplicates"]["neighbour_partitions"] == 1
    assert split.summary["duplicates"]["neighbour_partitions"] > 10
    assert split.summary["duplicates"]["border_rows"] > 150
    assert whole.summary["duplicates"]["pairs"] > 150
    assert _digest(tmp_path / "one") == _digest(tmp_path / "many")
    drop = ("border_rows", "neighbour_partitions")
    assert {k: v for k, v in whole.summary["duplicates"].items() if k not in drop} == {
        k: v for k, v in split.summary["duplicates"].items() if k not in drop
    }

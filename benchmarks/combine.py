"""Benchmark of Combine Redshift Catalogs: whole command, start to exit, time and peak memory.

Cases
-----
samples
    The 13 real samples (tests/data/pipeline/samples), mark mode, reference parameters.
synthetic N
    8 catalogs of N/8 rows in total N; 10 % of the rows are cross-catalog duplicates of an
    object of another catalog, offset by less than 0.5 arcsec, with a different flag (and type).

Each case runs ``python -m pipelines.combine SPEC OUT`` in a subprocess and samples, every
0.1 s, the resident memory of that process (the *driver*) and of its whole process tree
(*total*: the driver plus the LocalCluster's nannies and workers), and reports wall time, both
peaks and the run's own phase timings. ``--executors`` chooses ``local`` (threads, the default)
and/or ``processes`` (a LocalCluster of ``--workers`` processes). Synthetic inputs are
generated once and cached in ``benchmarks/work/combine-inputs/<rows>/`` (git-ignored). The
machine is shared: cases under 2M rows run ``--repeat`` times (default 3) and the fastest run
is reported with all wall times and the load average before each run.

Usage::

    .venv/bin/python benchmarks/combine.py                       # samples, 1M, 5M (remove)
    .venv/bin/python benchmarks/combine.py --sizes 100000 1000000 --mode mark
    .venv/bin/python benchmarks/combine.py --no-samples --sizes 200000
    .venv/bin/python benchmarks/combine.py --no-samples --sizes 1000000 5000000 10000000 \
        50000000 --modes remove mark --executors local processes --repeat 1   # the issue's table

Figures are printed and saved as JSON in benchmarks/results/combine.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
CACHE = REPO / "benchmarks" / "work" / "combine-inputs"
#: (survey, flags drawn for it): surveys of the translation file with direct maps
SURVEYS = [
    ("VIMOS", [0, 1, 2, 3, 4]),
    ("JADES", [0, 1, 2, 3, 4]),
    ("GAMA_DR4", [1, 2, 3, 4, 5]),
    ("MOSDEF", [0, 1, 2, 3, 4, 5, 6, 7]),
    ("2DFGRS", [1, 2, 3, 4, 5]),
    ("6DFGS", [1, 2, 3, 4, 6]),
    ("OZDES", [1, 2, 3, 4, 6]),
    ("PRIMUS", [-1, 2, 3, 4]),
]


def cached_inputs(total: int) -> tuple[list[dict], float]:
    """The 8 catalogs of ``total`` rows, generated once in ``CACHE``; (specs, seconds spent)."""
    folder = CACHE / str(total)
    done = folder / "specs.json"
    if done.exists():
        return json.loads(done.read_text()), 0.0
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t = time.perf_counter()
    specs = generate(total, folder)
    done.write_text(json.dumps(specs))
    return specs, time.perf_counter() - t


def generate(total: int, folder: Path, seed: int = 42) -> list[dict]:
    """Write 8 Parquet catalogs of ``total`` rows; return their spec entries."""
    rng = np.random.default_rng(seed)
    n_cat = len(SURVEYS)
    per = total // n_cat
    n_dup = per // 10
    base_ra, base_dec = [], []
    specs = []
    for k, (survey, flags) in enumerate(SURVEYS):
        n_new = per - n_dup
        ra = rng.uniform(0, 360, n_new)
        dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n_new)))
        if k > 0:
            # duplicates of objects of earlier catalogs, offset < 0.5 arcsec
            pool_ra, pool_dec = np.concatenate(base_ra), np.concatenate(base_dec)
            pick = rng.integers(0, len(pool_ra), n_dup)
            sep = rng.uniform(0, 0.45, n_dup) / 3600
            ang = rng.uniform(0, 2 * np.pi, n_dup)
            d_dec = pool_dec[pick] + sep * np.sin(ang)
            d_ra = (pool_ra[pick] + sep * np.cos(ang) / np.cos(np.radians(pool_dec[pick]))) % 360
            ra = np.concatenate([ra, d_ra])
            dec = np.concatenate([dec, np.clip(d_dec, -90, 90)])
        else:
            extra_ra = rng.uniform(0, 360, n_dup)
            extra_dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n_dup)))
            ra, dec = np.concatenate([ra, extra_ra]), np.concatenate([dec, extra_dec])
        base_ra.append(ra[: per - n_dup])
        base_dec.append(dec[: per - n_dup])
        order = rng.permutation(len(ra))
        frame = pd.DataFrame(
            {
                "ID": np.arange(len(ra), dtype=np.int64) + 10_000_000 * k,
                "RA": ra[order],
                "DEC": dec[order],
                "Z": np.round(rng.uniform(0.01, 3.0, len(ra)), 5),
                "QUALITY": rng.choice(flags, len(ra)),
                "survey": survey,
            }
        )
        path = folder / f"cat{k}.parquet"
        frame.to_parquet(path, index=False, row_group_size=500_000)
        specs.append(
            {
                "internal_name": f"{k + 1:03d}_synthetic_{survey.lower()}",
                "path": str(path),
                "format": "parquet",
                "columns": {
                    "id": "ID",
                    "ra": "RA",
                    "dec": "DEC",
                    "z": "Z",
                    "z_flag": "QUALITY",
                    "survey": "survey",
                },
            }
        )
    return specs


def sample_specs() -> list[dict]:
    """The 13 real samples as spec entries."""
    from tests.pipeline.samples import sample_inputs

    return [
        {
            "internal_name": i.internal_name,
            "path": str(i.path),
            "format": "parquet",
            "columns": i.columns,
        }
        for i in sample_inputs()
    ]


def run_case(name: str, inputs: list[dict], config: dict, work: Path, repeat: int = 1) -> dict:
    """Run one case ``repeat`` times in subprocesses; figures of the fastest, all wall times."""
    runs = [_run_once(name, inputs, config, work) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    return best | {
        "wall_s_all": [r["wall_s"] for r in runs],
        "peak_rss_mib_max": max(r["peak_rss_mib"] for r in runs),
        "driver_peak_rss_mib_max": max(r["driver_peak_rss_mib"] for r in runs),
    }


def _tree_rss(proc) -> tuple[int, int]:
    """RSS of a process and of its whole tree, bytes."""
    import psutil

    try:
        own = proc.memory_info().rss
        total = own
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return own, total
    except psutil.Error:
        return 0, 0


def _run_once(name: str, inputs: list[dict], config: dict, work: Path) -> dict:
    """Run one case in a subprocess and measure it (driver and process-tree peak RSS)."""
    import psutil

    load_before = os.getloadavg()[0]
    spec = work / f"{name}.yaml"
    spec.write_text(yaml.safe_dump({"inputs": inputs, "config": config}), encoding="utf-8")
    out = work / f"{name}-out"
    shutil.rmtree(out, ignore_errors=True)
    result_json = work / f"{name}-result.json"
    cmd = [
        sys.executable,
        "-m",
        "pipelines.combine",
        str(spec),
        str(out),
        "--quiet",
        "--result",
        str(result_json),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    popen = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    proc = psutil.Process(popen.pid)
    driver_peak = total_peak = 0
    while popen.poll() is None:
        own, total = _tree_rss(proc)
        driver_peak, total_peak = max(driver_peak, own), max(total_peak, total)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    _, stderr = popen.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the run and of every process it waited for (LocalCluster nannies and workers)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if popen.returncode != 0:
        raise SystemExit(f"{name} failed:\n{stderr[-3000:]}")
    run = json.loads(result_json.read_text())
    shutil.rmtree(out, ignore_errors=True)
    rows_in = sum(run["summary"]["rows_in"].values())
    return {
        "case": name,
        "rows_in": rows_in,
        "rows_out": run["rows"],
        "mode": config["duplicates"],
        "executor": config.get("executor", {}).get("kind", "local"),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(total_peak / 2**20, 1),
        "driver_peak_rss_mib": round(driver_peak / 2**20, 1),
        "phases_s": run["timings"],
        "duplicates": run["summary"].get("duplicates"),
        "load_average_1min_before": round(load_before, 2),
    }


def _table(figures: list[dict]) -> str:
    head = (
        f"{'case':<20} {'mode':<7} {'executor':<10} {'rows in':>11} {'rows out':>11} "
        f"{'wall s':>8} {'CPU s':>7} {'driver MiB':>11} {'total MiB':>10} {'load':>5}"
    )
    lines = [head, "-" * len(head)]
    for f in figures:
        lines.append(
            f"{f['case']:<20} {f['mode']:<7} {f.get('executor', 'local'):<10} "
            f"{f['rows_in']:>11,} {f['rows_out']:>11,} {f['wall_s']:>8.1f} "
            f"{f.get('cpu_s', float('nan')):>7.1f} "
            f"{f.get('driver_peak_rss_mib', 0):>11.0f} {f['peak_rss_mib']:>10.0f} "
            f"{f['load_average_1min_before']:>5.1f}"
        )
    return "\n".join(lines)


def _growth(figures: list[dict]) -> list[dict]:
    """Time and memory ratios from the smallest to each larger size, per mode and executor."""
    out = []
    series: dict[tuple[str, str], list[dict]] = {}
    for f in figures:
        if f["case"].startswith("synthetic"):
            series.setdefault((f["mode"], f.get("executor", "local")), []).append(f)
    for (mode, kind), runs in series.items():
        runs = sorted(runs, key=lambda r: r["rows_in"])
        for r in runs[1:]:
            a = runs[0]
            out.append(
                {
                    "mode": mode,
                    "executor": kind,
                    "from_rows": a["rows_in"],
                    "to_rows": r["rows_in"],
                    "rows_ratio": round(r["rows_in"] / a["rows_in"], 2),
                    "time_ratio": round(r["wall_s"] / a["wall_s"], 2),
                    "total_memory_ratio": round(r["peak_rss_mib"] / a["peak_rss_mib"], 2),
                    "driver_memory_ratio": round(
                        r["driver_peak_rss_mib"] / a["driver_peak_rss_mib"], 2
                    ),
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--modes", nargs="+", default=["remove"], choices=["no", "mark", "remove"])
    parser.add_argument("--executors", nargs="+", default=["local"], choices=["local", "processes"])
    parser.add_argument("--workers", type=int, default=2, help="threads or worker processes")
    parser.add_argument("--memory-limit", default="2.5GB", help="per worker process (processes)")
    parser.add_argument("--format", default="parquet")
    parser.add_argument("--no-samples", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per case below 2M rows (the fastest is reported; the machine "
        "is shared, so single runs are noisy)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "combine.json")
    args = parser.parse_args()
    figures = []
    uptimes = []
    with tempfile.TemporaryDirectory(prefix="pzcat-bench-") as tmp:
        work = Path(tmp)
        if not args.no_samples:
            config = {
                "duplicates": "mark",
                "output_format": args.format,
                "delta_z_threshold": 0.001,
                "flags_file": str(REPO / "tests/data/pipeline/reference_flags_translation.yaml"),
            }
            figures.append(run_case("samples-13", sample_specs(), config, work, args.repeat))
            print(json.dumps(figures[-1]), flush=True)
        for size in args.sizes:
            inputs, gen = cached_inputs(size)
            for mode in args.modes:
                for kind in args.executors:
                    executor = {"kind": kind, "n_workers": args.workers}
                    if kind == "processes":
                        executor["memory_limit"] = args.memory_limit
                    config = {
                        "duplicates": mode,
                        "output_format": args.format,
                        "executor": executor,
                    }
                    repeat = args.repeat if size < 2_000_000 else 1
                    uptimes.append(
                        subprocess.run(
                            ["uptime"], capture_output=True, text=True, check=False
                        ).stdout.strip()
                    )
                    figures.append(
                        run_case(f"synthetic-{size}", inputs, config, work, repeat)
                        | {"generate_s": round(gen, 1), "uptime_before": uptimes[-1]}
                    )
                    print(json.dumps(figures[-1]), flush=True)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": " ".join(["benchmarks/combine.py", *sys.argv[1:]]),
        "targets": {
            "samples-13": "< 10 s",
            "synthetic-5000000": "<= 21.6 s (the in-memory runner)",
            "synthetic-50000000": "<= 300 s, total peak <= 6 GB, driver <= 1 GB",
        },
        "uptime": uptimes,
        "figures": figures,
        "growth": _growth(figures),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(_table(figures))
    for g in report["growth"]:
        print(json.dumps(g))
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()

"""Time `pzcat validate` on a ~200 MB redshift catalog stored as Parquet, CSV, FITS and HDF5.

For each format the catalog (id, ra, dec, z, z_err, z_flag, survey and six magnitudes with
errors) is written to ``benchmarks/work/``, registered in a temporary catalog of its own with
:func:`pzcat.products.add_product` (the in-repository limit raised), then ``pzcat validate`` runs on
it in a subprocess. Wall time and the child's peak RSS (``wait4`` resource usage: the kernel's
high-water mark, file-backed pages included, taken by a small launcher process) are printed and saved to
``benchmarks/results/validate.json``.

Targets (issue 2): at most 10 s and 400 MB peak RSS per format.

Usage::

    .venv/bin/python benchmarks/validate.py                 # all formats, 1,400,000 rows (~200 MB)
    .venv/bin/python benchmarks/validate.py --formats csv --repeat 3
    .venv/bin/python benchmarks/validate.py --rows 200000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pzcat.catalog import Catalog
from pzcat.products import add_product

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "validate.json"
FORMATS = ("parquet", "csv", "fits", "hdf5")
SUFFIX = {"parquet": "parquet", "csv": "csv", "fits": "fits", "hdf5": "hdf5"}
TARGET_SECONDS, TARGET_MB = 10.0, 400.0
SURVEYS = np.array(["VVDS", "DESI", "2dFLenS", "6dFGS", "VIPERS", "zCOSMOS", "GAMA", "SDSS"])


def make_frame(n: int, seed: int = 2026) -> pd.DataFrame:
    """A redshift catalog of ``n`` rows with realistic value ranges (all valid)."""
    rng = np.random.default_rng(seed)
    z = rng.gamma(2.0, 0.35, n).clip(0.0, 6.0).round(5)
    df = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype="int64"),
            "ra": rng.uniform(0.0, 360.0, n).round(6),
            "dec": np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n))).round(6),
            "z": z,
            "z_err": rng.exponential(0.002, n).round(6),
            "z_flag": rng.choice(np.array([0, 1, 2, 3, 4, 9], dtype="int16"), n),
            "survey": pd.array(SURVEYS[rng.integers(0, len(SURVEYS), n)], dtype="str"),
        }
    )
    base = 21.0 + 1.5 * np.log1p(z)
    for i, band in enumerate("ugrizy"):
        df[f"mag_{band}"] = (base + 0.3 * (2 - i) + rng.normal(0, 0.4, n)).round(4)
        df[f"magerr_{band}"] = rng.exponential(0.05, n).round(4)
    return df


def write(df: pd.DataFrame, fmt: str, path: Path) -> None:
    """Write the catalog as ``fmt`` the way a user typically would."""
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "csv":
        import pyarrow as pa
        import pyarrow.csv as pacsv

        pacsv.write_csv(pa.Table.from_pandas(df, preserve_index=False), path)
    elif fmt == "fits":
        from astropy.table import Table

        table = Table.from_pandas(df.astype({"survey": "U8"}))
        table["ra"].unit = table["dec"].unit = "deg"
        table.write(path, overwrite=True)
    elif fmt == "hdf5":
        df.astype({"survey": object}).to_hdf(
            path, key="catalog", format="table", mode="w", complevel=0
        )
    else:
        raise ValueError(fmt)


def build_catalog(fmt: str, df: pd.DataFrame, work: Path) -> tuple[Path, int]:
    """A one-product catalog under ``work/catalog_<fmt>`` holding the table; returns (root, bytes)."""
    root = work / f"catalog_{fmt}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    text = (REPO / "catalog.yaml").read_text(encoding="utf-8")
    text = text.replace("max_file_bytes: 52428800", "max_file_bytes: 10000000000")
    assert "max_file_bytes: 10000000000" in text
    (root / "catalog.yaml").write_text(text, encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        src = Path(tmp) / f"benchmark_catalog.{SUFFIX[fmt]}"
        write(df, fmt, src)
        add_product(
            Catalog.open(root),
            name=f"Benchmark {fmt}",
            product_type="redshift_catalog",
            uploaded_by="benchmark",
            main_file=src,
            fmt=fmt,
            description=f"{len(df):,}-row benchmark catalog as {fmt}.",
        )
    size = sum(p.stat().st_size for p in (root / "products").rglob("*") if p.is_file())
    return root, size


#: Runs the command and reports its own wait4() figures. A launcher is needed because a child
#: forked straight from this (large) process would inherit its RSS high-water mark.
LAUNCHER = """
import json, os, subprocess, sys, time
out = open(sys.argv[1], "wb")
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
err = proc.stderr.read().decode(errors="replace")
print(json.dumps({"seconds": seconds, "maxrss_kb": usage.ru_maxrss,
                  "exit": os.waitstatus_to_exitcode(status), "stderr": err}))
"""


def run_validate(root: Path) -> dict:
    """Run `pzcat validate` on ``root`` in a subprocess; wall seconds and peak RSS (MB)."""
    pzcat = Path(sys.executable).with_name("pzcat")
    env = {k: v for k, v in os.environ.items() if k != "PZCAT_ROOT"}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                out.name,
                str(pzcat),
                "validate",
                "--root",
                str(root),
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        facts = json.loads(done.stdout)
        report = json.loads(Path(out.name).read_bytes() or b"{}")
    if facts["exit"] != 0:
        raise SystemExit(
            f"pzcat validate failed on {root} (exit {facts['exit']}):\n"
            f"{facts['stderr']}\n{json.dumps(report, indent=2)[:3000]}"
        )
    rows = report["products"][0]["stats"].get("rows")
    return {
        "seconds": round(facts["seconds"], 2),
        "peak_rss_mb": round(facts["maxrss_kb"] / 1024, 1),
        "rows_checked": rows,
        "valid": report["valid"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_400_000,
        help="Rows (1.4 M: about 200 MB as CSV, FITS or HDF5; 73 MB as Parquet).",
    )
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--repeat", type=int, default=1, help="Runs per format (the best is kept).")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Reuse catalogs already in benchmarks/work/ (same --rows).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    df = None
    results = []
    for fmt in args.formats:
        root = WORK / f"catalog_{fmt}"
        stamp = root / ".rows"
        if args.reuse and stamp.exists() and stamp.read_text() == str(args.rows):
            size = sum(p.stat().st_size for p in (root / "products").rglob("*") if p.is_file())
        else:
            if df is None:
                df = make_frame(args.rows)
            t0 = time.perf_counter()
            root, size = build_catalog(fmt, df, WORK)
            stamp.write_text(str(args.rows))
            print(
                f"built {fmt}: {size / 1e6:,.0f} MB in {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
            )
        runs = [run_validate(root) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        best.update(
            {
                "format": fmt,
                "file_mb": round(size / 1e6, 1),
                "rows": args.rows,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "runs_seconds": [r["seconds"] for r in runs],
            }
        )
        best["ok"] = best["seconds"] <= TARGET_SECONDS and best["peak_rss_mb"] <= TARGET_MB
        results.append(best)
        print(f"{fmt}: {best['seconds']} s, {best['peak_rss_mb']} MB", file=sys.stderr)

    print(
        f"\npzcat validate, {args.rows:,} rows ({len(make_frame(1).columns)} columns); "
        f"targets <= {TARGET_SECONDS:.0f} s and <= {TARGET_MB:.0f} MB peak RSS"
    )
    print(
        f"{'format':8} {'file MB':>8} {'seconds':>8} {'peak RSS MB':>12} {'rows checked':>13}  ok"
    )
    for r in results:
        print(
            f"{r['format']:8} {r['file_mb']:8.1f} {r['seconds']:8.2f} {r['peak_rss_mb']:12.1f} "
            f"{r['rows_checked']:13,}  {'yes' if r['ok'] else 'NO'}"
        )
    payload = {
        "benchmark": "pzcat validate",
        "rows": args.rows,
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_MB},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()

"""Time and peak memory of `pzcat validate` on each bomb of issue 11, under a 2 GB RLIMIT_AS.

Each hostile input is written into a private copy of its bad-input corpus case
(``tests/bad_inputs/``), then ``pzcat validate`` runs on it in a subprocess with a memory limit and
a time limit (:func:`tests.limits.run_limited`: wall time, the child's own peak RSS from
``wait4``). Printed and saved to ``benchmarks/results/hostile.json`` with the load average.

Usage::

    .venv/bin/python benchmarks/hostile.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "foundation")]

from limits import run_limited  # noqa: E402
from test_hostile_tables import _fits_gz_bomb  # noqa: E402

CORPUS = REPO / "tests" / "bad_inputs"
PZCAT = str(Path(sys.executable).with_name("pzcat"))
BASE = "1_base_sample"


def case(tmp: Path, name: str) -> Path:
    root = Path(tempfile.mkdtemp(dir=tmp, prefix=name + "."))
    root.rmdir()
    shutil.copytree(CORPUS / name, root, symlinks=True)
    (root / "expected.yaml").unlink()
    if not (root / "catalog.yaml").exists():
        shutil.copy2(CORPUS / "_base" / "catalog.yaml", root / "catalog.yaml")
    return root


def bombs(tmp: Path):
    yield "yaml alias bomb (9**9 strings) in provenance.config", case(tmp, "yaml_alias_bomb")
    yield "yaml 5,000 nested lists", case(tmp, "yaml_deep_nesting")
    yield "yaml 4,301-digit integer", case(tmp, "yaml_huge_integer")
    for n in (10_000, 100_000):
        root = case(tmp, "csv_too_many_columns")
        header = ",".join(["id", "ra", "dec", "z"] + [f"c{i}" for i in range(n)])
        row = ",".join(["1", "10.0", "-30.0", "0.5"] + ["0"] * n)
        (root / "products" / BASE / "sample.csv").write_text(header + "\n" + (row + "\n") * 3)
        yield f"csv with {n:,} columns", root
    root = case(tmp, "corrupt_fits")
    for f in (root / "products" / BASE).iterdir():
        f.unlink()
    _fits_gz_bomb(root / "products" / BASE / "sample.fits", 3_200_000_000)
    yield ".fits.gz (3 MB) expanding to 3.2 GB", root
    yield "hdf5 (2 KB) declaring 3 x 10**11 rows", case(tmp, "hdf5_declared_huge")
    root = case(tmp, "csv_nul_in_header")
    path = root / "products" / BASE / "sample.csv"
    with open(path, "r+b") as fh:
        fh.truncate(1 << 30)
    yield "sparse 1 GB csv over the 50 MB limit", root
    root = case(tmp, "hats_symlink_outside")
    os.symlink(
        root / "outside" / "secret.parquet",
        root / "products" / BASE / "cat" / "dataset" / "Norder=0" / "Dir=0" / "Npix=1.parquet",
    )
    yield "HATS leaf linking to an outside Parquet file", root
    yield "baseline: a valid catalog (the command's start-up)", case(tmp, "unknown_ucd")


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, root in bombs(Path(tmp)):
            run = run_limited(
                [PZCAT, "validate", "--root", str(root)], cwd=root, mem_mb=2048, timeout=300
            )
            codes = sorted(
                {
                    ln.split("[", 1)[1].split("]", 1)[0]
                    for ln in run.stdout.splitlines()
                    if "error[" in ln
                }
            )
            row = {
                "attack": label,
                "seconds": round(run.seconds, 2),
                "peak_mb": round(run.peak_mb),
                "exit": run.returncode,
                "codes": codes,
                "timed_out": run.timed_out,
            }
            results.append(row)
            print(
                f"{label:52s} {row['seconds']:6.2f} s {row['peak_mb']:5d} MB  exit {run.returncode} "
                f"{codes}"
            )
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    out = REPO / "benchmarks" / "results" / "hostile.json"
    out.write_text(
        json.dumps({"load_average": load, "limit_mb": 2048, "results": results}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()

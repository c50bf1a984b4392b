"""The figures of issue 11: each bomb against `pzcat validate`, and 200 slow download readers
against `pzcat serve`.

Bombs: each hostile input is written into a private copy of its bad-input corpus case
(``tests/bad_inputs/``), then ``pzcat validate`` runs on it in a subprocess with a memory limit and
a time limit (:func:`tests.limits.run_limited`: wall time, the child's own peak RSS from
``wait4``), under a 2 GB RLIMIT_AS.

Slow readers: a real ``pzcat serve`` on 127.0.0.1 (random port) serves a 50 MB product file;
``--readers`` sockets (default 200, receive buffer 16 KB) each download it at 1 KB/s for
``--seconds`` (default 10) while another client asks for ``/site/`` in a loop
(``tests/datasette/slow_readers.py``): server RSS before/peak/after, kernel TCP buffer memory,
requests answered, the server's CPU seconds; once with the kernel's send-buffer autotuning and
once with ``$PZCAT_SOCKET_SEND_BUFFER`` = 256 KB. The per-client connection cap is raised to 256
for this run (every reader is 127.0.0.1).

Printed and saved to ``benchmarks/results/hostile.json`` with the load average.

Usage::

    .venv/bin/python benchmarks/hostile.py                 # both (about 1 minute on a quiet machine)
    .venv/bin/python benchmarks/hostile.py --only bombs
    .venv/bin/python benchmarks/hostile.py --only readers --readers 200 --seconds 10 \
        --send-buffer 0 262144      # autotuning, then $PZCAT_SOCKET_SEND_BUFFER=262144 (default)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(REPO / "tests"),
    str(REPO / "tests" / "foundation"),
    str(REPO / "tests" / "datasette"),
]

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


def run_bombs() -> list[dict]:
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
    return results


def run_readers(readers: int, seconds: float, send_buffer: int = 0) -> dict:
    """200 slow readers of a 50 MB download against a real server (see the module docstring)."""
    import time

    import psutil
    from demo_server import start_serve
    from ds_catalog import SECRET, add_product, make_catalog
    from slow_readers import slow_reader_flood

    from pzcat.catalog import Catalog
    from pzcat_datasette.previews import build_previews

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_catalog(root)
        add_product(
            root,
            4,
            "Big Download",
            "training_results",
            [("model.bin", "main", os.urandom(50 * 1024 * 1024))],
            release="dp1",
        )
        build_previews(Catalog.open(root))
        (root / "build" / "site").mkdir(parents=True, exist_ok=True)
        (root / "build" / "site" / "index.html").write_text("<h1>Catalog site</h1>")
        env = {
            **os.environ,
            "PZCAT_SECRET": SECRET,
            "PYTHONUNBUFFERED": "1",
            "PZCAT_MAX_CONNECTIONS_PER_CLIENT": "256",
            "PZCAT_SOCKET_SEND_BUFFER": str(send_buffer),
        }
        os.environ["PZCAT_SECRET"] = SECRET
        from pzcat_datasette.tokens import create_token

        token = create_token("bench", expires="1h")
        proc, url = start_serve(root, env, root / "server.log", "--quiet")
        try:
            server = psutil.Process(proc.pid)
            cpu0, wall0 = sum(server.cpu_times()[:2]), time.monotonic()
            result = slow_reader_flood(
                url,
                proc.pid,
                "/-/download/4_big_download/model.bin",
                {"Authorization": f"Bearer {token}"},
                readers=readers,
                seconds=seconds,
            )
            cpu = sum(server.cpu_times()[:2]) - cpu0
            wall = time.monotonic() - wall0
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    row = {
        **result.as_dict(),
        "send_buffer": send_buffer,
        "server_cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
    }
    buffer = f"send buffer {send_buffer:,} B" if send_buffer else "kernel send-buffer autotuning"
    print(
        f"[{buffer}] {readers} slow readers (1 KB/s) of a 50 MB download for {seconds:g} s: server RSS "
        f"{row['rss_before_mb']} -> peak {row['rss_peak_mb']} MB (+{row['growth_mb']} MB), after "
        f"{row['rss_after_mb']} MB; kernel TCP buffers {row['kernel_tcp_before_mb']} -> "
        f"{row['kernel_tcp_peak_mb']} MB; {row['answered']} other requests answered, "
        f"{row['failed']} failed, slowest {row['slowest_s']} s; {row['readers_alive']} readers "
        f"still served; server CPU {row['server_cpu_s']} s in {row['wall_s']} s"
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("bombs", "readers"))
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--send-buffer",
        type=int,
        default=[0, 256 * 1024],
        nargs="+",
        help="$PZCAT_SOCKET_SEND_BUFFER values to run the readers with (0: autotuning)",
    )
    args = parser.parse_args()
    out = REPO / "benchmarks" / "results" / "hostile.json"
    saved = json.loads(out.read_text()) if out.is_file() else {}
    if args.only != "readers":
        saved["results"] = run_bombs()
        saved["limit_mb"] = 2048
    if args.only != "bombs":
        saved.pop("slow_readers", None)
        saved["slow_readers_runs"] = [
            run_readers(args.readers, args.seconds, size) for size in args.send_buffer
        ]
    load = os.getloadavg()
    saved["load_average"] = load
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    out.write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()

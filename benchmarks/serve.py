"""Benchmark of the previews and downloads, on loopback.

Generates a throwaway catalog in a temporary folder:

- a redshift catalog of 1,000,000 rows (Parquet; id, ra, dec, z, z_err, z_flag, survey and five
  magnitudes),
- a 200 MB product (four 50 MB files of random bytes, so nothing compresses),

then measures

1. the build of previews.db (fresh, then incremental with nothing changed), target <= 15 s for the
   1,000,000-row product;
2. a real ``pzcat serve`` process (subprocess, 127.0.0.1, random port) under 50 concurrent clients for
   30 s, each repeating at random a table page (HTML), a filtered query (JSON) and a cone search
   (canned query, JSON): p50 / p99 latency, throughput and errors. Targets p50 <= 25 ms,
   p99 <= 200 ms, 0 errors. Two load models are run:

   The server keeps a response cache of anonymous Datasette pages (the database is immutable);
   random parameters keep the filtered queries, cone searches and half of the table pages out of it.

   * ``users`` (the targets): 50 concurrent users, each waiting a think time (exponential, mean
     ``--think`` s, default 1 s) between its requests, like people browsing;
   * ``saturation`` (for information): 50 clients sending back-to-back, no think time; latency there
     is queueing (50 / throughput), so it measures capacity rather than response time;

3. the download of the 200 MB product as a ZIP (best of 3, plain-socket client): throughput against
   reading the same files from disk with O_DIRECT (the disk itself, target >= 70%; the page-cache
   read rate is reported too), and the server's peak RSS over idle (target <= 100 MB), sampled
   every 20 ms over the server and its workers.

It also reports, for each load model, the server's CPU time per request (user + system of the
server and its workers / requests) and the machine's load average: on a shared machine latency
follows the load of other processes, CPU per request does not.

The load generator is a minimal keep-alive HTTP/1.1 client on asyncio streams (cheaper than httpx,
which matters on a 2-core machine where client and server share the CPUs). Loops are bounded by
time and count; everything stays on 127.0.0.1.

Usage::

    .venv/bin/python benchmarks/serve.py                 # full run (about 2 minutes)
    .venv/bin/python benchmarks/serve.py --rows 100000 --duration 5 --download-mb 40   # quick

Prints a summary and saves JSON to benchmarks/results/serve.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pzcat.catalog import Catalog  # noqa: E402
from pzcat.files import path_digest  # noqa: E402
from pzcat.manifest import ColumnInfo, FileEntry, Manifest, make_internal_name  # noqa: E402

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "benchmark-secret-" + "0" * 16
TARGETS = {
    "p50_ms": 25.0,
    "p99_ms": 200.0,
    "errors": 0,
    "download_ratio": 0.70,
    "download_rss_over_idle_mb": 100.0,
    "build_s": 15.0,
}


# -- the catalog ---------------------------------------------------------------------------------------


def _entry(
    root: Path, path: Path, role: str, fmt: str, df: pd.DataFrame | None = None
) -> FileEntry:
    size, sha = path_digest(path)
    cols = None
    if df is not None:
        cols = [
            ColumnInfo(
                name=c,
                dtype=str(df[c].dtype).replace("str", "string"),
                unit={"ra": "deg", "dec": "deg"}.get(c),
            )
            for c in df.columns
        ]
    return FileEntry(
        role=role,
        path=path.relative_to(root).as_posix(),
        format=fmt,
        size=size,
        sha256=sha,
        n_rows=len(df) if df is not None else None,
        columns=cols,
    )


def make_catalog(root: Path, rows: int, download_mb: int) -> tuple[str, str]:
    """Write the benchmark catalog; return (table product, download product)."""
    root.mkdir(parents=True)
    text = (REPO / "catalog.yaml").read_text()
    text = text.replace("max_file_bytes: 52428800", "max_file_bytes: 1073741824")
    (root / "catalog.yaml").write_text(text)
    catalog = Catalog.open(root)
    rng = np.random.default_rng(42)
    df = pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "ra": rng.uniform(150.0, 160.0, rows),
            "dec": rng.uniform(0.0, 10.0, rows),
            "z": rng.gamma(2.0, 0.4, rows),
            "z_err": rng.uniform(0.0001, 0.05, rows),
            "z_flag": rng.integers(0, 5, rows).astype(np.int64),
            "survey": rng.choice(np.array(["DESI", "2dFLenS", "VVDS", "zCOSMOS", "GAMA"]), rows),
            **{f"mag_{b}": rng.normal(22.0, 1.5, rows) for b in "ugriz"},
        }
    )
    big = make_internal_name(1, "Big Redshift Catalog")
    pdir = root / "products" / big
    pdir.mkdir(parents=True)
    df.to_parquet(pdir / "big.parquet", index=False, row_group_size=100_000)
    catalog.save(
        Manifest(
            id=1,
            internal_name=big,
            name="Big Redshift Catalog",
            product_type="redshift_catalog",
            uploaded_by="bench",
            created=WHEN,
            updated=WHEN,
            description="1,000,000 synthetic redshifts.",
            files=[_entry(root, pdir / "big.parquet", "main", "parquet", df)],
            columns={
                "id": "id",
                "ra": "ra",
                "dec": "dec",
                "z": "z",
                "z_err": "z_err",
                "z_flag": "z_flag",
                "survey": "survey",
            },
        )
    )
    heavy = make_internal_name(2, "Heavy Results")
    hdir = root / "products" / heavy
    hdir.mkdir(parents=True)
    entries = []
    n_files = 4
    per_file = download_mb * 1024 * 1024 // n_files
    for i in range(n_files):
        path = hdir / f"part{i}.bin"
        with open(path, "wb") as fh:
            left = per_file
            while left > 0:
                n = min(left, 8 << 20)
                fh.write(rng.bytes(n))
                left -= n
        entries.append(_entry(root, path, "main" if i == 0 else "auxiliary", "other"))
    catalog.save(
        Manifest(
            id=2,
            internal_name=heavy,
            name="Heavy Results",
            product_type="training_results",
            uploaded_by="bench",
            created=WHEN,
            updated=WHEN,
            files=entries,
        )
    )
    return big, heavy


# -- server ----------------------------------------------------------------------------------------------


def start_server(root: Path, log: Path, workers: int = 1) -> tuple[subprocess.Popen, str, int]:
    from pzcat_datasette.launch import port_of, start_serve

    env = {**os.environ, "PZCAT_SECRET": SECRET}
    deadline = time.monotonic() + 120
    proc, url = start_serve(root, log, "--quiet", "--workers", str(workers), env=env, timeout=120)
    port = port_of(url)
    _wait_ready("127.0.0.1", port, deadline)
    return proc, "127.0.0.1", port


def _wait_ready(host: str, port: int, deadline: float) -> None:
    """Until every worker answers (workers start after the URL is printed)."""
    import urllib.request

    ok = 0
    while time.monotonic() < deadline and ok < 8:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/-/versions.json", timeout=5) as r:
                ok += r.status == 200
        except OSError:
            ok = 0
            time.sleep(0.2)


def rss_mb(pid: int) -> float:
    """RSS of a process and its children (the server's workers), MB."""
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 1e6


class RssSampler:
    """Peak RSS of a process, sampled every ``interval`` s in a thread."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except Exception:  # noqa: BLE001 - process gone
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# -- a minimal HTTP/1.1 client ------------------------------------------------------------------------


class Conn:
    """One keep-alive connection; ``get`` returns (status, body length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=1 << 20
        )

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def get(self, path: str, headers: dict | None = None, sink=None) -> tuple[int, int]:
        if self.writer is None:
            await self._open()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{extra}\r\n".encode())
        status_line = await self.reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            key = key.strip().lower()
            if key == "content-length":
                length = int(value)
            elif key == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif key == "connection" and "close" in value.lower():
                close = True
        total = 0
        if chunked:
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                data = await self.reader.readexactly(size)
                total += size
                await self.reader.readline()
        elif length is not None:
            left = length
            while left:
                data = await self.reader.read(min(left, 1 << 20))
                if not data:
                    raise ConnectionError("short body")
                if sink:
                    sink(data)
                left -= len(data)
                total += len(data)
        if close:
            await self.close()
        return status, total


# -- load test ---------------------------------------------------------------------------------------------


def request_mix(table: str, rng: random.Random, rows: int = 1_000_000) -> tuple[str, str]:
    """One request: the table page (half the time the first page, which the server's response
    cache may hold, half a random page of the million rows, which it does not), a filtered query
    or a cone search (random parameters: never cached)."""
    kind = rng.choice(("table_page", "filtered_query", "cone_search"))
    if kind == "table_page":
        if rng.random() < 0.5:
            return kind, f"/previews/{table}"
        return kind, f"/previews/{table}?_next={rng.randrange(rows)}"
    if kind == "filtered_query":
        lo = round(rng.uniform(0.1, 2.0), 3)
        return kind, (
            f"/previews/{table}.json?z__gte={lo}&z__lt={lo + 0.01:.3f}&survey=DESI"
            "&_size=50&_shape=objects"
        )
    ra, dec = rng.uniform(151, 159), rng.uniform(1, 9)
    return kind, (
        f"/previews/cone_{table}.json?ra={ra:.5f}&dec={dec:.5f}&radius_arcsec=60&_shape=objects"
    )


async def _load(
    host: str, port: int, table: str, clients: int, duration: float, think: float, seed: int
) -> dict:
    results: list[tuple[str, float, bool]] = []
    deadline = time.perf_counter() + duration
    max_requests = 2_000_000

    async def client(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = Conn(host, port)
        if think:
            await asyncio.sleep(rng.uniform(0, think))  # spread the starts
        try:
            while time.perf_counter() < deadline and len(results) < max_requests:
                kind, path = request_mix(table, rng)
                t0 = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.get(path), timeout=30)
                    ok = status == 200
                except (
                    TimeoutError,
                    OSError,
                    ConnectionError,
                    ValueError,
                    asyncio.IncompleteReadError,
                ):
                    ok = False
                    await conn.close()
                results.append((kind, time.perf_counter() - t0, ok))
                if think:
                    await asyncio.sleep(min(rng.expovariate(1 / think), 10 * think))
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - t0

    def summary(items: list[tuple[str, float, bool]]) -> dict:
        lat = sorted(x[1] * 1000 for x in items)
        if not lat:
            return {"requests": 0}
        return {
            "requests": len(items),
            "errors": sum(1 for x in items if not x[2]),
            "p50_ms": round(lat[len(lat) // 2], 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
            "mean_ms": round(statistics.fmean(lat), 2),
            "max_ms": round(lat[-1], 2),
        }

    out = {
        "clients": clients,
        "duration_s": round(elapsed, 2),
        "think_s": think,
        "throughput_rps": round(len(results) / elapsed, 1),
        **summary(results),
    }
    out["by_kind"] = {
        k: summary([x for x in results if x[0] == k])
        for k in ("table_page", "filtered_query", "cone_search")
    }
    return out


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server and its workers."""
    import psutil

    proc = psutil.Process(pid)
    total = sum(proc.cpu_times()[:2])
    for child in proc.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.NoSuchProcess:
            continue
    return total


def sequential(host: str, port: int, table: str, pid: int, per_kind: int = 30) -> dict:
    """One client, one request at a time: latency and server CPU per request of each kind."""

    async def run() -> dict:
        out = {}
        rng = random.Random(7)
        conn = Conn(host, port)
        for kind in ("table_page", "filtered_query", "cone_search"):
            lat, cpu0, done, tries = [], server_cpu_s(pid), 0, 0
            while done < per_kind and tries < 100 * per_kind:
                tries += 1
                k, path = request_mix(table, rng)
                if k != kind:
                    continue
                t0 = time.perf_counter()
                status, _ = await conn.get(path)
                lat.append((time.perf_counter() - t0) * 1000)
                done += status == 200
            lat.sort()
            out[kind] = {
                "requests": len(lat),
                "p50_ms": round(lat[len(lat) // 2], 1),
                "server_cpu_ms_per_request": round((server_cpu_s(pid) - cpu0) / len(lat) * 1000, 1),
            }
        await conn.close()
        return out

    return asyncio.run(run())


def load_test(host, port, table, clients, duration, think, seed=1, pid=None) -> dict:
    """Run one load model; with ``pid``, also the server's CPU per request (independent of how
    busy the machine is: what a dedicated machine would need)."""
    cpu0 = server_cpu_s(pid) if pid else 0.0
    load0 = os.getloadavg()[0]
    out = asyncio.run(_load(host, port, table, clients, duration, think, seed))
    if pid and out.get("requests"):
        out["server_cpu_ms_per_request"] = round(
            (server_cpu_s(pid) - cpu0) / out["requests"] * 1000, 1
        )
    out["machine_load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    return out


def download(host: str, port: int, path: str, token: str) -> tuple[int, int, float]:
    """GET ``path`` on a plain blocking socket into a reused buffer: (status, bytes, seconds)."""
    import socket

    buf = bytearray(1 << 20)
    view = memoryview(buf)
    t0 = time.perf_counter()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            n = sock.recv_into(view)
            if not n:
                raise ConnectionError("no response")
            head += bytes(view[:n])
        head, _, rest = head.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            None,
        )
        if status != 200 or length is None:
            raise SystemExit(f"download failed: {head.decode(errors='replace')}")
        got = len(rest)
        while got < length:
            n = sock.recv_into(view)
            if not n:
                break
            got += n
    return status, got, time.perf_counter() - t0


def disk_read(paths: list[Path], direct: bool = False) -> tuple[int, float]:
    """Read files in 1 MiB blocks into a reused buffer; ``direct`` bypasses the page cache
    (O_DIRECT: the disk itself)."""
    import mmap

    total = 0
    buf = mmap.mmap(-1, 1 << 20)  # page-aligned, as O_DIRECT needs
    t0 = time.perf_counter()
    for p in paths:
        flags = os.O_RDONLY | (getattr(os, "O_DIRECT", 0) if direct else 0)
        fd = os.open(p, flags)
        try:
            while n := os.readv(fd, [buf]):
                total += n
        finally:
            os.close(fd)
    return total, time.perf_counter() - t0


# -- main --------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument(
        "--think", type=float, default=1.0, help="Mean think time of the users model (s)."
    )
    ap.add_argument("--download-mb", type=int, default=200)
    ap.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="pzcat serve --workers (default: min(2, cores)).",
    )
    ap.add_argument("--skip-saturation", action="store_true")
    ap.add_argument("--keep", action="store_true", help="Keep the temporary catalog.")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "serve.json")
    args = ap.parse_args()
    os.environ["PZCAT_SECRET"] = SECRET

    from pzcat_datasette.previews import build_previews
    from pzcat_datasette.serve import precompute_crcs, write_datasette_config
    from pzcat_datasette.tokens import create_token

    work = Path(tempfile.mkdtemp(prefix="pzcat-bench-serve-"))
    result: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "targets": TARGETS,
        "params": {
            k: v for k, v in vars(args).items() if not isinstance(v, Path)
        },  # no machine paths
    }
    proc = None
    try:
        root = work / "repo"
        print(f"generating {args.rows:,} rows and a {args.download_mb} MB product in {root} ...")
        table, heavy = make_catalog(root, args.rows, args.download_mb)
        catalog = Catalog.open(root)

        t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
        stats = build_previews(catalog)
        build_s, build_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        product_s = next(p.seconds for p in stats.products if p.internal_name == table)
        t0 = time.perf_counter()
        again = build_previews(Catalog.open(root))
        rebuild_s = time.perf_counter() - t0
        write_datasette_config(catalog)
        precompute_crcs(catalog)
        result["build"] = {
            "rows": args.rows,
            "total_s": round(build_s, 2),
            "cpu_s": round(build_cpu, 2),
            "machine_load_avg_1min": round(load0, 2),
            "product_s": round(product_s, 2),
            "db_mb": round(stats.size / 1e6, 1),
            "unchanged_rebuild_s": round(rebuild_s, 2),
            "reused": again.reused,
        }
        print(
            f"build: {args.rows:,} rows in {product_s:.2f} s (whole build {build_s:.2f} s, "
            f"{build_cpu:.1f} s CPU, machine load {load0:.1f}, "
            f"{stats.size / 1e6:.0f} MB); unchanged rebuild {rebuild_s:.2f} s"
        )

        log = work / "server.log"
        t0 = time.perf_counter()
        proc, host, port = start_server(root, log, args.workers)
        result["startup_s"] = round(time.perf_counter() - t0, 2)
        # warm-up: every request kind once, and the page cache
        asyncio.run(_load(host, port, table, 4, 2.0, 0.0, 99))
        idle = rss_mb(proc.pid)
        result["server_idle_rss_mb"] = round(idle, 1)

        result["sequential"] = sequential(host, port, table, proc.pid)
        print("one client at a time:", json.dumps(result["sequential"]))
        print(
            f"load (users): {args.clients} clients x {args.duration:.0f} s, think {args.think} s ..."
        )
        result["load_users"] = load_test(
            host, port, table, args.clients, args.duration, args.think, pid=proc.pid
        )
        print(json.dumps({k: v for k, v in result["load_users"].items() if k != "by_kind"}))
        if not args.skip_saturation:
            print(
                f"load (saturation): {args.clients} clients x {args.duration:.0f} s, no think time ..."
            )
            result["load_saturation"] = load_test(
                host, port, table, args.clients, args.duration, 0.0, pid=proc.pid
            )
            print(
                json.dumps({k: v for k, v in result["load_saturation"].items() if k != "by_kind"})
            )

        files = sorted((root / "products" / heavy).glob("*.bin"))
        try:
            disk_bytes, disk_s = disk_read(files, direct=True)
        except OSError:  # no O_DIRECT on this file system
            disk_bytes, disk_s = 0, 0.0
        disk_read(files)  # warm the page cache: the server then reads from memory, like the copy
        cache_bytes, cache_s = disk_read(files)
        token = create_token("bench", expires="1h")
        idle = rss_mb(proc.pid)
        runs = []
        with RssSampler(proc.pid) as sampler:
            for _ in range(3):
                runs.append(download(host, port, f"/-/download/{heavy}.zip", token))
        status, n, dl_s = min(runs, key=lambda r: r[2])
        dl_mbps = n / dl_s / 1e6
        disk_mbps = disk_bytes / disk_s / 1e6 if disk_s else None
        cache_mbps = cache_bytes / cache_s / 1e6
        result["download"] = {
            "status": status,
            "bytes": n,
            "seconds": round(dl_s, 3),
            "mb_per_s": round(dl_mbps, 1),
            "all_runs_mb_per_s": [round(r[1] / r[2] / 1e6, 1) for r in runs],
            "disk_mb_per_s": round(disk_mbps, 1) if disk_mbps else None,
            "page_cache_mb_per_s": round(cache_mbps, 1),
            "ratio": round(dl_mbps / disk_mbps, 3) if disk_mbps else None,
            "ratio_to_page_cache": round(dl_mbps / cache_mbps, 3),
            "idle_rss_mb": round(idle, 1),
            "peak_rss_mb": round(sampler.peak, 1),
            "rss_over_idle_mb": round(sampler.peak - idle, 1),
        }
        print(
            f"download: {n / 1e6:.0f} MB at {dl_mbps:.0f} MB/s (best of 3) vs disk "
            f"{disk_mbps or 0:.0f} MB/s (O_DIRECT), page cache {cache_mbps:.0f} MB/s; peak RSS "
            f"{sampler.peak:.0f} MB, {sampler.peak - idle:+.0f} MB over idle"
        )
    finally:
        if proc is not None:
            from pzcat_datasette.launch import stop_serve

            stop_serve(proc)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    users = result["load_users"]
    checks = {
        "build_s": result["build"]["product_s"] <= TARGETS["build_s"],
        "p50_ms": users["p50_ms"] <= TARGETS["p50_ms"],
        "p99_ms": users["p99_ms"] <= TARGETS["p99_ms"],
        "errors": users["errors"] == 0,
        "download_ratio": (result["download"]["ratio"] or 0) >= TARGETS["download_ratio"],
        "download_rss": result["download"]["rss_over_idle_mb"]
        <= TARGETS["download_rss_over_idle_mb"],
    }
    result["meets_targets"] = checks
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("targets:", ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in checks.items()))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()

"""Benchmark of the Photo-z Server API (``/api/``) of ``pzcat serve`` on 10,000 products.

Measures, against a real server on 127.0.0.1 over keep-alive HTTP:

- ``GET /api/products/`` (a page of 100) without filters and with the filters the tutorial uses
  (substrings, AND-ed lists, ``internal_name__in``, ``official_product``, ``search``, ordering):
  p50 and p99 latency (target p50 <= 50 ms);
- a 200 MB main file through ``download/main-file/file/?token=`` and through ``/-/download``
  (the same streaming code): MB/s of each.

Beside the wall-clock latencies, the CPU seconds the server process (and its children) spent per
request (``cpu_ms``, from psutil), which a loaded machine inflates less than the wall clock, and
the load average before and after.

Results are printed and saved to ``benchmarks/results/api.json``::

    .venv/bin/python benchmarks/api.py                       # 10,000 products, 200 MB
    .venv/bin/python benchmarks/api.py --requests 50 --download-mb 20   # small (under a minute)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pzcat.files import sha256_file  # noqa: E402
from pzcat.manifest import FileEntry, Manifest, make_internal_name  # noqa: E402

SECRET = "api-benchmark-secret-0123456789abcdef"
TYPES = [
    "redshift_catalog",
    "training_set",
    "photoz_estimates",
    "validation_results",
    "object_catalog",
    "training_results",
    "other",
]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_catalog(root: Path, n: int, download_mb: int) -> str:
    """``n`` products (small non-table main files, so previews stay empty) plus one with a big file."""
    root.mkdir(parents=True)
    config = yaml.safe_load((REPO / "catalog.yaml").read_text(encoding="utf-8"))
    config["limits"]["max_file_bytes"] = max(config["limits"]["max_file_bytes"], download_mb << 21)
    (root / "catalog.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (root / "manifests").mkdir()
    big = ""
    for i in range(1, n + 2):
        ptype = TYPES[i % len(TYPES)]
        name = f"Synthetic {ptype.replace('_', ' ')} {i}" if i <= n else "Big download"
        internal = make_internal_name(i, name)
        folder = root / "products" / internal
        folder.mkdir(parents=True)
        path = folder / ("data.bin" if i > n else "notes.txt")
        if i > n:
            with open(path, "wb") as fh:
                block = os.urandom(1 << 20)
                for _ in range(download_mb):
                    fh.write(block)
            big = internal
        else:
            path.write_text(f"product {i}\n")
        entry = FileEntry(
            role="main",
            path=path.relative_to(root).as_posix(),
            format="other",
            size=path.stat().st_size,
            sha256=sha256_file(path) if i <= n else None,
        )
        created = T0 + timedelta(minutes=i)
        m = Manifest(
            id=i,
            internal_name=internal,
            name=name,
            product_type=ptype,
            release=None if ptype == "redshift_catalog" else ["dp0.2", "dp1", "dr1"][i % 3],
            official=(i % 10 == 0),
            pz_code="bpz" if ptype == "photoz_estimates" else None,
            description=f"Synthetic product {i} of the API benchmark.",
            uploaded_by=f"user{i % 17}",
            created=created,
            updated=created,
            files=[entry],
        )
        (root / "manifests" / f"{internal}.yaml").write_text(m.to_yaml(), encoding="utf-8")
    return big


def start_server(root: Path, log: Path) -> tuple[subprocess.Popen, int]:
    from pzcat_datasette.launch import port_of, start_serve

    env = {**os.environ, "PZCAT_SECRET": SECRET}
    proc, url = start_serve(root, log, "--quiet", "--build", env=env, timeout=600)
    return proc, port_of(url)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live children."""
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def timed_gets(
    conn: http.client.HTTPConnection, path: str, headers: dict, n: int, server_pid: int = 0
) -> dict:
    times = []
    count = None
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200, (resp.status, body[:300])
        count = json.loads(body).get("count", 1)
    cpu = (cpu_seconds(server_pid) - cpu0) if server_pid else None
    times.sort()
    return {
        "path": path,
        "count": count,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "cpu_ms": round(cpu * 1000 / n, 2) if cpu is not None else None,
        "n": n,
    }


def download(port: int, path: str, headers: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    size = 0
    while True:
        chunk = resp.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
    seconds = time.perf_counter() - t
    assert resp.status == 200, resp.status
    return {"bytes": size, "seconds": round(seconds, 3), "mb_per_s": round(size / 1e6 / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--download-mb", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    os.environ["PZCAT_SECRET"] = SECRET
    from pzcat_datasette.tokens import create_token

    base = Path(tempfile.mkdtemp(prefix="pzcat-api-bench-"))
    try:
        t = time.perf_counter()
        big = make_catalog(base / "repo", args.products, args.download_mb)
        made = time.perf_counter() - t
        proc, port = start_server(base / "repo", base / "server.log")
        try:
            token = create_token("bench", scope="download", expires="1h")
            auth = {"Authorization": f"Token {token}"}
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/", headers=auth)
            conn.getresponse().read()
            names = ",".join(
                make_internal_name(i, f"Synthetic {TYPES[i % len(TYPES)].replace('_', ' ')} {i}")
                for i in range(1, 17)
            )
            queries = {
                "no filter": "/api/products/",
                "status=1 (the client's list)": "/api//products/?status=1",
                "release + product_type (cell 8)": "/api//products/?status=1&release_name=DP1"
                "&product_type_name=Training Set",
                "product_type substring": "/api//products/?status=1&product_type_name=estimates",
                "internal_name__in (16 names)": f"/api//products/?status=1&internal_name__in={names}",
                "official + ordering": "/api/products/?official_product=true&ordering=display_name",
                "search": "/api/products/?search=synthetic%20user3",
                "one product": f"/api/products/{args.products // 2}/",
            }
            timed_gets(conn, "/api/products/", auth, 5)  # warm the records cache
            load_before = os.getloadavg()
            lists = {
                label: timed_gets(conn, path.replace(" ", "%20"), auth, args.requests, proc.pid)
                for label, path in queries.items()
            }
            conn.request(
                "POST",
                f"/api/products/{args.products + 1}/download/main-file/prepare/",
                body=b"null",
                headers={**auth, "Content-Type": "application/json"},
            )
            url = json.loads(conn.getresponse().read())["download_url"]
            api_path = urlsplit(url).path + "?" + urlsplit(url).query
            ds_path, ds_auth = f"/-/download/{big}/data.bin", {"Authorization": f"Bearer {token}"}
            runs_api, runs_ds = [], []
            for _ in range(2):  # alternated, the best of two each (the page cache is warm for both)
                runs_api.append(download(port, api_path, {}))
                runs_ds.append(download(port, ds_path, ds_auth))
            via_api = max(runs_api, key=lambda r: r["mb_per_s"])
            via_ds = max(runs_ds, key=lambda r: r["mb_per_s"])
        finally:
            from pzcat_datasette.launch import stop_serve

            stop_serve(proc, timeout=30)
        result = {
            "when": datetime.now(UTC).isoformat(),
            "products": args.products,
            "catalog_seconds": round(made, 1),
            "load_average": os.getloadavg(),
            "load_average_before": load_before,
            "requests": args.requests,
            "cpus": os.cpu_count(),
            "lists": lists,
            "download": {
                "mb": args.download_mb,
                "api_main_file": via_api,
                "datasette_download": via_ds,
            },
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for label, r in result["lists"].items():
        print(
            f"{label:34} count {r['count']:>6}  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"
            f"  server CPU {r['cpu_ms']:6.2f} ms/request"
        )
    d = result["download"]
    print(
        f"{d['mb']} MB: download/main-file/file/ {d['api_main_file']['mb_per_s']} MB/s, "
        f"/-/download {d['datasette_download']['mb_per_s']} MB/s"
    )
    print(f"load average before {result['load_average_before']}, after {result['load_average']}")
    out = REPO / "benchmarks" / "results" / "api.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(out.relative_to(REPO))


if __name__ == "__main__":
    main()

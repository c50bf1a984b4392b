"""Benchmark of the static site: full build and one-manifest rebuild at 100, 1,000 and 10,000 products.

Generates synthetic catalogs (manifests plus tiny CSV/Parquet tables with ra, dec, z and magnitudes,
committed to a throwaway git repository so pages carry history) in a temporary folder, then times

- a full build from a cold cache into an empty output folder,
- a rebuild after one manifest changed (statistics, plots and unchanged pages are not redone),

and reports the site's size, the product page HTML size, the CPU time of the build (this process
and its workers: a figure the machine's other load does not inflate) and the load average when
the build started. Targets at 10,000 products: build <= 60 s, product page <= 25 KB,
site < 500 MB, rebuild <= 10 s.

Usage::

    .venv/bin/python benchmarks/site.py               # 100, 1000, 10000
    .venv/bin/python benchmarks/site.py --sizes 100   # quick

Prints a table and saves JSON to benchmarks/results/site.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pzcat.catalog import Catalog  # noqa: E402
from pzcat.files import sha256_file  # noqa: E402
from pzcat.manifest import ColumnInfo, FileEntry, Manifest, make_internal_name  # noqa: E402
from site_builder.build import build_site, site_size  # noqa: E402

TYPES = [
    "redshift_catalog",
    "training_set",
    "photoz_estimates",
    "validation_results",
    "object_catalog",
    "training_results",
]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_catalog(root: Path, n: int, rows: int = 50, seed: int = 1) -> None:
    """``n`` synthetic products under ``root`` (a new git repository)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    config = yaml.safe_load((REPO / "catalog.yaml").read_text(encoding="utf-8"))
    (root / "catalog.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (root / "manifests").mkdir(parents=True)
    for i in range(1, n + 1):
        ptype = TYPES[i % len(TYPES)]
        name = f"Synthetic {ptype.replace('_', ' ')} {i}"
        internal = make_internal_name(i, name)
        folder = root / "products" / internal
        folder.mkdir(parents=True)
        files = []
        columns = {}
        if ptype == "training_results":
            path = folder / "model.pkl"
            path.write_bytes(rng.bytes(2048))
            files.append(
                FileEntry(
                    role="main",
                    path=path.relative_to(root).as_posix(),
                    format="other",
                    size=path.stat().st_size,
                    sha256=sha256_file(path),
                )
            )
        else:
            ra0, dec0 = rng.uniform(0, 360), rng.uniform(-70, 20)
            df = pd.DataFrame(
                {
                    "id": np.arange(rows) + i * 1000,
                    "ra": (ra0 + rng.normal(0, 2, rows)) % 360,
                    "dec": np.clip(dec0 + rng.normal(0, 2, rows), -89, 89),
                    "z": rng.gamma(2.0, 0.3, rows),
                    "mag_g": rng.normal(23, 1, rows),
                    "mag_r": rng.normal(22.5, 1, rows),
                    "mag_i": rng.normal(22, 1, rows),
                }
            )
            if i % 2:
                path = folder / "table.parquet"
                df.to_parquet(path, index=False)
                fmt = "parquet"
            else:
                path = folder / "table.csv"
                df.to_csv(path, index=False, float_format="%.6f")
                fmt = "csv"
            cols = [
                ColumnInfo(
                    name=c,
                    dtype=str(df[c].dtype),
                    unit="deg" if c in ("ra", "dec") else ("mag" if c.startswith("mag") else None),
                )
                for c in df.columns
            ]
            files.append(
                FileEntry(
                    role="main",
                    path=path.relative_to(root).as_posix(),
                    format=fmt,
                    size=path.stat().st_size,
                    sha256=sha256_file(path),
                    n_rows=rows,
                    columns=cols,
                )
            )
            columns = {"id": {"column": "id"}, "z": {"column": "z"}}
            if ptype != "training_set":
                columns.update({"ra": {"column": "ra"}, "dec": {"column": "dec"}})
        created = T0 + timedelta(hours=i)
        m = Manifest(
            id=i,
            internal_name=internal,
            name=name,
            product_type=ptype,
            release=None if ptype == "redshift_catalog" else ["dp0.2", "dp1", "dr1"][i % 3],
            official=(i % 10 == 0),
            description=f"Synthetic product number {i} for the site "
            f"benchmark: a {ptype.replace('_', ' ')} with {rows} rows.\n\nGenerated by "
            "`benchmarks/site.py`.",
            uploaded_by=f"user{i % 17}",
            created=created,
            updated=created,
            files=files,
            columns=columns,
        )
        (root / "manifests" / f"{internal}.yaml").write_text(m.to_yaml(), encoding="utf-8")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.org",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.org",
        "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
    }
    for cmd in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", f"{n} synthetic products"],
    ):
        subprocess.run(cmd, cwd=root, env=env, check=True)


def change_one(root: Path, internal: str) -> None:
    """Edit one manifest the way `pzcat edit` would (description, version, updated)."""
    path = root / "manifests" / f"{internal}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["description"] += "\n\nEdited."
    data["version"] += 1
    data["updated"] = (T0 + timedelta(days=400)).isoformat()
    m = Manifest.model_validate(data)
    path.write_text(m.to_yaml(), encoding="utf-8")


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (workers, mkdocs)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(n: int, base: Path) -> dict:
    root = base / f"catalog_{n}"
    t = time.perf_counter()
    make_catalog(root, n)
    gen = time.perf_counter() - t
    out = base / f"site_{n}"
    work = base / f"work_{n}"
    load = os.getloadavg()[0]
    cpu0 = _cpu()
    full = build_site(Catalog.open(root), out, work_dir=work)
    cpu = _cpu() - cpu0
    pages = sorted((out / "product").glob("*/index.html"))
    sizes = [p.stat().st_size for p in pages]
    total = site_size(out)
    internal = pages[len(pages) // 2].parent.name
    change_one(root, internal)
    again = build_site(Catalog.open(root), out, work_dir=work)
    return {
        "products": n,
        "generate_s": round(gen, 2),
        "build_s": round(full.seconds, 2),
        "build_timings": full.to_dict()["timings"],
        "build_cpu_s": round(cpu, 1),
        "load_average_at_start": round(load, 2),
        "rebuild_one_change_s": round(again.seconds, 2),
        "rebuild_pages_written": again.pages_written,
        "rebuild_stats_computed": again.stats_computed,
        "rebuild_timings": again.to_dict()["timings"],
        "site_mb": round(total / 1e6, 1),
        "product_page_kb_max": round(max(sizes) / 1024, 1),
        "product_page_kb_median": round(statistics.median(sizes) / 1024, 1),
        "targets_met": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--keep", action="store_true", help="Keep the generated folders.")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "site.json")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="pzcat-site-bench-"))
    results = []
    try:
        for n in args.sizes:
            r = run(n, base)
            r["targets_met"] = bool(
                r["build_s"] <= 60
                and r["rebuild_one_change_s"] <= 10
                and r["product_page_kb_max"] <= 25
                and r["site_mb"] < 500
            )
            results.append(r)
            print(
                f"{n:>6} products: build {r['build_s']:6.1f} s, rebuild after one change "
                f"{r['rebuild_one_change_s']:5.1f} s ({r['rebuild_pages_written']} page), site "
                f"{r['site_mb']:7.1f} MB, product page {r['product_page_kb_median']:.1f} KB "
                f"(max {r['product_page_kb_max']:.1f} KB); build CPU {r['build_cpu_s']:.0f} s, "
                f"load average {r['load_average_at_start']:.1f} on {os.cpu_count()} CPUs",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")
    report = {
        "benchmark": "site",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()

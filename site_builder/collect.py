"""Collect what the site shows: manifests, table statistics (cached) and git history.

Statistics are cached under ``<cache>/stats/`` keyed by the main file's sha256 (with its format,
the ra/dec/z association and :data:`~site_builder.stats.STATS_VERSION`), so a product whose data
did not change is never read again. Parsed manifests are cached by the sha1 of their text.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import is_lfs_pointer
from pzcat.manifest import Manifest, load_manifest_data, parse_manifest
from site_builder.history import manifest_histories
from site_builder.stats import STATS_VERSION, table_stats

Progress = Callable[[str], None]
#: Compute statistics in worker processes when at least this many are missing.
PARALLEL_MIN = 64


@dataclass
class SiteData:
    """Everything the renderer needs."""

    catalog: Catalog
    manifests: list[Manifest]
    stats: dict[str, dict[str, Any] | None]
    stats_keys: dict[str, str]
    histories: dict[str, list[dict[str, Any]]]
    problems: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    stats_computed: int = 0
    stats_cached: int = 0


def _yaml_load(text: str, source: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        return load_manifest_data(text, source)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return load_manifest_data(text, source)   # the coded error with line and column
    if not isinstance(data, dict):
        return load_manifest_data(text, source)
    return data


def _parse(path: str) -> Manifest | str:
    """One manifest, or the line saying why it cannot be read."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
        return parse_manifest(_yaml_load(text, str(p)), str(p))
    except (PzcatError, UnicodeDecodeError, ValueError, OSError) as exc:
        return f"{p.name}: {exc}"


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"))


def default_workers() -> int:
    return min(os.cpu_count() or 1, 8)


def load_manifests(catalog: Catalog, cache_dir: Path, workers: int | None = None,
                   digests: dict[str, str] | None = None) -> tuple[list[Manifest], list[str]]:
    """Every manifest that parses (by id) and one line per manifest that does not.

    Unchanged manifests (same text) are rebuilt from ``manifests.json`` in ``cache_dir`` instead of
    being parsed again: YAML parsing dominates a rebuild of 10,000 products otherwise. New or
    changed ones are parsed in worker processes when there are many.
    """
    cache_file = cache_dir / "manifests.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    new_cache: dict[str, Any] = {}
    found: dict[str, Manifest] = {}
    problems: list[str] = []
    misses: list[tuple[str, Path, str]] = []
    for path in catalog.manifest_paths():
        rel = path.name
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        hit = cache.get(rel)
        if hit and hit.get("sha1") == digest:
            try:
                found[rel] = Manifest.model_validate(hit["data"])
                new_cache[rel] = hit
                continue
            except ValueError:
                pass
        misses.append((rel, path, digest))
    n_workers = workers if workers is not None else default_workers()
    paths = [str(p) for _rel, p, _d in misses]
    if n_workers > 1 and len(misses) >= PARALLEL_MIN:
        with _pool(n_workers) as pool:
            parsed = list(pool.map(_parse, paths, chunksize=max(1, len(paths) // (n_workers * 8))))
    else:
        parsed = [_parse(p) for p in paths]
    for (rel, _path, digest), result in zip(misses, parsed, strict=True):
        if isinstance(result, str):
            problems.append(result)
            continue
        found[rel] = result
        new_cache[rel] = {"sha1": digest, "data": result.model_dump(mode="json")}
    if new_cache != cache:
        _write_cache(cache_file, json.dumps(new_cache, separators=(",", ":")))
    if digests is not None:
        digests.update({m.internal_name: new_cache[rel]["sha1"] for rel, m in found.items()})
    good = sorted(found.values(), key=lambda m: m.id)
    return good, problems


def stats_job(catalog: Catalog, manifest: Manifest) -> tuple[str, tuple] | None:
    """The cache key and arguments of the statistics of ``manifest``'s main table (None: no table)."""
    main = manifest.main_file
    if main is None or not main.is_table or not main.path:
        return None
    path = catalog.resolve(main)
    if path is None or not path.exists() or (path.is_file() and is_lfs_pointer(path)):
        return None
    roles = (manifest.column_for("ra"), manifest.column_for("dec"), manifest.column_for("z"))
    digest = main.sha256 or f"{path.stat().st_size}-{path.stat().st_mtime_ns}"
    key = hashlib.sha256(json.dumps([STATS_VERSION, digest, main.format, roles]).encode()).hexdigest()
    return key, (str(path), main.format, *roles)


def _run(args: tuple) -> dict[str, Any]:
    path, fmt, ra, dec, z = args
    return table_stats(Path(path), fmt, ra, dec, z)


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "stats" / key[:2] / f"{key}.json"


def _write_cache(path: Path, text: str) -> None:
    """Write a cache file through a rename (no fsync: a lost cache entry is only recomputed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def compute_stats(catalog: Catalog, manifests: list[Manifest], cache_dir: Path,
                  progress: Progress | None = None, workers: int | None = None
                  ) -> tuple[dict[str, dict[str, Any] | None], dict[str, str], int, int]:
    """Statistics of every product's main table: (stats, cache keys, computed, from cache)."""
    say = progress or (lambda _msg: None)
    stats: dict[str, dict[str, Any] | None] = {}
    keys: dict[str, str] = {}
    todo: list[tuple[str, str, tuple]] = []
    cached = 0
    for m in manifests:
        job = stats_job(catalog, m)
        if job is None:
            stats[m.internal_name] = None
            continue
        key, args = job
        keys[m.internal_name] = key
        try:
            stats[m.internal_name] = json.loads(_cache_path(cache_dir, key).read_text(encoding="utf-8"))
            cached += 1
        except (OSError, ValueError):
            todo.append((m.internal_name, key, args))
    if todo:
        say(f"computing statistics of {len(todo)} tables ({cached} cached)")
        n_workers = workers if workers is not None else default_workers()
        if n_workers > 1 and len(todo) >= PARALLEL_MIN:
            with _pool(n_workers) as pool:
                results = list(pool.map(_run, [t[2] for t in todo],
                                        chunksize=max(1, len(todo) // (n_workers * 8))))
        else:
            results = [_run(t[2]) for t in todo]
        for (name, key, _args), result in zip(todo, results, strict=True):
            stats[name] = result
            if not (result.get("error") or "").startswith("unreadable-table: "):
                _write_cache(_cache_path(cache_dir, key), json.dumps(result, separators=(",", ":")))
    return stats, keys, len(todo), cached


def collect(catalog: Catalog, cache_dir: Path, progress: Progress | None = None,
            workers: int | None = None) -> SiteData:
    """Manifests, statistics (from the cache or computed) and git history of ``catalog``."""
    say = progress or (lambda _msg: None)
    digests: dict[str, str] = {}
    manifests, problems = load_manifests(catalog, cache_dir, workers=workers, digests=digests)
    say(f"{len(manifests)} manifests read")
    stats, keys, computed, cached = compute_stats(catalog, manifests, cache_dir, say, workers)
    histories = manifest_histories(catalog.root)
    return SiteData(catalog=catalog, manifests=manifests, stats=stats, stats_keys=keys,
                    histories=histories, problems=problems, digests=digests,
                    stats_computed=computed,
                    stats_cached=cached)

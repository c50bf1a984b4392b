"""Collect what the site shows: manifests, table statistics (cached) and git history.

Statistics are cached in ``<cache>/stats.pickle`` keyed by the main file's sha256 (with its
format, the ra/dec/z association and :data:`~site_builder.stats.STATS_VERSION`), so a product whose
data did not change is never read again. Parsed manifests are cached in ``manifests.pickle`` by
file size, mtime and sha1. Both are local build caches (under ``build/``), never published.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import pickle
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
#: Bump when the cached objects change shape.
CACHE_VERSION = 1


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


def _load_pickle(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else {}


def _save_pickle(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump({**data, "version": CACHE_VERSION}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_manifests(catalog: Catalog, cache_dir: Path, workers: int | None = None,
                   digests: dict[str, str] | None = None) -> tuple[list[Manifest], list[str]]:
    """Every manifest that parses (by id) and one line per manifest that does not.

    Parsed manifests are cached in ``manifests.pickle`` under ``cache_dir`` (a local build cache,
    never published), keyed by file size and mtime and, when those changed, by the text's sha1:
    YAML parsing and validation of 10,000 manifests would otherwise dominate a rebuild. New or
    changed manifests are parsed in worker processes when there are many.
    """
    cache_file = cache_dir / "manifests.pickle"
    cache: dict[str, tuple] = _load_pickle(cache_file).get("entries", {})
    entries: dict[str, tuple] = {}
    problems: list[str] = []
    misses: list[tuple[str, Path, int, int, str]] = []
    folder = catalog.manifest_dir
    listing = sorted(os.scandir(folder), key=lambda e: e.name) if folder.is_dir() else []
    for entry in listing:
        if not entry.name.endswith((".yaml", ".yml")) or not entry.is_file():
            continue
        st = entry.stat()
        hit = cache.get(entry.name)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            entries[entry.name] = hit
            continue
        digest = hashlib.sha1(Path(entry.path).read_bytes()).hexdigest()
        if hit and hit[2] == digest:
            entries[entry.name] = (st.st_size, st.st_mtime_ns, digest, hit[3])
            continue
        misses.append((entry.name, Path(entry.path), st.st_size, st.st_mtime_ns, digest))
    n_workers = workers if workers is not None else default_workers()
    paths = [str(m[1]) for m in misses]
    if n_workers > 1 and len(misses) >= PARALLEL_MIN:
        with _pool(n_workers) as pool:
            parsed = list(pool.map(_parse, paths, chunksize=max(1, len(paths) // (n_workers * 8))))
    else:
        parsed = [_parse(p) for p in paths]
    for (rel, _path, size, mtime, digest), result in zip(misses, parsed, strict=True):
        if isinstance(result, str):
            problems.append(result)
            continue
        entries[rel] = (size, mtime, digest, result)
    if misses or set(entries) != set(cache):
        _save_pickle(cache_file, {"entries": entries})
    if digests is not None:
        digests.update({e[3].internal_name: e[2] for e in entries.values()})
    good = sorted((e[3] for e in entries.values()), key=lambda m: m.id)
    return good, problems


def stats_key(catalog: Catalog, manifest: Manifest) -> tuple[str, tuple] | None:
    """Cache key and arguments of the statistics of ``manifest``'s main table (None: no table).

    The key is the main file's sha256 from the manifest (validation checks it against the bytes)
    with its format, the ra/dec/z association and :data:`STATS_VERSION`; no file is touched.
    """
    main = manifest.main_file
    if main is None or not main.is_table or not main.path:
        return None
    path = catalog.resolve(main)
    roles = (manifest.column_for("ra"), manifest.column_for("dec"), manifest.column_for("z"))
    digest = main.sha256
    if not digest:
        try:
            st = path.stat()
        except OSError:
            return None
        digest = f"{st.st_size}-{st.st_mtime_ns}"
    key = hashlib.sha256(json.dumps([STATS_VERSION, digest, main.format, roles]).encode()).hexdigest()
    return key, (str(path), main.format, *roles)


def _readable(path: str) -> bool:
    p = Path(path)
    return p.exists() and not (p.is_file() and is_lfs_pointer(p))


def _run(args: tuple) -> dict[str, Any]:
    path, fmt, ra, dec, z = args
    return table_stats(Path(path), fmt, ra, dec, z)


def compute_stats(catalog: Catalog, manifests: list[Manifest], cache_dir: Path,
                  progress: Progress | None = None, workers: int | None = None
                  ) -> tuple[dict[str, dict[str, Any] | None], dict[str, str], int, int]:
    """Statistics of every product's main table: (stats, cache keys, computed, from cache).

    The cache is one file, ``stats.pickle`` (10,000 small files cost more to open than to use);
    entries no product uses any more are dropped.
    """
    say = progress or (lambda _msg: None)
    cache_file = cache_dir / "stats.pickle"
    cache: dict[str, dict[str, Any]] = _load_pickle(cache_file).get("entries", {})
    stats: dict[str, dict[str, Any] | None] = {}
    keys: dict[str, str] = {}
    todo: list[tuple[str, str, tuple]] = []
    used: dict[str, dict[str, Any]] = {}
    for m in manifests:
        job = stats_key(catalog, m)
        if job is None:
            stats[m.internal_name] = None
            continue
        key, args = job
        hit = cache.get(key)
        if hit is not None:
            stats[m.internal_name] = used[key] = hit
            keys[m.internal_name] = key
        elif _readable(args[0]):
            keys[m.internal_name] = key
            todo.append((m.internal_name, key, args))
        else:
            stats[m.internal_name] = None     # missing file or LFS pointer: validation reports it
    cached = len(keys) - len(todo)
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
            stats[name] = used[key] = result
    if todo or set(used) != set(cache):
        _save_pickle(cache_file, {"entries": used})
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

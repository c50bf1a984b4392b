"""Collect what the site shows: manifests, table statistics (cached) and git history.

Statistics are cached under ``<cache>/stats/`` keyed by the main file's sha256 (with its format,
the ra/dec/z association and :data:`~site_builder.stats.STATS_VERSION`), so a product whose data
did not change is never read again. Parsed manifests are cached by the sha1 of their text.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text, is_lfs_pointer
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


def load_manifests(catalog: Catalog, cache_dir: Path) -> tuple[list[Manifest], list[str]]:
    """Every manifest that parses (by id) and one line per manifest that does not.

    Unchanged manifests (same text) are rebuilt from ``manifests.json`` in ``cache_dir`` instead of
    being parsed again: YAML parsing dominates a rebuild of 10,000 products otherwise.
    """
    cache_file = cache_dir / "manifests.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    new_cache: dict[str, Any] = {}
    good: list[Manifest] = []
    problems: list[str] = []
    for path in catalog.manifest_paths():
        rel = path.name
        raw = path.read_bytes()
        digest = hashlib.sha1(raw).hexdigest()
        hit = cache.get(rel)
        try:
            if hit and hit.get("sha1") == digest:
                manifest = Manifest.model_validate(hit["data"])
            else:
                text = raw.decode("utf-8")
                manifest = parse_manifest(_yaml_load(text, str(path)), str(path))
        except (PzcatError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{rel}: {exc}")
            continue
        new_cache[rel] = {"sha1": digest, "data": manifest.model_dump(mode="json")}
        good.append(manifest)
    if new_cache != cache:
        atomic_write_text(cache_file, json.dumps(new_cache, separators=(",", ":")))
    good.sort(key=lambda m: m.id)
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


def collect(catalog: Catalog, cache_dir: Path, progress: Progress | None = None,
            workers: int | None = None) -> SiteData:
    """Manifests, statistics (from the cache or computed) and git history of ``catalog``."""
    say = progress or (lambda _msg: None)
    manifests, problems = load_manifests(catalog, cache_dir)
    say(f"{len(manifests)} manifests read")
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
        n_workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        if n_workers > 1 and len(todo) >= PARALLEL_MIN:
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                results = list(pool.map(_run, [t[2] for t in todo],
                                        chunksize=max(1, len(todo) // (n_workers * 8))))
        else:
            results = [_run(t[2]) for t in todo]
        for (name, key, _args), result in zip(todo, results, strict=True):
            stats[name] = result
            if not (result.get("error") or "").startswith("unreadable-table: "):
                atomic_write_text(_cache_path(cache_dir, key),
                                  json.dumps(result, separators=(",", ":")))
    histories = manifest_histories(catalog.root)
    say("git history read" if histories else "no git history (not a git repository?)")
    return SiteData(catalog=catalog, manifests=manifests, stats=stats, stats_keys=keys,
                    histories=histories, problems=problems, stats_computed=len(todo),
                    stats_cached=cached)

"""Collect what the site shows: manifest records, table statistics and git history, all cached.

Local build caches under ``build/cache`` (never published), designed so that a rebuild of 10,000
products touches as little as possible:

- ``records.json``: per manifest file (keyed by size and mtime, then by sha1 of the text) the few
  facts the lists, the JSON index and the page keys need. Unchanged manifests are not parsed again;
  full :class:`~pzcat.manifest.Manifest` objects are parsed only for the pages to write.
- ``stats/<k>/<key>.json`` + ``stats/index.json``: statistics keyed by the main file's sha256
  (with format, ra/dec/z association and :data:`~site_builder.stats.STATS_VERSION`); a product
  whose data did not change is never read again, and cached statistics are read only for the
  pages being written.
- ``histories.json``: the git log of ``manifests/`` at a HEAD commit, updated incrementally.
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

from pzcat import sentinels
from pzcat.catalog import Catalog
from pzcat.config import CatalogConfig
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text, is_lfs_pointer
from pzcat.git import git_head, is_ancestor, manifest_histories
from pzcat.manifest import Manifest, read_manifest
from pzcat.staging import die_with_parent
from site_builder.stats import STATS_VERSION, table_stats

Progress = Callable[[str], None]
#: Compute statistics in worker processes when at least this many are missing.
PARALLEL_MIN = 64
#: Bump when the cached objects change shape.
CACHE_VERSION = 3  # 3: summaries computed with the statistics
#: Records hold statistics keys: a new STATS_VERSION makes them stale too.
RECORDS_VERSION = f"{CACHE_VERSION}.{STATS_VERSION}"


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


def _parse(path: str) -> Manifest | str:
    """One manifest, or the line saying why it cannot be read."""
    p = Path(path)
    try:
        return read_manifest(p.read_bytes(), str(p))
    except (PzcatError, OSError) as exc:
        return f"{p.name}: {exc}"


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("fork"), initializer=die_with_parent
    )


def default_workers() -> int:
    return min(os.cpu_count() or 1, 8)


def _records_cache(cache_dir: Path) -> Path:
    return cache_dir / "records.json"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: Any) -> None:
    """Write through a rename (no fsync: a lost cache entry is only recomputed)."""
    atomic_write_text(path, json.dumps(data, separators=(",", ":")), durable=False)


def summary(m: Manifest, cfg: CatalogConfig, stats: dict[str, Any] | None) -> dict[str, Any]:
    """One row of ``api/products.json``: the list's columns and the search text.

    ``n_rows`` and ``columns`` come from the manifest, else from the statistics of the main file:
    the build and the golden tests call this with the statistics (one path).
    """
    ptype = cfg.product_type(m.product_type)
    rel = cfg.release(m.release) if m.release else None
    main = m.main_file
    n_rows = main.n_rows if main and main.n_rows is not None else (stats or {}).get("n_rows")
    columns = [c.name for c in (main.columns or [])] if main else []
    if not columns and stats:
        columns = [c["name"] for c in stats.get("columns", [])]
    return {
        "id": m.id,
        "internal_name": m.internal_name,
        "name": m.name,
        "product_type": m.product_type,
        "product_type_display": ptype.display_name if ptype else m.product_type,
        "product_type_order": ptype.order if ptype else 99,
        "release": m.release,
        "release_display": rel.display_name if rel else m.release,
        "official": m.official,
        "status": m.status,
        "pz_code": m.pz_code,
        "uploaded_by": m.uploaded_by,
        "created": m.created.isoformat(),
        "updated": m.updated.isoformat(),
        "version": m.version,
        "n_rows": n_rows,
        "size": sum(f.size or 0 for f in m.files),
        "description": m.description,
        "columns": columns,
        "url": f"product/{m.internal_name}/",
        "api": f"api/products/{m.internal_name}.json",
    }


def record_of(catalog: Catalog, m: Manifest, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts about one product the build needs without its full manifest."""
    job = stats_key(catalog, m)
    desc = m.description_file
    return {
        "name": m.internal_name,
        "id": m.id,
        "summary": summary(m, catalog.config, stats),
        "stats_key": job[0] if job else None,
        "stats_args": list(job[1]) if job else None,
        "desc": str(catalog.resolve(desc)) if desc is not None and desc.path else None,
    }


@dataclass
class Scan:
    """The manifests folder against the records cache."""

    hits: dict[str, dict[str, Any]]  # file name -> cached record
    misses: list[dict[str, Any]]  # {file, path, size, mtime, digest}: to parse
    cached: dict[str, dict[str, Any]]  # the cache as read

    def complete(self, parsed: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Every record by id, from the hits and ``parsed`` (file name -> record of a miss)."""
        entries = dict(self.hits)
        for miss in self.misses:
            rec = parsed.get(miss["file"])
            if rec is not None:
                entries[miss["file"]] = {
                    **rec,
                    **{k: miss[k] for k in ("path", "size", "mtime", "digest")},
                }
        self.entries = entries
        return sorted(entries.values(), key=lambda r: r["id"])

    def save(self, cache_dir: Path) -> None:
        if self.misses or set(self.entries) != set(self.cached):
            _write_json(
                _records_cache(cache_dir), {"version": RECORDS_VERSION, "entries": self.entries}
            )


def scan_records(catalog: Catalog, cache_dir: Path) -> Scan:
    """Which manifests changed since the records cache (by size and mtime, then sha1 of the text)."""
    stored = _read_json(_records_cache(cache_dir)) or {}
    cache = stored.get("entries", {}) if stored.get("version") == RECORDS_VERSION else {}
    hits: dict[str, dict[str, Any]] = {}
    misses: list[dict[str, Any]] = []
    folder = catalog.manifest_dir
    listing = sorted(os.scandir(folder), key=lambda e: e.name) if folder.is_dir() else []
    for entry in listing:
        if not entry.name.endswith((".yaml", ".yml")) or not entry.is_file():
            continue
        st = entry.stat()
        hit = cache.get(entry.name)
        if hit and hit["size"] == st.st_size and hit["mtime"] == st.st_mtime_ns:
            hits[entry.name] = hit
            continue
        digest = hashlib.sha1(Path(entry.path).read_bytes()).hexdigest()
        if hit and hit["digest"] == digest:
            hits[entry.name] = {**hit, "size": st.st_size, "mtime": st.st_mtime_ns}
            continue
        misses.append(
            {
                "file": entry.name,
                "path": entry.path,
                "size": st.st_size,
                "mtime": st.st_mtime_ns,
                "digest": digest,
            }
        )
    return Scan(hits=hits, misses=misses, cached=cache)


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
    kinds = {
        manifest.column_for(r): sentinels.ROLE_KINDS[r]
        for r in sentinels.ROLE_KINDS
        if manifest.column_for(r)
    }
    digest = main.sha256
    if not digest:
        try:
            st = path.stat()
        except OSError:
            return None
        digest = f"{st.st_size}-{st.st_mtime_ns}"
    key = hashlib.sha256(
        json.dumps([STATS_VERSION, digest, main.format, roles, sorted(kinds.items())]).encode()
    ).hexdigest()
    return key, (str(path), main.format, *roles, kinds)


def _readable(path: str) -> bool:
    p = Path(path)
    return p.exists() and not (p.is_file() and is_lfs_pointer(p))


def _run(args: tuple) -> dict[str, Any]:
    path, fmt, ra, dec, z, kinds = args
    return table_stats(Path(path), fmt, ra, dec, z, kinds)


class StatsStore:
    """Statistics cached in 256 JSON shards by key prefix, with an index of the keys present.

    10,000 one-entry files cost more to create than the statistics cost to compute; shards are
    read lazily (a rebuild reads only those of the pages it writes) and written by the parent
    process only (workers return what they computed).
    """

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / "stats"
        index = _read_json(self.folder / "index.json") or {}
        self.keys: set[str] = (
            set(index.get("keys", [])) if index.get("version") == CACHE_VERSION else set()
        )
        self._shards: dict[str, dict[str, Any]] = {}
        self._new: dict[str, dict[str, Any]] = {}

    def _shard(self, prefix: str) -> dict[str, Any]:
        if prefix not in self._shards:
            self._shards[prefix] = _read_json(self.folder / f"{prefix}.json") or {}
        return self._shards[prefix]

    def get(self, key: str) -> dict[str, Any] | None:
        if key not in self.keys:
            return None
        return self._new.get(key) or self._shard(key[:2]).get(key)

    def add(self, key: str, stats: dict[str, Any]) -> None:
        self._new[key] = stats
        self.keys.add(key)

    def save(self) -> None:
        if not self._new:
            return
        prefixes = sorted({k[:2] for k in self._new})
        for prefix in prefixes:
            shard = self._shard(prefix)
            shard.update({k: v for k, v in self._new.items() if k[:2] == prefix})
            _write_json(self.folder / f"{prefix}.json", shard)
        _write_json(
            self.folder / "index.json", {"version": CACHE_VERSION, "keys": sorted(self.keys)}
        )
        self._new = {}


def stats_for(
    store: StatsStore, key: str | None, args: list | tuple | None
) -> tuple[dict[str, Any] | None, bool]:
    """Statistics of one table from the store, else computed (not stored): (stats, computed)."""
    if key is None or args is None:
        return None, False
    found = store.get(key)
    if found is not None:
        return found, False
    if not _readable(args[0]):
        return None, False  # missing file or LFS pointer: validation reports it
    return _run(tuple(args)), True


def cacheable(stats: dict[str, Any] | None) -> bool:
    """Whether computed statistics may be cached (not when the file could not be opened)."""
    return stats is not None and not (stats.get("error") or "").startswith("unreadable-table: ")


def cached_histories(root: Path, cache_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """:func:`manifest_histories`, reused while HEAD does not move and extended when it does."""
    head = git_head(root)
    if head is None:
        return {}
    path = cache_dir / "histories.json"
    cached = _read_json(path) or {}
    if cached.get("head") == head and cached.get("version") == CACHE_VERSION:
        return cached["histories"]
    old = cached.get("head")
    if old and cached.get("version") == CACHE_VERSION and is_ancestor(root, old, head):
        newer = manifest_histories(root, revisions=f"{old}..{head}")
        histories = cached["histories"]
        for name, entries in newer.items():
            histories[name] = (entries + histories.get(name, []))[:20]
    else:
        histories = manifest_histories(root)
    _write_json(path, {"version": CACHE_VERSION, "head": head, "histories": histories})
    return histories


def collect(
    catalog: Catalog, cache_dir: Path, progress: Progress | None = None, workers: int | None = None
) -> SiteData:
    """Every manifest, its statistics and history in memory (small catalogs, tests)."""
    say = progress or (lambda _msg: None)
    manifests, problems = [], []
    for path in catalog.manifest_paths():
        result = _parse(str(path))
        if isinstance(result, str):
            problems.append(result)
        else:
            manifests.append(result)
    manifests.sort(key=lambda m: m.id)
    say(f"{len(manifests)} manifests read")
    store = StatsStore(cache_dir)
    stats: dict[str, dict[str, Any] | None] = {}
    keys: dict[str, str] = {}
    computed = cached = 0
    for m in manifests:
        job = stats_key(catalog, m)
        if job is None:
            stats[m.internal_name] = None
            continue
        keys[m.internal_name] = job[0]
        stats[m.internal_name], fresh = stats_for(store, job[0], job[1])
        if fresh and cacheable(stats[m.internal_name]):
            store.add(job[0], stats[m.internal_name])
        computed += fresh
        cached += stats[m.internal_name] is not None and not fresh
    store.save()
    return SiteData(
        catalog=catalog,
        manifests=manifests,
        stats=stats,
        stats_keys=keys,
        histories=cached_histories(catalog.root, cache_dir),
        problems=problems,
        stats_computed=computed,
        stats_cached=cached,
    )

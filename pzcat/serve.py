"""Serve the previews and the site: Datasette 0.65 with the pzcat plugin, at one local URL.

What lives here (the Datasette plugin in ``datasette/plugins/pzcat_downloads.py`` is thin glue):

- :func:`datasette_metadata` / :func:`write_datasette_config`: the Datasette metadata generated from
  the manifests (titles, descriptions, units, UCDs, licence, source = the product page on the site,
  canned queries) and the inspect file, written into ``build/datasette/``;
- :func:`make_datasette` and :func:`serve`: Datasette in immutable mode with suggested facets off,
  the inspect data (instant start), the plugin, the templates and the built site under ``/site/``;
- the download machinery: :func:`safe_product_file`, :func:`zip_plan` (a ZIP_STORED archive laid out
  in advance from cached CRC-32s, so its size is known before streaming and any byte range can be
  produced), :func:`parse_range` and :class:`CrcCache`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text
from pzcat.manifest import Manifest
from pzcat.previews import (
    HEALPIX_COLUMN,
    RESERVED_TABLES,
    STATE_TABLE,
    crc32_file,
    default_db_path,
    preview_state,
    product_page,
    quote_ident,
    table_counts,
)

REPO_DATASETTE_DIR = Path(__file__).resolve().parents[1] / "datasette"
DB_NAME = "previews"
METADATA_NAME = "product_metadata.yaml"
CHUNK = 4 << 20

class DownloadError(PzcatError):
    """A download problem with the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int = 404, **context) -> None:
        super().__init__(code, message, **context)
        self.status = status


# =====================================================================================================
# Safe paths
# =====================================================================================================

_BAD_PART = re.compile(r"[\x00-\x1f\\]")


def clean_relative(rel: str) -> list[str] | None:
    """The parts of a relative POSIX path, or None when it could leave its folder."""
    if not rel or rel.startswith("/") or _BAD_PART.search(rel):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return parts


def safe_product_file(products_dir: Path, internal_name: str, rel: str, allow_dir: bool = False) -> Path:
    """``products/<internal_name>/<rel>`` if it is a regular file (or folder) really inside it.

    Every component is checked with ``lstat``: no symlink anywhere, no ``..``, no absolute path,
    and the real path must stay under the product folder.

    Raises
    ------
    DownloadError
        ``download-unavailable`` (404).
    """
    err = DownloadError("download-unavailable", f"{internal_name}/{rel}: not a servable file",
                        product=internal_name)
    parts = clean_relative(rel)
    if parts is None or clean_relative(internal_name) is None or "/" in internal_name:
        raise err
    base = Path(products_dir) / internal_name
    current = base
    try:
        for part in ("", *parts):
            current = current / part if part else current
            st = os.lstat(current)
            if stat.S_ISLNK(st.st_mode):
                raise err
        if not (stat.S_ISREG(st.st_mode) or (allow_dir and stat.S_ISDIR(st.st_mode))):
            raise err
        real_base = os.path.realpath(base)
        if not os.path.realpath(current).startswith(real_base + os.sep):
            raise err
    except OSError:
        raise err from None
    return current


def _walk_folder(products_dir: Path, internal_name: str, rel: str) -> list[str]:
    """Every file under a (HATS) folder, relative to the product folder; refuses symlinks."""
    folder = safe_product_file(products_dir, internal_name, rel, allow_dir=True)
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            if full.is_symlink():
                raise DownloadError("download-unavailable", f"{internal_name}: symlink {name} in {rel}",
                                    product=internal_name)
        dirnames.sort()
        for name in sorted(filenames):
            out.append(f"{rel}/{(Path(dirpath) / name).relative_to(folder).as_posix()}")
    return out


def manifest_rel(manifest: Manifest, path: str | None) -> str | None:
    """A manifest file path relative to its product folder (None when not under it)."""
    prefix = f"products/{manifest.internal_name}/"
    if path and path.startswith(prefix):
        return path[len(prefix):]
    return None


# =====================================================================================================
# CRC-32 cache and ZIP layout
# =====================================================================================================

class CrcCache:
    """CRC-32 of files, kept per sha256 (or per path, size and mtime for undigested files).

    Stored as JSON (``build/crc-cache.json``) so that a download's size and headers are known before
    the first byte is sent, without reading the data twice.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._data: dict[str, dict] = {}
        if self.path and self.path.exists():
            try:
                self._data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._data = {}

    def crc(self, file: Path, sha256: str | None = None) -> int:
        st = file.stat()
        key = f"sha256:{sha256}" if sha256 else f"path:{file}:{st.st_size}:{st.st_mtime_ns}"
        with self._lock:
            hit = self._data.get(key)
        if hit and hit.get("size") == st.st_size:
            return int(hit["crc32"])
        value = crc32_file(file)
        with self._lock:
            self._data[key] = {"crc32": value, "size": st.st_size}
            if self.path:
                atomic_write_text(self.path, json.dumps(self._data, sort_keys=True))
        return value


@dataclass
class Segment:
    """A run of bytes of a response: literal ``data`` or ``length`` bytes of ``path``."""

    offset: int
    length: int
    data: bytes | None = None
    path: Path | None = None


@dataclass
class Plan:
    """A response laid out in advance: its size, validators and segments."""

    filename: str
    content_type: str
    segments: list[Segment] = field(default_factory=list)
    size: int = 0
    etag: str = ""
    last_modified: float = 0.0

    def add(self, data: bytes | None = None, path: Path | None = None, length: int = 0) -> None:
        n = len(data) if data is not None else length
        self.segments.append(Segment(self.size, n, data, path))
        self.size += n

    def pieces(self, start: int, end: int) -> Iterator[tuple[Segment, int, int]]:
        """(segment, offset within segment, length) covering bytes ``start``..``end`` inclusive."""
        for seg in self.segments:
            seg_end = seg.offset + seg.length - 1
            if seg.length == 0 or seg_end < start or seg.offset > end:
                continue
            lo = max(start, seg.offset)
            hi = min(end, seg_end)
            yield seg, lo - seg.offset, hi - lo + 1


ZIP64_LIMIT = 0xFFFFFFFF
_UTF8_FLAG = 0x0800


def _dos_time(ts: datetime) -> tuple[int, int]:
    year = max(ts.year, 1980)
    return ((ts.hour << 11) | (ts.minute << 5) | (ts.second // 2),
            ((year - 1980) << 9) | (ts.month << 5) | ts.day)


def zip_layout(entries: list[tuple[str, int, int, Path | bytes]], when: datetime,
               filename: str) -> Plan:
    """Lay out a ZIP_STORED archive of ``(arcname, size, crc32, path-or-bytes)`` entries.

    Local headers carry the CRC and sizes (no data descriptors), so the archive is fully determined
    before streaming: Content-Length and byte ranges are exact. ZIP64 fields are used for sizes or
    offsets over 4 GiB (:data:`ZIP64_LIMIT`).
    """
    plan = Plan(filename=filename, content_type="application/zip")
    dtime, ddate = _dos_time(when)
    central = []
    for arcname, size, crc, source in entries:
        name = arcname.encode("utf-8")
        offset = plan.size
        big = size >= ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, size) if big else b""
        small = 0xFFFFFFFF if big else size
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if big else 20, _UTF8_FLAG, 0, dtime,
                             ddate, crc, small, small, len(name), len(extra)) + name + extra
        plan.add(data=header)
        if isinstance(source, bytes):
            plan.add(data=source)
        else:
            plan.add(path=source, length=size)
        cextra_fields = []
        if big:
            cextra_fields += [size, size]
        if offset >= ZIP64_LIMIT:
            cextra_fields.append(offset)
        cextra = struct.pack(f"<HH{len(cextra_fields)}Q", 1, 8 * len(cextra_fields),
                             *cextra_fields) if cextra_fields else b""
        zip64 = bool(cextra_fields)
        central.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | (45 if zip64 else 20), 45 if zip64 else 20,
            _UTF8_FLAG, 0, dtime, ddate, crc, small, small, len(name), len(cextra), 0, 0, 0,
            0o100644 << 16, 0xFFFFFFFF if offset >= ZIP64_LIMIT else offset) + name + cextra)
    cd = b"".join(central)
    cd_offset, cd_size, count = plan.size, len(cd), len(entries)
    tail = b""
    if cd_offset >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT or count >= 0xFFFF:
        eocd64_offset = cd_offset + cd_size
        tail += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count,
                            cd_size, cd_offset)
        tail += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    tail += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                        min(cd_size, 0xFFFFFFFF), min(cd_offset, 0xFFFFFFFF), 0)
    plan.add(data=cd + tail)
    return plan


def zip_plan(catalog: Catalog, manifest: Manifest, crc_cache: CrcCache) -> Plan:
    """The ZIP of a product: every in-repository file plus ``product_metadata.yaml``.

    Raises
    ------
    DownloadError
        ``download-unavailable`` when a file is missing, a symlink or outside its folder.
    """
    name = manifest.internal_name
    products_dir = catalog.products_dir
    entries: list[tuple[str, int, int, Path | bytes]] = []
    seen: set[str] = set()
    mtimes = []
    for f in manifest.files:
        if not f.path:
            continue  # external url: the manifest says where it lives
        rel = manifest_rel(manifest, f.path)
        if rel is None:
            raise DownloadError("download-unavailable", f"{f.path} is outside products/{name}/",
                                product=name)
        target = safe_product_file(products_dir, name, rel, allow_dir=f.format == "hats")
        rels = _walk_folder(products_dir, name, rel) if target.is_dir() else [rel]
        for r in rels:
            if r in seen:
                continue
            seen.add(r)
            path = safe_product_file(products_dir, name, r)
            st = path.stat()
            mtimes.append(st.st_mtime)
            sha = f.sha256 if r == rel and f.size == st.st_size else None
            entries.append((f"{name}/{r}", st.st_size, crc_cache.crc(path, sha), path))
    meta = catalog.manifest_path(name).read_bytes()
    entries.append((f"{name}/{METADATA_NAME}", len(meta), zlib.crc32(meta), meta))
    plan = zip_layout(entries, manifest.updated, f"{name}.zip")
    digest = hashlib.sha256(meta)
    for arc, size, crc, _ in entries:
        digest.update(f"{arc}\0{size}\0{crc}\n".encode())
    plan.etag = f'"{digest.hexdigest()[:32]}"'
    plan.last_modified = max([*mtimes, catalog.manifest_path(name).stat().st_mtime])
    return plan


def file_plan(catalog: Catalog, manifest: Manifest, rel: str) -> Plan:
    """One file of a product (a declared file, a file inside a declared HATS folder, or the
    manifest as ``product_metadata.yaml``).

    Raises
    ------
    DownloadError
        ``download-not-found`` or ``download-unavailable``.
    """
    import mimetypes

    name = manifest.internal_name
    if rel == METADATA_NAME:
        meta = catalog.manifest_path(name).read_bytes()
        plan = Plan(filename=METADATA_NAME, content_type="application/yaml")
        plan.add(data=meta)
        plan.etag = f'"{hashlib.sha256(meta).hexdigest()[:32]}"'
        plan.last_modified = catalog.manifest_path(name).stat().st_mtime
        return plan
    if clean_relative(rel) is None:
        raise DownloadError("download-unavailable", f"{rel!r} is not a servable path", product=name)
    declared = {}
    for f in manifest.files:
        r = manifest_rel(manifest, f.path)
        if r:
            declared[r] = f
            declared.setdefault(r.rsplit("/", 1)[-1], f)
    entry = declared.get(rel)
    if entry is not None:
        rel = manifest_rel(manifest, entry.path) or rel
    else:
        folders = [manifest_rel(manifest, f.path) for f in manifest.files if f.format == "hats"]
        if not any(d and rel.startswith(d + "/") for d in folders):
            raise DownloadError("download-not-found", f"{name} has no file {rel!r}", product=name)
    path = safe_product_file(catalog.products_dir, name, rel)
    st = path.stat()
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    plan = Plan(filename=path.name, content_type=ctype)
    plan.add(path=path, length=st.st_size)
    plan.etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
    if entry is not None and entry.sha256 and entry.size == st.st_size:
        plan.etag = f'"{entry.sha256[:32]}"'
    plan.last_modified = st.st_mtime
    return plan


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The single byte range ``(start, end)`` inclusive of a ``Range`` header, None for the whole.

    Multiple ranges are answered with the whole body (allowed by RFC 9110).

    Raises
    ------
    DownloadError
        ``bad-range`` (416) when the range is outside the body.
    """
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match:
        return None  # unknown unit, several ranges or junk: ignore
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            raise DownloadError("bad-range", "empty suffix range", status=416)
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise DownloadError("bad-range", f"range {header.strip()} is outside the {size} bytes",
                            status=416)
    return start, min(end, size - 1)


def read_piece(seg: Segment, offset: int, length: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of one piece of a plan, in chunks (file pieces are opened without following links)."""
    if seg.data is not None:
        yield seg.data[offset: offset + length]
        return
    fd = os.open(seg.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        fh.seek(offset)
        left = length
        while left > 0:
            data = fh.read(min(chunk, left))
            if not data:
                raise DownloadError("download-unavailable", f"{seg.path.name} shrank while serving",
                                    status=500)
            left -= len(data)
            yield data


# =====================================================================================================
# Datasette metadata
# =====================================================================================================

def _pint_unit(unit: str | None) -> str | None:
    """``unit`` if Datasette's pint understands it (units it cannot parse would break pages)."""
    if not unit:
        return None
    try:
        from datasette.views.base import ureg

        ureg(unit)
    except Exception:  # noqa: BLE001 - pint raises many kinds of errors for unknown units
        return None
    return unit


def _column_description(col, role: str | None, ucd: str | None) -> str:
    bits = [col.description] if col.description else []
    if col.unit:
        bits.append(f"unit: {col.unit}")
    if ucd:
        bits.append(f"UCD: {ucd}")
    if role:
        bits.append(f"role: {role}")
    return " · ".join(bits)


def _cone_sql(table: str, ra: str, dec: str, healpix: bool = True) -> str:
    """Cone search: the HEALPix ranges covering the cone (index lookups), then the exact distance.

    Without the HEALPix column, a band in dec (index) then the exact distance.
    """
    t, r, d, h = (quote_ident(x) for x in (table, ra, dec, HEALPIX_COLUMN))
    if healpix:
        return (f"select pz_angdist(t.{r}, t.{d}, :ra, :dec) as distance_arcsec, t.*\n"
                f"from json_each(pz_cone_ranges(:ra, :dec, :radius_arcsec)) as pix\n"
                f"join {t} as t on t.{h} between json_extract(pix.value, '$[0]')"
                f" and json_extract(pix.value, '$[1]')\n"
                f"where pz_angdist(t.{r}, t.{d}, :ra, :dec) <= cast(:radius_arcsec as real)\n"
                f"order by distance_arcsec limit 1000")
    return (f"select pz_angdist({r}, {d}, :ra, :dec) as distance_arcsec, * from {t}\n"
            f"where {d} between cast(:dec as real) - cast(:radius_arcsec as real) / 3600.0\n"
            f"              and cast(:dec as real) + cast(:radius_arcsec as real) / 3600.0\n"
            f"  and pz_angdist({r}, {d}, :ra, :dec) <= cast(:radius_arcsec as real)\n"
            f"order by distance_arcsec limit 1000")


def _zrange_sql(table: str, z: str) -> str:
    t, zc = quote_ident(table), quote_ident(z)
    return (f"select * from {t}\nwhere {zc} >= cast(:z_min as real) and {zc} <= cast(:z_max as real)\n"
            f"order by {zc} limit 1000")


def datasette_metadata(catalog: Catalog, db_path: Path | None = None, allow_sql: bool = True,
                       with_units: bool = False) -> dict:
    """Datasette metadata from the manifests and the built database.

    Units and UCDs are in every column's description. Datasette's own ``units`` (pint quantities,
    which allow ``?ra__gt=150 deg``) are left out by default: pint formats every cell of every page
    and makes a 100-row page 3-4 times slower; ``with_units=True`` puts them back.
    """
    db_path = Path(db_path) if db_path else default_db_path(catalog)
    cfg = catalog.config
    state = preview_state(db_path) if db_path.exists() else {}
    tables: dict[str, Any] = {
        "products": {
            "title": "Products",
            "description": "One row per product of the catalog, every manifest field (files, column "
                           "roles and provenance as JSON). Full-text search on name and description.",
            "fts_table": "products_fts", "fts_pk": "id", "searchmode": "raw",
            "sort": "id", "facets": ["product_type", "release", "status"],
        },
        "columns": {
            "title": "Columns",
            "description": "Every column of each product's main file: dtype, unit, UCD, role and "
                           "statistics (min, max, mean, nulls) over the previewed rows.",
            "facets": ["role", "ucd"],
        },
        STATE_TABLE: {"hidden": True},
        "sqlite_stat1": {"hidden": True},
    }
    queries: dict[str, Any] = {
        "products_by_type_and_release": {
            "title": "Products by type and release",
            "description": "Leave a parameter empty to match every value. Types: "
                           + ", ".join(t.name for t in cfg.product_types) + "; releases: "
                           + ", ".join(r.name for r in cfg.releases) + ".",
            "sql": "select id, internal_name, name, product_type, release, official, status, n_rows,\n"
                   "  site_page from products\n"
                   "where (:product_type = '' or product_type = :product_type)\n"
                   "  and (:release = '' or release = :release)\norder by id",
        },
        "products_with_role": {
            "title": "Products with a column of a given role",
            "description": "e.g. role z_err: training sets with redshift errors.",
            "sql": "select p.internal_name, p.name, p.product_type, p.release, c.\"column\", c.unit, c.ucd\n"
                   "from products p join columns c on c.product = p.internal_name\n"
                   "where c.role = :role and (:product_type = '' or p.product_type = :product_type)\n"
                   "order by p.id",
        },
    }
    for m in catalog.manifests():
        name = m.internal_name
        info = state.get(name) or {}
        if not info.get("has_table") or name in RESERVED_TABLES:
            continue
        main = m.main_file
        cols = {c.name: c for c in (main.columns or [])} if main else {}
        described = {}
        units = {}
        for cname, col in cols.items():
            role = m.role_of(cname)
            ucd = col.ucd or (m.ucd_for(role) if role else None)
            described[cname] = _column_description(col, role, ucd)
            unit = _pint_unit(col.unit)
            if unit:
                units[cname] = unit
        described[HEALPIX_COLUMN] = "Nested HEALPix index of (ra, dec) at order 10 (nside 1024)"
        rows, total = info.get("rows", 0), info.get("total_rows")
        desc = m.description.strip().split("\n\n")[0] if m.description else ""
        if info.get("truncated"):
            desc += (f"\n\nPreview: the first {rows:,} of {total:,} rows." if total else
                     f"\n\nPreview: the first {rows:,} rows only (cap of catalog.yaml).")
        ptype = cfg.product_type(m.product_type)
        tables[name] = {
            "title": m.name,
            "description": desc.strip(),
            "license": m.license,
            "source": f"{m.name} on the {cfg.name} site",
            "source_url": product_page(catalog, name),
            "about": ptype.display_name if ptype else m.product_type,
            "about_url": product_page(catalog, name),
            "columns": described,
        }
        if units and with_units:
            tables[name]["units"] = units
        ra, dec, z = m.column_for("ra"), m.column_for("dec"), m.column_for("z")
        if ra in cols and dec in cols:
            queries[f"cone_{name}"] = {
                "title": f"Cone search in {m.name}",
                "description": "Rows within radius_arcsec of (ra, dec), in degrees, nearest first.",
                "sql": _cone_sql(name, ra, dec, healpix=HEALPIX_COLUMN not in cols),
            }
        if z in cols:
            queries[f"zrange_{name}"] = {
                "title": f"Redshift range in {m.name}",
                "description": "Rows with z_min <= z <= z_max, by redshift.",
                "sql": _zrange_sql(name, z),
            }
    meta: dict[str, Any] = {
        "title": cfg.name,
        "description": cfg.description,
        "source": "Catalog site",
        "source_url": cfg.site_url,
        "databases": {DB_NAME: {
            "title": f"{cfg.name}: previews",
            "description": "Previews of every tabular product and the catalog itself. Downloads: "
                           "/-/download/<internal_name>.zip with a token (see /-/token).",
            "tables": tables,
            "queries": queries,
        }},
    }
    if not allow_sql:
        meta["allow_sql"] = False
    if cfg.previews_require_token:
        meta["allow"] = {"pzcat_scope": ["read", "download"]}
    return meta


def inspect_data(db_path: Path) -> dict:
    """Datasette's inspect data for ``previews.db`` (hash, size, table counts)."""
    digest = hashlib.sha256()
    with open(db_path, "rb") as fh:
        while data := fh.read(CHUNK):
            digest.update(data)
    st = db_path.stat()
    return {DB_NAME: {"hash": digest.hexdigest(), "size": st.st_size, "file": db_path.name,
                      "tables": {t: {"count": n} for t, n in table_counts(db_path).items()},
                      "mtime_ns": st.st_mtime_ns}}


def config_dir(catalog: Catalog) -> Path:
    return catalog.root / "build" / "datasette"


def write_datasette_config(catalog: Catalog, db_path: Path | None = None, allow_sql: bool = True,
                           refresh_inspect: bool = False) -> tuple[Path, Path]:
    """Write ``build/datasette/metadata.json`` and ``build/datasette/inspect.json``."""
    db_path = Path(db_path) if db_path else default_db_path(catalog)
    if not db_path.exists():
        raise PzcatError("previews-missing", f"{db_path} does not exist: run `pzcat build-previews`",
                         file=str(db_path))
    out = config_dir(catalog)
    out.mkdir(parents=True, exist_ok=True)
    meta_path, inspect_path = out / "metadata.json", out / "inspect.json"
    atomic_write_text(meta_path, json.dumps(datasette_metadata(catalog, db_path, allow_sql), indent=2))
    st = db_path.stat()
    current = None
    if inspect_path.exists() and not refresh_inspect:
        try:
            current = json.loads(inspect_path.read_text()).get(DB_NAME)
        except ValueError:
            current = None
    if not current or current.get("size") != st.st_size or current.get("mtime_ns") != st.st_mtime_ns:
        atomic_write_text(inspect_path, json.dumps(inspect_data(db_path), indent=2))
    return meta_path, inspect_path


# =====================================================================================================
# Datasette and the server
# =====================================================================================================

@dataclass
class ServeConfig:
    """What the pzcat plugin needs at request time (kept off the public metadata)."""

    root: Path
    site_dir: Path
    crc_cache: Path
    previews_require_token: bool = False
    datasette_url: str = "/"
    response_cache: bool = True


class _NegativeCachingLoader:
    """A Jinja loader that remembers which template names do not exist.

    Datasette looks for per-database and per-table templates (``table-previews-<name>.html``...) on
    every page; without this each miss is a stat of every template folder.
    """

    def __init__(self, inner) -> None:
        self.inner = inner
        self.missing: set[str] = set()
        self.has_source_access = True

    def get_source(self, environment, template):
        from jinja2 import TemplateNotFound

        if template in self.missing:
            raise TemplateNotFound(template)
        try:
            return self.inner.get_source(environment, template)
        except TemplateNotFound:
            self.missing.add(template)
            raise

    def list_templates(self):
        return self.inner.list_templates()

    def load(self, environment, name, globals=None):
        from jinja2 import BaseLoader

        return BaseLoader.load(self, environment, name, globals)


def make_datasette(catalog: Catalog, db_path: Path | None = None, allow_sql: bool = True,
                   site_dir: Path | None = None, settings: dict | None = None,
                   response_cache: bool = True):
    """A configured :class:`datasette.app.Datasette` (used by :func:`serve` and the tests)."""
    from datasette.app import Datasette

    db_path = Path(db_path) if db_path else default_db_path(catalog)
    meta_path, inspect_path = write_datasette_config(catalog, db_path, allow_sql)
    metadata = json.loads(meta_path.read_text())
    inspect = json.loads(inspect_path.read_text())
    # 50 rows a page: rendering dominates the cost of a table page (about 0.5 ms a row here).
    all_settings = {"suggest_facets": False, "sql_time_limit_ms": 1000, "allow_download": False,
                    "default_page_size": 50,
                    "default_cache_ttl": 60, "num_sql_threads": 3, "facet_time_limit_ms": 200}
    all_settings.update(settings or {})
    secret = os.environ.get("PZCAT_SECRET")
    ds = Datasette(
        [], immutables=[str(db_path)], metadata=metadata, inspect_data=inspect,
        plugins_dir=str(REPO_DATASETTE_DIR / "plugins"),
        template_dir=str(REPO_DATASETTE_DIR / "templates"),
        settings=all_settings,
        secret=hashlib.sha256(f"datasette/{secret}".encode()).hexdigest() if secret else None,
    )
    # Templates do not change while serving: without this, Jinja stats every template file on
    # every render (7 stats per table page, slow on network file systems).
    ds.jinja_env.auto_reload = False
    ds.jinja_env.loader = _NegativeCachingLoader(ds.jinja_env.loader)
    ds._pzcat = ServeConfig(
        root=catalog.root, site_dir=Path(site_dir) if site_dir else catalog.root / "build" / "site",
        crc_cache=catalog.root / "build" / "crc-cache.json",
        previews_require_token=catalog.config.previews_require_token,
        datasette_url=catalog.config.datasette_url, response_cache=response_cache)
    return ds


def precompute_crcs(catalog: Catalog, progress=None) -> int:
    """Fill the CRC cache for every in-repository file (so first downloads start at once)."""
    cache = CrcCache(catalog.root / "build" / "crc-cache.json")
    n = 0
    for m in catalog.manifests():
        try:
            zip_plan(catalog, m, cache)
            n += 1
        except (DownloadError, OSError):
            continue
    return n


class RedactFilter(logging.Filter):
    """Remove tokens and signed links from access-log lines (they are never logged)."""

    SECRET_PARAMS = {"link", "token", "_token", "access_token"}

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = redact_path(args[2])
            record.args = tuple(args)
        return True


def redact_path(path: str) -> str:
    """``path`` with the values of secret query parameters replaced by ``REDACTED``."""
    if "?" not in path:
        return path
    base, _, query = path.partition("?")
    pairs = [(k, "REDACTED" if k in RedactFilter.SECRET_PARAMS else v)
             for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{base}?{urlencode(pairs)}"


WORKER_ENV = "PZCAT_SERVE_WORKER"


def worker_app():
    """ASGI app of one uvicorn worker process (``--workers N``), configured from the environment.

    Called by uvicorn inside its event loop: Datasette runs its startup hooks on the first request.
    """
    conf = json.loads(os.environ[WORKER_ENV])
    catalog = Catalog.open(conf["root"])
    ds = make_datasette(catalog, Path(conf["db_path"]), allow_sql=conf["allow_sql"],
                        site_dir=Path(conf["site_dir"]) if conf.get("site_dir") else None)
    logging.getLogger("uvicorn.access").addFilter(RedactFilter())
    return ds.app()



def _warning(code: str, message: str) -> str:
    """A coded warning line as the CLI prints it."""
    return f"warning[{code}]: {message}"

def serve(catalog: Catalog, host: str = "127.0.0.1", port: int = 8001, db_path: Path | None = None,
          build: bool = False, allow_sql: bool = True, site_dir: Path | None = None,
          access_log: bool = True, workers: int = 1, echo=print) -> None:
    """Run Datasette on ``previews.db`` with the site under ``/site/`` and print the one URL.

    Parameters
    ----------
    build : bool
        Build (or update) previews.db first; otherwise it must exist (``previews-missing``).
    port : int
        0 picks a free port.
    workers : int
        Server processes sharing the socket (each a Datasette on the same immutable file).
    """
    import asyncio
    import socket

    import uvicorn

    db_path = Path(db_path) if db_path else default_db_path(catalog)
    if build or not db_path.exists():
        if not build:
            raise PzcatError("previews-missing", f"{db_path} does not exist: run `pzcat build-previews` "
                             "or `pzcat serve --build`", file=str(db_path))
        from pzcat.previews import build_previews

        build_previews(catalog, db_path)
    t0 = time.perf_counter()
    ds = make_datasette(catalog, db_path, allow_sql=allow_sql, site_dir=site_dir)
    asyncio.run(ds.invoke_startup())
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on connections of sockets that say
    # so, and without it Nagle + delayed ACKs add 40 ms to every multi-part response.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                         socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if len(os.environ.get("PZCAT_SECRET", "")) < 16:
        echo(_warning("token-secret-missing", "$PZCAT_SECRET is not set (or shorter than 16 "
                      "characters): previews work, downloads answer 500 until it is set"))
    if not ds._pzcat.site_dir.is_dir():
        echo(_warning("site-missing", f"{ds._pzcat.site_dir} does not exist; /site/ will answer 404"))
    echo(f"pzcat: serving {catalog.config.name} (previews, downloads and /site/) in "
         f"{time.perf_counter() - t0:.2f} s{f' with {workers} workers' if workers > 1 else ''} at")
    echo(f"http://{shown}:{port}/")
    options = {"log_level": "info" if access_log else "warning", "access_log": access_log,
               "lifespan": "on", "timeout_keep_alive": 30}
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ[WORKER_ENV] = json.dumps({
            "root": str(catalog.root), "db_path": str(db_path), "allow_sql": allow_sql,
            "site_dir": str(site_dir) if site_dir else None})
        config = uvicorn.Config("pzcat.serve:worker_app", factory=True, workers=workers, **options)
        sock.set_inheritable(True)
        Multiprocess(config, sockets=[sock]).run()
        return
    config = uvicorn.Config(ds.app(), **options)
    logging.getLogger("uvicorn.access").addFilter(RedactFilter())  # after uvicorn's logging setup
    server = uvicorn.Server(config)
    server.run(sockets=[sock])

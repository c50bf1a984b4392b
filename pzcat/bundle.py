"""The product bundle: a product's ZIP (every file plus its manifest) or one file, laid out in
advance so that it streams with constant memory, an exact Content-Length and byte ranges.

Used by the downloads of the server (:mod:`pzcat_datasette.downloads`) and by the Python client for
local clones. Nothing outside ``products/<internal_name>/`` can be reached: paths are cleaned, and
symlinks and folders other than declared HATS folders are refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pzcat.catalog import Catalog
from pzcat.codes import http_status
from pzcat.errors import PzcatError
from pzcat.files import atomic_open, atomic_write_text, crc32_file
from pzcat.manifest import Manifest
from pzcat.paths import clean_relative, is_within  # clean_relative: also re-exported

METADATA_NAME = "product_metadata.yaml"
CHUNK = 4 << 20


class DownloadError(PzcatError):
    """A download problem with the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int | None = None, **context) -> None:
        super().__init__(code, message, **context)
        self.status = status if status is not None else http_status(code)


# =====================================================================================================
# Safe paths
# =====================================================================================================


def safe_product_file(
    products_dir: Path, internal_name: str, rel: str, allow_dir: bool = False
) -> Path:
    """``products/<internal_name>/<rel>`` if it is a regular file (or folder) really inside it.

    Every component is checked with ``lstat``: no symlink anywhere, no ``..``, no absolute path,
    and the real path must stay under the product folder.

    Raises
    ------
    DownloadError
        ``download-unavailable`` (404).
    """
    err = DownloadError(
        "download-unavailable", f"{internal_name}/{rel}: not a servable file", product=internal_name
    )
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
        if current == base or not is_within(current, base):
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
                raise DownloadError(
                    "download-unavailable",
                    f"{internal_name}: symlink {name} in {rel}",
                    product=internal_name,
                )
        dirnames.sort()
        for name in sorted(filenames):
            out.append(f"{rel}/{(Path(dirpath) / name).relative_to(folder).as_posix()}")
    return out


def manifest_rel(manifest: Manifest, path: str | None) -> str | None:
    """A manifest file path relative to its product folder (None when not under it)."""
    prefix = f"products/{manifest.internal_name}/"
    if path and path.startswith(prefix):
        return path[len(prefix) :]
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
    return (
        (ts.hour << 11) | (ts.minute << 5) | (ts.second // 2),
        ((year - 1980) << 9) | (ts.month << 5) | ts.day,
    )


def zip_layout(
    entries: list[tuple[str, int, int, Path | bytes]], when: datetime, filename: str
) -> Plan:
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
        header = (
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                45 if big else 20,
                _UTF8_FLAG,
                0,
                dtime,
                ddate,
                crc,
                small,
                small,
                len(name),
                len(extra),
            )
            + name
            + extra
        )
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
        cextra = (
            struct.pack(f"<HH{len(cextra_fields)}Q", 1, 8 * len(cextra_fields), *cextra_fields)
            if cextra_fields
            else b""
        )
        zip64 = bool(cextra_fields)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (3 << 8) | (45 if zip64 else 20),
                45 if zip64 else 20,
                _UTF8_FLAG,
                0,
                dtime,
                ddate,
                crc,
                small,
                small,
                len(name),
                len(cextra),
                0,
                0,
                0,
                0o100644 << 16,
                0xFFFFFFFF if offset >= ZIP64_LIMIT else offset,
            )
            + name
            + cextra
        )
    cd = b"".join(central)
    cd_offset, cd_size, count = plan.size, len(cd), len(entries)
    tail = b""
    if cd_offset >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT or count >= 0xFFFF:
        eocd64_offset = cd_offset + cd_size
        tail += struct.pack(
            "<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, count, count, cd_size, cd_offset
        )
        tail += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    tail += struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        min(count, 0xFFFF),
        min(count, 0xFFFF),
        min(cd_size, 0xFFFFFFFF),
        min(cd_offset, 0xFFFFFFFF),
        0,
    )
    plan.add(data=cd + tail)
    return plan


def zip_plan(
    catalog: Catalog, manifest: Manifest, crc_cache: CrcCache, prefix: str | None = None
) -> Plan:
    """The ZIP of a product: every in-repository file plus ``product_metadata.yaml``.

    Entries are under ``<internal_name>/`` unless ``prefix`` says otherwise (``""``: at the root,
    as the Photo-z Server API's archives).

    Raises
    ------
    DownloadError
        ``download-unavailable`` when a file is missing, a symlink or outside its folder.
    """
    name = manifest.internal_name
    top = f"{name}/" if prefix is None else prefix
    products_dir = catalog.products_dir
    entries: list[tuple[str, int, int, Path | bytes]] = []
    seen: set[str] = set()
    mtimes = []
    for f in manifest.files:
        if not f.path:
            continue  # external url: the manifest says where it lives
        rel = manifest_rel(manifest, f.path)
        if rel is None:
            raise DownloadError(
                "download-unavailable", f"{f.path} is outside products/{name}/", product=name
            )
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
            entries.append((f"{top}{r}", st.st_size, crc_cache.crc(path, sha), path))
    meta = catalog.manifest_path(name).read_bytes()
    entries.append((f"{top}{METADATA_NAME}", len(meta), zlib.crc32(meta), meta))
    plan = zip_layout(entries, manifest.updated, f"{name}.zip")
    digest = hashlib.sha256(meta)
    for arc, size, crc, _ in entries:
        digest.update(f"{arc}\0{size}\0{crc}\n".encode())
    plan.etag = f'"{digest.hexdigest()[:32]}"'
    plan.last_modified = max([*mtimes, catalog.manifest_path(name).stat().st_mtime])
    return plan


def folder_zip_plan(catalog: Catalog, manifest: Manifest, rel: str, crc_cache: CrcCache) -> Plan:
    """A ZIP of one declared folder of a product (a HATS collection): ``<folder>.zip`` holding
    ``<folder>/...``, streamed like :func:`zip_plan`.

    Raises
    ------
    DownloadError
        ``download-unavailable`` when the folder is missing or holds a symlink.
    """
    name = manifest.internal_name
    entries: list[tuple[str, int, int, Path | bytes]] = []
    mtimes = []
    for r in _walk_folder(catalog.products_dir, name, rel):
        path = safe_product_file(catalog.products_dir, name, r)
        st = path.stat()
        mtimes.append(st.st_mtime)
        entries.append((r, st.st_size, crc_cache.crc(path), path))
    folder = rel.rstrip("/").rsplit("/", 1)[-1]
    plan = zip_layout(entries, manifest.updated, f"{folder}.zip")
    digest = hashlib.sha256()
    for arc, size, crc, _ in entries:
        digest.update(f"{arc}\0{size}\0{crc}\n".encode())
    plan.etag = f'"{digest.hexdigest()[:32]}"'
    plan.last_modified = max(mtimes, default=0.0)
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
    if len(first) > 19 or len(last) > 19:  # past any file size (and int() of 5,000 digits costs)
        raise DownloadError(
            "bad-range", "the range's numbers are past the end of any file", status=416
        )
    if first == "":
        n = int(last)
        if n == 0:
            raise DownloadError("bad-range", "empty suffix range")
        return max(0, size - n), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise DownloadError("bad-range", f"range {header.strip()} is outside the {size} bytes")
    return start, min(end, size - 1)


def read_piece(seg: Segment, offset: int, length: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of one piece of a plan, in chunks (file pieces are opened without following links)."""
    if seg.data is not None:
        yield seg.data[offset : offset + length]
        return
    fd = os.open(seg.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        fh.seek(offset)
        left = length
        while left > 0:
            data = fh.read(min(chunk, left))
            if not data:
                raise DownloadError(
                    "download-unavailable", f"{seg.path.name} shrank while serving", status=500
                )
            left -= len(data)
            yield data


# =====================================================================================================
# Datasette metadata
# =====================================================================================================


def write_plan(plan: Plan, dest: Path) -> Path:
    """Write a laid-out bundle to ``dest`` atomically (temp file + rename)."""
    dest = Path(dest)
    with atomic_open(dest, "wb") as out:
        for seg, offset, length in plan.pieces(0, plan.size - 1):
            for chunk in read_piece(seg, offset, length):
                out.write(chunk)
    return dest

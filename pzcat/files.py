"""Facts about files on disk (digests, sizes, Git LFS pointers, links) and the one atomic write.

Every file pzcat writes goes through :func:`atomic_write_bytes`/:func:`atomic_write_text`,
:func:`atomic_open` (streamed), :func:`atomic_path` (a library writes a temporary path) or
:func:`publish`, or is written inside a staging folder of :mod:`pzcat.staging` that is moved into
place whole (``tests/test_writes.py`` fails on any other write).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

CHUNK = 1024 * 1024
LFS_SIGNATURE = b"version https://git-lfs.github.com/spec/v1"


def sha256_file(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def crc32_file(path: Path) -> int:
    """CRC-32 of a file (for ZIP entries), read in 1 MiB chunks."""
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _tree_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def escaping_links(folder: Path) -> list[Path]:
    """Symbolic links under ``folder`` (not followed) whose target is outside ``folder``.

    Every file reached inside a folder product (HATS) must stay inside it: a link to any
    Parquet file on the machine would otherwise be validated, digested and published.
    """
    from pzcat.paths import is_within

    folder = Path(folder)
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath) / name
            if p.is_symlink() and not is_within(p, folder):
                out.append(p)
    return sorted(out)


def path_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file, or of a folder (HATS): the digest of ``relpath\\0sha\\n`` lines."""
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        total = 0
        for f in _tree_files(path):
            rel = f.relative_to(path).as_posix()
            digest.update(f"{rel}\0{sha256_file(f)}\n".encode())
            total += f.stat().st_size
        return total, digest.hexdigest()
    return path.stat().st_size, sha256_file(path)


def path_size(path: Path) -> int:
    """Size of a file, or the total size of a folder's files."""
    path = Path(path)
    if path.is_dir():
        return sum(f.stat().st_size for f in _tree_files(path))
    return path.stat().st_size


def is_lfs_pointer(path: Path) -> bool:
    """Whether ``path`` is a Git LFS pointer file (a small text file, the object not fetched)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size > 1024:
        return False
    with open(path, "rb") as fh:
        return fh.read(len(LFS_SIGNATURE)) == LFS_SIGNATURE


def temp_sibling(path: Path) -> Path:
    """A fresh temporary name next to ``path`` that names this process.

    ``.<name>.<pid>.<random>.tmp``: :func:`pzcat.staging.remove_dead_temps` removes those whose
    process is gone (a killed write leaves no litter for long), and leaves a running one alone.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _fsync_tree(path: Path) -> None:
    files = [path] if path.is_file() else _tree_files(path)
    for f in files:
        with open(f, "rb+") as fh:
            os.fsync(fh.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def publish(tmp: Path, path: Path, durable: bool = True) -> None:
    """Rename the finished temporary ``tmp`` (a file or a folder) to ``path``, fsynced first.

    For writers whose temporary file outlives one block (a database built over several calls);
    otherwise use :func:`atomic_path`. A folder replaces only a missing or empty ``path``.
    """
    if durable:
        _fsync_tree(Path(tmp))
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path: Path, durable: bool = True) -> Iterator[Path]:
    """A temporary path for ``path``, renamed to it when the block succeeds, removed otherwise.

    For writers that take a path (Parquet, HDF5, FITS, SQLite, a HATS folder): they write the
    temporary file or folder, the block's end publishes it whole (:func:`publish`).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> with atomic_path(p) as tmp:
    ...     _ = tmp.write_bytes(b"ok")
    >>> p.read_bytes()
    b'ok'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        yield tmp
        publish(tmp, path, durable)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


@contextlib.contextmanager
def atomic_open(
    path: Path,
    mode: str = "wb",
    durable: bool = True,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """A file opened for writing whose content replaces ``path`` when the block succeeds.

    For streamed writes (downloads, bundles, CSV blocks); on an exception nothing is replaced.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file (mode 'w' or 'wb'), not {mode!r}")
    if "b" in mode:
        encoding = newline = None
    elif encoding is None:
        encoding = "utf-8"
    with (
        atomic_path(path, durable=False) as tmp,
        open(tmp, mode, encoding=encoding, newline=newline) as fh,
    ):
        yield fh
        if durable:
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    The one way pzcat writes a file (with :func:`atomic_open` and :func:`atomic_path` for
    streamed and library writes): readers see the old file or the new one, never a part.
    ``durable=False`` skips the fsync, for build outputs and caches that are recomputed when lost
    (the site's pages: an fsync per page would cost more than the page).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a" / "x.txt"
    >>> atomic_write_text(p, "hello"); p.read_text()
    'hello'
    """
    with atomic_open(path, "wb", durable=durable) as fh:
        fh.write(data)

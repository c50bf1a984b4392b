"""Facts about files on disk: digests, sizes, Git LFS pointers, atomic writes and safe paths."""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from pathlib import Path

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


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically: see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    The one way pzcat writes a file: readers see the old file or the new one, never a part.
    ``durable=False`` skips the fsync, for build outputs and caches that are recomputed when lost
    (the site's pages: an fsync per page would cost more than the page).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a" / "x.txt"
    >>> atomic_write_text(p, "hello"); p.read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

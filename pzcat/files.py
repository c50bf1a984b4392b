"""Facts about files on disk: digests, sizes, Git LFS pointers, atomic writes and safe paths."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def _tree_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


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


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder of ``target``; on success it replaces ``target`` whole.

    On any exception the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def copy_into(src: Path, dest_dir: Path) -> Path:
    """Copy a file or a folder into ``dest_dir`` and return the new path."""
    src = Path(src)
    dest = Path(dest_dir) / src.name
    if src.is_dir():
        shutil.copytree(src, dest, dirs_exist_ok=False)
    else:
        shutil.copy2(src, dest)
    return dest

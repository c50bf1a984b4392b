"""Folders replaced whole: build into a staging copy, swap it in atomically, clean up after kills.

A served folder (``build/site``) must never be seen half-written, even after ``kill -9``:
:func:`staged_folder` gives a sibling staging folder that starts as a hard-link copy of the live
one (cheap; incremental builds keep their unchanged files), and on success exchanges the two
atomically (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames). Writers into a staging
folder must replace files (:func:`put_bytes`), never write into them in place, since unchanged
files share their inode with the live folder. Stale staging folders of killed runs are removed by
the next run (:func:`remove_stale`). :func:`die_with_parent` makes pool workers exit when the
process that started them is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_PR_SET_PDEATHSIG = 1
_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def exchange(a: Path, b: Path) -> None:
    """Swap two existing paths atomically (two renames where the kernel cannot)."""
    try:
        func = _lib().renameat2
    except (OSError, AttributeError):
        func = None
    if func is not None:
        res = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if res == 0:
            return
        err = ctypes.get_errno()
        if err not in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: fall back
            raise OSError(err, os.strerror(err), str(a))
    aside = a.with_name(a.name + ".swap")
    os.rename(a, aside)
    os.rename(b, a)
    os.rename(aside, b)


def remove_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove ``parent/<prefix>*`` folders and files left by killed runs; return them."""
    gone = []
    if parent.is_dir():
        for p in parent.iterdir():
            if p.name.startswith(prefix):
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                gone.append(p)
    return gone


_PID_TEMP = re.compile(r"^\..+\.(\d+)(\.[^.]*)?\.tmp$")


def temp_prefix(name: str) -> str:
    """Prefix of a temporary sibling of ``name`` that names this process (see :func:`remove_dead_temps`)."""
    return f".{name}.{os.getpid()}."


def remove_dead_temps(folder: Path) -> list[Path]:
    """Remove ``.<name>.<pid>.<rand>.tmp`` entries of ``folder`` whose process is gone.

    Temporary folders and files of killed runs (``pzcat add`` copies, previews databases) are
    cleaned by the next run; those of running processes are left alone.
    """
    gone = []
    if not Path(folder).is_dir():
        return gone
    for p in Path(folder).iterdir():
        match = _PID_TEMP.match(p.name)
        if not match or _alive(int(match.group(1))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        gone.append(p)
    return gone


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def put_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path`` (an existing file, maybe hard-linked, is replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.write_bytes(data)


def put_text(path: Path, text: str) -> None:
    """:func:`put_bytes` for UTF-8 text."""
    put_bytes(path, text.encode("utf-8"))


def put_copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to a new file at ``dest`` (see :func:`put_bytes`)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.unlink(missing_ok=True)
    shutil.copyfile(src, dest)


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A staging copy of ``target`` that replaces it atomically when the block succeeds.

    On an exception the staging folder is removed and ``target`` is untouched; after a kill it
    is left as ``.<name>.staging`` and removed by the next call.
    """
    target = Path(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.staging"
    remove_stale(parent, prefix)
    stage = parent / prefix
    if target.is_dir():
        shutil.copytree(target, stage, symlinks=True, copy_function=os.link)
    else:
        stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if target.is_dir():
        exchange(stage, target)
        shutil.rmtree(stage, ignore_errors=True)  # the old folder, now under the staging name
    else:
        os.rename(stage, target)


def die_with_parent() -> None:
    """In a worker: be killed (SIGKILL) when the parent dies (Linux); exit now if it has."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        _lib().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent or parent == 1:
        os._exit(1)

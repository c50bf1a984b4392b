"""Staging: nothing is ever seen half-written, and bad input changes nothing.

Two kinds of staging live here, the one home of the rule:

* **A product change** (``pzcat add``, ``edit``/``attach``/``detach``, pipeline runs, the API's
  submissions, which call those): :class:`Staging` stages the product's new files in a temporary
  folder next to ``products/<name>/`` (``.<name>.<pid>.<random>.tmp``, removed by the next run when
  its process died), moves it into place (the old folder kept aside), writes the manifest
  atomically and validates it. If anything fails on the way (invalid, full disk, an exception),
  everything is put back: the old folder and the old manifest (or none).

  ::

      with Staging(catalog, internal_name) as stage:
          shutil.copy2(source, stage.folder / source.name)
          stage.place()                       # the folder is now products/<internal_name>/
          stage.commit(manifest)              # save + validate; raises (and rolls back) if invalid

* **A folder replaced whole** (``build/site``): :func:`staged_folder` gives a sibling staging folder that starts as a hard-link copy of the live
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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text

if TYPE_CHECKING:
    from pzcat.catalog import Catalog
    from pzcat.manifest import Manifest

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
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
    gone: list[Path] = []
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


def write_failed(exc: BaseException, path: Path) -> PzcatError:
    """The coded error of a failed write (full disk, file size limit, permissions)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return PzcatError(
        "write-failed",
        f"cannot write {Path(path).name}: {reason}; nothing was "
        "changed (free some space and run the command again)",
        file=str(path),
    )


class Staging:
    """A product change as a transaction (a context manager; see the module docstring).

    Parameters
    ----------
    catalog : Catalog
    internal_name : str
        The product changed.
    kind : str
        Names the temporary folder (``.<internal_name>.<kind>.<pid>.<random>.tmp``); the folders
        and temporary files of dead processes are removed by the next change (of any product),
        those of running processes are left alone.
    """

    def __init__(self, catalog: Catalog, internal_name: str, kind: str = "stage") -> None:
        self.catalog, self.internal_name, self.kind = catalog, internal_name, kind
        self.target = catalog.product_dir(internal_name)
        self.manifest_path = catalog.manifest_path(internal_name)
        self.folder: Path = Path()
        self._backup: Path | None = None
        self._placed = False
        self._old_text: str | None = None
        self._saved = False

    def __enter__(self) -> Staging:
        products = self.catalog.products_dir
        products.mkdir(parents=True, exist_ok=True)
        remove_dead_temps(products)  # what killed runs left
        prefix = temp_prefix(f"{self.internal_name}.{self.kind}")
        self.folder = Path(tempfile.mkdtemp(dir=products, prefix=prefix, suffix=".tmp"))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.rollback()
            elif self._backup is not None and self._backup.exists():
                shutil.rmtree(self._backup)
        finally:
            if self.folder.exists() and self.folder != self.target:
                shutil.rmtree(self.folder)

    def place(self) -> Path:
        """Move the staged folder to ``products/<internal_name>/`` (the old one kept aside)."""
        if self.target.exists():
            backup = self.target.with_name(f".{self.target.name}.bak")
            if backup.exists():
                shutil.rmtree(backup)
            os.replace(self.target, backup)
            self._backup = backup
        os.replace(self.folder, self.target)
        self._placed = True
        return self.target

    def commit(
        self, manifest: Manifest, validate: bool = True, warnings: list[Any] | None = None
    ) -> Path:
        """Write the manifest (atomically) and validate it; raise if invalid.

        Every error of the validation is in the raised error (code of the first; message and
        ``problems`` list them all); the warnings of a valid product are added to ``warnings``.
        A failed write is ``write-failed``. The error is raised inside the ``with`` block, so the
        whole change is rolled back.
        """
        if not self._saved:
            self._old_text = (
                self.manifest_path.read_text(encoding="utf-8")
                if self.manifest_path.exists()
                else None
            )
        self._saved = True
        try:
            path = self.catalog.save(manifest)
        except OSError as exc:  # a full disk: __exit__ puts everything back as it was
            raise write_failed(exc, self.manifest_path) from None
        if validate:
            from pzcat.validate import validate_manifest

            report = validate_manifest(self.catalog, path)
            if not report.valid:
                first = report.errors[0]
                if len(report.errors) == 1:
                    message = first.message
                else:
                    message = f"{len(report.errors)} problems: " + "; ".join(
                        f"[{i.code}] {i.message}" for i in report.errors
                    )
                raise PzcatError(
                    first.code,
                    f"{message}; nothing was changed",
                    file=first.file,
                    column=first.column,
                    rows=first.rows,
                    problems=[i.to_dict() for i in report.errors],
                )
            if warnings is not None:
                warnings.extend(report.warnings)
        return path

    def rollback(self) -> None:
        """Put the old manifest and the old folder back (called by ``__exit__`` on error)."""
        if self._saved:
            if self._old_text is None:
                self.manifest_path.unlink(missing_ok=True)
            else:
                atomic_write_text(self.manifest_path, self._old_text)
            self._saved = False
        if self._placed:
            if self.target.exists():
                shutil.rmtree(self.target)
            if self._backup is not None and self._backup.exists():
                os.replace(self._backup, self.target)
            self._placed = False
        self.catalog.refresh()

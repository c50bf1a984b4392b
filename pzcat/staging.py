"""One staging transaction for every change of a product: add, edit, pipeline runs, submissions.

A change stages the product's new files in a temporary folder next to ``products/<name>/``
(``products/.<name>.<kind>-XXXX``), moves the folder into place (the old one kept aside), writes
the manifest atomically and validates it. If anything fails on the way, everything is put back:
the old folder, the old manifest (or none), and the staged folder is removed. Bad input changes
nothing.

Examples
--------
::

    with Staging(catalog, internal_name) as stage:
        shutil.copy2(source, stage.folder / source.name)
        stage.place()                       # the folder is now products/<internal_name>/
        stage.commit(manifest)              # save + validate; raises (and rolls back) if invalid
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text
from pzcat.manifest import Manifest


class Staging:
    """A product change as a transaction (a context manager; see the module docstring).

    Parameters
    ----------
    catalog : Catalog
    internal_name : str
        The product changed.
    kind : str
        Names the temporary folder (``.<internal_name>.<kind>-XXXX``); stale folders of a kind can
        be found (and removed) with :meth:`stale`.
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

    # -- the transaction ---------------------------------------------------------------------------

    def __enter__(self) -> Staging:
        self.catalog.products_dir.mkdir(parents=True, exist_ok=True)
        self.folder = Path(
            tempfile.mkdtemp(
                dir=self.catalog.products_dir, prefix=f".{self.internal_name}.{self.kind}-"
            )
        )
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
        self, manifest: Manifest, validate: bool = True, message: str = "nothing was changed"
    ) -> Path:
        """Write the manifest (atomically) and validate it; raise its first error if invalid.

        The error is raised inside the ``with`` block, so the whole change is rolled back.
        """
        if not self._saved:
            self._old_text = (
                self.manifest_path.read_text(encoding="utf-8")
                if self.manifest_path.exists()
                else None
            )
        path = self.catalog.save(manifest)
        self._saved = True
        if validate:
            from pzcat.validate import validate_manifest

            report = validate_manifest(self.catalog, path)
            if not report.valid:
                first = report.errors[0]
                raise PzcatError(
                    first.code,
                    f"{first.message}; {message}",
                    file=first.file,
                    column=first.column,
                    rows=first.rows,
                )
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

    @staticmethod
    def stale(catalog: Catalog, internal_name: str, kind: str) -> list[Path]:
        """Temporary folders of earlier changes of ``kind`` (interrupted or killed)."""
        if not catalog.products_dir.is_dir():
            return []
        return sorted(catalog.products_dir.glob(f".{internal_name}.{kind}-*"))

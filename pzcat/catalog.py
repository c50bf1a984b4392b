"""The catalog index: every manifest of the repository, with its configuration.

Examples
--------
>>> from pzcat.catalog import Catalog
>>> cat = Catalog.open(".")                     # doctest: +SKIP
>>> [m.internal_name for m in cat.manifests()]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pzcat.config import CONFIG_FILE, CatalogConfig, load_config
from pzcat.errors import CatalogError, PzcatError
from pzcat.files import atomic_write_text
from pzcat.manifest import FileEntry, Manifest, load_manifest

MANIFEST_DIR = "manifests"
PRODUCTS_DIR = "products"


def find_root(start: Path | None = None) -> Path:
    """The repository root: ``$PZCAT_ROOT``, else the first parent of ``start`` with catalog.yaml."""
    env = os.environ.get("PZCAT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).exists():
            return candidate
    raise CatalogError(
        "catalog-config",
        f"no {CONFIG_FILE} in {here} or its parents: run pzcat "
        "inside a pzcat repository or set PZCAT_ROOT",
        file=CONFIG_FILE,
    )


class Catalog:
    """All products of one repository.

    Parameters
    ----------
    root : Path
        Repository root (holds catalog.yaml, manifests/, products/).
    config : CatalogConfig
        The parsed catalog.yaml.
    """

    def __init__(self, root: Path, config: CatalogConfig) -> None:
        self.root = Path(root).resolve()
        self.config = config

    @classmethod
    def open(cls, root: Path | str | None = None) -> Catalog:
        """Open the catalog at ``root`` (found from the working directory when None)."""
        base = Path(root).resolve() if root is not None else find_root()
        return cls(base, load_config(base))

    # -- paths -------------------------------------------------------------------------------------

    @property
    def manifest_dir(self) -> Path:
        return self.root / MANIFEST_DIR

    @property
    def products_dir(self) -> Path:
        return self.root / PRODUCTS_DIR

    def manifest_path(self, internal_name: str) -> Path:
        """Where the manifest of ``internal_name`` lives."""
        return self.manifest_dir / f"{internal_name}.yaml"

    def product_dir(self, internal_name: str) -> Path:
        """The folder of the product's files."""
        return self.products_dir / internal_name

    def resolve(self, entry: FileEntry) -> Path | None:
        """Absolute path of an in-repository file (None for external urls)."""
        return self.root / entry.path if entry.path else None

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, POSIX style."""
        return Path(path).resolve().relative_to(self.root).as_posix()

    def manifest_paths(self) -> list[Path]:
        """Every ``manifests/*.yaml``, sorted."""
        if not self.manifest_dir.is_dir():
            return []
        return sorted(
            p for p in self.manifest_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()
        )

    # -- products ----------------------------------------------------------------------------------

    def load(self) -> tuple[list[Manifest], list[tuple[Path, PzcatError]]]:
        """Every manifest that parses, and the problems of those that do not."""
        good, bad = [], []
        for path in self.manifest_paths():
            try:
                good.append(load_manifest(path))
            except PzcatError as exc:
                bad.append((path, exc))
        good.sort(key=lambda m: m.id)
        return good, bad

    @cached_property
    def _manifests(self) -> list[Manifest]:
        return self.load()[0]

    def manifests(
        self, include_deprecated: bool = True, include_pending: bool = True
    ) -> list[Manifest]:
        """Every readable manifest, by id."""
        out = self._manifests
        if not include_deprecated:
            out = [m for m in out if m.status != "deprecated"]
        if not include_pending:
            out = [m for m in out if m.status != "pending"]
        return list(out)

    def refresh(self) -> None:
        """Forget cached manifests (after a write)."""
        self.__dict__.pop("_manifests", None)

    def get(self, key: int | str) -> Manifest:
        """A product by id, internal_name or (case-insensitive) name.

        Raises
        ------
        CatalogError
            ``product-not-found``.
        """
        text = str(key).strip()
        for m in self._manifests:
            if text in (str(m.id), m.internal_name) or text.lower() == m.name.lower():
                return m
        raise CatalogError(
            "product-not-found",
            f"no product with id or name {text!r}; `pzcat list` shows them",
            product=text,
        )

    def next_id(self) -> int:
        """The next free id (ids are never reused: deprecated manifests are kept)."""
        ids = [m.id for m in self._manifests]
        for path in self.manifest_paths():
            head = path.stem.split("_", 1)[0]
            if head.isdigit():
                ids.append(int(head))
        return max(ids, default=0) + 1

    def save(self, manifest: Manifest) -> Path:
        """Write a manifest atomically to ``manifests/<internal_name>.yaml``."""
        path = self.manifest_path(manifest.internal_name)
        header = "# yaml-language-server: $schema=../pzcat/schema/manifest.schema.json\n"
        atomic_write_text(path, header + manifest.to_yaml())
        self.refresh()
        return path

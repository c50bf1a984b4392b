"""The catalog configuration, ``catalog.yaml`` at the repository root."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pzcat.errors import CatalogError
from pzcat.safeyaml import load_yaml

CONFIG_FILE = "catalog.yaml"


class ProductType(BaseModel):
    """One product type (the Photo-z Server's categories)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str
    order: int
    description: str = ""


class Release(BaseModel):
    """One LSST data release a product may refer to."""

    model_config = ConfigDict(extra="forbid")
    name: str
    display_name: str
    description: str = ""


class Limits(BaseModel):
    """Storage and preview limits."""

    model_config = ConfigDict(extra="forbid")
    max_file_bytes: int = Field(50 * 1024 * 1024, description="In-repository size limit per file.")
    preview_row_cap: int = Field(1_000_000, description="Rows per product loaded into previews.db.")


class CatalogConfig(BaseModel):
    """The whole of ``catalog.yaml``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    site_url: str
    datasette_url: str
    repository_url: str = ""
    product_types: list[ProductType]
    releases: list[Release]
    admins: list[str] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    previews_require_token: bool = False

    def product_type(self, name: str) -> ProductType | None:
        """Return the product type called ``name`` (case-insensitive on name and display name)."""
        key = name.strip().lower()
        for t in self.product_types:
            if key in (t.name.lower(), t.display_name.lower()):
                return t
        return None

    def release(self, name: str) -> Release | None:
        """Return the release called ``name`` (case-insensitive on name and display name)."""
        key = name.strip().lower()
        for r in self.releases:
            if key in (r.name.lower(), r.display_name.lower()):
                return r
        return None

    def is_admin(self, user: str | None) -> bool:
        """Whether ``user`` (a GitHub user name) is an admin."""
        return bool(user) and user.lower() in {a.lower() for a in self.admins}


def load_config(root: Path) -> CatalogConfig:
    """Read ``catalog.yaml`` under ``root``.

    Raises
    ------
    CatalogError
        ``catalog-config`` when the file is missing, not YAML or not of the schema.
    """
    path = Path(root) / CONFIG_FILE
    try:
        data = load_yaml(path.read_bytes(), str(path), error=CatalogError)
    except FileNotFoundError:
        raise CatalogError("catalog-config", f"{path} not found: is this a pzcat repository?",
                           file=str(path)) from None
    except CatalogError as exc:
        raise CatalogError("catalog-config", f"{exc.message} [{exc.code}]", file=str(path)) from None
    try:
        return CatalogConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise CatalogError("catalog-config", f"{path}: {key}: {first['msg']}", file=str(path),
                           key=key) from None

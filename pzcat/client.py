"""The first notebook API, ``PzCatalog``: deprecated, use ``from pzcat import PzServer``.

:class:`pzcat.PzServer` makes the same calls as LIneA's ``pzserver`` client, with the Photo-z
Server's records and filters, against a server's ``/api/``, a published site or a clone.
``PzCatalog`` keeps working for the notebooks written for it: it reads a local clone or the
published site's static JSON API (``api/``) with the client's own transport
(:mod:`pzcat.pzserver.transport`) and downloads through the token-gated Datasette downloads. Its
records are manifests and its filters its own (exact, case-insensitive matches of manifest fields,
names or display names, a list meaning any of them), as before; constructing one warns
(``DeprecationWarning``).

Examples
--------
>>> from pzcat.client import PzCatalog
>>> pz = PzCatalog("https://lsst-pz.github.io/pzcat/", token="...")   # doctest: +SKIP
>>> pz = PzCatalog(".")                                               # doctest: +SKIP
>>> pz.display_products_list(filters={"release": "DP1", "product_type": "Training Set"})  # doctest: +SKIP
>>> df = pz.get_product("6_dp1_ecdfs_training_set").data                                # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.links import Links
from pzcat.manifest import parse_manifest
from pzcat.pzserver import transport
from pzcat.tables import read_table

DEPRECATION = (
    "pzcat.client.PzCatalog is deprecated: use `from pzcat import PzServer` (the same calls "
    "as LIneA's pzserver client, on a server's /api/, a published site or a clone)"
)

LIST_COLUMNS = [
    "id",
    "internal_name",
    "name",
    "product_type",
    "release",
    "official",
    "uploaded_by",
    "created",
    "version",
    "status",
]


@dataclass
class Product:
    """A product fetched into memory: its metadata and (for tables) its main table."""

    metadata: dict[str, Any]
    data: pd.DataFrame | None

    def display_metadata(self) -> pd.DataFrame:
        """Metadata as a two-column table (shown nicely in a notebook)."""
        flat = {k: v for k, v in self.metadata.items() if not isinstance(v, list | dict)}
        return pd.DataFrame({"key": list(flat), "value": [str(v) for v in flat.values()]})


class PzCatalog:
    """Client of a pzcat catalog (deprecated: :class:`pzcat.PzServer`).

    Parameters
    ----------
    source : str or Path, optional
        The site URL (``https://.../``) or a local repository path. Default: ``$PZCAT_URL``, else
        the repository found from the working directory.
    token : str, optional
        Download token (``pzcat token create``); default ``$PZCAT_TOKEN``.
    """

    def __init__(self, source: str | Path | None = None, token: str | None = None) -> None:
        warnings.warn(DEPRECATION, DeprecationWarning, stacklevel=2)
        source = source or os.environ.get("PZCAT_URL")
        self.token = token or os.environ.get("PZCAT_TOKEN")
        if isinstance(source, str) and source.startswith(("http://", "https://")):
            self.site_url = source if source.endswith("/") else source + "/"
            self.catalog = None
            index = self._get_json("api/index.json")
            # relative to the site's root when the site and the server share an origin
            self.datasette_url = urllib.parse.urljoin(self.site_url, index.get("datasette_url", ""))
        else:
            self.catalog = Catalog.open(source)
            self.site_url = self.catalog.config.site_url
            self.datasette_url = self.catalog.config.datasette_url

    # -- transport ---------------------------------------------------------------------------------

    def _get_json(self, path: str) -> Any:
        url = urllib.parse.urljoin(self.site_url, path)
        return transport.get_json(url, not_found="product-not-found")

    def _download(self, path: str, dest: Path) -> Path:
        url = urllib.parse.urljoin(self.datasette_url, path)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return transport.save(url, dest, headers, hint=" (pass token= or set PZCAT_TOKEN)")

    # -- vocabularies ------------------------------------------------------------------------------

    def get_product_types(self) -> list[dict[str, Any]]:
        """Product types (name, display_name, order, description)."""
        if self.catalog:
            return [t.model_dump() for t in self.catalog.config.product_types]
        return _items(self._get_json("api/product_types.json"))

    def display_product_types(self) -> pd.DataFrame:
        return pd.DataFrame(self.get_product_types())

    def get_releases(self) -> list[dict[str, Any]]:
        """Releases (name, display_name, description)."""
        if self.catalog:
            return [r.model_dump() for r in self.catalog.config.releases]
        return _items(self._get_json("api/releases.json"))

    def display_releases(self) -> pd.DataFrame:
        return pd.DataFrame(self.get_releases())

    # -- products ----------------------------------------------------------------------------------

    def get_products_list(self, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Products, optionally filtered, e.g. ``{"release": "DP1", "product_type": "Training Set"}``.

        Filters match case-insensitively, on names or display names; a value may be a list.
        """
        if self.catalog:
            items = [m.model_dump(mode="json", exclude_none=True) for m in self.catalog.manifests()]
        else:
            items = _items(self._get_json("api/products.json"))
        return [p for p in items if _matches(p, filters or {}, self._aliases())]

    def display_products_list(self, filters: dict[str, Any] | None = None) -> pd.DataFrame:
        rows = self.get_products_list(filters)
        frame = pd.DataFrame(rows)
        return frame[[c for c in LIST_COLUMNS if c in frame.columns]] if len(frame) else frame

    def get_product_metadata(self, key: int | str) -> dict[str, Any]:
        """Full metadata of one product (by id or internal_name)."""
        if self.catalog:
            return self.catalog.get(key).model_dump(mode="json", exclude_none=True)
        name = self._internal_name(key)
        data = self._get_json(f"api/products/{name}.json")
        return data.get("manifest", data) if isinstance(data, dict) else data

    def display_product_metadata(self, key: int | str) -> pd.DataFrame:
        return Product(self.get_product_metadata(key), None).display_metadata()

    def download_product(self, key: int | str, save_in: str | Path = ".") -> Path:
        """Download the product's zip (every file plus product_metadata.yaml) into ``save_in``."""
        meta = self.get_product_metadata(key)
        dest = Path(save_in) / f"{meta['internal_name']}.zip"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self.catalog:
            from pzcat.bundle import CrcCache, write_plan, zip_plan

            plan = zip_plan(self.catalog, parse_manifest(meta, str(key)), CrcCache(None))
            return write_plan(plan, dest)
        return self._download(Links.download_path(meta["internal_name"]), dest)

    def get_product(self, key: int | str) -> Product:
        """Metadata and, for tabular products, the main table as a DataFrame."""
        meta = self.get_product_metadata(key)
        manifest = parse_manifest(meta, str(key))
        main = manifest.main_file
        if main is None or not main.is_table or not main.path:
            return Product(meta, None)
        if self.catalog:
            return Product(meta, read_table(self.catalog.root / main.path, main.format))
        if main.format == "hats":
            raise PzcatError("usage", "HATS products are folders: use download_product() and lsdb")
        with tempfile.TemporaryDirectory() as tmp:
            local = self._download(
                Links.download_path(manifest.internal_name, main.filename),
                Path(tmp) / main.filename,
            )
            return Product(meta, read_table(local, main.format))

    # -- helpers -----------------------------------------------------------------------------------

    def _internal_name(self, key: int | str) -> str:
        text = str(key)
        for p in self.get_products_list():
            if text in (str(p.get("id")), p.get("internal_name")):
                return p["internal_name"]
        raise PzcatError("product-not-found", f"no product with id or name {text!r}")

    def _aliases(self) -> dict[str, dict[str, str]]:
        types = {t["display_name"].lower(): t["name"] for t in self.get_product_types()}
        releases = {r["display_name"].lower(): r["name"] for r in self.get_releases()}
        return {"product_type": types, "release": releases}


def _items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        for key in ("products", "product_types", "releases", "items"):
            if isinstance(data.get(key), list):
                return data[key]
    return list(data)


def _matches(
    product: dict[str, Any], filters: dict[str, Any], aliases: dict[str, dict[str, str]]
) -> bool:
    for key, wanted in filters.items():
        values = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        table = aliases.get(key, {})
        norm = {table.get(str(v).lower(), str(v).lower()).lower() for v in values}
        if str(product.get(key, "")).lower() not in norm:
            return False
    return True

"""A published static site: its ``api/*.json`` (read-only; downloads through the server it names).

The site's JSON API is what ``pzcat build`` writes: ``api/index.json`` (the catalog's name, its
admins and the server's URL, ``datasette_url``, relative when both share an origin), ``api/product_types.json``,
``api/releases.json``, ``api/products.json`` (one summary per product) and
``api/products/<internal_name>.json`` (the manifest). The site serves no data: a download goes to
the server's ``/-/download/`` with the token (``PzServer(token=...)``).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from pzcat.filters import ProductRecords, parse_query
from pzcat.links import Links
from pzcat.pzserver import transport
from pzcat.pzserver.errors import PzServerError
from pzcat.pzserver.sources.clone import CloneSource

#: What a read-only source refuses.
WRITES = (
    "create_product",
    "upload_file",
    "registry",
    "update_content",
    "update_product",
    "delete_product",
    "delete_file",
    "start_process",
)


class SiteSource(CloneSource):
    """A published static site: its ``api/*.json`` (read-only; downloads through its server)."""

    writable = False

    def __init__(self, url: str, token: str | None = None) -> None:
        from pzcat.config import CatalogConfig

        self.url = url if url.endswith("/") else url + "/"
        self.token = token
        self.index = self._json("api/index.json")
        types = self._json("api/product_types.json")["product_types"]
        rels = self._json("api/releases.json")["releases"]
        server = urllib.parse.urljoin(self.url, self.index.get("datasette_url") or "../")
        self.server = server if server.endswith("/") else server + "/"
        config = CatalogConfig(
            name=self.index.get("name", "pzcat"),
            site_url=self.url,
            admins=[str(a) for a in self.index.get("admins") or []],
            datasette_url=self.server,
            product_types=[
                {k: t[k] for k in ("name", "display_name", "order", "description") if k in t}
                for t in types
            ],
            releases=[
                {k: r[k] for k in ("name", "display_name", "description") if k in r} for r in rels
            ],
        )
        self.catalog = _SiteCatalog(config)
        self.user = None
        self.pending = {}
        self._rows: list[dict] | None = None
        self._records: ProductRecords | None = None

    def _json(self, path: str):
        return transport.get_json(
            urllib.parse.urljoin(self.url, path), not_found="product-not-found"
        )

    def _cat(self):
        return self.catalog

    def _summaries(self) -> list[dict]:
        if self._rows is None:
            self._rows = self._json("api/products.json")["products"]
        return self._rows

    def _prepared(self) -> ProductRecords:
        """The site's products as API records, read once (a site changes only when rebuilt)."""
        if self._records is None:
            from pzcat.manifest import Manifest
            from pzcat.records import product_record

            rows = []
            for s in self._summaries():
                m = Manifest(
                    id=s["id"],
                    internal_name=s["internal_name"],
                    name=s["name"],
                    product_type=s["product_type"],
                    release=s.get("release"),
                    official=s.get("official", False),
                    pz_code=s.get("pz_code"),
                    description=s.get("description") or "",
                    uploaded_by=s["uploaded_by"],
                    created=s["created"],
                    updated=s["updated"],
                    version=s.get("version", 1),
                    status=s.get("status", "published"),
                )
                rows.append(product_record(self.catalog.config, m))
            self._records = ProductRecords(rows)
        return self._records

    def products(self, params):
        return self._prepared().select(parse_query(params))

    def _m(self, pid):
        from pzcat.manifest import parse_manifest
        from pzcat.records import product_record

        s = next((s for s in self._summaries() if str(s["id"]) == str(pid)), None)
        if s is None:
            raise PzServerError("product-not-found", f"No Product matches the given query ({pid}).")
        data = self._json(f"api/products/{s['internal_name']}.json")
        m = parse_manifest(data.get("manifest", data), f"api/products/{s['internal_name']}.json")
        return m, product_record(self.catalog.config, m)

    def users(self):
        """Uploaders and admins (``admins`` of ``api/index.json``), as the server's ``users/``.

        A site built before the index published its admins lists the uploaders only.
        """
        from types import SimpleNamespace

        from pzcat.records import user_records

        uploaders = [SimpleNamespace(uploaded_by=s["uploaded_by"]) for s in self._summaries()]
        return user_records(self.catalog.config, uploaders)

    def main_file(self, pid):
        from pzcat.records import main_file_record

        return main_file_record(self._m(pid)[0], None)

    def files(self, pid):
        from pzcat.records import file_records

        m, _ = self._m(pid)
        return file_records(
            m,
            False,
            lambda e: Links.absolute(self.server, Links.download_path(m.internal_name, e.filename)),
        )

    def download(self, pid, dest: Path, main: bool) -> Path:
        """The product's ZIP (or its main file) from the server's ``/-/download/``, with the token."""
        m, _ = self._m(pid)
        if main and m.main_file is not None and m.main_file.format == "hats":
            raise PzServerError(
                "api-read-only-source",
                "a HATS folder is downloaded whole: use download_product() and lsdb",
            )
        if main and (m.main_file is None or not m.main_file.path):
            raise PzServerError("download-not-found", f"{m.internal_name} has no main file here")
        path = Links.download_path(m.internal_name, m.main_file.filename if main else None)
        target = Path(dest) / (m.main_file.filename if main else f"{m.internal_name}.zip")
        return transport.save(
            self.server + path,
            target,
            {"Authorization": f"Bearer {self.token}"} if self.token else {},
            hint=" (downloads need a token: PzServer(token=...))",
        )


def _refuse(self, *args, **kwargs):
    raise PzServerError(
        "api-read-only-source",
        "a published site is read-only: use the server's /api/ or a clone to change products",
    )


for _name in WRITES:  # the clone's writes, refused (a site has no repository to write to)
    setattr(SiteSource, _name, _refuse)


class _SiteCatalog:
    """What the records need of a catalog, for a site (its configuration; no files)."""

    def __init__(self, config) -> None:
        self.config = config
        self.root = None

    def manifests(self):
        return []

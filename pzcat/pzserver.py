"""``from pzcat import PzServer``: LIneA's ``pzserver`` client, for a pzcat catalog.

The same names, signatures and return shapes as ``pzserver.PzServer`` 0.3.7 (records as the
Photo-z Server API writes them, :mod:`pzcat.records`), against three kinds of source:

- a pzcat server's API: ``PzServer(token, host="http://127.0.0.1:8001/api/")`` (everything: reads,
  downloads, uploads and edits as submissions, Combine Redshift Catalogs runs);
- a published static site: ``PzServer(host="https://lsst-pz.github.io/pzcat/")`` (browsing and
  metadata from its ``api/*.json``; downloads through the server the site names, with a token);
- a local clone: ``PzServer(host=".")`` (everything, writes straight through :mod:`pzcat.products`
  and :mod:`pzcat.runs`, as the ``pzcat`` commands do).

Unlike the original client, lists are complete (every page is read), filters are checked by the one
implementation of :mod:`pzcat.filters` in every mode, ``get_product`` reads with pzcat's readers
(any pandas) and returns an :class:`astropy.table.Table`, and ``display_*`` print readable text
outside Jupyter.

Examples
--------
>>> from pzcat import PzServer
>>> pz = PzServer(host=".")                                  # doctest: +SKIP
>>> pz.display_products_list(filters={"release": "DP1"})     # doctest: +SKIP
>>> table = pz.get_product(6)                                # doctest: +SKIP
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from pzcat.errors import PzcatError
from pzcat.files import atomic_open
from pzcat.filters import apply_query, client_filters, parse_query
from pzcat.links import Links

MAX_IN_MEMORY_PRODUCT_SIZE_BYTES = 200 * 1024**2
ENVIRONMENTS = {
    "localhost": "http://localhost/api/",
    "pz-dev": "https://pzserver-dev.linea.org.br/api/",
    "pz": "https://pzserver.linea.org.br/api/",
}
FORMATS = {
    ".csv": "csv",
    ".fits": "fits",
    ".fit": "fits",
    ".hdf5": "hdf5",
    ".h5": "hdf5",
    ".parquet": "parquet",
    ".pq": "parquet",
}


class PzServerError(PzcatError):
    """A request the source refused (``http-error``) or cannot do (``api-read-only-source``)."""


# =====================================================================================================
# Display
# =====================================================================================================


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def display_table(frame: pd.DataFrame) -> None:
    """A table: styled in Jupyter, plain text elsewhere."""
    if _in_jupyter():
        from IPython.display import display

        display(frame.style.hide(axis="index"))
    else:
        with pd.option_context("display.max_colwidth", 60, "display.width", 160):
            print(frame.to_string(index=False) if len(frame) else "(no rows)")


# =====================================================================================================
# Sources
# =====================================================================================================


class ApiSource:
    """A pzcat server's ``/api/`` (or any Photo-z Server), over HTTP with ``Authorization: Token``."""

    writable = True

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.token = token

    # -- transport ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        data: Any = None,
        form: dict | None = None,
        files: dict[str, Path] | None = None,
        raw: bool = False,
    ):
        url = (
            path
            if path.startswith(("http://", "https://"))
            else urllib.parse.urljoin(self.base, path)
        )
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        body = None
        if files:
            body, ctype = _multipart(form or {}, files)
            headers["Content-Type"] = ctype
        elif form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None or method == "POST":
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            resp = urllib.request.urlopen(req, timeout=600)
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", errors="replace")
            try:
                code = json.loads(text).get("code") or "http-error"
            except (ValueError, AttributeError):
                code = "http-error"
            raise PzServerError(
                code, f"{method} {url}: HTTP {exc.code}: {text[:500]}", status=exc.code
            ) from None
        except urllib.error.URLError as exc:
            raise PzServerError("http-error", f"{method} {url}: {exc.reason}") from None
        if raw:
            return resp
        with resp:
            payload = resp.read()
        return json.loads(payload) if payload and resp.status != 204 else None

    def get(self, path: str, params: dict | None = None):
        if params:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(params)
        return self.request("GET", path)

    def all(self, entity: str, params: dict | None = None) -> list[dict]:
        out, page = [], 1
        while True:
            body = self.get(f"{entity}/", {**(params or {}), "page": page, "page_size": 1000})
            out += body["results"]
            if len(out) >= body["count"] or not body["results"]:
                return out
            page += 1

    def check(self) -> None:
        self.get("")

    # -- reads -------------------------------------------------------------------------------------

    def product_types(self):
        return self.all("product-types", {"ordering": "order"})

    def releases(self):
        return self.all("releases")

    def users(self):
        return self.all("users")

    def products(self, params):
        return self.all("products", params)

    def product(self, pid):
        return self.get(f"products/{pid}/")

    def main_file(self, pid):
        return self.get(f"products/{pid}/main_file_info/").get("main_file")

    def files(self, pid):
        return self.all("product-files", {"product_id": pid})

    def contents(self, pid):
        return self.all("product-contents", {"product": pid})

    def pipeline(self, name):
        found = self.all("pipelines", {"name": name})
        return found[0] if found else None

    def product_type(self, tid):
        return self.get(f"product-types/{tid}/")

    def release_by_name(self, name):
        found = self.all("releases", {"name": name})
        return found[0] if found else None

    # -- downloads ---------------------------------------------------------------------------------

    def download(self, pid, dest: Path, main: bool) -> Path:
        kind = "main-file/" if main else ""
        archive = self.request("POST", f"products/{pid}/download/{kind}prepare/")
        deadline = time.monotonic() + 1800
        while archive.get("status") in ("pending", "running") and time.monotonic() < deadline:
            time.sleep(2)
            archive = self.get(f"products/{pid}/download/{kind}status/")
        if archive.get("status") != "ready" or not archive.get("download_url"):
            raise PzServerError(
                "http-error", archive.get("error_message") or "the download is not ready"
            )
        target = Path(dest) / archive["filename"]
        resp = self.request("GET", archive["download_url"], raw=True)
        with resp, atomic_open(target) as out:
            shutil.copyfileobj(resp, out, 1 << 20)
        return target

    # -- writes ------------------------------------------------------------------------------------

    def create_product(self, fields):
        return self.request("POST", "products/", data=fields)

    def upload_file(self, pid, path, role):
        roles = {"main": 0, "description": 1, "auxiliary": 2}
        return self.request(
            "POST",
            "product-files/",
            form={"product": pid, "role": roles[role]},
            files={"file": Path(path)},
        )

    def registry(self, pid):
        return self.get(f"products/{pid}/registry/")

    def update_content(self, cid, alias, ucd):
        return self.request(
            "PATCH", f"product-contents/{cid}/", form={"alias": alias, "ucd": ucd or ""}
        )

    def update_product(self, pid, fields):
        return self.request("PATCH", f"products/{pid}/", form=fields)

    def delete_product(self, pid):
        return self.request("DELETE", f"products/{pid}/")

    def delete_file(self, fid):
        return self.request("DELETE", f"product-files/{fid}/")

    def start_process(self, data, flags: Path | None):
        if flags:
            form = {**data, "used_config": json.dumps(data["used_config"])}
            return self.request(
                "POST", "processes/", form=form, files={"flags_translation_file": flags}
            )
        return self.request(
            "POST", "processes/", data={**data, "used_config": json.dumps(data["used_config"])}
        )

    def process(self, pid):
        return self.get(f"processes/{pid}/")

    def stop_process(self, pid):
        return self.get(f"processes/{pid}/stop/")


def _multipart(fields: dict, files: dict[str, Path]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        for v in value if isinstance(value, list | tuple) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{v}\r\n'.encode()
            )
    for key, path in files.items():
        path = Path(path)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
            f'filename="{path.name}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + path.read_bytes()
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class CloneSource:
    """A local clone: records built by :mod:`pzcat.records`; writes through the library."""

    writable = True

    def __init__(self, root: Path | str, user: str | None = None) -> None:
        from pzcat.catalog import Catalog

        self.catalog = Catalog.open(root)
        self.user = user or _default_user()
        self.pending: dict[int, dict] = {}

    def check(self) -> None:
        return None

    def _cat(self):
        self.catalog.refresh()
        return self.catalog

    def _m(self, pid):
        from pzcat.records import product_record

        try:
            m = self._cat().get(int(pid))
        except (PzcatError, ValueError):
            raise PzServerError(
                "product-not-found", f"No Product matches the given query ({pid})."
            ) from None
        return m, product_record(self.catalog.config, m, self.user)

    def product_types(self):
        from pzcat.records import product_type_records

        return sorted(product_type_records(self._cat().config), key=lambda t: t["order"])

    def releases(self):
        from pzcat.records import release_records

        return release_records(self._cat().config)

    def users(self):
        from pzcat.records import user_records

        return user_records(self._cat().config, self.catalog.manifests())

    def products(self, params):
        from pzcat.records import product_record

        cat = self._cat()
        rows = [product_record(cat.config, m, self.user) for m in cat.manifests()]
        return apply_query(rows, parse_query(params))

    def product(self, pid):
        if int(pid) in self.pending:
            return self.pending[int(pid)]["record"]
        return self._m(pid)[1]

    def main_file(self, pid):
        from pzcat.records import main_file_record

        return main_file_record(self._m(pid)[0], self.catalog.root)

    def files(self, pid):
        from pzcat.records import can_change, file_records

        m, _ = self._m(pid)
        return file_records(
            m, can_change(self.catalog.config, m, self.user), root=self.catalog.root
        )

    def contents(self, pid):
        from pzcat.records import content_records

        if int(pid) in self.pending:
            return self.pending[int(pid)]["contents"]
        return content_records(self._m(pid)[0])

    def pipeline(self, name):
        from pzcat.records import pipeline_records

        return next((p for p in pipeline_records(self._cat().config) if p["name"] == name), None)

    def product_type(self, tid):
        return next(t for t in self.product_types() if str(t["id"]) == str(tid))

    def release_by_name(self, name):
        return next((r for r in self.releases() if r["name"] == name), None)

    def download(self, pid, dest: Path, main: bool) -> Path:
        from pzcat.bundle import (
            CrcCache,
            file_plan,
            folder_zip_plan,
            manifest_rel,
            write_plan,
            zip_plan,
        )

        m, _ = self._m(pid)
        if not main:
            plan = zip_plan(self.catalog, m, CrcCache(None), prefix="")
        else:
            rel = manifest_rel(m, m.main_file.path) if m.main_file else None
            if rel is None:
                raise PzServerError(
                    "download-not-found", f"{m.internal_name} has no main file here"
                )
            plan = (
                folder_zip_plan(self.catalog, m, rel, CrcCache(None))
                if m.main_file.format == "hats"
                else file_plan(self.catalog, m, rel)
            )
        return write_plan(plan, Path(dest) / plan.filename)

    # -- writes (the library, as `pzcat add/edit/attach/detach/deprecate`) -----------------------

    def create_product(self, fields):
        cfg = self._cat().config
        ptype = cfg.product_types[int(fields["product_type"]) - 1].name
        release = cfg.releases[int(fields["release"]) - 1].name if fields.get("release") else None
        pid = max([self.catalog.next_id(), *[p + 1 for p in self.pending]])
        record = {
            "id": pid,
            "display_name": fields["display_name"],
            "status": 0,
            "product_status": "Registering",
            "is_owner": True,
            "internal_name": None,
        }
        self.pending[pid] = {
            "fields": {**fields, "product_type": ptype, "release": release},
            "files": [],
            "record": record,
            "contents": [],
            "roles": {},
        }
        return record

    def upload_file(self, pid, path, role):
        if int(pid) in self.pending:
            self.pending[int(pid)]["files"].append((role, Path(path)))
            return {"id": len(self.pending[int(pid)]["files"]), "name": Path(path).name}
        from pzcat.products import attach_file

        m, _ = self._m(pid)
        attach_file(self.catalog, m.internal_name, file=Path(path), role=role)
        return next(f for f in self.files(pid) if f["name"] == Path(path).name)

    def registry(self, pid):
        from pzcat.products import describe_file, suggest_columns
        from pzcat.records import role_alias

        sub = self.pending[int(pid)]
        main = next(p for r, p in sub["files"] if r == "main")
        entry = describe_file(main, f"products/x/{main.name}", "main")
        cols = entry.columns or []
        sub["roles"] = {c: r for r, c in suggest_columns(cols).items()}
        sub["contents"] = [
            {
                "id": i,
                "product": int(pid),
                "column_name": c.name,
                "ucd": None,
                "order": i - 1,
                "alias": role_alias(sub["roles"][c.name]) if c.name in sub["roles"] else None,
            }
            for i, c in enumerate(cols, 1)
        ]
        return {}

    def update_content(self, cid, alias, ucd):
        from pzcat.records import ALIAS_ROLES

        for sub in self.pending.values():
            for c in sub["contents"]:
                if c["id"] == cid:
                    role = ALIAS_ROLES.get(alias.lower(), alias) if alias else None
                    sub["roles"] = {
                        k: v for k, v in sub["roles"].items() if k != c["column_name"] and v != role
                    }
                    if role:
                        sub["roles"][c["column_name"]] = role
                    c["alias"] = alias or None
                    return c
        raise PzServerError("api-not-found", f"no column {cid} in a pending upload")

    def update_product(self, pid, fields):
        from pzcat.products import add_product, edit_product

        if int(pid) in self.pending:
            sub = self.pending[int(pid)]
            if "description" in fields:
                sub["fields"]["description"] = fields["description"]
            if str(fields.get("status")) == "1":
                f = sub["fields"]
                files = sub["files"]
                add_product(
                    self.catalog,
                    name=f["display_name"],
                    product_type=f["product_type"],
                    uploaded_by=self.user,
                    main_file=next(p for r, p in files if r == "main"),
                    release=f.get("release"),
                    description=f.get("description") or "",
                    description_file=next((p for r, p in files if r == "description"), None),
                    aux_files=[p for r, p in files if r == "auxiliary"],
                    columns=[f"{r}={c}" for c, r in sub["roles"].items()],
                    pz_code=f.get("pz_code"),
                    product_id=int(pid),
                )
                del self.pending[int(pid)]
            return None
        m, _ = self._m(pid)
        edit_product(
            self.catalog, m.internal_name, author=self.user, description=fields.get("description")
        )
        return None

    def delete_product(self, pid):
        from pzcat.products import deprecate_product

        self.pending.pop(int(pid), None)
        m, _ = self._m(pid)
        deprecate_product(self.catalog, m.internal_name, f"deleted by {self.user}")

    def delete_file(self, fid):
        from pzcat.ids import product_of_file
        from pzcat.products import detach_file
        from pzcat.records import file_by_id

        m, _ = self._m(product_of_file(int(fid)))
        entry = file_by_id(m, int(fid))
        detach_file(self.catalog, m.internal_name, entry.filename)

    def start_process(self, data, flags: Path | None):
        from pzcat.runs import create_run, run_pending

        if str(data["pipeline"]) != "1":
            raise PzServerError(
                "api-pipeline-unavailable",
                "The pipeline training_set_maker is not "
                "available here: pzcat runs Combine Redshift Catalogs only.",
            )
        param = data["used_config"].get("param", {})
        types = {
            "concatenate": "no",
            "concatenate_and_mark_duplicates": "mark",
            "concatenate_and_remove_duplicates": "remove",
        }
        config: dict[str, Any] = {
            "duplicates": types[param.get("combine_type", "concatenate_and_mark_duplicates")]
        }
        if param.get("z_flag_homogenized_value_to_cut") not in (None, ""):
            config["cut"] = int(float(param["z_flag_homogenized_value_to_cut"]))
        if flags:
            config["flags_file"] = str(Path(flags).resolve())
        names = [self._m(i)[0].internal_name for i in data["inputs"]]
        m = create_run(
            self.catalog,
            "combine_redshift_catalogs",
            name=data["display_name"],
            inputs=names,
            uploaded_by=self.user,
            fmt=data["used_config"].get("output_format"),
            config=config,
        )
        self.catalog.refresh()
        try:
            run_pending(self.catalog, m.internal_name)
            status = "Successful"
        except PzcatError:
            status = "Failed"
        self.runs = {**getattr(self, "runs", {}), m.id: status}
        return {"id": m.id, "upload": m.id, "status": status}

    def process(self, pid):
        return {"id": int(pid), "status": getattr(self, "runs", {}).get(int(pid), "Successful")}

    def stop_process(self, pid):
        return self.process(pid)


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

    def _json(self, path: str):
        url = urllib.parse.urljoin(self.url, path)
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            raise PzServerError(
                "product-not-found" if exc.code == 404 else "http-error",
                f"GET {url}: HTTP {exc.code}",
            ) from None
        except urllib.error.URLError as exc:
            raise PzServerError("http-error", f"GET {url}: {exc.reason}") from None

    def _cat(self):
        return self.catalog

    def _summaries(self) -> list[dict]:
        if not hasattr(self, "_rows"):
            self._rows = self._json("api/products.json")["products"]
        return self._rows

    def products(self, params):
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
        return apply_query(rows, parse_query(params))

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
        from pzcat.records import user_records

        names = {s["uploaded_by"] for s in self._summaries()}
        return [u for u in user_records(self.catalog.config, []) if u] + [
            r
            for r in user_records(
                self.catalog.config.model_copy(update={"admins": sorted(names)}), []
            )
        ]

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
        m, _ = self._m(pid)
        if main and m.main_file is not None and m.main_file.format == "hats":
            raise PzServerError(
                "api-read-only-source",
                "a HATS folder is downloaded whole: use download_product() and lsdb",
            )
        path = Links.download_path(m.internal_name, m.main_file.filename if main else None)
        req = urllib.request.Request(
            self.server + path,
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        target = Path(dest) / (m.main_file.filename if main else f"{m.internal_name}.zip")
        try:
            with urllib.request.urlopen(req, timeout=600) as resp, atomic_open(target) as out:
                shutil.copyfileobj(resp, out, 1 << 20)
        except urllib.error.HTTPError as exc:
            raise PzServerError(
                "http-error",
                f"GET {self.server}{path}: HTTP {exc.code} (downloads "
                "need a token: PzServer(token=...))",
            ) from None
        return target

    def __getattr__(self, name):
        if name in (
            "create_product",
            "upload_file",
            "registry",
            "update_content",
            "update_product",
            "delete_product",
            "delete_file",
            "start_process",
        ):

            def refuse(*args, **kwargs):
                raise PzServerError(
                    "api-read-only-source",
                    "a published site is read-only: use the "
                    "server's /api/ or a clone to change products",
                )

            return refuse
        raise AttributeError(name)


class _SiteCatalog:
    def __init__(self, config) -> None:
        self.config = config
        self.root = None

    def manifests(self):
        return []


def _default_user() -> str:
    import getpass

    try:
        from pzcat.clitools import default_user

        return default_user() or getpass.getuser()
    except (ImportError, PzcatError):
        return getpass.getuser()


def open_source(host: str | Path, token: str | None):
    """The source for ``host``: an ``/api/`` URL, a site URL or a local path."""
    text = str(host)
    text = ENVIRONMENTS.get(text, text)
    if text.startswith(("http://", "https://")):
        if urllib.parse.urlsplit(text).path.rstrip("/").endswith("/api"):
            return ApiSource(text, token)
        return SiteSource(text, token)
    return CloneSource(Path(text))


# =====================================================================================================
# Objects of the client
# =====================================================================================================


class Catalog:
    """A table product with its metadata (``pzserver.catalog.Catalog``)."""

    def __init__(self, data=None, metadata=None, metadata_df=None) -> None:
        self.data = data
        self.metadata = metadata
        self.metadata_df = metadata_df
        self.columns = (metadata or {}).get("main_file", {}).get("columns_association") or []

    def display_metadata(self) -> None:
        display_table(self.metadata_df)

    def _column(self, ucd: str) -> str | None:
        return next((c["column_name"] for c in self.columns if c.get("ucd") == ucd), None)


class SpeczCatalog(Catalog):
    """A reference redshift catalog; :meth:`plot` shows the sky and n(z)."""

    def plot(self, savefig: bool = False):
        import matplotlib.pyplot as plt

        ra, dec, z = (
            self._column(u) for u in ("pos.eq.ra;meta.main", "pos.eq.dec;meta.main", "src.redshift")
        )
        if None in (ra, dec, z):
            print(f"Error: Values unknown\nRA: {ra}, Dec: {dec}, Redshift: {z}")
            return None
        plt.figure(figsize=[8, 3])
        plt.subplot(121)
        plt.scatter(self.data[ra], self.data[dec], s=2)
        plt.xlabel(f"{ra} (deg)")
        plt.ylabel(f"{dec} (deg)")
        plt.subplot(122)
        plt.hist(self.data[z], bins=30)
        plt.xlabel(z)
        plt.ylabel("counts")
        plt.tight_layout()
        if savefig:
            plt.savefig("specz_catalog.png")
            return "specz_catalog.png"
        return None


class TrainingSet(Catalog):
    """A training set; :meth:`plot` shows n(z) (and a magnitude when given)."""

    def plot(self, mag_name: str | None = None, savefig: bool = False):
        import matplotlib.pyplot as plt

        z = self._column("src.redshift")
        if z is None:
            print("Error: Redshift unknown")
            return None
        if mag_name is None:
            plt.hist(self.data[z], bins=30)
            plt.xlabel(z)
        else:
            plt.figure(figsize=[12, 4])
            plt.subplot(131)
            plt.hist(self.data[mag_name], bins=30)
            plt.xlabel(mag_name)
            plt.subplot(132)
            plt.hist(self.data[z], bins=30)
            plt.xlabel(z)
            plt.subplot(133)
            plt.plot(self.data[z], self.data[mag_name], ".")
            plt.xlabel(z)
            plt.ylabel(mag_name)
        plt.tight_layout()
        if savefig:
            plt.savefig("train_set.png")
            return "train_set.png"
        return None


class PzProduct:
    """One product with its files (``pzserver.product.PzProduct``)."""

    def __init__(self, product_id, api: PzServer) -> None:
        self._pz = api
        try:
            self._attributes = api._product_by_key(product_id)
        except PzcatError as exc:
            raise ValueError(
                "product not found.\nPlease find the list of products available with "
                "display_products_list() or get_products_list()"
            ) from exc
        self.main_file, self._files = self._get_files()

    @property
    def product_id(self):
        return self._attributes.get("id")

    @property
    def attributes(self):
        return self._attributes

    def _get_files(self):
        files = self._pz.source.files(self.product_id)
        main = next((f for f in files if f.get("role_name") == "Main"), {})
        return dict(main), [f for f in files if f.get("role_name") != "Main"]

    def _owner(self) -> None:
        if not self._attributes.get("is_owner", False):
            raise ValueError("You are not the owner of this product")

    def get_main_file_info(self):
        return self._pz._main_file_info(self.product_id)

    def attach_auxiliary_file(self, filepath):
        return self._attach(filepath, "auxiliary")

    def attach_description_file(self, filepath):
        return self._attach(filepath, "description")

    def _attach(self, filepath, role):
        self._owner()
        data = self._pz.source.upload_file(self.product_id, filepath, role)
        self.main_file, self._files = self._get_files()
        return data

    def get_auxiliary_files(self):
        return [f for f in self._files if f.get("role_name") == "Auxiliary"]

    def get_description_files(self):
        return [f for f in self._files if f.get("role_name") == "Description"]

    def remove_file(self, file_id):
        self._owner()
        if file_id == self.main_file.get("id"):
            raise ValueError("Cannot remove main file")
        for f in list(self._files):
            if f.get("id") == file_id and f.get("can_delete", False):
                self._pz.source.delete_file(file_id)
                self._files.remove(f)
                break

    def update_description(self, description):
        self._owner()
        self._pz.source.update_product(self.product_id, {"description": description})
        self._attributes["description"] = description


class RequiredColumnsException(Exception):
    """The association misses a column the product type needs (``pzserver.upload``)."""


SYSTEM_COLUMNS = {
    "id": ("ID", "meta.id;meta.main"),
    "ra": ("RA", "pos.eq.ra;meta.main"),
    "dec": ("Dec", "pos.eq.dec;meta.main"),
    "z": ("z", "src.redshift"),
    "z_err": ("z_err", "stat.error;src.redshift"),
    "z_flag": ("z_flag", "stat.rank"),
    "survey": ("survey", "meta.curation"),
}


class PzUpload:
    """An upload in progress (``pzserver.upload.PzUpload``)."""

    def __init__(self, upload: dict, api: PzServer) -> None:
        self.api = api
        self.upload = upload
        src = api.source
        types = {t["name"]: t["id"] for t in src.product_types()}
        if upload["product_type"] not in types:
            raise ValueError(f"Product type not found: {upload['product_type']}")
        release = None
        if upload.get("release"):
            rel = src.release_by_name(upload["release"])
            if not rel:
                raise ValueError(f"Release not found: {upload['release']}")
            release = rel["id"]
        data = src.create_product(
            {
                "display_name": upload["name"],
                "product_type": types[upload["product_type"]],
                "release": release,
                "official_product": False,
                "pz_code": upload.get("pz_code"),
                "description": upload.get("description"),
                "status": 0,
            }
        )
        self.product_id = data.get("id")
        self.files_id = [src.upload_file(self.product_id, upload["main_file"], "main").get("id")]
        for aux in upload.get("auxiliary_files") or []:
            self.files_id.append(src.upload_file(self.product_id, aux, "auxiliary").get("id"))
        src.registry(self.product_id)
        self._columns = {c["column_name"]: c["id"] for c in src.contents(self.product_id)}
        self._association: list[dict] = []

    @property
    def columns(self):
        return self._columns.keys() if self._columns else None

    @property
    def system_columns(self):
        return SYSTEM_COLUMNS

    def make_columns_association(self, data: dict) -> None:
        for column, alias in data.items():
            name, ucd = SYSTEM_COLUMNS.get(alias.lower(), (alias, None))
            self._association.append(
                self.api.source.update_content(self._columns.get(column), name, ucd)
            )

    def reset_columns_association(self) -> None:
        for c in list(self._association):
            self.api.source.update_content(c.get("id"), "", "")
            self._association.remove(c)

    def check_required_columns(self) -> dict:
        needed = {"redshift_catalog": ["Dec", "RA", "z"], "training_set": ["z"]}.get(
            self.upload["product_type"], []
        )
        have = {c.get("alias") for c in self._association}
        missing = [c for c in needed if c not in have]
        if missing:
            return {"success": False, "message": f"Required columns NOT filled: {missing}"}
        return {"success": True, "message": "All required columns filled"}

    def save(self) -> None:
        check = self.check_required_columns()
        if not check["success"]:
            raise RequiredColumnsException(check["message"])
        self.api.source.update_product(self.product_id, {"status": 1})

    def __str__(self) -> str:
        return self.upload["name"]


class Pipeline:
    """A pipeline of the server (``pzserver.pipeline.Pipeline``)."""

    def __init__(self, name: str, api: PzServer) -> None:
        data = api.source.pipeline(name)
        if data is None:
            raise ValueError(f"pipeline {name} is not available on this server")
        self._data = dict(data, name=name)
        self.acceptable_product_types = tuple(
            api.source.product_type(t) for t in data.get("product_types_accepted", [])
        )
        self.output_product_type = api.source.product_type(data.get("output_product_type"))

    pipeline_id = property(lambda self: self._data.get("id"))
    name = property(lambda self: self._data.get("name"))
    display_name = property(lambda self: self._data.get("display_name"))
    system_config = property(lambda self: self._data.get("system_config", {}))
    parameters = property(lambda self: self.system_config.get("param", {}))
    version = property(lambda self: self._data.get("version"))
    description = property(lambda self: self._data.get("description"))


class Process:
    """A pipeline run (``pzserver.process.Process``)."""

    def __init__(self, pipeline: str, name: str, api: PzServer) -> None:
        self._pz = api
        self.name = name
        self.comment = None
        self.pipeline = Pipeline(pipeline, api)
        self._config = dict(self.pipeline.parameters)
        self._process_config: dict = {}
        self._inputs: list[int] = []
        self._process: dict | None = None
        self._upload: dict | None = None

    def available_product_types(self):
        return [t.get("name") for t in self.pipeline.acceptable_product_types]

    def available_product_types_id(self):
        return [t.get("id") for t in self.pipeline.acceptable_product_types]

    @property
    def output(self):
        if not self._upload:
            return None
        return {k: self._upload.get(k) for k in ("id", "display_name", "internal_name")}

    @property
    def process(self):
        if not self._process:
            return None
        return {"output": self.output, "id": self._process.get("id"), "status": self.check_status()}

    @property
    def inputs(self):
        return self._inputs

    def append_input(self, input_id):
        self._inputs.append(input_id)

    def empty_input(self):
        self._inputs = []

    @property
    def config(self):
        return self._config

    @property
    def process_config(self):
        return self._process_config

    @property
    def used_config(self):
        return {"param": self.config, **self.process_config}

    def set_config(self, config: dict) -> None:
        for key, value in config.items():
            (self._process_config if key == "output_format" else self._config)[key] = value

    def get_product(self, product_id=None, internal_name=None):
        if product_id:
            product = self._pz.source.product(product_id)
        elif internal_name:
            found = self._pz.source.products({"internal_name": internal_name})
            product = found[0]
        else:
            raise ValueError("No product selected")
        if product.get("product_type") not in self.available_product_types_id():
            raise ValueError("Input is not of the expected type.")
        return product

    def summary(self, extra_info=None) -> None:
        print("-" * 30)
        print(f"{self.pipeline.display_name}: {self.name}")
        print(f"Configuration: {self.config}")
        if self.process_config:
            print(f"Process options: {self.process_config}")
        for line in extra_info or []:
            print(line)
        if self.output:
            print(f"Output: {self.output}")
        print(f"Status: {self.check_status()}")
        print("-" * 30)

    def _flags(self):
        return None

    def run(self):
        if self._process:
            print(f"Process has already been initialized: {self.process}")
            return {}
        data = {
            "display_name": self.name,
            "used_config": self.used_config,
            "pipeline": self.pipeline.pipeline_id,
            "inputs": self.inputs,
        }
        return self.submit(data)

    def submit(self, data, files=None):
        process = self._pz.source.start_process(data, self._flags())
        data["id"] = process.get("id")
        self._process = data
        self._upload = self._pz.source.product(process.get("upload"))
        return self.process

    def check_status(self):
        if not self._process:
            return "The process has not been started"
        return f"{self._pz.source.process(self._process.get('id')).get('status')}"

    def stop(self):
        if not self._process:
            return "No process is running"
        return self._pz.source.stop_process(self._process.get("id"))


class CRCProcess(Process):
    """Combine Redshift Catalogs (``pzserver.process.CRCProcess``)."""

    def __init__(self, name: str, api: PzServer) -> None:
        super().__init__("combine_redshift_dedup", name, api)
        self._default_flags = self.config.get("flags_translation_file")
        self._catalogs: list[dict] = []

    @property
    def input_catalogs(self):
        return self._catalogs

    def append_catalog(self, _id=None, internal_name=None):
        product = self.get_product(product_id=_id, internal_name=internal_name)
        if product.get("id") not in self.inputs:
            self._catalogs.append(
                {
                    "name": product.get("display_name"),
                    "internal_name": product.get("internal_name"),
                    "id": product.get("id"),
                }
            )
            self.append_input(product.get("id"))

    def set_flags_translation(self, flags_translation):
        self.set_config({"flags_translation_file": flags_translation})

    def _flags(self):
        value = self.config.get("flags_translation_file")
        return Path(value) if value and value != self._default_flags else None

    def summary(self, extra_info=None) -> None:
        extra = list(extra_info or [])
        if self.input_catalogs:
            extra.append(f"Input catalogs: {self.input_catalogs}")
        super().summary(extra_info=extra)


class TSMProcess(Process):
    """Training Set Maker (``pzserver.process.TSMProcess``); not available on pzcat servers."""

    def __init__(self, name: str, api: PzServer) -> None:
        super().__init__("training_set_maker", name, api)
        self._release = None
        self._redshift = None

    @property
    def release(self):
        return self._release

    def set_release(self, name=None, release_id=None):
        if release_id:
            self._release = next(r for r in self._pz.get_releases() if r["id"] == release_id)
        elif name:
            self._release = self._pz.source.release_by_name(name)
        else:
            raise ValueError("No release selected")

    @property
    def redshift(self):
        return self._redshift

    def set_redshift(self, _id=None, internal_name=None):
        self._redshift = self.get_product(product_id=_id, internal_name=internal_name)
        self.empty_input()
        self.append_input(self._redshift.get("id"))

    def run(self):
        if self._process:
            return {}
        return self.submit(
            {
                "pipeline": self.pipeline.pipeline_id,
                "used_config": self.used_config,
                "display_name": self.name,
                "release": (self.release or {}).get("id"),
                "inputs": self.inputs,
            }
        )


# =====================================================================================================
# The client
# =====================================================================================================


class PzServer:
    """The Photo-z Server client for a pzcat catalog (same calls as ``pzserver.PzServer``).

    Parameters
    ----------
    token : str, optional
        A pzcat token (``pzcat token create USER``); needed for a server's ``/api/`` and for the
        site's downloads, not for a clone.
    host : str or Path
        ``http(s)://.../api/`` (a server), ``http(s)://.../`` (a published site) or a local path
        (a clone); ``pz``, ``pz-dev``, ``localhost`` as the original. Default: the clone found from
        the working directory.
    """

    def __init__(self, token: str | None = None, host: str | Path | None = None) -> None:
        host = "." if host is None else host
        if str(ENVIRONMENTS.get(str(host), host)).rstrip("/").endswith("/api") and token is None:
            raise ValueError("Please provide a valid token.")
        self.source = open_source(host, token)
        self.source.check()

    # -- vocabularies --------------------------------------------------------------------------------

    def get_product_types(self) -> list:
        return self.source.product_types()

    def display_product_types(self):
        frame = pd.DataFrame(
            self.get_product_types(), columns=["display_name", "name", "description"]
        )
        display_table(
            frame.rename(
                columns={
                    "display_name": "Product Type",
                    "name": "product_type",
                    "description": "Description",
                }
            )
        )

    def get_users(self) -> list:
        return self.source.users()

    def display_users(self):
        frame = pd.DataFrame(self.get_users(), columns=["username", "last_name"])
        display_table(frame.rename(columns={"username": "GitHub Username", "last_name": "Name"}))

    def get_releases(self) -> list:
        return self.source.releases()

    def display_releases(self):
        frame = pd.DataFrame(self.get_releases(), columns=["name", "display_name", "description"])
        display_table(
            frame.rename(
                columns={"name": "Name", "display_name": "Release", "description": "Description"}
            )
        )

    # -- products ------------------------------------------------------------------------------------

    def get_products_list(self, filters=None) -> list:
        """Published products matching ``filters`` (substrings, lists AND-ed; see pzcat.filters).

        Raises
        ------
        ValueError
            For an unknown filter key (as the original client).
        """
        try:
            params = client_filters(filters)
        except PzcatError as exc:
            raise ValueError(exc.message) from None
        return self.source.products({"status": "1", **params})

    def display_products_list(self, filters=None):
        frame = pd.DataFrame(
            self.get_products_list(filters),
            columns=[
                "id",
                "internal_name",
                "display_name",
                "product_type_name",
                "release_name",
                "uploaded_by",
                "official_product",
                "pz_code",
                "description",
                "created_at",
            ],
        )
        display_table(
            frame.rename(
                columns={
                    "display_name": "product_name",
                    "release_name": "release",
                    "product_type_name": "product_type",
                }
            )
        )

    def _product_by_key(self, product_id) -> dict:
        if isinstance(product_id, int) or str(product_id).isdigit():
            return dict(self.source.product(int(product_id)))
        found = self.source.products({"status": "1", "internal_name": str(product_id)})
        if not found:
            raise PzServerError("product-not-found", f"no published product {product_id!r}")
        return dict(found[0])

    def _main_file_info(self, pid) -> dict | None:
        data = self.source.main_file(pid)
        if data and data.get("associated_columns"):
            cols = data.pop("associated_columns")
            data["columns"] = [c.get("column_name") for c in cols]
            data["columns_association"] = [c for c in cols if c.get("alias")]
        return data

    def get_product_metadata(self, product_id, mainfile_info=True) -> dict:
        try:
            meta = self._product_by_key(product_id)
        except PzcatError as exc:
            raise ValueError(
                "product not found.\nPlease find the list of products available with "
                "display_products_list() or get_products_list()"
            ) from exc
        if mainfile_info:
            meta["main_file"] = self._main_file_info(meta["id"])
        return meta

    def display_product_metadata(self, product_id=None, show=True):
        """The product's metadata as a key/value table (``show=False`` returns it)."""
        meta = self.get_product_metadata(product_id)
        names = {
            "release_name": "release",
            "product_type_name": "product_type",
            "display_name": "product_name",
        }
        rows = []
        for key in (
            "id",
            "internal_name",
            "display_name",
            "product_type_name",
            "release_name",
            "uploaded_by",
            "official_product",
            "pz_code",
            "description",
            "created_at",
            "main_file",
        ):
            if key not in meta:
                continue
            value = meta[key]
            if key == "main_file":
                if not value:
                    continue
                rows.append({"key": "n_rows", "value": value.get("n_rows")})
                if value.get("size"):
                    rows.append({"key": "size", "value": f"{float(value['size']) / 1e6:.2f} MB"})
                if value.get("columns_association"):
                    rows.append(
                        {"key": "columns_association", "value": value["columns_association"]}
                    )
                if value.get("columns"):
                    rows.append({"key": "columns", "value": value["columns"]})
                    rows.append({"key": "n_columns", "value": len(value["columns"])})
                value = value.get("name")
            rows.append({"key": names.get(key, key), "value": value})
        frame = pd.DataFrame(rows)
        if show:
            display_table(frame)
            return None
        return frame

    def get_product_object(self, product_id) -> PzProduct:
        return PzProduct(product_id, self)

    def download_product(self, product_id=None, save_in="."):
        """Download the product's ZIP (every file and ``product_metadata.yaml``) into ``save_in``."""
        pid = self.get_product_metadata(product_id, mainfile_info=False)["id"]
        dest = Path(save_in)
        dest.mkdir(parents=True, exist_ok=True)
        path = self.source.download(pid, dest, main=False)
        print(f"File saved as: {path}")
        return path

    def get_product(self, product_id=None, get_big_products=False):
        """The product's main table as an :class:`astropy.table.Table` (HATS through lsdb).

        Raises
        ------
        ValueError
            For non-tabular types, and for main files over 200 MB unless ``get_big_products``.
        """
        from astropy.table import Table

        meta = self.get_product_metadata(product_id)
        main = meta.get("main_file") or {}
        size = main.get("size")
        if size and float(size) > MAX_IN_MEMORY_PRODUCT_SIZE_BYTES and not get_big_products:
            raise ValueError(
                f"Product '{meta.get('internal_name')}' is larger than 200 MB and cannot "
                "be loaded into memory by default: download_product() it and read it "
                "with pandas, Dask or LSDB, or pass get_big_products=True."
            )
        ptype = meta["product_type_internal_name"]
        if ptype in ("validation_results", "training_results"):
            raise ValueError(
                f"does not support non-tabular data: for {ptype} use download_product()"
            )
        if not main:
            raise FileNotFoundError(f"Product ID ({product_id}): main file not found")
        with tempfile.TemporaryDirectory() as tmp:
            path = self.source.download(meta["id"], Path(tmp), main=True)
            if main.get("is_directory") or path.suffix.lower() == ".zip":
                return _read_hats(path, main.get("name"))
            fmt = FORMATS.get(path.suffix.lower())
            if fmt is None:
                raise ValueError(f"{path.name}: not a table pzcat can read")
            from pzcat.tables import read_table

            return Table.from_pandas(read_table(path, fmt))

    def upload(
        self,
        name: str,
        product_type: str,
        main_file: str,
        release: str | None = None,
        pz_code: str | None = None,
        auxiliary_files: list | None = None,
        description: str | None = None,
    ) -> PzUpload:
        for f in [main_file, *(auxiliary_files or [])]:
            if not Path(f).is_file():
                raise FileNotFoundError(f"{f} not found")
        return PzUpload(
            {
                "name": name,
                "product_type": product_type,
                "main_file": main_file,
                "release": release,
                "pz_code": pz_code,
                "auxiliary_files": auxiliary_files,
                "description": description,
            },
            self,
        )

    def delete_product(self, product_id) -> None:
        product = self.get_product_metadata(product_id)
        if product.get("is_owner", False) is False:
            raise ValueError("You are not the owner of this product")
        self.source.delete_product(product.get("id"))

    def transform_df(self, dataframe, metadata):
        metadata_df = self.display_product_metadata(metadata["id"], show=False)
        meta = self.get_product_metadata(metadata["id"])
        if metadata["product_type_internal_name"] == "redshift_catalog":
            return SpeczCatalog(dataframe, meta, metadata_df)
        if metadata["product_type_internal_name"] == "training_set":
            return TrainingSet(dataframe, meta, metadata_df)
        return dataframe

    # -- processes -----------------------------------------------------------------------------------

    def combine_redshift_catalogs(self, name) -> CRCProcess:
        return CRCProcess(name, self)

    def training_set_maker(self, name) -> TSMProcess:
        return TSMProcess(name, self)

    def run_and_wait(self, process, poll_seconds: float = 30, retries: int = 60):
        process.run()
        print("Process submitted successfully, waiting for completion...")
        while process.check_status() in ("Running", "Pending") and retries:
            time.sleep(poll_seconds)
            retries -= 1
        status = process.check_status()
        if status == "Successful":
            print(
                f"Done! Results registered as ID={process.output.get('id')} "
                f"(internal_name: {process.output.get('internal_name')})"
            )
        elif status == "Failed":
            print("Process failed")
        return status


def _read_hats(archive: Path, name: str | None):
    """Extract a HATS ZIP (refusing paths outside the folder) and read it with lsdb."""
    import lsdb
    from astropy.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                if not (root / member.filename).resolve().is_relative_to(root):
                    raise ValueError(f"Unsafe path in product archive: {member.filename}")
            zf.extractall(root)
        candidates = (
            ([root / name] if name else []) + [p.parent for p in root.rglob("*properties")] + [root]
        )
        for candidate in candidates:
            if candidate.is_dir():
                try:
                    data = lsdb.open_catalog(str(candidate)).compute()
                except (OSError, ValueError, FileNotFoundError):
                    continue
                return Table.from_pandas(pd.DataFrame(data).reset_index(drop=True))
    raise ValueError(f"{archive.name}: no HATS catalog lsdb can open")

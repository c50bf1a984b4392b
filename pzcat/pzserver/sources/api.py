"""A pzcat server's ``/api/`` (or any Photo-z Server), over HTTP with ``Authorization: Token``."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

from pzcat.pzserver import transport
from pzcat.pzserver.errors import PzServerError


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
        """Call the API: JSON (``data``), a form, or multipart with ``files``; the JSON answer
        (or with ``raw`` the open response)."""
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
            body, headers["Content-Type"] = transport.multipart(form or {}, files)
        elif form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None or method == "POST":
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        resp = transport.call(method, url, headers, body)
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
        """Every page of a list (pages of 1,000)."""
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
        """Prepare, wait for and stream the product's ZIP (or its main file) into ``dest``."""
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
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        return transport.save(archive["download_url"], Path(dest) / archive["filename"], headers)

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

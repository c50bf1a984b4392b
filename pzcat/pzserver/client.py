"""``PzServer``: the client's calls, the same as ``pzserver.PzServer`` 0.3.7, over any source."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from pzcat.errors import PzcatError
from pzcat.filters import client_filters
from pzcat.pzserver.catalogs import SpeczCatalog, TrainingSet
from pzcat.pzserver.display import display_table
from pzcat.pzserver.downloads import check_size, read_main_file
from pzcat.pzserver.errors import PzServerError
from pzcat.pzserver.processes import CRCProcess, TSMProcess
from pzcat.pzserver.products import PzProduct, PzUpload
from pzcat.pzserver.sources import ENVIRONMENTS, open_source


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
        meta = self.get_product_metadata(product_id)
        main = meta.get("main_file") or {}
        check_size(meta, get_big_products)
        ptype = meta["product_type_internal_name"]
        if ptype in ("validation_results", "training_results"):
            raise ValueError(
                f"does not support non-tabular data: for {ptype} use download_product()"
            )
        if not main:
            raise FileNotFoundError(f"Product ID ({product_id}): main file not found")
        with tempfile.TemporaryDirectory() as tmp:
            path = self.source.download(meta["id"], Path(tmp), main=True)
            return read_main_file(path, main)

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

"""One product and its files, and an upload in progress (``pzserver.product``, ``pzserver.upload``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pzcat.errors import PzcatError

if TYPE_CHECKING:
    from pzcat.pzserver.client import PzServer


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

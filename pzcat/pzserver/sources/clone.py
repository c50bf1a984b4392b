"""A local clone: records built by :mod:`pzcat.records`; writes through the library, as the
``pzcat add/edit/attach/detach/deprecate`` and ``pzcat run`` commands do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pzcat.errors import PzcatError
from pzcat.filters import ProductRecords, parse_query
from pzcat.pzserver.errors import PzServerError


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
        return ProductRecords(rows).select(parse_query(params))

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


def _default_user() -> str:
    import getpass

    try:
        from pzcat.clitools import default_user

        return default_user() or getpass.getuser()
    except (ImportError, PzcatError):
        return getpass.getuser()

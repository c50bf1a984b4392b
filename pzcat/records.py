"""The records of the Photo-z Server REST API, built from manifests and ``catalog.yaml``.

One place says what a product, product type, release, user, file, column content, pipeline and
main-file description look like in the original server's JSON (the field names its serializers
use, see ``datasette/README.md`` "The Photo-z Server API"). The server (:mod:`pzcat_datasette.api`)
sends these records; :class:`pzcat.pzserver.PzServer` builds the same records from a local clone,
so a notebook sees one shape whichever way it reads the catalog. Ids come from :mod:`pzcat.ids`.
"""

from __future__ import annotations

import csv
import mimetypes
from datetime import datetime
from pathlib import Path
from typing import Any

from pzcat.config import CatalogConfig
from pzcat.ids import PIPELINE_IDS, content_id, file_ids, position_id, user_id
from pzcat.manifest import STANDARD_ROLES, Manifest

#: The original's ProductStatus numbers and labels.
STATUS_REGISTERING, STATUS_PUBLISHED, STATUS_DELETED, STATUS_PROCESSING, STATUS_FAILED = (
    0,
    1,
    2,
    3,
    9,
)
STATUS_LABELS = {0: "Registering", 1: "Published", 2: "Deleted", 3: "Processing", 9: "Failed"}
#: File roles: the original's numbers and labels.
ROLE_NUMBERS = {"main": 0, "description": 1, "auxiliary": 2}
ROLE_NAMES = {"main": "Main", "description": "Description", "auxiliary": "Auxiliary"}
#: The client's aliases of the standard roles (its ``system_columns``).
ROLE_ALIASES = {
    "id": "ID",
    "ra": "RA",
    "dec": "Dec",
    "z": "z",
    "z_err": "z_err",
    "z_flag": "z_flag",
    "survey": "survey",
}
ALIAS_ROLES = {v.lower(): k for k, v in ROLE_ALIASES.items()}
PIPELINE_DISPLAY = {
    "combine_redshift_catalogs": "Combine Redshift Catalogs",
    "combine_redshift_dedup": "Combine Redshift Catalogs",
}
EXTENSIONS = {"csv": ".csv", "fits": ".fits", "hdf5": ".hdf5", "parquet": ".parquet", "hats": ""}


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC, as the API writes times."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def type_id(config: CatalogConfig, name: str | None) -> int | None:
    return position_id((t.name for t in config.product_types), name)


def release_id(config: CatalogConfig, name: str | None) -> int | None:
    return position_id((r.name for r in config.releases), name)


def product_status(manifest: Manifest) -> int:
    """The original's status number of a manifest."""
    if manifest.status == "deprecated":
        return STATUS_DELETED
    if manifest.status == "pending":
        prov = manifest.provenance
        return STATUS_FAILED if prov is not None and prov.error else STATUS_PROCESSING
    return STATUS_PUBLISHED


def process_status(manifest: Manifest) -> str | None:
    """The status of the run that made a pipeline product (None for uploads)."""
    if manifest.provenance is None:
        return None
    status = product_status(manifest)
    return {STATUS_PROCESSING: "Pending", STATUS_FAILED: "Failed"}.get(status, "Successful")


def product_type_record(config: CatalogConfig, name: str) -> dict[str, Any]:
    t = config.product_type(name)
    if t is None:
        raise KeyError(name)
    return {
        "id": type_id(config, t.name),
        "name": t.name,
        "display_name": t.display_name,
        "order": t.order,
        "description": t.description,
        "created_at": None,
    }


def product_type_records(config: CatalogConfig) -> list[dict[str, Any]]:
    return [product_type_record(config, t.name) for t in config.product_types]


def release_records(config: CatalogConfig) -> list[dict[str, Any]]:
    return [
        {
            "id": release_id(config, r.name),
            "name": r.name,
            "display_name": r.display_name,
            "description": r.description,
            "created_at": None,
            "indexing_column": None,
            "has_mag_hats": False,
            "has_flux_hats": False,
            "dereddening": None,
            "fluxes": None,
            "is_public": True,
            "access_groups": [],
        }
        for r in config.releases
    ]


def user_records(config: CatalogConfig, manifests: list[Manifest]) -> list[dict[str, Any]]:
    """Uploaders and admins, by username (the original's default order)."""
    names = {m.uploaded_by for m in manifests} | set(config.admins)
    return [
        {
            "id": user_id(n),
            "username": n,
            "first_name": "",
            "last_name": "",
            "display_name": n,
            "is_admin": config.is_admin(n),
        }
        for n in sorted(names, key=str.lower)
    ]


def can_change(config: CatalogConfig, manifest: Manifest, user: str | None) -> bool:
    """Only the uploader or an admin may change a product."""
    if not user:
        return False
    return user.lower() == manifest.uploaded_by.lower() or config.is_admin(user)


def product_record(
    config: CatalogConfig, manifest: Manifest, user: str | None = None, status: int | None = None
) -> dict[str, Any]:
    """A product as the original's ProductSerializer writes it (plus ``version``)."""
    ptype = config.product_type(manifest.product_type)
    release = config.release(manifest.release) if manifest.release else None
    number = product_status(manifest) if status is None else status
    prov = manifest.provenance
    owner = bool(user) and user.lower() == manifest.uploaded_by.lower()
    allowed = can_change(config, manifest, user) and number != STATUS_DELETED
    return {
        "id": manifest.id,
        "release": release_id(config, release.name) if release else None,
        "release_name": release.display_name if release else None,
        "release_internal_name": release.name if release else None,
        "product_type": type_id(config, ptype.name) if ptype else None,
        "product_type_name": ptype.display_name if ptype else manifest.product_type,
        "product_type_internal_name": ptype.name if ptype else manifest.product_type,
        "uploaded_by": manifest.uploaded_by,
        "user": user_id(manifest.uploaded_by),
        "is_owner": owner,
        "origin": PIPELINE_DISPLAY.get(prov.pipeline, prov.pipeline) if prov else "Upload",
        "process_status": process_status(manifest),
        "process_id": manifest.id if prov else None,
        "product_status": STATUS_LABELS[number],
        "can_delete": allowed,
        "can_update": allowed,
        "internal_name": manifest.internal_name,
        "display_name": manifest.name,
        "official_product": manifest.official,
        "pz_code": manifest.pz_code,
        "description": manifest.description,
        "created_at": iso(manifest.created),
        "updated_at": iso(manifest.updated),
        "status": number,
        "release_year": None,
        "version": manifest.version,
    }


def _file_key(entry) -> str:
    return entry.path or entry.url or entry.filename


def file_records(
    manifest: Manifest, user_can_change: bool = False, file_url=None, root: Path | None = None
) -> list[dict[str, Any]]:
    """The product-files of a product (``file_url(entry)`` gives each file's URL)."""
    ids = file_ids(manifest.id, [_file_key(f) for f in manifest.files])
    out = []
    for fid, f in zip(ids, manifest.files, strict=True):
        out.append(
            {
                "id": fid,
                "product": manifest.id,
                "file": file_url(f) if file_url else f.path or f.url,
                "can_delete": user_can_change and f.role != "main",
                "role_name": ROLE_NAMES[f.role],
                "role": ROLE_NUMBERS[f.role],
                "name": f.filename,
                "type": _mimetype(f),
                "n_rows": f.n_rows,
                "size": _size(f, root),
                "extension": _extension(f),
                "is_directory": f.format == "hats",
                "created": None,
                "updated": None,
            }
        )
    return out


def file_by_id(manifest: Manifest, fid: int):
    """The manifest file entry with id ``fid`` (None when the product has no such file)."""
    ids = file_ids(manifest.id, [_file_key(f) for f in manifest.files])
    return next((f for i, f in zip(ids, manifest.files, strict=True) if i == fid), None)


def _extension(entry) -> str:
    if entry.format == "hats":
        return ""
    suffix = Path(entry.filename).suffix
    return suffix or EXTENSIONS.get(entry.format, "")


def _mimetype(entry) -> str | None:
    if entry.format == "hats":
        return "inode/directory"
    return mimetypes.guess_type(entry.filename)[0] or {
        "parquet": "application/vnd.apache.parquet",
        "hdf5": "application/x-hdf5",
        "fits": "application/fits",
    }.get(entry.format)


def _size(entry, root: Path | None) -> int | None:
    if entry.size is not None:
        return entry.size
    if root is not None and entry.path:
        path = Path(root) / entry.path
        if path.is_file():
            return path.stat().st_size
    return None


def role_alias(role: str) -> str:
    return ROLE_ALIASES.get(role, role)


def content_records(manifest: Manifest) -> list[dict[str, Any]]:
    """The product-contents (one per column of the main file) with their ucd and alias."""
    main = manifest.main_file
    if main is None or not main.columns:
        return []
    out = []
    for pos, col in enumerate(main.columns, start=1):
        role = manifest.role_of(col.name)
        out.append(
            {
                "id": content_id(manifest.id, pos),
                "product": manifest.id,
                "column_name": col.name,
                "ucd": (manifest.ucd_for(role) if role else col.ucd),
                "order": pos - 1,
                "alias": role_alias(role) if role else None,
            }
        )
    return out


def sniff_delimiter(path: Path) -> str:
    """The delimiter of a delimited text file (``,`` when it cannot tell)."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            head = fh.read(64 << 10)
    except OSError:
        return ","
    lines = [ln for ln in head.splitlines() if ln and not ln.startswith("#")][:20]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t| ").delimiter
    except csv.Error:
        return ","


def main_file_record(manifest: Manifest, root: Path | None = None) -> dict[str, Any] | None:
    """``main_file`` of the original's ``main_file_info/`` (None without a main file)."""
    main = manifest.main_file
    if main is None:
        return None
    info: dict[str, Any] = {
        "name": main.filename,
        "type": _mimetype(main),
        "extension": _extension(main),
        "size": _size(main, root),
        "n_rows": main.n_rows,
        "is_directory": main.format == "hats",
    }
    assoc = [
        {"column_name": c["column_name"], "ucd": c["ucd"], "alias": c["alias"]}
        for c in content_records(manifest)
        if c["alias"]
    ]
    if assoc:
        info["associated_columns"] = assoc
    if main.format == "csv":
        info["delimiter"] = sniff_delimiter(Path(root) / main.path) if root and main.path else ","
        info["has_header"] = True
        info["columns"] = [c.name for c in main.columns or []]
    return info


def required_aliases(product_type: str, config: CatalogConfig) -> list[str]:
    """The aliases a product type must associate (the original's 406 check), e.g. RA, Dec, z:
    the type's ``required_roles`` of catalog.yaml."""
    ptype = config.product_type(product_type)
    return [role_alias(r) for r in (ptype.required_roles if ptype else [])]


def pipeline_records(config: CatalogConfig, flags_file: str | None = None) -> list[dict[str, Any]]:
    """The pipelines of this server: Combine Redshift Catalogs (run by ``pzcat combine``) and the
    Training Set Maker (listed, so that the client can build it, but not available here)."""
    rc = type_id(config, "redshift_catalog")
    ts = type_id(config, "training_set")
    return [
        {
            "id": PIPELINE_IDS["combine_redshift_dedup"],
            "name": "combine_redshift_dedup",
            "display_name": "Combine Redshift Catalogs",
            "version": "1",
            "description": "Concatenates reference redshift catalogs, marks or removes duplicates "
            "(`pzcat combine`).",
            "created_at": None,
            "available": True,
            "system_config": {
                "executor": "pzcat",
                "param": {
                    "combine_type": "concatenate_and_mark_duplicates",
                    "flags_translation_file": flags_file or "pipelines/data/flags_translation.yaml",
                    "z_flag_homogenized_value_to_cut": None,
                },
            },
            "product_types_accepted": [rc],
            "output_product_type": rc,
        },
        {
            "id": PIPELINE_IDS["training_set_maker"],
            "name": "training_set_maker",
            "display_name": "Training Set Maker",
            "version": "0",
            "description": "Not available on this server (pzcat has no object catalogs to match).",
            "created_at": None,
            "available": False,
            "system_config": {
                "param": {
                    "flux_type": "cmodel",
                    "dereddening": "sfd",
                    "convert_flux_to_mag": True,
                    "crossmatch": {},
                }
            },
            "product_types_accepted": [rc],
            "output_product_type": ts,
        },
    ]


__all__ = [
    "STANDARD_ROLES",
    "content_records",
    "file_records",
    "main_file_record",
    "product_record",
    "product_type_records",
    "release_records",
    "user_records",
]

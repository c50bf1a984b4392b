"""The product manifest, schema version 1.

One YAML file per product at ``manifests/<internal_name>.yaml``. The model is pydantic so that the
JSON Schema editors use (``pzcat/schema/manifest.schema.json``) is exported from it, and every
field carries its documentation. Vocabularies that the catalog defines (product types, releases)
are checked against ``catalog.yaml`` by :mod:`pzcat.validate`; vocabularies of the format itself
(file roles and formats, statuses) are part of the schema.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pzcat.errors import ManifestError
from pzcat.safeyaml import load_yaml, short

# the vocabularies of the format live in pzcat.vocab (re-exported here for existing imports)
from pzcat.vocab import (  # noqa: F401
    REQUIRED_ROLES,
    STANDARD_ROLES,
    TABLE_FORMATS,
    TYPE_RULES,
    FileFormat,
    FileRole,
    Status,
)

SCHEMA_VERSION = 1

#: Product types whose ``release`` must be empty by default (catalog.yaml decides:
#: ``ProductType.release``).
NO_RELEASE_TYPES = tuple(n for n, r in TYPE_RULES.items() if r.get("release") is False)
#: Product types whose ``pz_code`` must be empty by default (``ProductType.pz_code``).
NO_PZ_CODE_TYPES = tuple(n for n, r in TYPE_RULES.items() if r.get("pz_code") is False)


def slugify(name: str) -> str:
    """Slug of a product name: lowercased, spaces to ``_``, only ``[a-z0-9_]`` kept.

    Examples
    --------
    >>> slugify("DESI DR1 (in DP1 fields)")
    'desi_dr1_in_dp1_fields'
    """
    text = name.strip().lower().replace(" ", "_")
    return re.sub(r"[^a-z0-9_]", "", text)


def make_internal_name(product_id: int, name: str) -> str:
    """The product key ``<id>_<slug>``."""
    return f"{product_id}_{slugify(name)}"


def now_utc() -> datetime:
    """Current time, UTC, to the second (manifests do not need microseconds)."""
    return datetime.now(UTC).replace(microsecond=0)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class ColumnInfo(_Model):
    """One column of a table file."""

    name: str = Field(description="Column name as stored in the file.")
    dtype: str = Field(description="Data type: int64, float64, string, bool, ... (pandas names).")
    unit: str | None = Field(None, description="Physical unit (astropy string), e.g. deg, mag.")
    ucd: str | None = Field(None, description="IVOA UCD1+ of the column, e.g. pos.eq.ra;meta.main.")
    description: str | None = Field(None, description="What the column holds.")


class FileEntry(_Model):
    """One file of a product."""

    role: FileRole = Field(
        description="main (the data), description (HTML/Markdown/PDF) or auxiliary."
    )
    path: str | None = Field(
        None, description="Path relative to the repository root, under products/<internal_name>/."
    )
    url: str | None = Field(
        None, description="External location for data over the in-repository limit."
    )
    format: FileFormat = Field(description="csv, fits, hdf5, parquet, hats (a folder) or other.")
    size: int | None = Field(
        None, ge=0, description="Size in bytes (a HATS folder: all its files)."
    )
    sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the bytes (a HATS folder: of its sorted file list and their digests).",
    )
    n_rows: int | None = Field(None, ge=0, description="Rows, for tables.")
    columns: list[ColumnInfo] | None = Field(None, description="Columns, for tables.")
    description: str | None = Field(None, description="What this file is.")

    @property
    def filename(self) -> str:
        """Base name of the file (from path or url)."""
        target = self.path or self.url or ""
        return target.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_table(self) -> bool:
        """Whether the file is a table pzcat can read."""
        return self.format in TABLE_FORMATS


class ColumnRole(_Model):
    """The association of one role (ra, dec, z...) to a column of the main file."""

    column: str = Field(description="Column name in the main file.")
    ucd: str | None = Field(None, description="UCD of the role; the standard one when omitted.")


class ProvenanceInput(_Model):
    """One input product of a pipeline run, pinned."""

    internal_name: str
    id: int | None = None
    version: int | None = None
    files: list[dict[str, Any]] = Field(
        default_factory=list, description="Each file's path and sha256 at run time."
    )


class Provenance(_Model):
    """How a pipeline product was made (empty for uploaded products)."""

    pipeline: str = Field(description="Pipeline name, e.g. combine_redshift_catalogs.")
    pipeline_version: str = Field(description="Version of the pipeline code.")
    config: dict[str, Any] = Field(
        default_factory=dict, description="The run's full configuration."
    )
    inputs: list[ProvenanceInput] = Field(default_factory=list)
    software: dict[str, str] = Field(default_factory=dict, description="Package versions used.")
    started: datetime | None = None
    ended: datetime | None = None
    summary: dict[str, Any] | None = Field(None, description="Rows in/out, duplicates, timings.")
    error: dict[str, Any] | None = Field(
        None, description="The last failure (code, message, time)."
    )


class Manifest(_Model):
    """A photo-z data product: metadata, files, column association, status and provenance."""

    schema_version: Literal[1] = Field(1, description="Manifest schema version (1).")
    id: int = Field(ge=1, description="Unique integer id, never reused.")
    internal_name: str = Field(
        pattern=r"^[0-9]+_[a-z0-9_]*$",
        description="<id>_<slug of name>: the product's key everywhere.",
    )
    name: str = Field(min_length=1, description="Display name.")
    product_type: str = Field(description="One of the product types of catalog.yaml.")
    release: str | None = Field(None, description="LSST release (empty for redshift_catalog).")
    official: bool = Field(False, description="Official product; only admins may set or change it.")
    pz_code: str | None = Field(
        None,
        description="Photo-z code used (empty for training_set, training_results, redshift_catalog).",
    )
    description: str = Field("", description="Markdown description.")
    uploaded_by: str = Field(min_length=1, description="GitHub user name of the uploader.")
    created: datetime = Field(description="Creation time (ISO 8601, UTC).")
    updated: datetime = Field(description="Last change (ISO 8601, UTC).")
    version: int = Field(1, ge=1, description="Bumped whenever files or metadata change.")
    license: str = Field("CC-BY-4.0", description="SPDX licence identifier or text.")
    citation: str | None = Field(None, description="How to cite the product.")
    doi: str | None = Field(None, description="DOI, e.g. 10.5281/zenodo.123.")
    status: Status = Field(
        "published", description="published, pending (a run to execute) or deprecated."
    )
    deprecation_reason: str | None = Field(
        None, description="Why a deprecated product is deprecated."
    )
    files: list[FileEntry] = Field(default_factory=list, description="The product's files.")
    columns: dict[str, ColumnRole] = Field(
        default_factory=dict,
        description="Role (id, ra, dec, z, z_err, z_flag, survey or a free alias) -> column of the main file.",
    )
    provenance: Provenance | None = Field(None, description="For pipeline outputs.")

    @field_validator("columns", mode="before")
    @classmethod
    def _short_columns(cls, value: Any) -> Any:
        """Accept the shorthand ``ra: RA`` for ``ra: {column: RA}``."""
        if isinstance(value, dict):
            return {k: ({"column": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    # -- derived facts -------------------------------------------------------------------------

    @property
    def main_file(self) -> FileEntry | None:
        """The file with role main (None when there is not exactly one)."""
        mains = [f for f in self.files if f.role == "main"]
        return mains[0] if len(mains) == 1 else None

    @property
    def description_file(self) -> FileEntry | None:
        """The first file with role description, if any."""
        return next((f for f in self.files if f.role == "description"), None)

    def column_for(self, role: str) -> str | None:
        """Column name associated with ``role``, or None."""
        found = self.columns.get(role)
        return found.column if found else None

    def ucd_for(self, role: str) -> str | None:
        """UCD of ``role``: the manifest's, else the standard one."""
        found = self.columns.get(role)
        if found and found.ucd:
            return found.ucd
        return STANDARD_ROLES.get(role)

    def role_of(self, column: str) -> str | None:
        """Role associated with ``column``, or None."""
        return next((r for r, c in self.columns.items() if c.column == column), None)

    @property
    def expected_internal_name(self) -> str:
        """The internal name the id and name give."""
        return make_internal_name(self.id, self.name)

    def to_yaml(self) -> str:
        """Serialise to YAML, keys in schema order, empty optional keys left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        return dump_yaml(data)


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types
    """YAML dumper that writes multi-line strings as literal blocks and never aliases."""

    def ignore_aliases(self, data: Any) -> bool:  # the safe loader refuses aliases
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """Dump plain data as block YAML, keys in insertion order."""
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text


# -- parsing with coded errors ---------------------------------------------------------------------

_LITERAL_CODES = {
    "format": "unknown-format",
    "role": "unknown-file-role",
    "status": "unknown-status",
    "schema_version": "schema-version",
}


def schema_problems(exc: ValidationError) -> list[tuple[str, str, str]]:
    """Turn a pydantic error into ``(code, key, message)`` triples with stable codes."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = ".".join(loc)
        kind = err["type"]
        last = next((p for p in reversed(loc) if not p.isdigit()), "")
        if kind == "missing":
            code, msg = "missing-key", f"required key {key!r} is missing"
        elif kind == "extra_forbidden":
            code, msg = "unknown-key", f"unknown key {key!r}"
        elif kind == "literal_error" and last in _LITERAL_CODES:
            code, msg = _LITERAL_CODES[last], f"{key}: {err['msg']} (got {short(err.get('input'))})"
        else:
            code, msg = "bad-value", f"{key}: {err['msg']} (got {short(err.get('input'))})"
        out.append((code, key, msg))
    return out


def load_manifest_data(text: str | bytes, source: str = "<manifest>") -> dict[str, Any]:
    """Parse manifest YAML into a mapping, with the safe loader (:func:`pzcat.safeyaml.load_yaml`).

    The first step of :func:`read_manifest` (validation uses it alone, to report every schema
    problem with :func:`manifest_problems`).

    Raises
    ------
    ManifestError
        ``yaml-syntax``, ``yaml-alias``, ``yaml-too-deep``, ``yaml-too-large`` or
        ``manifest-not-mapping``.
    """
    data = load_yaml(text, source, error=ManifestError)
    if not isinstance(data, dict):
        raise ManifestError(
            "manifest-not-mapping", f"{source}: a manifest must be a YAML mapping", file=source
        )
    return data


def manifest_problems(data: Any) -> tuple[Manifest | None, list[tuple[str, str, str]]]:
    """The :class:`Manifest` of a mapping, or None and every schema problem ``(code, key, msg)``."""
    try:
        return Manifest.model_validate(data), []
    except ValidationError as exc:
        return None, schema_problems(exc)


def parse_manifest(data: dict[str, Any], source: str = "<manifest>") -> Manifest:
    """Build a :class:`Manifest` from a mapping (YAML or JSON), raising the first problem coded."""
    manifest, problems = manifest_problems(data)
    if manifest is None:
        code, key, msg = problems[0]
        raise ManifestError(code, f"{source}: {msg}", file=source, key=key)
    return manifest


def read_manifest(text: str | bytes, source: str = "<manifest>") -> Manifest:
    """The one manifest parser: YAML text (or UTF-8 bytes) to a :class:`Manifest`.

    Every reader of a manifest (the catalog, validation, runs, the site, the PR report, the
    base-branch comparisons) calls this (or :func:`read_manifest_or_none`): the safe YAML loader
    (:func:`pzcat.safeyaml.load_yaml`: no aliases, bounded sizes), the mapping check and the
    schema. ``tests/test_manifest_parser.py`` fails on another ``yaml.safe_load`` of a manifest.

    Raises
    ------
    ManifestError
        The first problem, coded (``yaml-syntax``, ``manifest-not-mapping``, a schema code...).

    Examples
    --------
    >>> read_manifest("id: [1", "x.yaml")
    Traceback (most recent call last):
    ...
    pzcat.errors.ManifestError: [yaml-syntax] x.yaml: invalid YAML...
    """
    return parse_manifest(load_manifest_data(text, source), source)


def read_manifest_or_none(text: str | bytes | None, source: str = "<manifest>") -> Manifest | None:
    """:func:`read_manifest`, or None when ``text`` is None or not a valid manifest."""
    if text is None:
        return None
    try:
        return read_manifest(text, source)
    except ManifestError:
        return None


def load_manifest(path: Path) -> Manifest:
    """Read and validate one manifest file (first problem raised as :class:`ManifestError`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError("yaml-syntax", f"{path}: cannot read: {exc}", file=str(path)) from None
    return read_manifest(data, str(path))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest (for editors: yaml-language-server)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://lsst-pz.github.io/pzcat/manifest.schema.json"
    schema["title"] = "pzcat product manifest (schema version 1)"
    return schema

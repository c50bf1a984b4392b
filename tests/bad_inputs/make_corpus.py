"""Generate the bad-input corpus: one tiny catalog per case, each with its expected codes.

Every case is a folder ``tests/bad_inputs/<case>/`` holding what a repository holds
(``manifests/``, ``products/``, optionally its own ``catalog.yaml``; otherwise the shared
``_base/catalog.yaml`` is used) and an ``expected.yaml``::

    description: what is wrong
    codes: [ragged-csv]          # must all be reported
    also: [undeclared-file]      # may be reported too (anything else fails the test)
    exit: 1                      # pzcat validate exit code (0 for warning-only cases)
    issues:                      # optional finer checks, matched on the listed fields
      - {code: ragged-csv, rows: [3]}
    setup:                       # optional, done by the test at run time
      symlinks: [{link: products/1_base_sample/sample.csv, to: outside/sample.csv}]
      git: {base: base, changed_since: HEAD, author: someone}

Binary files (truncated Parquet, corrupt FITS, HDF5 without a table...) are generated here, and
the output is committed. Run from the repository root::

    .venv/bin/python tests/bad_inputs/make_corpus.py            # rewrite tests/bad_inputs/
    .venv/bin/python tests/bad_inputs/make_corpus.py --out DIR  # elsewhere (for a check)
"""

from __future__ import annotations

import argparse
import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from pzcat.files import path_digest
from pzcat.manifest import STANDARD_ROLES, dump_yaml
from pzcat.products import describe_file
from pzcat.readers.hdf5 import make_pandas2_readable

HERE = Path(__file__).resolve().parent
BASE = "1_base_sample"
CREATED = "2026-01-01T00:00:00Z"
LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345\n"
)

CASES: dict[str, Callable[[Path], dict[str, Any]]] = {}


def case(func: Callable[[Path], dict[str, Any]]) -> Callable[[Path], dict[str, Any]]:
    """Register a case builder: it writes the case folder and returns its expectations."""
    CASES[func.__name__] = func
    return func


# -- building blocks -------------------------------------------------------------------------------


def sample_frame() -> pd.DataFrame:
    """The five good rows every table case starts from."""
    return pd.DataFrame(
        {
            "id": np.array([1, 2, 3, 4, 5], dtype="int64"),
            "ra": [10.5, 150.1, 200.0, 359.9, 0.0],
            "dec": [-30.0, 2.2, 45.0, -89.0, 10.0],
            "z": [0.1, 0.52, 1.3, 2.05, 0.0],
            "z_err": [0.001, 0.002, 0.01, 0.05, 0.0],
            "z_flag": np.array([4, 3, 4, 2, 4], dtype="int64"),
            "survey": ["VVDS", "VVDS", "DESI", "DESI", "2dF"],
        }
    )


def write_table(df: pd.DataFrame, path: Path, fmt: str, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        df.to_csv(path, index=False, lineterminator="\n", sep=kw.get("sep", ","))
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt == "fits":
        from astropy.table import Table

        table = Table.from_pandas(df)
        for col in ("ra", "dec"):
            if col in table.colnames:
                table[col].unit = "deg"
        table.write(path, overwrite=True)
    elif fmt == "hdf5":
        df = df.astype({c: object for c in df.columns if df[c].dtype == "str"})
        df.to_hdf(path, key="data", format="table", mode="w")
        if not kw.get("pandas3_only"):
            make_pandas2_readable(path)
    elif fmt == "h5compound":
        import h5py

        dtype = [(c, "S16" if df[c].dtype == "str" else df[c].dtype.str) for c in df.columns]
        arr = np.empty(len(df), dtype=dtype)
        for c in df.columns:
            arr[c] = df[c].to_numpy().astype(dtype[list(df.columns).index(c)][1])
        with h5py.File(path, "w", track_order=True) as fh:
            fh.create_dataset("data", data=arr)  # tables_io reads one compound named "data"
    else:
        raise ValueError(fmt)
    return path


def entry(
    root: Path,
    internal: str,
    filename: str,
    role: str = "main",
    fmt: str | None = None,
    read: bool = True,
) -> dict[str, Any]:
    """A file entry for products/<internal>/<filename> with its true size and sha256."""
    path = root / "products" / internal / filename
    rel = f"products/{internal}/{filename}"
    if read:
        return describe_file(path, rel, role, fmt).model_dump(mode="json", exclude_none=True)
    size, digest = path_digest(path)
    return {"role": role, "path": rel, "format": fmt or "other", "size": size, "sha256": digest}


def manifest(
    pid: int,
    name: str,
    internal: str,
    ptype: str,
    files: list[dict[str, Any]],
    columns: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A manifest mapping, valid unless the caller breaks it."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "id": pid,
        "internal_name": internal,
        "name": name,
        "product_type": ptype,
        "official": False,
        "description": "A corpus case.",
        "uploaded_by": "corpus-user",
        "created": CREATED,
        "updated": CREATED,
        "version": 1,
        "license": "CC-BY-4.0",
        "status": "published",
        "files": files,
    }
    data.update(extra)
    roles = (
        columns
        if columns is not None
        else {
            "id": "id",
            "ra": "ra",
            "dec": "dec",
            "z": "z",
            "z_err": "z_err",
            "z_flag": "z_flag",
            "survey": "survey",
        }
    )
    data["columns"] = {
        r: {"column": c, **({"ucd": STANDARD_ROLES[r]} if r in STANDARD_ROLES else {})}
        for r, c in roles.items()
    }
    return data


def write_manifest(root: Path, data: Any, name: str | None = None, text: str | None = None) -> Path:
    name = name or (data["internal_name"] if isinstance(data, dict) else BASE)
    path = root / "manifests" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else dump_yaml(data), encoding="utf-8")
    return path


def base_product(
    root: Path,
    fmt: str = "csv",
    df: pd.DataFrame | None = None,
    filename: str | None = None,
    internal: str = BASE,
    pid: int = 1,
    name: str = "Base sample",
    ptype: str = "redshift_catalog",
    read: bool = True,
    columns: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Write a product's main table and return its (valid) manifest mapping."""
    suffix = {
        "csv": "csv",
        "parquet": "parquet",
        "fits": "fits",
        "hdf5": "hdf5",
        "h5compound": "hdf5",
    }[fmt]
    filename = filename or f"sample.{suffix}"
    write_table(sample_frame() if df is None else df, root / "products" / internal / filename, fmt)
    f = entry(root, internal, filename, "main", "hdf5" if fmt == "h5compound" else fmt, read=read)
    return manifest(pid, name, internal, ptype, [f], columns, **extra)


def expect(
    codes: list[str],
    exit: int = 1,
    description: str = "",
    also: list[str] | None = None,
    issues: list[dict[str, Any]] | None = None,
    setup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "codes": codes,
        "also": also or [],
        "exit": exit,
    }
    if issues:
        out["issues"] = issues
    if setup:
        out["setup"] = setup
    return out


def one_change(
    case_name: str,
    code: str,
    key: str,
    description: str,
    edit: Callable[[dict[str, Any]], None] | None = None,
    /,
    **base: Any,
) -> None:
    """Register a case: the base product (``base_product(**base)``) with one ``edit``, reported
    as ``code`` at ``key``."""

    def builder(root: Path) -> dict:
        data = base_product(root, **base)
        if edit is not None:
            edit(data)
        write_manifest(root, data)
        return expect([code], description=description, issues=[{"code": code, "key": key}])

    builder.__name__ = case_name
    case(builder)


def _walk(data: Any, dotted: str) -> tuple[Any, Any]:
    *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    for p in parents:
        data = data[p]
    return data, last


def set_key(dotted: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit: set the dotted key (``files.0.sha256``) to ``value``."""

    def edit(data: dict[str, Any]) -> None:
        parent, last = _walk(data, dotted)
        parent[last] = value

    return edit


def drop_key(dotted: str) -> Callable[[dict[str, Any]], None]:
    """An edit: remove the dotted key."""

    def edit(data: dict[str, Any]) -> None:
        parent, last = _walk(data, dotted)
        del parent[last]

    return edit


def add_file(file_entry: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """An edit: append a file entry."""
    return lambda data: data["files"].append(file_entry)


# -- manifest cases --------------------------------------------------------------------------------


@case
def yaml_syntax(root: Path) -> dict:
    base_product(root)
    write_manifest(root, None, BASE, text="id: 1\nname: [unclosed\n  internal_name: x: y\n")
    return expect(["yaml-syntax"], description="malformed YAML")


@case
def yaml_tab_indent(root: Path) -> dict:
    base_product(root)
    write_manifest(root, None, BASE, text="id: 1\nfiles:\n\t- role: main\n")
    return expect(["yaml-syntax"], description="a tab in the indentation")


def _alias_bomb(levels: int = 9) -> str:
    """A 'billion laughs' document: a few hundred bytes that expand to 9**levels strings."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*l{i - 1}"] * 9)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@case
def yaml_alias_bomb(root: Path) -> dict:
    data = base_product(root)
    text = (
        dump_yaml(data) + "provenance:\n  pipeline: combine_redshift_catalogs\n"
        "  pipeline_version: '1'\n  config:\n"
        + "".join("    " + ln + "\n" for ln in _alias_bomb().splitlines())
    )
    write_manifest(root, None, BASE, text=text.replace("status: published", "status: pending"))
    return expect(
        ["yaml-alias"],
        description="an alias bomb in provenance.config of a pending "
        "product (9**9 strings once expanded)",
    )


@case
def yaml_deep_nesting(root: Path) -> dict:
    base_product(root)
    write_manifest(root, None, BASE, text="id: " + "[" * 5000 + "]" * 5000 + "\n")
    return expect(["yaml-too-deep"], description="5,000 nested lists")


@case
def yaml_huge_integer(root: Path) -> dict:
    data = base_product(root)
    text = dump_yaml(data).replace("id: 1\n", "id: " + "1" * 4301 + "\n", 1)
    write_manifest(root, None, BASE, text=text)
    return expect(["yaml-too-large"], description="a 4,301-digit integer (int() refuses it)")


@case
def manifest_not_utf8(root: Path) -> dict:
    data = base_product(root)
    data["description"] = "Caf\u00e9"
    path = write_manifest(root, data)
    path.write_bytes(dump_yaml(data).encode("latin-1"))
    return expect(["yaml-syntax"], description="manifest saved as Latin-1, not UTF-8")


@case
def not_a_mapping(root: Path) -> dict:
    base_product(root)
    write_manifest(root, None, BASE, text="- id: 1\n- name: Base sample\n")
    return expect(["manifest-not-mapping"], description="the manifest is a YAML list")


@case
def empty_manifest(root: Path) -> dict:
    base_product(root)
    write_manifest(root, None, BASE, text="# nothing here\n")
    return expect(["manifest-not-mapping"], description="an empty manifest")


one_change(
    "unknown_key",
    "unknown-key",
    "redshfit_column",
    "a misspelt key",
    set_key("redshfit_column", "z"),
)


one_change(
    "unknown_key_in_file",
    "unknown-key",
    "files.0.checksum",
    "an unknown key inside files[0]",
    set_key("files.0.checksum", "abc"),
)


one_change(
    "missing_key", "missing-key", "uploaded_by", "uploaded_by is missing", drop_key("uploaded_by")
)


one_change("bad_value_id", "bad-value", "id", "id is not an integer", set_key("id", "one"))


one_change(
    "bad_value_created",
    "bad-value",
    "created",
    "created is not a date-time",
    set_key("created", "last tuesday"),
)


one_change(
    "bad_value_sha256",
    "bad-value",
    "files.0.sha256",
    "sha256 is not 64 hex digits",
    set_key("files.0.sha256", "not-a-digest"),
)


one_change(
    "unknown_product_type",
    "unknown-product-type",
    "product_type",
    "product_type not in catalog.yaml",
    ptype="spectra",
)


one_change(
    "unknown_release",
    "unknown-release",
    "release",
    "release not in catalog.yaml",
    ptype="training_set",
    release="dr9",
)


one_change(
    "unknown_format",
    "unknown-format",
    "files.0.format",
    "format xlsx is not in the vocabulary",
    set_key("files.0.format", "xlsx"),
)


one_change(
    "unknown_file_role",
    "unknown-file-role",
    "files.0.role",
    "role primary is not main/description/auxiliary",
    set_key("files.0.role", "primary"),
)


one_change("unknown_status", "unknown-status", "status", "status archived", status="archived")


one_change(
    "schema_version_2", "schema-version", "schema_version", "schema_version 2", schema_version=2
)


@case
def duplicate_id(root: Path) -> dict:
    write_manifest(root, base_product(root))
    write_manifest(root, base_product(root, internal="1_second_sample", name="Second sample"))
    return expect(
        ["duplicate-id"],
        description="two manifests with id 1",
        issues=[{"code": "duplicate-id", "key": "id"}],
    )


@case
def duplicate_internal_name(root: Path) -> dict:
    data = base_product(root)
    write_manifest(root, data)
    write_manifest(root, data, name="1_base_sample_copy")
    return expect(
        ["duplicate-internal-name", "duplicate-id", "manifest-filename-mismatch"],
        description="a copy of a manifest under another file name",
        issues=[{"code": "duplicate-internal-name", "key": "internal_name"}],
    )


one_change(
    "internal_name_mismatch",
    "internal-name-mismatch",
    "internal_name",
    "name changed, internal_name did not",
    name="Renamed sample",
)


@case
def manifest_filename_mismatch(root: Path) -> dict:
    write_manifest(root, base_product(root), name="1_sample")
    return expect(
        ["manifest-filename-mismatch"], description="manifests/1_sample.yaml holds 1_base_sample"
    )


@case
def release_on_redshift_catalog(root: Path) -> dict:
    write_manifest(root, base_product(root, release="dp1"))
    return expect(
        ["release-not-allowed"],
        description="a redshift_catalog with a release",
        issues=[{"code": "release-not-allowed", "key": "release"}],
    )


@case
def pz_code_on_training_set(root: Path) -> dict:
    write_manifest(root, base_product(root, ptype="training_set", release="dp1", pz_code="BPZ"))
    return expect(
        ["pz-code-not-allowed"],
        description="pz_code on a training_set",
        issues=[{"code": "pz-code-not-allowed", "key": "pz_code"}],
    )


@case
def deprecated_without_reason(root: Path) -> dict:
    write_manifest(root, base_product(root, status="deprecated"))
    return expect(["deprecated-without-reason"], description="status deprecated, no reason")


@case
def updated_before_created(root: Path) -> dict:
    write_manifest(root, base_product(root, updated="2025-06-01T00:00:00Z"))
    return expect(
        ["bad-timestamps"],
        description="updated < created",
        issues=[{"code": "bad-timestamps", "key": "updated"}],
    )


@case
def pending_without_provenance(root: Path) -> dict:
    write_manifest(root, base_product(root, status="pending"))
    return expect(["missing-provenance"], description="a pending product without provenance")


@case
def two_main_files(root: Path) -> dict:
    data = base_product(root)
    write_table(sample_frame(), root / "products" / BASE / "copy.csv", "csv")
    data["files"].append(entry(root, BASE, "copy.csv", "main", "csv"))
    write_manifest(root, data)
    return expect(["main-file-count"], description="two files with role main")


@case
def no_main_file(root: Path) -> dict:
    data = base_product(root)
    data["files"][0]["role"] = "auxiliary"
    write_manifest(root, data)
    return expect(["main-file-count"], description="no file with role main")


@case
def unknown_ucd(root: Path) -> dict:
    data = base_product(root)
    data["columns"]["z"]["ucd"] = "src.redshfit"
    write_manifest(root, data)
    return expect(
        ["unknown-ucd"],
        exit=0,
        description="a misspelt UCD (warning only)",
        issues=[{"code": "unknown-ucd", "key": "columns.z.ucd"}],
    )


@case
def unknown_column_role_column(root: Path) -> dict:
    data = manifest(
        1,
        "Base sample",
        BASE,
        "redshift_catalog",
        [
            {
                "role": "main",
                "url": "https://data.example.org/pz/sample.parquet",
                "format": "parquet",
                "n_rows": 5,
                "columns": [{"name": n, "dtype": "float64"} for n in ("ra", "dec", "z")],
            }
        ],
        columns={"ra": "ra", "dec": "dec", "z": "redshift"},
    )
    write_manifest(root, data)
    return expect(
        ["unknown-column-role-column"],
        description="external main file: z associated with a column it does not declare",
        issues=[{"code": "unknown-column-role-column", "key": "columns.z"}],
    )


@case
def catalog_config_invalid(root: Path) -> dict:
    write_manifest(root, base_product(root))
    (root / "catalog.yaml").write_text("name: broken\nproduct_types: []\n", encoding="utf-8")
    return expect(["catalog-config"], exit=2, description="catalog.yaml misses required keys")


@case
def role_not_allowed(root: Path) -> dict:
    write_manifest(root, base_product(root))
    config = yaml.safe_load((HERE / "_base" / "catalog.yaml").read_text(encoding="utf-8"))
    rc = next(t for t in config["product_types"] if t["name"] == "redshift_catalog")
    rc["allowed_roles"] = ["id", "ra", "dec", "z", "z_err", "z_flag"]
    (root / "catalog.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False, width=100), encoding="utf-8"
    )
    return expect(
        ["role-not-allowed"],
        description="catalog.yaml allows a redshift_catalog no survey role",
        issues=[{"code": "role-not-allowed", "key": "columns.survey"}],
    )


one_change(
    "format_not_allowed",
    "format-not-allowed",
    "files",
    "a redshift_catalog (a tabular type) whose main file is format other",
    set_key("files.0.format", "other"),
)


# -- git cases -------------------------------------------------------------------------------------


def _git_case(root: Path, before: dict | None, after: dict, author: str) -> dict[str, Any]:
    if before is not None:
        write_manifest(root / "base", before)
    write_manifest(root, after)
    return {"git": {"base": "base", "changed_since": "HEAD", "author": author}}


@case
def official_set_by_non_admin(root: Path) -> dict:
    before = base_product(root)
    after = copy.deepcopy(before)
    after.update(official=True, version=2, updated="2026-02-01T00:00:00Z")
    setup = _git_case(root, before, after, author="random-user")
    return expect(
        ["official-not-admin"],
        description="official changed by a non-admin",
        setup=setup,
        issues=[{"code": "official-not-admin", "key": "official"}],
    )


@case
def official_new_product_by_non_admin(root: Path) -> dict:
    after = base_product(root, official=True)
    setup = _git_case(root, None, after, author="random-user")
    return expect(
        ["official-not-admin"],
        description="a new product marked official by a non-admin",
        setup=setup,
    )


@case
def version_not_bumped(root: Path) -> dict:
    before = base_product(root)
    after = copy.deepcopy(before)
    after["description"] = "A corpus case, with a changed description."
    setup = _git_case(root, before, after, author="corpus-admin")
    return expect(
        ["version-not-bumped"],
        description="description changed, version kept",
        setup=setup,
        issues=[{"code": "version-not-bumped", "key": "version"}],
    )


@case
def git_bad_ref(root: Path) -> dict:
    data = base_product(root)
    setup = _git_case(root, data, data, author="corpus-admin")
    setup["git"]["changed_since"] = "no-such-ref"
    return expect(
        ["git-unavailable"], exit=2, description="--changed-since names no commit", setup=setup
    )


# -- file cases ------------------------------------------------------------------------------------


@case
def file_location_both(root: Path) -> dict:
    data = base_product(root)
    data["files"][0]["url"] = "https://data.example.org/sample.csv"
    write_manifest(root, data)
    return expect(
        ["file-location"],
        description="a file with both path and url",
        also=["undeclared-file"],
        issues=[{"code": "file-location", "key": "files.0"}],
    )


one_change(
    "file_location_none",
    "file-location",
    "files.1",
    "a file with neither path nor url",
    add_file({"role": "auxiliary", "format": "other"}),
)


@case
def bad_url(root: Path) -> dict:
    data = base_product(root)
    data["files"].append(
        {"role": "auxiliary", "url": "ftp://data.example.org/notes.txt", "format": "other"}
    )
    write_manifest(root, data)
    return expect(
        ["bad-url"], description="an ftp:// url", issues=[{"code": "bad-url", "key": "files.1.url"}]
    )


one_change(
    "path_absolute",
    "path-absolute",
    "files.1.path",
    "an absolute path",
    add_file({"role": "auxiliary", "path": "/etc/passwd", "format": "other"}),
)


@case
def path_traversal(root: Path) -> dict:
    data = base_product(root)
    data["files"].append(
        {"role": "auxiliary", "path": f"products/{BASE}/../../catalog.yaml", "format": "other"}
    )
    write_manifest(root, data)
    return expect(
        ["path-traversal"],
        description="a path with ..",
        issues=[{"code": "path-traversal", "key": "files.1.path"}],
    )


@case
def path_outside_product(root: Path) -> dict:
    data = base_product(root)
    other = base_product(root, internal="2_other_sample", pid=2, name="Other sample")
    write_manifest(root, other)
    data["files"].append(
        {"role": "auxiliary", "path": "products/2_other_sample/sample.csv", "format": "csv"}
    )
    write_manifest(root, data)
    return expect(
        ["path-outside-product"],
        description="a file of another product",
        issues=[{"code": "path-outside-product", "key": "files.1.path"}],
    )


@case
def symlink_escape(root: Path) -> dict:
    write_table(sample_frame(), root / "outside" / "sample.csv", "csv")
    size, digest = path_digest(root / "outside" / "sample.csv")
    data = manifest(
        1,
        "Base sample",
        BASE,
        "redshift_catalog",
        [
            {
                "role": "main",
                "path": f"products/{BASE}/sample.csv",
                "format": "csv",
                "size": size,
                "sha256": digest,
            }
        ],
    )
    write_manifest(root, data)
    return expect(
        ["symlink-escape"],
        description="the main file is a link to outside its folder",
        also=["undeclared-file"],
        setup={"symlinks": [{"link": f"products/{BASE}/sample.csv", "to": "outside/sample.csv"}]},
    )


@case
def symlink_product_dir(root: Path) -> dict:
    write_table(sample_frame(), root / "elsewhere" / "sample.csv", "csv")
    size, digest = path_digest(root / "elsewhere" / "sample.csv")
    data = manifest(
        1,
        "Base sample",
        BASE,
        "redshift_catalog",
        [
            {
                "role": "main",
                "path": f"products/{BASE}/sample.csv",
                "format": "csv",
                "size": size,
                "sha256": digest,
            }
        ],
    )
    write_manifest(root, data)
    return expect(
        ["symlink-escape"],
        description="the product folder is a link to outside",
        also=["undeclared-file"],
        setup={"symlinks": [{"link": f"products/{BASE}", "to": "elsewhere"}]},
    )


@case
def file_missing(root: Path) -> dict:
    data = base_product(root)
    (root / "products" / BASE / "sample.csv").unlink()
    (root / "products" / BASE / ".keep").write_text("")
    write_manifest(root, data)
    return expect(
        ["file-missing"],
        description="the main file is not there",
        issues=[{"code": "file-missing", "key": "files.0.path"}],
    )


@case
def not_regular_file(root: Path) -> dict:
    data = base_product(root)
    target = root / "products" / BASE / "sample.csv"
    target.unlink()
    target.mkdir()
    (target / "part-0.csv").write_text("id,ra\n1,2\n")
    write_manifest(root, data)
    return expect(["not-regular-file"], description="the main csv is a folder")


@case
def hats_symlink_outside(root: Path) -> dict:
    cat = root / "products" / BASE / "cat"
    (cat / "hats.properties").parent.mkdir(parents=True)
    (cat / "hats.properties").write_text("obs_collection=cat\ndataproduct_type=object\n")
    write_table(
        sample_frame(), cat / "dataset" / "Norder=0" / "Dir=0" / "Npix=0.parquet", "parquet"
    )
    write_table(sample_frame(), root / "outside" / "secret.parquet", "parquet")
    f = entry(root, BASE, "cat", "main", "hats", read=False)
    write_manifest(root, manifest(1, "Base sample", BASE, "redshift_catalog", [f]))
    return expect(
        ["symlink-escape"],
        description="a HATS leaf that links to a Parquet file "
        "outside the product (its rows must never be published)",
        setup={
            "symlinks": [
                {
                    "link": f"products/{BASE}/cat/dataset/Norder=0/Dir=0/Npix=1.parquet",
                    "to": "outside/secret.parquet",
                }
            ]
        },
    )


@case
def csv_too_many_columns(root: Path) -> dict:
    wide = sample_frame()
    extra = pd.DataFrame({f"c{i}": np.zeros(5, dtype="int8") for i in range(2_500)})
    data = base_product(root, df=pd.concat([wide, extra], axis=1), read=False)
    write_manifest(root, data)
    return expect(["too-many-columns"], description="2,507 columns: over SQLite's 2,000")


@case
def csv_nul_in_header(root: Path) -> dict:
    data = base_product(root, read=False)
    path = root / "products" / BASE / "sample.csv"
    path.write_bytes(path.read_bytes().replace(b"survey", b"sur\x00vey", 1))
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(["bad-column-name"], description="a NUL byte in a column name")


@case
def hdf5_declared_huge(root: Path) -> dict:
    import h5py

    data = base_product(root, fmt="hdf5", read=False)
    path = root / "products" / BASE / "sample.hdf5"
    path.unlink()
    with h5py.File(path, "w") as fh:  # 10**11 rows declared, no chunk ever written
        for name in ("ra", "dec", "z"):
            fh.create_dataset(name, shape=(10**11,), dtype="f8", chunks=(4096,))
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["decompression-bomb"],
        description="a few KB of HDF5 declaring 10**11-row "
        "datasets (reading would yield fill values for ever)",
    )


@case
def hats_not_a_folder(root: Path) -> dict:
    data = base_product(root, fmt="parquet")
    data["files"][0]["format"] = "hats"
    write_manifest(root, data)
    return expect(["not-regular-file"], description="format hats on a plain file")


@case
def size_mismatch(root: Path) -> dict:
    data = base_product(root)
    data["files"][0]["size"] += 1
    write_manifest(root, data)
    return expect(["size-mismatch"], description="size differs from the file")


@case
def checksum_mismatch(root: Path) -> dict:
    data = base_product(root)
    path = root / "products" / BASE / "sample.csv"
    text = path.read_text().replace("0.52", "0.53")
    path.write_text(text)
    write_manifest(root, data)
    return expect(
        ["checksum-mismatch"],
        description="a value edited after the manifest was written",
        issues=[{"code": "checksum-mismatch", "key": "files.0.sha256"}],
    )


@case
def file_too_large(root: Path) -> dict:
    data = base_product(root)
    text = (
        (HERE / "_base" / "catalog.yaml")
        .read_text()
        .replace("max_file_bytes: 52428800", "max_file_bytes: 100")
    )
    assert "max_file_bytes: 100\n" in text
    (root / "catalog.yaml").write_text(text)
    write_manifest(root, data)
    return expect(["file-too-large"], description="over a 100-byte limit set in catalog.yaml")


@case
def lfs_pointer(root: Path) -> dict:
    data = base_product(root, fmt="parquet")
    (root / "products" / BASE / "sample.parquet").write_bytes(LFS_POINTER)
    write_manifest(root, data)
    return expect(["lfs-pointer"], description="a Git LFS pointer instead of the Parquet file")


@case
def undeclared_file(root: Path) -> dict:
    write_manifest(root, base_product(root))
    (root / "products" / BASE / "notes.txt").write_text("scratch\n")
    return expect(["undeclared-file"], exit=0, description="an extra file in the product folder")


@case
def orphan_product_dir(root: Path) -> dict:
    write_manifest(root, base_product(root))
    (root / "products" / "99_nobody").mkdir(parents=True)
    (root / "products" / "99_nobody" / "data.csv").write_text("a\n1\n")
    return expect(["orphan-product-dir"], exit=0, description="products/99_nobody has no manifest")


# -- table cases -----------------------------------------------------------------------------------


@case
def truncated_parquet(root: Path) -> dict:
    data = base_product(root, fmt="parquet")
    path = root / "products" / BASE / "sample.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["truncated-parquet"],
        description="the Parquet footer is cut off",
        issues=[
            {
                "code": "truncated-parquet",
                "key": "files.0.format",
                "file": f"products/{BASE}/sample.parquet",
            }
        ],
    )


@case
def parquet_garbage(root: Path) -> dict:
    data = base_product(root, fmt="parquet")
    path = root / "products" / BASE / "sample.parquet"
    raw = bytearray(path.read_bytes())
    raw[4 : len(raw) - 200] = bytes(len(raw) - 204)
    path.write_bytes(bytes(raw))
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(["truncated-parquet"], description="Parquet pages zeroed (footer intact)")


@case
def corrupt_fits(root: Path) -> dict:
    data = base_product(root, fmt="fits")
    path = root / "products" / BASE / "sample.fits"
    raw = path.read_bytes()
    path.write_bytes(raw[:2880] + b"\x00garbage" * 100)
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(["corrupt-fits"], description="the table HDU is replaced by garbage")


@case
def fits_without_table(root: Path) -> dict:
    from astropy.io import fits

    data = base_product(root, fmt="fits")
    path = root / "products" / BASE / "sample.fits"
    fits.PrimaryHDU(np.zeros((4, 4), dtype="float32")).writeto(path, overwrite=True)
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(["corrupt-fits"], description="a FITS image, no table HDU")


@case
def hdf5_without_table(root: Path) -> dict:
    import h5py

    data = base_product(root, fmt="hdf5")
    path = root / "products" / BASE / "sample.hdf5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("image", data=np.zeros((4, 4)))
        fh.create_dataset("ra", data=np.arange(3.0))
        fh.create_dataset("dec", data=np.arange(5.0))
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(["hdf5-no-table"], description="an image and columns of unequal length")


class _PrintOnLoad:
    """Unpickles to a harmless call of print: stands for a payload that would run code."""

    def __reduce__(self):
        return (print, ("pzcat corpus: this pickle ran code",))


@case
def hdf5_pickle_in_attribute(root: Path) -> dict:
    import pickle

    import h5py

    data = base_product(root, fmt="hdf5")
    path = root / "products" / BASE / "sample.hdf5"
    with h5py.File(path, "a") as fh:
        del fh["data"].attrs["non_index_axes"]
        fh["data"].attrs["non_index_axes"] = np.bytes_(pickle.dumps(_PrintOnLoad(), protocol=0))
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["unreadable-table"],
        description="a pandas HDF5 table whose attribute is a "
        "pickle calling code (PyTables would unpickle it on read)",
    )


@case
def hdf5_not_hdf5(root: Path) -> dict:
    data = base_product(root)
    data["files"][0]["format"] = "hdf5"
    write_manifest(root, data)
    return expect(["unreadable-table"], description="a CSV file declared as hdf5")


@case
def ragged_csv_too_many(root: Path) -> dict:
    data = base_product(root)
    path = root / "products" / BASE / "sample.csv"
    lines = path.read_text().splitlines()
    lines[3] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["ragged-csv"],
        description="a row with one field too many",
        issues=[{"code": "ragged-csv", "rows": [3], "file": f"products/{BASE}/sample.csv"}],
    )


@case
def ragged_csv_too_few(root: Path) -> dict:
    data = base_product(root)
    path = root / "products" / BASE / "sample.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 2)[0]
    path.write_text("\n".join(lines) + "\n")
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["ragged-csv"],
        description="a row with two fields too few",
        issues=[{"code": "ragged-csv", "rows": [2]}],
    )


@case
def empty_table_csv(root: Path) -> dict:
    data = base_product(root)
    path = root / "products" / BASE / "sample.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    data["files"][0].update(zip(("size", "sha256"), path_digest(path), strict=True))
    write_manifest(root, data)
    return expect(
        ["empty-table"],
        description="a CSV with a header and no rows",
        also=["n-rows-mismatch", "columns-mismatch"],
    )


@case
def empty_table_parquet(root: Path) -> dict:
    data = base_product(root, fmt="parquet", df=sample_frame().iloc[:0], read=False)
    data["files"][0]["format"] = "parquet"
    write_manifest(root, data)
    return expect(
        ["empty-table"], description="a Parquet file with no rows", also=["columns-mismatch"]
    )


@case
def missing_column(root: Path) -> dict:
    data = base_product(root)
    data["columns"]["z_err"]["column"] = "zerr_total"
    write_manifest(root, data)
    return expect(
        ["missing-column"],
        description="z_err associated with a column not in the file",
        issues=[{"code": "missing-column", "column": "zerr_total", "key": "columns.z_err"}],
    )


one_change(
    "missing_required_column",
    "missing-required-column",
    "columns",
    "a redshift_catalog without z",
    columns={"id": "id", "ra": "ra", "dec": "dec"},
)


@case
def non_numeric_ra(root: Path) -> dict:
    df = sample_frame()
    df["ra"] = ["00:42:00", "10:00:24", "13:20:00", "23:59:36", "00:00:00"]
    write_manifest(root, base_product(root, df=df))
    return expect(
        ["non-numeric-column"],
        description="RA in sexagesimal text",
        issues=[{"code": "non-numeric-column", "column": "ra"}],
    )


@case
def ra_out_of_range(root: Path) -> dict:
    df = sample_frame()
    df.loc[1, "ra"] = 360.5
    df.loc[2, "ra"] = 360.0  # valid: RA in [0, 360] (pzcat.vocab)
    df.loc[3, "ra"] = -5.0
    write_manifest(root, base_product(root, df=df))
    return expect(
        ["bad-ra-range"],
        description="RA 360.5 and -5 (CSV); 360 is valid",
        issues=[{"code": "bad-ra-range", "column": "ra", "rows": [2, 4]}],
    )


@case
def ra_out_of_range_fits(root: Path) -> dict:
    df = sample_frame()
    df.loc[4, "ra"] = 720.0
    write_manifest(root, base_product(root, fmt="fits", df=df))
    return expect(
        ["bad-ra-range"],
        description="RA 720 (FITS)",
        issues=[{"code": "bad-ra-range", "column": "ra", "rows": [5]}],
    )


@case
def dec_out_of_range(root: Path) -> dict:
    df = sample_frame()
    df.loc[0, "dec"] = -90.5
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["bad-dec-range"],
        description="Dec -90.5 (Parquet)",
        issues=[{"code": "bad-dec-range", "column": "dec", "rows": [1]}],
    )


@case
def nan_ra(root: Path) -> dict:
    df = sample_frame()
    df.loc[2, "ra"] = np.nan
    write_manifest(root, base_product(root, fmt="fits", df=df))
    return expect(
        ["null-coordinate"],
        description="a NaN RA (FITS)",
        issues=[{"code": "null-coordinate", "column": "ra", "rows": [3]}],
    )


@case
def null_dec_csv(root: Path) -> dict:
    df = sample_frame()
    df.loc[4, "dec"] = np.nan
    write_manifest(root, base_product(root, df=df))
    return expect(
        ["null-coordinate"],
        description="an empty Dec field (CSV)",
        issues=[{"code": "null-coordinate", "column": "dec", "rows": [5]}],
    )


@case
def nan_redshift(root: Path) -> dict:
    df = sample_frame()
    df["z"] = [np.nan, np.inf, np.nan, np.nan, np.nan]
    write_manifest(root, base_product(root, fmt="hdf5", df=df, filename="sample.h5"))
    return expect(
        ["nan-redshift"],
        description="no row has a finite redshift (HDF5 pandas table)",
        issues=[{"code": "nan-redshift", "column": "z", "rows": [1, 2, 3, 4, 5]}],
    )


@case
def hdf5_pandas3_only(root: Path) -> dict:
    internal = BASE
    write_table(
        sample_frame(), root / "products" / internal / "sample.h5", "hdf5", pandas3_only=True
    )
    f = entry(root, internal, "sample.h5", "main", "hdf5")
    write_manifest(root, manifest(1, "Base sample", internal, "redshift_catalog", [f]))
    return expect(
        ["hdf5-needs-pandas3"],
        exit=0,
        description="a pandas table written by pandas 3 (no pandas_version): pandas 2 "
        "cannot read it",
    )


@case
def hdf5_pandas_table_in_hdf5_file(root: Path) -> dict:
    write_manifest(root, base_product(root, fmt="hdf5"))
    return expect(
        ["hdf5-not-for-tables-io"],
        exit=0,
        description="a pandas table in a .hdf5 file: tables_io (the pzserver client) reads .hdf5 "
        "files as h5py column datasets and gets the table's blocks",
    )


@case
def partial_nan_redshift(root: Path) -> dict:
    df = sample_frame()
    df.loc[1, "z"] = np.nan
    df.loc[2, "z"] = np.inf
    write_manifest(root, base_product(root, fmt="hdf5", df=df, filename="sample.h5"))
    return expect(
        ["missing-redshift"],
        exit=0,
        description="two rows without a redshift: a warning, the rows are kept",
        issues=[{"code": "missing-redshift", "column": "z", "rows": [2, 3], "count": 2}],
    )


@case
def sentinel_redshift_minus_one(root: Path) -> dict:
    df = sample_frame()
    df.loc[[0, 3], "z"] = -1.0  # JADES, MOSDEF, 3D-HST write "no redshift" as -1
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["sentinel-values"],
        exit=0,
        description="z = -1 placeholders (Parquet)",
        issues=[{"code": "sentinel-values", "column": "z", "rows": [1, 4], "count": 2}],
    )


@case
def sentinel_redshift_vvds(root: Path) -> dict:
    df = sample_frame()
    df.loc[2, "z"] = 9.9999  # VVDS
    df.loc[4, "z"] = -9.0  # ELAIS, 2dFGRS
    write_manifest(root, base_product(root, fmt="fits", df=df))
    return expect(
        ["sentinel-values"],
        exit=0,
        description="z = 9.9999 and -9 placeholders (FITS)",
        issues=[{"code": "sentinel-values", "column": "z", "rows": [3, 5]}],
    )


@case
def all_sentinel_redshift(root: Path) -> dict:
    df = sample_frame()
    df["z"] = [-99.0, -99.0, -999.0, -99.0, 999.0]
    write_manifest(root, base_product(root, df=df))
    return expect(
        ["nan-redshift", "sentinel-values"],
        description="every redshift is a placeholder: no usable z",
        issues=[{"code": "nan-redshift", "column": "z"}],
    )


@case
def sentinel_z_err(root: Path) -> dict:
    df = sample_frame()
    df.loc[1, "z_err"] = -99.0  # not a negative error: a placeholder
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["sentinel-values"],
        exit=0,
        description="z_err = -99 placeholder",
        issues=[{"code": "sentinel-values", "column": "z_err", "rows": [2]}],
    )


@case
def sentinel_z_flag(root: Path) -> dict:
    df = sample_frame()
    df.loc[0, "z_flag"] = -99
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["sentinel-values"],
        exit=0,
        description="z_flag = -99 placeholder",
        issues=[{"code": "sentinel-values", "column": "z_flag", "rows": [1]}],
    )


@case
def sentinel_magnitudes(root: Path) -> dict:
    df = sample_frame()
    df["mag_r"] = [21.3, 99.99, 22.0, -99.9, 23.5]  # VVDS-style missing magnitudes
    df["MAG_I"] = [20.1, 20.5, -99.0, 21.0, 99.0]
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["sentinel-values"],
        exit=0,
        description="magnitudes 99.99, -99.9, -99 and 99",
        issues=[
            {"code": "sentinel-values", "column": "mag_r", "rows": [2, 4]},
            {"code": "sentinel-values", "column": "MAG_I", "rows": [3, 5]},
        ],
    )


@case
def missing_z_err(root: Path) -> dict:
    df = sample_frame()
    df.loc[2, "z_err"] = np.nan
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["missing-values"],
        exit=0,
        description="one row without z_err",
        issues=[{"code": "missing-values", "column": "z_err", "rows": [3]}],
    )


@case
def empty_z_flag(root: Path) -> dict:
    df = sample_frame()
    df["z_flag"] = np.nan
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["no-values"],
        description="the associated z_flag column is empty",
        issues=[{"code": "no-values", "column": "z_flag"}],
    )


def _csv_bytes(root: Path, data: bytes, name: str = "sample.csv") -> dict:
    """A base product whose CSV holds exactly ``data``."""
    folder = root / "products" / BASE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    f = entry(root, BASE, name, "main", "csv", read=False)
    f["format"] = "csv"
    cols = {r: r for r in ("id", "ra", "dec", "z")}
    return manifest(1, "Base sample", BASE, "redshift_catalog", [f], cols)


@case
def csv_comment_lines(root: Path) -> dict:
    text = (
        "# VVDS sample, reduced\n# columns: id ra dec z\nid,ra,dec,z\n1,10.5,-30.0,0.1\n"
        "# a note in the middle\n2,150.1,2.2,0.52\n"
    )
    write_manifest(root, _csv_bytes(root, text.encode()))
    return expect(
        ["csv-comments"],
        exit=0,
        description="three # comment lines, ignored",
        issues=[{"code": "csv-comments", "count": 3}],
    )


@case
def csv_latin1(root: Path) -> dict:
    text = "id,ra,dec,z,field\n1,10.5,-30.0,0.1,Bo\u00f6tes\n2,150.1,2.2,0.52,Bo\u00f6tes\n"
    write_manifest(root, _csv_bytes(root, text.encode("latin-1")))
    return expect(["csv-not-utf8"], exit=0, description="a Latin-1 CSV: read, with a warning")


@case
def csv_utf16(root: Path) -> dict:
    text = "id,ra,dec,z\n1,10.5,-30.0,0.1\n2,150.1,2.2,0.52\n"
    write_manifest(root, _csv_bytes(root, text.encode("utf-16")))
    return expect(
        ["csv-encoding"],
        description="a UTF-16 CSV (as Excel writes 'Unicode text')",
        issues=[{"code": "csv-encoding"}],
    )


@case
def negative_z_err(root: Path) -> dict:
    df = sample_frame()
    df.loc[3, "z_err"] = -0.01
    write_manifest(root, base_product(root, fmt="h5compound", df=df))
    return expect(
        ["bad-z-err"],
        description="a negative z_err (HDF5 compound dataset)",
        issues=[{"code": "bad-z-err", "column": "z_err", "rows": [4]}],
    )


@case
def z_flag_homogenized_vocab(root: Path) -> dict:
    df = sample_frame()
    df["z_flag_homogenized"] = np.array([4, 5, 3, 4, 7], dtype="int64")
    write_manifest(root, base_product(root, fmt="parquet", df=df))
    return expect(
        ["bad-z-flag-homogenized"],
        description="z_flag_homogenized 5 and 7",
        issues=[{"code": "bad-z-flag-homogenized", "column": "z_flag_homogenized", "rows": [2, 5]}],
    )


@case
def type_homogenized_vocab(root: Path) -> dict:
    df = sample_frame()
    df["type_homogenized"] = ["s", "s", "x", "g", "spec"]
    write_manifest(root, base_product(root, df=df))
    return expect(
        ["bad-type-homogenized"],
        description="type_homogenized x and spec",
        issues=[{"code": "bad-type-homogenized", "column": "type_homogenized", "rows": [3, 5]}],
    )


one_change(
    "n_rows_mismatch",
    "n-rows-mismatch",
    "files.0.n_rows",
    "n_rows 6 for 5 rows",
    set_key("files.0.n_rows", 6),
)


one_change(
    "columns_mismatch",
    "columns-mismatch",
    "files.0.columns",
    "a column renamed in the manifest only",
    set_key("files.0.columns.6.name", "survey_name"),
)


@case
def semicolon_csv_with_text_in_z(root: Path) -> dict:
    df = sample_frame()
    df["z"] = df["z"].astype("str")
    df.loc[3, "z"] = "unknown"
    internal = BASE
    write_table(df, root / "products" / internal / "sample.csv", "csv", sep=";")
    f = entry(root, internal, "sample.csv", "main", "csv")
    write_manifest(root, manifest(1, "Base sample", internal, "redshift_catalog", [f]))
    return expect(
        ["non-numeric-column"],
        description="';'-delimited CSV with text in z",
        issues=[{"code": "non-numeric-column", "column": "z"}],
    )


# -- description cases -----------------------------------------------------------------------------


@case
def html_script(root: Path) -> dict:
    data = base_product(root)
    html = root / "products" / BASE / "report.html"
    html.write_text("<html><body><h1>Report</h1><script>alert(1)</script></body></html>\n")
    data["files"].append(entry(root, BASE, "report.html", "description", read=False))
    write_manifest(root, data)
    return expect(["html-script"], exit=0, description="an HTML description with a script")


@case
def html_event_handler(root: Path) -> dict:
    data = base_product(root)
    html = root / "products" / BASE / "report.html"
    html.write_text('<html><body><img src="x.png" onerror="steal()"></body></html>\n')
    data["files"].append(entry(root, BASE, "report.html", "description", read=False))
    write_manifest(root, data)
    return expect(["html-script"], exit=0, description="an HTML description with onerror=")


@case
def html_encoded_script_url(root: Path) -> dict:
    data = base_product(root)
    html = root / "products" / BASE / "report.html"
    html.write_text(
        "<html><body><p>The javascript: scheme is mentioned here, harmlessly.</p>\n"
        '<a href="&#106;avascript&#58;alert(1)">results</a></body></html>\n'
    )
    data["files"].append(entry(root, BASE, "report.html", "description", read=False))
    write_manifest(root, data)
    return expect(
        ["html-script"],
        exit=0,
        description="a javascript: link written with character references (a browser decodes "
        "them; the sanitiser removes the link)",
    )


@case
def description_not_utf8(root: Path) -> dict:
    data = base_product(root)
    md = root / "products" / BASE / "README.md"
    md.write_bytes("# Échantillon\nDonnées réduites à Marseille.\n".encode("latin-1"))
    data["files"].append(entry(root, BASE, "README.md", "description", read=False))
    write_manifest(root, data)
    return expect(["unreadable-description"], description="a Latin-1 Markdown description")


# -- driver ----------------------------------------------------------------------------------------


def build(out: Path) -> list[str]:
    """Write every case under ``out`` (replacing existing case folders) and return their names."""
    out.mkdir(parents=True, exist_ok=True)
    base = out / "_base"
    if out.resolve() != HERE:
        shutil.copytree(HERE / "_base", base, dirs_exist_ok=True)
    for name, builder in CASES.items():
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        expected = builder(folder)
        (folder / "expected.yaml").write_text(
            yaml.safe_dump(expected, sort_keys=False, width=100), encoding="utf-8"
        )
    return list(CASES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    names = build(args.out)
    print(f"wrote {len(names)} cases to {args.out}")


if __name__ == "__main__":
    main()

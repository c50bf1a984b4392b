"""The stable codes of every problem pzcat reports.

Tests assert codes, never prose. The documentation page listing the codes is generated from
:data:`CODES` (``pzcat codes --format markdown``), so the docs cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """One stable problem code.

    Attributes
    ----------
    code : str
        The kebab-case identifier.
    severity : {"error", "warning"}
        Errors make a report invalid; warnings do not.
    group : str
        What is checked: ``manifest``, ``file``, ``table``, ``description``, ``catalog``, ``run``.
    title : str
        One line saying what is wrong.
    fix : str
        One line saying how to fix it.
    """

    code: str
    severity: Severity
    group: str
    title: str
    fix: str


_ALL = [
    # catalog-wide
    Code("catalog-config", "error", "catalog", "catalog.yaml is missing or invalid",
         "Fix catalog.yaml at the repository root; `pzcat validate` names the key."),
    Code("duplicate-id", "error", "catalog", "Two manifests use the same id",
         "Ids are never reused: give the newer product the next free id (`pzcat add` allocates it)."),
    Code("duplicate-internal-name", "error", "catalog", "Two manifests use the same internal_name",
         "Rename one product; internal_name is the key of the product everywhere."),
    Code("orphan-product-dir", "warning", "catalog", "A folder under products/ belongs to no manifest",
         "Remove the folder or add the manifest that owns it."),
    Code("product-not-found", "error", "catalog", "No product has this id or internal_name",
         "Run `pzcat list` to see the products."),
    Code("git-unavailable", "error", "catalog", "Git could not answer (not a repository or bad ref)",
         "Run inside the repository and pass an existing ref to --changed-since."),
    # manifest
    Code("yaml-syntax", "error", "manifest", "The manifest is not valid YAML",
         "Fix the YAML syntax at the line given (indentation, quotes, colons)."),
    Code("manifest-not-mapping", "error", "manifest", "The manifest is not a YAML mapping",
         "A manifest is a mapping of keys such as id, name, product_type, files."),
    Code("schema-version", "error", "manifest", "Unsupported schema_version",
         "Set schema_version: 1."),
    Code("missing-key", "error", "manifest", "A required key is missing",
         "Add the key; see the manifest reference in the docs or manifest.schema.json."),
    Code("unknown-key", "error", "manifest", "A key is not part of the manifest schema",
         "Remove the key or fix its spelling; free-form notes belong in description."),
    Code("bad-value", "error", "manifest", "A value has the wrong type or form",
         "Use the type the schema gives for this key (integer, string, date-time, list...)."),
    Code("unknown-product-type", "error", "manifest", "product_type is not one of the catalog's types",
         "Use a product type listed in catalog.yaml (e.g. redshift_catalog, training_set)."),
    Code("unknown-release", "error", "manifest", "release is not one of the catalog's releases",
         "Use a release listed in catalog.yaml, or leave release empty."),
    Code("unknown-format", "error", "manifest", "A file's format is not in the vocabulary",
         "Use one of csv, fits, hdf5, parquet, hats, other."),
    Code("unknown-file-role", "error", "manifest", "A file's role is not main, description or auxiliary",
         "Set role to main, description or auxiliary."),
    Code("unknown-ucd", "warning", "manifest", "A UCD is not in the IVOA UCD1+ words pzcat knows",
         "Use a standard UCD such as pos.eq.ra;meta.main or src.redshift."),
    Code("unknown-status", "error", "manifest", "status is not published, pending or deprecated",
         "Set status to published, pending or deprecated."),
    Code("internal-name-mismatch", "error", "manifest", "internal_name does not equal <id>_<slug of name>",
         "Set internal_name to the value given, or fix id/name."),
    Code("manifest-filename-mismatch", "error", "manifest", "The manifest file is not named <internal_name>.yaml",
         "Rename the file to manifests/<internal_name>.yaml."),
    Code("release-not-allowed", "error", "manifest", "A redshift_catalog must not have a release",
         "Remove release from this Reference Redshift Catalog."),
    Code("pz-code-not-allowed", "error", "manifest", "pz_code must be empty for this product type",
         "Remove pz_code: it applies to photo-z estimates and validation results only."),
    Code("official-not-admin", "error", "manifest", "official was set or changed by someone who is not an admin",
         "Ask an admin listed in catalog.yaml to set official, or set it back."),
    Code("version-not-bumped", "error", "manifest", "Files or metadata changed but version did not increase",
         "Increase version by one (`pzcat edit` does it for you)."),
    Code("main-file-count", "error", "manifest", "A product needs exactly one file with role main",
         "Mark exactly one file as role: main."),
    Code("deprecated-without-reason", "error", "manifest", "A deprecated product has no deprecation_reason",
         "Say why the product is deprecated in deprecation_reason."),
    Code("bad-timestamps", "error", "manifest", "updated is earlier than created",
         "Set updated to a time at or after created."),
    Code("missing-provenance", "error", "manifest", "A pending product has no pipeline provenance",
         "Pending products are pipeline runs: create them with `pzcat combine`."),
    Code("unknown-column-role-column", "error", "manifest", "An associated column is not among the main file's columns",
         "Associate the role with an existing column of the main file (see `pzcat show`)."),
    # files
    Code("file-location", "error", "file", "A file needs exactly one of path or url",
         "Give path for files in the repository, url for external data."),
    Code("bad-url", "error", "file", "An external url is not an http(s) or s3 URL",
         "Give a full URL such as https://host/path/file.parquet."),
    Code("path-absolute", "error", "file", "A file path is absolute",
         "Give the path relative to the repository root: products/<internal_name>/<file>."),
    Code("path-traversal", "error", "file", "A file path contains '..'",
         "Give a plain path under products/<internal_name>/."),
    Code("path-outside-product", "error", "file", "A file is not under products/<internal_name>/",
         "Move the file into products/<internal_name>/ and fix its path."),
    Code("symlink-escape", "error", "file", "A symbolic link points outside products/<internal_name>/",
         "Replace the link by the file itself."),
    Code("not-regular-file", "error", "file", "The path is not a regular file (or a HATS folder)",
         "Point path to a file; only format hats may be a folder."),
    Code("file-missing", "error", "file", "A declared file does not exist",
         "Add the file, or remove it from files (`pzcat detach`)."),
    Code("lfs-pointer", "error", "file", "The file is a Git LFS pointer that was not fetched",
         "Run `git lfs pull` (in CI: checkout with lfs: true)."),
    Code("size-mismatch", "error", "file", "The file size differs from the manifest",
         "If the change is intended, run `pzcat edit --refresh` to record size and sha256 and bump version."),
    Code("checksum-mismatch", "error", "file", "The file's sha256 differs from the manifest",
         "If the change is intended, run `pzcat edit --refresh` to record size and sha256 and bump version."),
    Code("file-too-large", "error", "file", "The file is over the in-repository size limit",
         "Host the file elsewhere and register it by url (`pzcat attach --url`), or ask an admin to raise the limit."),
    Code("undeclared-file", "warning", "file", "A file under products/<internal_name>/ is not in the manifest",
         "Attach it (`pzcat attach`) or remove it."),
    # tables
    Code("unreadable-table", "error", "table", "The file cannot be read in its declared format",
         "Check the format in the manifest and that the file is complete (re-export it)."),
    Code("truncated-parquet", "error", "table", "The Parquet file is truncated or corrupt",
         "Re-export the Parquet file; its footer is missing or damaged."),
    Code("corrupt-fits", "error", "table", "The FITS file is corrupt or has no table HDU",
         "Re-export the FITS file with a binary table in HDU 1."),
    Code("hdf5-no-table", "error", "table", "The HDF5 file holds no table pzcat can read",
         "Write the table with pandas.to_hdf (format table) or as one group of equal-length datasets."),
    Code("ragged-csv", "error", "table", "CSV rows have different numbers of fields",
         "Fix the rows named; every row needs as many fields as the header."),
    Code("empty-table", "error", "table", "The table has no rows or no columns",
         "Upload a table with a header and at least one row."),
    Code("missing-column", "error", "table", "An associated column does not exist in the main file",
         "Fix the column association (`pzcat edit --column ROLE=NAME`) or the file."),
    Code("missing-required-column", "error", "table", "A column required by the product type is not associated",
         "Associate the role (redshift_catalog: ra, dec, z; training_set: z; object_catalog: ra, dec)."),
    Code("non-numeric-column", "error", "table", "A column that must be numeric (ra, dec, z, z_err) is not",
         "Store the column as numbers, without units or text."),
    Code("bad-ra-range", "error", "table", "RA values outside [0, 360) degrees",
         "Give RA in degrees in [0, 360); wrap negative values by adding 360."),
    Code("bad-dec-range", "error", "table", "Dec values outside [-90, 90] degrees",
         "Give Dec in degrees in [-90, 90]."),
    Code("null-coordinate", "error", "table", "RA or Dec is null or NaN",
         "Every row needs a position; remove rows without RA/Dec."),
    Code("nan-redshift", "error", "table", "Redshift values that are NaN or infinite",
         "Remove rows without a redshift or fill them; z must be finite."),
    Code("bad-z-err", "error", "table", "Negative or infinite redshift errors",
         "z_err must be >= 0 (use null when unknown)."),
    Code("bad-z-flag-homogenized", "error", "table", "z_flag_homogenized outside {0,1,2,3,4,6}",
         "Use the homogenized scale: 0 none, 1 <70%, 2 70-90%, 3 90-99%, 4 >99%, 6 star."),
    Code("bad-type-homogenized", "error", "table", "type_homogenized outside {s,g,p}",
         "Use s (spectroscopic), g (grism) or p (photometric)."),
    Code("n-rows-mismatch", "error", "table", "n_rows in the manifest differs from the file",
         "Run `pzcat edit --refresh` to record the file's facts."),
    Code("columns-mismatch", "error", "table", "The columns in the manifest differ from the file",
         "Run `pzcat edit --refresh` to record the file's facts."),
    # description files
    Code("html-script", "warning", "description", "The HTML description holds scripts",
         "Scripts never run: the site shows the description in a sandboxed frame. Remove them."),
    Code("unreadable-description", "error", "description", "The description file is not UTF-8 text",
         "Save the description as UTF-8 HTML, Markdown or text."),
    # commands
    Code("usage", "error", "run", "The command was called with arguments that cannot work",
         "See the command's --help."),
    Code("file-exists", "error", "run", "The target exists already",
         "Choose another name or remove the existing product first."),
    Code("http-error", "error", "run", "A request to the catalog's site or Datasette failed",
         "Check the URL and your token (`pzcat token create`, then token= or $PZCAT_TOKEN)."),
    Code("unknown-format-for-file", "error", "run", "The format of a file cannot be guessed from its name",
         "Pass the format explicitly (--format)."),
]

CODES: dict[str, Code] = {c.code: c for c in _ALL}


def register(code: Code) -> None:
    """Add a code from another part of pzcat (for example the pipeline's)."""
    if code.code in CODES and CODES[code.code] != code:
        raise ValueError(f"code {code.code!r} registered twice with different meanings")
    CODES[code.code] = code


def severity(code: str) -> Severity:
    """Severity of ``code`` (``error`` for codes registered nowhere)."""
    found = CODES.get(code)
    return found.severity if found else "error"


def fix_for(code: str) -> str:
    """The one-line fix of ``code``."""
    found = CODES.get(code)
    return found.fix if found else ""


def codes_markdown() -> str:
    """Render every code as a Markdown table, grouped; used by the docs."""
    lines = ["| code | severity | what is wrong | how to fix |", "| --- | --- | --- | --- |"]
    for c in sorted(CODES.values(), key=lambda c: (c.group, c.code)):
        lines.append(f"| `{c.code}` | {c.severity} | {c.title} | {c.fix} |")
    return "\n".join(lines) + "\n"

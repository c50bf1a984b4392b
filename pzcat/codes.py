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
        What is checked: ``manifest``, ``file``, ``table``, ``description``, ``catalog``, ``run``,
        ``review`` (a change against its base; tested in tests/github), ``github``.
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
    Code(
        "catalog-config",
        "error",
        "catalog",
        "catalog.yaml is missing or invalid",
        "Fix catalog.yaml at the repository root; `pzcat validate` names the key.",
    ),
    Code(
        "duplicate-id",
        "error",
        "catalog",
        "Two manifests use the same id",
        "Ids are never reused: give the newer product the next free id (`pzcat add` allocates it).",
    ),
    Code(
        "duplicate-internal-name",
        "error",
        "catalog",
        "Two manifests use the same internal_name",
        "Rename one product; internal_name is the key of the product everywhere.",
    ),
    Code(
        "orphan-product-dir",
        "warning",
        "catalog",
        "A folder under products/ belongs to no manifest",
        "Remove the folder or add the manifest that owns it.",
    ),
    Code(
        "product-not-found",
        "error",
        "catalog",
        "No product has this id or internal_name",
        "Run `pzcat list` to see the products.",
    ),
    # reviewing a change against its base (pzcat.changes; issue 12)
    Code(
        "product-deleted",
        "error",
        "review",
        "A product that exists on the base branch was deleted",
        "Restore the manifest and its files, then `pzcat deprecate PRODUCT --reason ...`.",
    ),
    Code(
        "admin-only-path",
        "error",
        "review",
        "A file outside manifests/ and products/ was changed by a non-admin",
        "Leave catalog.yaml, tokens/, .github/ and the code as they are, or ask an admin to make the change.",
    ),
    Code(
        "git-unavailable",
        "error",
        "catalog",
        "Git could not answer (not a repository or bad ref)",
        "Run inside the repository and pass an existing ref to --changed-since.",
    ),
    # manifest
    Code(
        "yaml-syntax",
        "error",
        "manifest",
        "The manifest is not valid YAML",
        "Fix the YAML syntax at the line given (indentation, quotes, colons).",
    ),
    # the safe YAML loader (pzcat.safeyaml; issue 11)
    Code(
        "yaml-alias",
        "error",
        "manifest",
        "The YAML uses an alias (*name)",
        "Write the value out instead of referring to an anchor: aliases are refused (YAML bombs).",
    ),
    Code(
        "yaml-too-deep",
        "error",
        "manifest",
        "The YAML nests mappings or lists too deeply",
        "Flatten the structure: at most 64 levels of nesting.",
    ),
    Code(
        "yaml-too-large",
        "error",
        "manifest",
        "The YAML document, a value or a number is over the size limit",
        "Shorten the value (quote a very long number to make it text) or split the document.",
    ),
    Code(
        "manifest-not-mapping",
        "error",
        "manifest",
        "The manifest is not a YAML mapping",
        "A manifest is a mapping of keys such as id, name, product_type, files.",
    ),
    Code(
        "schema-version",
        "error",
        "manifest",
        "Unsupported schema_version",
        "Set schema_version: 1.",
    ),
    Code(
        "missing-key",
        "error",
        "manifest",
        "A required key is missing",
        "Add the key; see the manifest reference in the docs or manifest.schema.json.",
    ),
    Code(
        "unknown-key",
        "error",
        "manifest",
        "A key is not part of the manifest schema",
        "Remove the key or fix its spelling; free-form notes belong in description.",
    ),
    Code(
        "bad-value",
        "error",
        "manifest",
        "A value has the wrong type or form",
        "Use the type the schema gives for this key (integer, string, date-time, list...).",
    ),
    Code(
        "unknown-product-type",
        "error",
        "manifest",
        "product_type is not one of the catalog's types",
        "Use a product type listed in catalog.yaml (e.g. redshift_catalog, training_set).",
    ),
    Code(
        "unknown-release",
        "error",
        "manifest",
        "release is not one of the catalog's releases",
        "Use a release listed in catalog.yaml, or leave release empty.",
    ),
    Code(
        "unknown-format",
        "error",
        "manifest",
        "A file's format is not in the vocabulary",
        "Use one of csv, fits, hdf5, parquet, hats, other.",
    ),
    Code(
        "unknown-file-role",
        "error",
        "manifest",
        "A file's role is not main, description or auxiliary",
        "Set role to main, description or auxiliary.",
    ),
    Code(
        "unknown-ucd",
        "warning",
        "manifest",
        "A UCD is not in the IVOA UCD1+ words pzcat knows",
        "Use a standard UCD such as pos.eq.ra;meta.main or src.redshift.",
    ),
    Code(
        "unknown-status",
        "error",
        "manifest",
        "status is not published, pending or deprecated",
        "Set status to published, pending or deprecated.",
    ),
    Code(
        "internal-name-mismatch",
        "error",
        "manifest",
        "internal_name does not equal <id>_<slug of name>",
        "Set internal_name to the value given, or fix id/name.",
    ),
    Code(
        "manifest-filename-mismatch",
        "error",
        "manifest",
        "The manifest file is not named <internal_name>.yaml",
        "Rename the file to manifests/<internal_name>.yaml.",
    ),
    Code(
        "release-not-allowed",
        "error",
        "manifest",
        "This product type has no release (a redshift_catalog by default; catalog.yaml "
        "product_types[].release)",
        "Remove release from the product.",
    ),
    Code(
        "pz-code-not-allowed",
        "error",
        "manifest",
        "pz_code must be empty for this product type",
        "Remove pz_code: it applies to photo-z estimates and validation results only "
        "(catalog.yaml product_types[].pz_code).",
    ),
    # i8: product-type rules of catalog.yaml
    Code(
        "role-not-allowed",
        "error",
        "manifest",
        "A column role the product type does not allow (catalog.yaml product_types[].allowed_roles)",
        "Remove the association, or add the role to the type's allowed_roles.",
    ),
    Code(
        "format-not-allowed",
        "error",
        "manifest",
        "The main file's format is not one the product type allows (catalog.yaml "
        "product_types[].formats; a tabular type needs a table format)",
        "Convert the main file to an allowed format, or choose another product type.",
    ),
    Code(
        "official-not-admin",
        "error",
        "manifest",
        "official was set or changed by someone who is not an admin",
        "Ask an admin listed in catalog.yaml to set official, or set it back.",
    ),
    Code(
        "version-not-bumped",
        "error",
        "manifest",
        "Files or metadata changed but version did not increase",
        "Increase version by one (`pzcat edit` does it for you).",
    ),
    Code(
        "main-file-count",
        "error",
        "manifest",
        "A product needs exactly one file with role main",
        "Mark exactly one file as role: main.",
    ),
    Code(
        "deprecated-without-reason",
        "error",
        "manifest",
        "A deprecated product has no deprecation_reason",
        "Say why the product is deprecated in deprecation_reason.",
    ),
    Code(
        "bad-timestamps",
        "error",
        "manifest",
        "updated is earlier than created",
        "Set updated to a time at or after created.",
    ),
    Code(
        "missing-provenance",
        "error",
        "manifest",
        "A pending product has no pipeline provenance",
        "Pending products are pipeline runs: create them with `pzcat combine`.",
    ),
    Code(
        "unknown-column-role-column",
        "error",
        "manifest",
        "An associated column is not among the main file's columns",
        "Associate the role with an existing column of the main file (see `pzcat show`).",
    ),
    # files
    Code(
        "file-location",
        "error",
        "file",
        "A file needs exactly one of path or url",
        "Give path for files in the repository, url for external data.",
    ),
    Code(
        "bad-url",
        "error",
        "file",
        "An external url is not an http(s) or s3 URL",
        "Give a full URL such as https://host/path/file.parquet.",
    ),
    Code(
        "path-absolute",
        "error",
        "file",
        "A file path is absolute",
        "Give the path relative to the repository root: products/<internal_name>/<file>.",
    ),
    Code(
        "path-traversal",
        "error",
        "file",
        "A file path contains '..'",
        "Give a plain path under products/<internal_name>/.",
    ),
    Code(
        "path-outside-product",
        "error",
        "file",
        "A file is not under products/<internal_name>/",
        "Move the file into products/<internal_name>/ and fix its path.",
    ),
    Code(
        "symlink-escape",
        "error",
        "file",
        "A symbolic link points outside products/<internal_name>/",
        "Replace the link by the file itself.",
    ),
    Code(
        "not-regular-file",
        "error",
        "file",
        "The path is not a regular file (or a HATS folder)",
        "Point path to a file; only format hats may be a folder.",
    ),
    Code(
        "file-missing",
        "error",
        "file",
        "A declared file does not exist",
        "Add the file, or remove it from files (`pzcat detach`).",
    ),
    Code(
        "lfs-pointer",
        "error",
        "file",
        "The file is a Git LFS pointer that was not fetched",
        "Run `git lfs pull` (in CI: checkout with lfs: true).",
    ),
    Code(
        "size-mismatch",
        "error",
        "file",
        "The file size differs from the manifest",
        "If the change is intended, run `pzcat edit --refresh` to record size and sha256 and bump version.",
    ),
    Code(
        "checksum-mismatch",
        "error",
        "file",
        "The file's sha256 differs from the manifest",
        "If the change is intended, run `pzcat edit --refresh` to record size and sha256 and bump version.",
    ),
    Code(
        "file-too-large",
        "error",
        "file",
        "The file is over the in-repository size limit",
        "Host the file elsewhere and register it by url (`pzcat attach --url`), or ask an admin to raise the limit.",
    ),
    Code(
        "undeclared-file",
        "warning",
        "file",
        "A file under products/<internal_name>/ is not in the manifest",
        "Attach it (`pzcat attach`) or remove it.",
    ),
    # tables
    Code(
        "unreadable-table",
        "error",
        "table",
        "The file cannot be read in its declared format",
        "Check the format in the manifest and that the file is complete (re-export it).",
    ),
    Code(
        "truncated-parquet",
        "error",
        "table",
        "The Parquet file is truncated or corrupt",
        "Re-export the Parquet file; its footer is missing or damaged.",
    ),
    Code(
        "corrupt-fits",
        "error",
        "table",
        "The FITS file is corrupt or has no table HDU",
        "Re-export the FITS file with a binary table in HDU 1.",
    ),
    Code(
        "hdf5-no-table",
        "error",
        "table",
        "The HDF5 file holds no table pzcat can read",
        "Write the table with pandas.to_hdf (format table) or as one group of equal-length datasets.",
    ),
    Code(
        "ragged-csv",
        "error",
        "table",
        "CSV rows have different numbers of fields",
        "Fix the rows named; every row needs as many fields as the header.",
    ),
    Code(
        "empty-table",
        "error",
        "table",
        "The table has no rows or no columns",
        "Upload a table with a header and at least one row.",
    ),
    Code(
        "missing-column",
        "error",
        "table",
        "An associated column does not exist in the main file",
        "Fix the column association (`pzcat edit --column ROLE=NAME`) or the file.",
    ),
    Code(
        "missing-required-column",
        "error",
        "table",
        "A column required by the product type is not associated",
        "Associate the role (redshift_catalog: ra, dec, z; training_set: z; object_catalog: ra, dec).",
    ),
    Code(
        "non-numeric-column",
        "error",
        "table",
        "A column that must be numeric (ra, dec, z, z_err) is not",
        "Store the column as numbers, without units or text.",
    ),
    Code(
        "bad-ra-range",
        "error",
        "table",
        "RA values outside [0, 360] degrees",
        "Give RA in degrees in [0, 360]; wrap negative values by adding 360.",
    ),
    Code(
        "bad-dec-range",
        "error",
        "table",
        "Dec values outside [-90, 90] degrees",
        "Give Dec in degrees in [-90, 90].",
    ),
    Code(
        "null-coordinate",
        "error",
        "table",
        "RA or Dec is null or NaN",
        "Every row needs a position; remove rows without RA/Dec.",
    ),
    Code(
        "nan-redshift",
        "error",
        "table",
        "No row has a usable redshift (all missing or placeholders)",
        "Check the z association: the column must hold redshifts; rows without one are allowed.",
    ),
    Code(
        "bad-z-err",
        "error",
        "table",
        "Negative or infinite redshift errors",
        "z_err must be >= 0 (use null when unknown).",
    ),
    Code(
        "bad-z-flag-homogenized",
        "error",
        "table",
        "z_flag_homogenized outside {0,1,2,3,4,6}",
        "Use the homogenized scale: 0 none, 1 <70%, 2 70-90%, 3 90-99%, 4 >99%, 6 star.",
    ),
    Code(
        "bad-type-homogenized",
        "error",
        "table",
        "type_homogenized outside {s,g,p}",
        "Use s (spectroscopic), g (grism) or p (photometric).",
    ),
    Code(
        "n-rows-mismatch",
        "error",
        "table",
        "n_rows in the manifest differs from the file",
        "Run `pzcat edit --refresh` to record the file's facts.",
    ),
    Code(
        "columns-mismatch",
        "error",
        "table",
        "The columns in the manifest differ from the file",
        "Run `pzcat edit --refresh` to record the file's facts.",
    ),
    # missing values, sentinels, encodings (issue 9)
    Code(
        "missing-redshift",
        "warning",
        "table",
        "Some rows have no redshift (NaN, null or infinite)",
        "Nothing to do if the survey has no redshift for them (flag 0); they are kept and left "
        "out of statistics and plots.",
    ),
    Code(
        "missing-values",
        "warning",
        "table",
        "Some rows have no z_err or z_flag",
        "Nothing to do if the survey gives none for them; they are left out of statistics.",
    ),
    Code(
        "no-values",
        "error",
        "table",
        "An associated z_err or z_flag column holds no usable value",
        "Associate the right column, or remove the association (`pzcat edit --column ROLE=`).",
    ),
    Code(
        "sentinel-values",
        "warning",
        "table",
        "Placeholder values such as z = -1 or mag = 99.99",
        "Nothing to do: statistics, plots and previews leave them out; the Combine pipeline "
        "keeps them unless run with `sentinels: missing`. Writing NaN instead is clearer.",
    ),
    Code(
        "csv-comments",
        "warning",
        "table",
        "The CSV holds comment lines (#); they were ignored",
        "Nothing to do; keep the notes in the description if they matter to users.",
    ),
    Code(
        "csv-encoding",
        "error",
        "table",
        "The CSV is not UTF-8 text (UTF-16, UTF-32 or binary)",
        "Save the file as UTF-8 (with or without BOM), e.g. `iconv -f UTF-16 -t UTF-8`.",
    ),
    Code(
        "csv-not-utf8",
        "warning",
        "table",
        "The CSV is not UTF-8; it was read as Latin-1",
        "Save the file as UTF-8 so that names and text are read as you wrote them.",
    ),
    Code(
        "too-many-columns",
        "error",
        "table",
        "The table has more columns than the builders can store",
        "Keep at most 1,999 columns (SQLite's limit, used by the previews); split the table.",
    ),
    Code(
        "bad-column-name",
        "error",
        "table",
        "A column name holds control characters (NUL, newline...) or is too long",
        "Rename the column: printable characters, at most 1,000 of them.",
    ),
    Code(
        "decompression-bomb",
        "error",
        "table",
        "The file expands to far more than its stored size",
        "Store the table uncompressed or as Parquet; compressed data may expand at most 100x.",
    ),
    Code(
        "hdf5-needs-pandas3",
        "warning",
        "table",
        "The HDF5 table can be read by pandas 3 only",
        "Add pandas_version (`python -c 'from pzcat.readers.hdf5 import make_pandas2_readable; "
        'make_pandas2_readable("FILE")\'`), or write it with pandas < 3; the pzserver client '
        "and tables_io run pandas 2.",
    ),
    Code(
        "hdf5-not-for-tables-io",
        "warning",
        "table",
        "The HDF5 file would not open as one table in tables_io (the pzserver client's reader)",
        "tables_io picks its reader by suffix: in a .hdf5 file write one equal-length 1-D "
        "dataset per column at the root (`tables_io.write(table, 'FILE.hdf5')`, or "
        "`pzcat.readers.hdf5.write_columns`); a pandas table belongs in a .h5 file under the key "
        "'data'.",
    ),
    # description files
    Code(
        "html-script",
        "warning",
        "description",
        "The HTML description holds scripts",
        "Scripts never run: the site shows the description in a sandboxed frame. Remove them.",
    ),
    Code(
        "unreadable-description",
        "error",
        "description",
        "The description file is not UTF-8 text",
        "Save the description as UTF-8 HTML, Markdown or text.",
    ),
    # commands
    Code(
        "usage",
        "error",
        "run",
        "The command was called with arguments that cannot work",
        "See the command's --help.",
    ),
    Code(
        "file-exists",
        "error",
        "run",
        "The target exists already",
        "Choose another name or remove the existing product first.",
    ),
    Code(
        "write-failed",
        "error",
        "run",
        "A file could not be written (disk full, size limit, permissions)",
        "Free some disk space (or fix permissions) and run the command again; nothing was changed.",
    ),
    Code(
        "http-error",
        "error",
        "run",
        "A request to the catalog's site or Datasette failed",
        "Check the URL and your token (`pzcat token create`, then token= or $PZCAT_TOKEN).",
    ),
    # the Combine Redshift Catalogs pipeline (pipelines/combine, pzcat combine/run/reproduce)
    Code(
        "no-inputs",
        "error",
        "pipeline",
        "A combination needs at least one input catalog",
        "Name the inputs with --input (id or internal_name), in order.",
    ),
    Code(
        "duplicate-input",
        "error",
        "pipeline",
        "The same input is given twice",
        "Give each input product once.",
    ),
    Code(
        "not-a-redshift-catalog",
        "error",
        "pipeline",
        "An input is not a redshift_catalog product",
        "Combine only Reference Redshift Catalogs (`pzcat list --type redshift_catalog`).",
    ),
    Code(
        "input-not-published",
        "error",
        "pipeline",
        "An input is pending or deprecated",
        "Run the pending input first (`pzcat run`) or choose a published product.",
    ),
    Code(
        "input-not-local",
        "error",
        "pipeline",
        "An input's main file is external (url), not in the repository",
        "Combine products whose data is in the repository, or download it and add it.",
    ),
    Code(
        "input-format",
        "error",
        "pipeline",
        "An input's main file is not a table format the pipeline reads",
        "Inputs must be csv, fits, hdf5, parquet or hats.",
    ),
    Code(
        "input-unreadable",
        "error",
        "pipeline",
        "An input's table cannot be read",
        "Run `pzcat validate` on the input and fix the error it names.",
    ),
    Code(
        "input-changed",
        "error",
        "pipeline",
        "An input's files changed since the run was requested",
        "Request the run again (`pzcat combine ...`) so that provenance pins the current files.",
    ),
    Code(
        "missing-association",
        "error",
        "pipeline",
        "An input lacks the ra, dec or z association",
        "Associate the columns of the input (`pzcat edit PRODUCT --column ra=RA ...`).",
    ),
    Code(
        "unknown-role",
        "error",
        "pipeline",
        "A column association names a role the pipeline does not know",
        "Use the roles id, ra, dec, z, z_err, z_flag, survey, instrument_type.",
    ),
    Code(
        "invalid-positions",
        "error",
        "pipeline",
        "Rows of an input have invalid RA/Dec",
        "Fix or remove the rows named: RA in [0, 360), Dec in [-90, 90], not null.",
    ),
    Code(
        "no-rows",
        "error",
        "pipeline",
        "No row is left to combine (after the cut)",
        "Lower the cut or check the inputs.",
    ),
    Code(
        "survey-column-missing",
        "error",
        "pipeline",
        "An input has no survey column to translate its flags",
        "Associate a survey column, or provide z_flag_homogenized and type_homogenized yourself.",
    ),
    Code(
        "survey-not-supported",
        "error",
        "pipeline",
        "A survey is missing from the flags translation file",
        "Add the survey to pipelines/data/flags_translation.yaml by pull request, or provide "
        "z_flag_homogenized and type_homogenized columns.",
    ),
    Code(
        "flags-untranslated",
        "error",
        "pipeline",
        "Flags of a survey translate to nothing",
        "Check the z_flag association and the survey's rules in the translation file.",
    ),
    Code(
        "homogenized-out-of-range",
        "error",
        "pipeline",
        "User-provided homogenized flags outside the vocabulary",
        "z_flag_homogenized in {0,1,2,3,4,6}; type_homogenized in {s,g,p}.",
    ),
    Code(
        "flags-file-invalid",
        "error",
        "pipeline",
        "The flags translation file is not of the expected form",
        "Follow the format of pipelines/data/flags_translation.yaml (translation_rules.<SURVEY>).",
    ),
    Code(
        "fields-file-invalid",
        "error",
        "pipeline",
        "The footprint fields file is not of the expected form",
        "Follow pipelines/data/dp1_fields.yaml: a list of fields with name, ra, dec, radius_deg.",
    ),
    Code(
        "expression-syntax",
        "error",
        "pipeline",
        "A translation condition is not a valid expression",
        "Write conditions with columns, literals, arithmetic, comparisons and and/or/not.",
    ),
    Code(
        "unsafe-expression",
        "error",
        "pipeline",
        "A translation condition uses a construct that is not allowed",
        "Only columns, literals, arithmetic, comparisons, and/or/not and whitelisted functions are allowed.",
    ),
    Code(
        "expression-type",
        "error",
        "pipeline",
        "A translation condition mixes types that cannot be compared",
        "Compare numbers with numbers and text with text.",
    ),
    Code(
        "expression-arity",
        "error",
        "pipeline",
        "A function in a condition has the wrong number of arguments",
        "See the list of functions and their arguments in the Pipelines page.",
    ),
    Code(
        "unknown-column",
        "error",
        "pipeline",
        "A translation condition names a column the input lacks",
        "Fix the column name in the condition, or add the column to the input.",
    ),
    Code(
        "invalid-config",
        "error",
        "pipeline",
        "The run's configuration is invalid",
        "Fix the key named in --config (see `pzcat combine --help`).",
    ),
    Code(
        "output-size",
        "error",
        "pipeline",
        "The output is over the in-repository size limit",
        "Choose parquet or hats, remove duplicates, or raise limits.max_file_bytes (admins).",
    ),
    Code(
        "not-pending",
        "error",
        "pipeline",
        "The product is not a pending run",
        "`pzcat run` executes pending products only; see `pzcat list`.",
    ),
    Code(
        "not-published",
        "error",
        "pipeline",
        "The product is not a published pipeline output",
        "`pzcat reproduce` reruns published pipeline products.",
    ),
    Code(
        "not-a-pipeline-product",
        "error",
        "pipeline",
        "The product was not made by a pipeline",
        "Only products with provenance can be run or reproduced.",
    ),
    # the pipeline on a Dask cluster (issue 13: executors, workers, scratch)
    Code(
        "worker-lost",
        "error",
        "pipeline",
        "A Dask worker died or was lost during the run",
        "Nothing was published: run again; raise executor.memory_limit or executor.allowed_failures.",
    ),
    Code(
        "partition-lost",
        "error",
        "pipeline",
        "A piece's decisions were incomplete when its rows were joined",
        "Nothing was published: run again (the scratch folder was changed or lost during the run).",
    ),
    Code(
        "executor-unavailable",
        "error",
        "pipeline",
        "The configured Dask executor cannot be started or reached",
        "Check executor.address (tcp://host:port) or the SLURM settings in executor.slurm.",
    ),
    # the static site
    Code(
        "site-build-failed",
        "error",
        "site",
        "The static site could not be built",
        "Read the mkdocs output printed with the error; fix the page or template it names.",
    ),
    # previews, downloads, tokens and the server
    Code(
        "token-secret-missing",
        "error",
        "serve",
        "The server secret $PZCAT_SECRET is not set or too short",
        "Export PZCAT_SECRET (at least 16 characters, e.g. `python -c 'import secrets; "
        "print(secrets.token_hex(32))'`); never commit it.",
    ),
    Code(
        "token-missing",
        "error",
        "serve",
        "The request carries no token",
        "Send `Authorization: Bearer <token>`, paste the token at /-/token, or use a signed link; "
        "an admin makes tokens with `pzcat token create USER`.",
    ),
    Code(
        "token-invalid",
        "error",
        "serve",
        "The token is malformed or its signature is wrong",
        "Copy the whole token as `pzcat token create` printed it, or ask an admin for a new one.",
    ),
    Code(
        "token-expired",
        "error",
        "serve",
        "The token or link has expired",
        "Ask an admin for a new token (`pzcat token create`) or link (`pzcat link`).",
    ),
    Code(
        "token-revoked", "error", "serve", "The token was revoked", "Ask an admin for a new token."
    ),
    Code(
        "token-scope",
        "error",
        "serve",
        "The token's scope does not allow this",
        "Downloads need a token with scope download (`pzcat token create USER --scope download`).",
    ),
    Code(
        "link-invalid",
        "error",
        "serve",
        "The signed link is malformed, forged or for another product",
        "Ask for a new link (`pzcat link INTERNAL_NAME --expires 1h`).",
    ),
    Code(
        "bad-duration",
        "error",
        "serve",
        "A duration is not of the form 30d, 12h, 15m or 45s",
        "Give a number followed by d, h, m or s, e.g. --expires 30d.",
    ),
    Code(
        "revocation-list",
        "error",
        "serve",
        "tokens/revoked.yaml cannot be read",
        "Fix the YAML: a mapping with key revoked holding a list of {id, revoked} entries.",
    ),
    Code(
        "download-not-found",
        "error",
        "serve",
        "No such product or file to download",
        "Check the internal_name (see /previews/products) and the file name in the manifest.",
    ),
    Code(
        "download-unavailable",
        "error",
        "serve",
        "A file of the product cannot be served",
        "The file is missing, a symlink or outside products/<internal_name>/: run `pzcat validate`.",
    ),
    Code(
        "cross-site-request",
        "error",
        "serve",
        "A form was posted from another site (login CSRF)",
        "Paste the token on this server's own /-/token page.",
    ),
    Code(
        "request-too-large",
        "error",
        "serve",
        "Too many or too long query parameters or headers",
        "Send at most 100 query parameters (8 KB) and 64 headers (16 KB); use POST-free, shorter URLs.",
    ),
    Code(
        "response-too-large",
        "error",
        "serve",
        "The answer (SQL, JSON, CSV or page) is over the server's response-size cap",
        "Ask for fewer rows (`_size=`, `LIMIT`, fewer columns) or download the product "
        "(`/-/download/`, not capped); the cap is $PZCAT_MAX_RESPONSE_BYTES (64 MiB).",
    ),
    Code(
        "bad-range",
        "error",
        "serve",
        "The requested byte range cannot be satisfied",
        "Ask for a range inside the file (Range: bytes=START-END).",
    ),
    Code(
        "previews-build",
        "error",
        "serve",
        "previews.db could not be built",
        "Check that build/ is writable and the catalog validates (`pzcat validate`).",
    ),
    Code(
        "preview-skipped",
        "warning",
        "serve",
        "A product's table could not be loaded into the previews",
        "Run `pzcat validate`: the main file is missing, unreadable or outside its folder.",
    ),
    Code(
        "previews-missing",
        "error",
        "serve",
        "build/previews.db does not exist",
        "Run `pzcat build-previews` first (or `pzcat serve --build`).",
    ),
    # i8: the serving package
    Code(
        "plugin-missing",
        "error",
        "serve",
        "Datasette did not load pzcat's plugin",
        "Reinstall pzcat (`pip install .`, `pip install -e .` or `make install`): the plugin comes "
        "through the `datasette` entry point of the distribution.",
    ),
    Code(
        "serve-not-started",
        "error",
        "serve",
        "pzcat serve exited or printed no URL in time (pzcat_datasette.launch.start_serve)",
        "Read the server's log in the message; check the port, the catalog and PZCAT_SECRET.",
    ),
    Code(
        "site-missing",
        "warning",
        "serve",
        "build/site does not exist; /site/ will answer 404",
        "Build the site first (`pzcat build-site`).",
    ),
    # GitHub: the pull-request report and comment, issue forms, pipeline runs (pzcat_github; issue 12)
    Code(
        "github-event",
        "error",
        "github",
        "The GitHub event payload is missing or not the expected event",
        "Run the command from the workflow that GUIDE.md names, or pass --event with the payload.",
    ),
    Code(
        "github-api",
        "error",
        "github",
        "A GitHub REST API request failed",
        "Check GITHUB_TOKEN, GITHUB_REPOSITORY and the job's permissions; the message has GitHub's answer.",
    ),
    Code(
        "pr-not-found",
        "error",
        "github",
        "No open pull request has the workflow run's head commit",
        "Nothing to do: the pull request was closed or pushed to since; the next run posts again.",
    ),
    Code(
        "form-unknown",
        "error",
        "github",
        "The issue is not one of the catalog's forms",
        "Open the issue from a form (Submit a data product, Request a Combine Redshift Catalogs run).",
    ),
    Code(
        "form-field-missing",
        "error",
        "github",
        "A required field of the form is empty",
        "Edit the issue and fill in the field named.",
    ),
    Code(
        "form-bad-name",
        "error",
        "github",
        "The product name holds a path or is not one line",
        "Give a plain name: no '/', '\\', '..', leading '.' or '~', at most 200 characters.",
    ),
    Code(
        "form-invalid",
        "error",
        "github",
        "A field of the form cannot be read",
        "Follow the field's description: Files is `URL [sha256=HEX] [role=...]` a line, columns `ROLE=COLUMN`.",
    ),
    Code(
        "download-failed",
        "error",
        "github",
        "A file named by the form could not be downloaded",
        "Check that the URL is public and answers 200 (open it in a private browser window).",
    ),
    Code(
        "download-too-large",
        "error",
        "github",
        "A file named by the form is over the download limit",
        "Split the product, or ask an admin to add it by pull request with `pzcat add --url`.",
    ),
    Code(
        "artifact-invalid",
        "error",
        "github",
        "The report artifact is missing, too large or names another pull request",
        "Re-run the validate workflow of the pull request; never edit the artifact by hand.",
    ),
    # the Photo-z Server API (/api/, issue 14)
    Code(
        "api-not-found",
        "error",
        "api",
        "No API resource at this path, or no such record",
        "See the endpoints in datasette/README.md (The Photo-z Server API); ids from the lists.",
    ),
    Code(
        "api-method-not-allowed",
        "error",
        "api",
        "The API path does not answer this HTTP method",
        "Use the method of the endpoint table in datasette/README.md.",
    ),
    Code(
        "api-unknown-filter",
        "error",
        "api",
        "A query parameter is not a filter of this list",
        "Use a filter listed by OPTIONS on the list (products: filter_classes, search, ordering).",
    ),
    Code(
        "api-bad-filter-value",
        "error",
        "api",
        "A filter value cannot be read (boolean, id, ordering)",
        "Booleans are true/false/1/0, ids are integers, ordering is id, display_name, "
        "product_type or created_at.",
    ),
    Code(
        "api-bad-page",
        "error",
        "api",
        "The page does not exist",
        "Pages start at 1; count / page_size (default 100, at most 1000) gives the last.",
    ),
    Code(
        "api-bad-body",
        "error",
        "api",
        "The request body is missing a field or is not readable",
        "Send the fields of the endpoint (JSON, form or multipart), as the pzserver client does.",
    ),
    Code(
        "api-bad-file-name",
        "error",
        "api",
        "An uploaded file name holds a folder or starts with a dot",
        "Upload files under their bare names (no '/', '\\' or '..').",
    ),
    Code(
        "api-upload-too-large",
        "error",
        "api",
        "An upload is larger than limits.max_file_bytes",
        "Keep files under the limit of catalog.yaml, or register big data with `pzcat add --url`.",
    ),
    Code(
        "api-not-owner",
        "error",
        "api",
        "Only the uploader or an admin may change this product",
        "Ask the uploader or an admin (catalog.yaml admins) to make the change.",
    ),
    Code(
        "api-missing-columns",
        "error",
        "api",
        "The column association misses a required role",
        "Associate RA, Dec and z (redshift catalogs), z (training sets), RA and Dec (objects).",
    ),
    Code(
        "api-no-main-file",
        "error",
        "api",
        "The product has no main file yet",
        "Upload the main file (role 0) before registering or saving the product.",
    ),
    Code(
        "api-main-file",
        "error",
        "api",
        "The main file cannot be removed",
        "Delete (deprecate) the product and upload a new one instead.",
    ),
    Code(
        "api-git-failed",
        "error",
        "api",
        "A git command of a submission failed",
        "Check the server log: the work tree under build/api/worktrees and the remote's access.",
    ),
    Code(
        "api-writes-unavailable",
        "error",
        "api",
        "The served catalog is not a git repository",
        "Serve a git clone: writes through the API become branches and pull requests.",
    ),
    Code(
        "api-pull-request-failed",
        "error",
        "api",
        "The branch was pushed but no pull request opened",
        "Check PZCAT_GITHUB_REPO, PZCAT_GITHUB_TOKEN and PZCAT_GITHUB_API; open the PR by hand.",
    ),
    Code(
        "api-submission-unsaved",
        "error",
        "api",
        "The product is still being registered",
        "Finish the upload (save) before downloading the product.",
    ),
    Code(
        "api-pipeline-unavailable",
        "error",
        "api",
        "This pipeline does not run on this server",
        "pzcat runs Combine Redshift Catalogs (combine_redshift_dedup) only.",
    ),
    Code(
        "api-bad-config",
        "error",
        "api",
        "A process configuration cannot be read or has unknown keys",
        "Give used_config as JSON: param.combine_type, z_flag_homogenized_value_to_cut, "
        "flags_translation_file, and output_format.",
    ),
    Code(
        "api-queue-full",
        "error",
        "api",
        "Too many processes are waiting",
        "Try again when a process has ended (processes/ lists them).",
    ),
    Code(
        "api-read-only-source",
        "error",
        "api",
        "A published site cannot change products",
        "Use the server's /api/ (PzServer(token, host='http://HOST:PORT/api/')) or a clone.",
    ),
    Code(
        "api-error",
        "error",
        "api",
        "The server could not answer this API request",
        "Retry; if it persists, report the request and the server log.",
    ),
    # -- issue 10: start-up, sign-in with GitHub and the access policy --------------------------------
    Code(
        "serve-port-busy",
        "error",
        "serve",
        "The port is already in use",
        "Stop the other server, or pick another port (`make demo PORT=8021`, `pzcat serve --port 0`).",
    ),
    Code(
        "serve-address",
        "error",
        "serve",
        "The server cannot listen on that host and port",
        "Use an address of this machine (127.0.0.1) and a port from 1024 to 65535.",
    ),
    Code(
        "auth-not-configured",
        "error",
        "serve",
        "Sign-in with GitHub is not set up on this server",
        "Set access.github.client_id in catalog.yaml and $PZCAT_GITHUB_CLIENT_SECRET; or paste a token.",
    ),
    Code(
        "auth-github-failed",
        "error",
        "serve",
        "The sign-in with GitHub did not complete",
        "Sign in again from /-/login (the state expired, GitHub refused, or it could not be reached).",
    ),
    Code(
        "auth-not-allowed",
        "error",
        "serve",
        "This GitHub user is not let in by catalog.yaml",
        "Ask an admin to add you, your organisation or your team to access.github in catalog.yaml.",
    ),
    Code(
        "query-input",
        "error",
        "serve",
        "A canned query's parameter is missing or not valid",
        "Give numbers: ra and dec in decimal degrees (dec in [-90, 90]), radius_arcsec > 0, z_min <= z_max.",
    ),
    Code(
        "auth-required",
        "error",
        "serve",
        "This needs a signed-in user",
        "Sign in with GitHub at /-/login (or send a token).",
    ),
    Code(
        "page-not-found",
        "error",
        "serve",
        "No page of the server has this address",
        "Follow the links of the page back to the catalog site, the product list or the previews.",
    ),
]

CODES: dict[str, Code] = {c.code: c for c in _ALL}

# -- what a code means for exit and HTTP status (i8) ------------------------------------------------
# The status follows from the code, never from the part of pzcat that raised it.

#: Exit status of a command that failed with an error code: 1 (the input is invalid) unless the
#: code says the command could not run at all (2: wrong invocation, configuration or environment).
EXIT_INVALID, EXIT_CANNOT_RUN = 1, 2
CANNOT_RUN = frozenset({"usage", "catalog-config", "git-unavailable"})

#: HTTP status of the server's answer for a code (other codes: 500, the server could not answer).
HTTP_STATUS: dict[str, int] = {
    "usage": 400,
    "bad-duration": 400,
    "token-missing": 401,
    "token-invalid": 401,
    "token-expired": 401,
    "token-revoked": 401,
    "link-invalid": 401,
    "token-scope": 403,
    "download-not-found": 404,
    "download-unavailable": 404,
    "product-not-found": 404,
    "page-not-found": 404,
    "bad-range": 416,
    "token-secret-missing": 500,
    "revocation-list": 500,
}


def exit_status(code: str) -> int:
    """Exit status of a command that stopped on ``code``.

    >>> exit_status("usage"), exit_status("missing-column")
    (2, 1)
    """
    return EXIT_CANNOT_RUN if code in CANNOT_RUN else EXIT_INVALID


def http_status(code: str) -> int:
    """HTTP status of an answer that carries ``code``.

    >>> http_status("token-missing"), http_status("bad-range"), http_status("previews-build")
    (401, 416, 500)
    """
    return HTTP_STATUS.get(code, 500)


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

"""Validation of the catalog: manifests, files, tables and description files.

:func:`validate_catalog` returns one :class:`~pzcat.report.Report`; it never raises for bad input
(every problem becomes an :class:`~pzcat.report.Issue` with a stable code) and never writes.

Examples
--------
>>> from pzcat.catalog import Catalog
>>> from pzcat.validate import validate_catalog
>>> report = validate_catalog(Catalog.open("."))   # doctest: +SKIP
>>> report.valid, sorted(report.codes())            # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path, PurePosixPath

from pzcat import changes, git, sentinels, vocab
from pzcat.catalog import Catalog
from pzcat.checks import ValueChecks
from pzcat.config import ProductType
from pzcat.errors import ManifestError, PzcatError
from pzcat.files import escaping_links, is_lfs_pointer, path_digest, path_size
from pzcat.html import removed_scripts
from pzcat.manifest import (
    FileEntry,
    Manifest,
    load_manifest_data,
    manifest_problems,
    read_manifest_or_none,
)
from pzcat.paths import manifest_path_problem
from pzcat.report import Issue, ProductReport, Report
from pzcat.tables import open_table
from pzcat.ucd import unknown_words

URL_RE = re.compile(r"^(https?|s3)://[^\s/]+/\S*$")


def validate_catalog(
    catalog: Catalog,
    paths: list[Path] | None = None,
    changed_since: str | None = None,
    author: str | None = None,
    check_tables: bool = True,
) -> Report:
    """Validate the whole catalog, or only the given manifest files.

    Parameters
    ----------
    catalog : Catalog
        The open catalog.
    paths : list of Path, optional
        Manifest files to check; all of ``manifests/`` when None. With ``changed_since`` and no
        paths, only the products changed since that ref are checked (catalog-wide checks always run).
    changed_since : str, optional
        A Git ref: enables the version-bump and official-by-admin checks against that ref.
    author : str, optional
        GitHub user name of the change's author (for ``official-not-admin``).
    check_tables : bool
        Read tables to check their values (the slow part).

    Returns
    -------
    Report
    """
    start = time.perf_counter()
    report = Report()
    all_paths = catalog.manifest_paths()
    changed: set[str] | None = None
    if changed_since:
        try:
            changed = git.changed_paths(catalog.root, changed_since)
        except PzcatError as exc:
            report.catalog_issues.append(Issue.from_error(exc))
            return report
        _change_rules(catalog, changed_since, changed, author, report)
    if paths:
        selected = [Path(p).resolve() for p in paths]
    elif changed is not None:
        selected = [p for p in all_paths if _touched(catalog, p, changed)]
    else:
        selected = all_paths

    parsed: dict[Path, Manifest] = {}
    for path in all_paths:
        manifest = _quiet_parse(path)
        if manifest is not None:
            parsed[path] = manifest
    _catalog_wide(catalog, parsed, report)

    rows = 0
    for path in selected:
        prod = validate_manifest(catalog, path, check_tables=check_tables)
        if changed_since and path in parsed:
            _against_ref(catalog, parsed[path], path, changed_since, changed or set(), author, prod)
        report.products.append(prod)
        rows += prod.stats.get("rows", 0) or 0
    report.stats.update({"rows": rows, "seconds": round(time.perf_counter() - start, 3)})
    return report


def _change_rules(
    catalog: Catalog, ref: str, changed: set[str], author: str | None, report: Report
) -> None:
    """Products are never deleted; with an author, paths outside manifests/ and products/ are
    admin-only (see :mod:`pzcat.changes`)."""
    for rel in changes.deleted_manifests(catalog.root, ref, changed):
        report.catalog_issues.append(
            Issue(
                "product-deleted",
                f"{rel} exists at {ref} and was deleted; products are never "
                "deleted (restore it and run `pzcat deprecate`)",
                file=rel,
            )
        )
    if author is not None and not catalog.config.is_admin(author):
        for rel in changes.admin_only_paths(changed):
            report.catalog_issues.append(
                Issue(
                    "admin-only-path",
                    f"{rel} may be changed by an admin only ({author} is not one "
                    "of the base branch's admins)",
                    file=rel,
                )
            )


def _touched(catalog: Catalog, manifest_path: Path, changed: set[str]) -> bool:
    rel = catalog.relative(manifest_path)
    prefix = f"products/{manifest_path.stem}/"
    return rel in changed or any(c.startswith(prefix) for c in changed)


def _quiet_parse(path: Path) -> Manifest | None:
    try:
        return read_manifest_or_none(path.read_bytes(), str(path))
    except OSError:
        return None


def _catalog_wide(catalog: Catalog, parsed: dict[Path, Manifest], report: Report) -> None:
    ids = Counter(m.id for m in parsed.values())
    names = Counter(m.internal_name for m in parsed.values())
    for path, m in parsed.items():
        rel = catalog.relative(path)
        if ids[m.id] > 1:
            others = sorted(
                catalog.relative(p) for p, o in parsed.items() if o.id == m.id and p != path
            )
            report.catalog_issues.append(
                Issue("duplicate-id", f"id {m.id} is also used by {others}", file=rel, key="id")
            )
        if names[m.internal_name] > 1:
            report.catalog_issues.append(
                Issue(
                    "duplicate-internal-name",
                    f"internal_name {m.internal_name!r} is used twice",
                    file=rel,
                    key="internal_name",
                )
            )
    owners = {m.internal_name for m in parsed.values()} | {p.stem for p in catalog.manifest_paths()}
    if catalog.products_dir.is_dir():
        for d in sorted(catalog.products_dir.iterdir()):
            if d.is_dir() and d.name not in owners:
                report.catalog_issues.append(
                    Issue(
                        "orphan-product-dir",
                        f"products/{d.name}/ has no manifest",
                        file=f"products/{d.name}",
                    )
                )


def validate_manifest(catalog: Catalog, path: Path, check_tables: bool = True) -> ProductReport:
    """Validate one manifest file and its files; never raises for bad input."""
    path = Path(path)
    rel = catalog.relative(path) if path.resolve().is_relative_to(catalog.root) else str(path)
    prod = ProductReport(name=path.stem, manifest=rel)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        prod.add("file-missing", f"{rel} does not exist")
        return prod
    except (OSError, UnicodeDecodeError) as exc:
        prod.add("yaml-syntax", f"{rel} cannot be read as UTF-8 text: {exc}")
        return prod
    try:
        data = load_manifest_data(text, rel)
    except ManifestError as exc:
        prod.issues.append(Issue.from_error(exc, file=rel))
        return prod
    manifest, problems = manifest_problems(data)  # every schema problem, not only the first
    if manifest is None:
        for code, key, msg in problems:
            prod.add(code, msg, key=key)
        _vocabulary(catalog, data, prod)
        return prod
    prod.name = manifest.internal_name
    _metadata(catalog, manifest, path, prod, check_tables)
    _files(catalog, manifest, prod, check_tables)
    return prod


def _vocabulary(catalog: Catalog, data: dict, prod: ProductReport) -> None:
    """Vocabulary checks that still make sense on a manifest that failed the schema."""
    ptype = data.get("product_type")
    if isinstance(ptype, str) and catalog.config.product_type(ptype) is None:
        prod.add(
            "unknown-product-type",
            f"product_type {ptype!r} is not one of "
            f"{[t.name for t in catalog.config.product_types]}",
            key="product_type",
        )
    release = data.get("release")
    if isinstance(release, str) and release and catalog.config.release(release) is None:
        prod.add(
            "unknown-release",
            f"release {release!r} is not one of {[r.name for r in catalog.config.releases]}",
            key="release",
        )


def _metadata(
    catalog: Catalog, m: Manifest, path: Path, prod: ProductReport, check_tables: bool = True
) -> None:
    cfg = catalog.config
    ptype = cfg.product_type(m.product_type)
    if ptype is None or ptype.name != m.product_type:
        prod.add(
            "unknown-product-type",
            f"product_type {m.product_type!r} is not one of {[t.name for t in cfg.product_types]}",
            key="product_type",
        )
        ptype = None
    if m.release:
        rel = cfg.release(m.release)
        if rel is None or rel.name != m.release:
            prod.add(
                "unknown-release",
                f"release {m.release!r} is not one of {[r.name for r in cfg.releases]}",
                key="release",
            )
        if ptype is not None and not ptype.release:
            prod.add(
                "release-not-allowed",
                f"a {m.product_type} has no release (got {m.release!r})",
                key="release",
            )
    if m.pz_code and ptype is not None and not ptype.pz_code:
        prod.add(
            "pz-code-not-allowed", f"pz_code must be empty for {m.product_type}", key="pz_code"
        )
    if ptype is not None:
        _type_rules(m, ptype, prod)
    if m.internal_name != m.expected_internal_name:
        prod.add(
            "internal-name-mismatch",
            f"internal_name {m.internal_name!r} should be "
            f"{m.expected_internal_name!r} (id {m.id}, name {m.name!r})",
            key="internal_name",
        )
    if path.stem != m.internal_name:
        prod.add(
            "manifest-filename-mismatch",
            f"{path.name} should be named {m.internal_name}.yaml",
            key="internal_name",
        )
    if m.updated < m.created:
        prod.add(
            "bad-timestamps", f"updated {m.updated} is before created {m.created}", key="updated"
        )
    if m.status == "deprecated" and not (m.deprecation_reason or "").strip():
        prod.add(
            "deprecated-without-reason",
            "deprecated without deprecation_reason",
            key="deprecation_reason",
        )
    if m.status == "pending" and m.provenance is None:
        prod.add(
            "missing-provenance",
            "a pending product needs provenance (pipeline, config, inputs)",
            key="provenance",
        )
    mains = [f for f in m.files if f.role == "main"]
    if len(mains) != 1 and m.status != "pending":
        prod.add(
            "main-file-count", f"{len(mains)} files with role main, need exactly 1", key="files"
        )
    for role, assoc in m.columns.items():
        if assoc.ucd:
            for word in unknown_words(assoc.ucd):
                prod.add(
                    "unknown-ucd",
                    f"UCD word {word!r} of role {role!r} is unknown",
                    key=f"columns.{role}.ucd",
                )
    for i, f in enumerate(m.files):
        for j, col in enumerate(f.columns or []):
            if col.ucd:
                for word in unknown_words(col.ucd):
                    prod.add(
                        "unknown-ucd",
                        f"UCD word {word!r} of column {col.name!r} is unknown",
                        key=f"files.{i}.columns.{j}.ucd",
                        column=col.name,
                    )
    main = m.main_file
    if main is not None and main.columns is not None and (main.url or not check_tables):
        # the file itself is not read (external, or --no-tables): check against its declared columns
        declared = {c.name for c in main.columns}
        for role, assoc in m.columns.items():
            if assoc.column not in declared:
                prod.add(
                    "unknown-column-role-column",
                    f"column {assoc.column!r} associated with "
                    f"{role!r} is not among the columns declared for {main.filename}",
                    key=f"columns.{role}",
                    column=assoc.column,
                )
    if m.status != "pending" and ptype is not None:
        missing = [r for r in ptype.required_roles if r not in m.columns]
        if missing:
            prod.add(
                "missing-required-column",
                f"a {m.product_type} needs the roles "
                f"{list(ptype.required_roles)}; not associated: {missing}",
                key="columns",
            )


def _type_rules(m: Manifest, ptype: ProductType, prod: ProductReport) -> None:
    """The roles and formats catalog.yaml allows a product type (``product_types[]``)."""
    if ptype.allowed_roles is not None:
        for role in m.columns:
            if role not in ptype.allowed_roles:
                prod.add(
                    "role-not-allowed",
                    f"a {m.product_type} associates only {ptype.allowed_roles}, not {role!r}",
                    key=f"columns.{role}",
                )
    main = m.main_file
    if main is None:
        return
    allowed = ptype.main_formats()
    if allowed is not None and main.format not in allowed:
        prod.add(
            "format-not-allowed",
            f"the main file of a {m.product_type} must be one of {allowed} "
            f"({'a table' if ptype.tabular else 'catalog.yaml'}), not {main.format!r}",
            key="files",
        )


def _files(catalog: Catalog, m: Manifest, prod: ProductReport, check_tables: bool) -> None:
    declared: set[Path] = set()
    product_dir = catalog.product_dir(m.internal_name)
    limit = catalog.config.limits.max_file_bytes
    for i, entry in enumerate(m.files):
        key = f"files.{i}"
        if bool(entry.path) == bool(entry.url):
            prod.add("file-location", f"{key}: give exactly one of path or url", key=key)
            continue
        if entry.url:
            if not URL_RE.match(entry.url):
                prod.add(
                    "bad-url", f"{key}: {entry.url!r} is not an http(s) or s3 URL", key=f"{key}.url"
                )
            continue
        target = _safe_path(catalog, m, entry, key, prod)
        if target is None:
            continue
        declared.add(target)
        rel = entry.path
        if not target.exists() and not target.is_symlink():
            prod.add("file-missing", f"{rel} does not exist", file=rel, key=f"{key}.path")
            continue
        if is_lfs_pointer(target):
            prod.add(
                "lfs-pointer",
                f"{rel} is a Git LFS pointer: the data was not fetched",
                file=rel,
                key=f"{key}.path",
            )
            continue
        if entry.format == "hats":
            if not target.is_dir():
                prod.add(
                    "not-regular-file",
                    f"{rel}: format hats needs a folder",
                    file=rel,
                    key=f"{key}.format",
                )
                continue
            escapes = escaping_links(target)
            for link in escapes[:10]:
                inner = f"{rel.rstrip('/')}/{link.relative_to(target).as_posix()}"
                prod.add(
                    "symlink-escape",
                    f"{inner} is a link to {link.resolve()}, outside {rel}",
                    file=inner,
                    key=f"{key}.path",
                )
            if escapes:
                continue
        elif not target.is_file():
            prod.add(
                "not-regular-file", f"{rel} is not a regular file", file=rel, key=f"{key}.path"
            )
            continue
        size = path_size(target)  # stat only: a file over the limit is refused before reading
        if size > limit:
            prod.add(
                "file-too-large",
                f"{rel} is {size:,} bytes, over the {limit:,}-byte limit; host "
                "it elsewhere and register it with `pzcat attach --url URL`",
                file=rel,
                key=f"{key}.size",
            )
            continue
        size, digest = path_digest(target)
        if entry.size is not None and entry.size != size:
            prod.add(
                "size-mismatch",
                f"{rel} is {size:,} bytes, the manifest says {entry.size:,}",
                file=rel,
                key=f"{key}.size",
            )
        if entry.sha256 is not None and entry.sha256 != digest:
            prod.add(
                "checksum-mismatch",
                f"{rel} has sha256 {digest[:12]}…, the manifest says {entry.sha256[:12]}…",
                file=rel,
                key=f"{key}.sha256",
            )
        if entry.role == "description":
            _description(target, rel, key, prod)
        if entry.is_table and check_tables:
            _table(m, entry, target, key, prod)
    if product_dir.is_dir():
        known = {d.resolve() for d in declared}
        for f in sorted(product_dir.iterdir()):
            if f.name.startswith("."):
                continue
            if f.resolve() not in known:
                prod.add(
                    "undeclared-file",
                    f"products/{m.internal_name}/{f.name} is not in the manifest",
                    file=f"products/{m.internal_name}/{f.name}",
                )


def _safe_path(
    catalog: Catalog, m: Manifest, entry: FileEntry, key: str, prod: ProductReport
) -> Path | None:
    """The file's absolute path if it is a safe path inside products/<internal_name>/."""
    raw = entry.path or ""
    problem = manifest_path_problem(raw, m.internal_name)  # the one rule (pzcat.paths)
    if problem is not None:
        prod.add(problem[0], f"{key}.path {problem[1]}", key=f"{key}.path")
        return None
    expected = PurePosixPath("products", m.internal_name)
    target = catalog.root / raw
    # not resolved: a product folder that is itself a link to elsewhere is an escape too
    folder = catalog.root / expected
    if target.is_symlink() or any(
        p.is_symlink()
        for p in target.parents
        if p != catalog.root and p.is_relative_to(catalog.root)
    ):
        real = target.resolve()
        if not real.is_relative_to(folder):
            prod.add(
                "symlink-escape",
                f"{raw} is a link to {real}, outside {expected}/",
                file=raw,
                key=f"{key}.path",
            )
            return None
    return target


def _description(target: Path, rel: str, key: str, prod: ProductReport) -> None:
    with open(target, "rb") as fh:
        head = fh.read(4 * 1024 * 1024)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if target.suffix.lower() in (".html", ".htm", ".md", ".txt"):
            prod.add("unreadable-description", f"{rel} is not UTF-8 text", file=rel, key=key)
        return
    if target.suffix.lower() in (".html", ".htm"):
        removed = removed_scripts(text)  # what the site's sanitiser (pzcat.html) takes out
        if removed:
            prod.add(
                "html-script",
                f"{rel}: the sanitiser removes {', '.join(removed)}; they never run on the site",
                file=rel,
                key=key,
            )


def _table(m: Manifest, entry: FileEntry, target: Path, key: str, prod: ProductReport) -> None:
    rel = entry.path or ""
    try:
        reader = open_table(target, entry.format)
        schema = reader.schema()
    except PzcatError as exc:
        prod.issues.append(_table_issue(exc, rel, key))
        return
    names = [c.name for c in schema]
    if entry.columns is not None and [c.name for c in entry.columns] != names:
        declared = [c.name for c in entry.columns]
        extra = sorted(set(names) - set(declared))
        gone = sorted(set(declared) - set(names))
        prod.add(
            "columns-mismatch",
            f"{rel}: columns differ from the manifest (in file only: "
            f"{extra[:10]}, in manifest only: {gone[:10]})",
            file=rel,
            key=f"{key}.columns",
        )
    roles: dict[str, str] = {}
    if entry.role == "main":
        for role, assoc in m.columns.items():
            if assoc.column not in names:
                prod.add(
                    "missing-column",
                    f"column {assoc.column!r} associated with {role!r} is not "
                    f"in {rel} (columns: {names[:20]})",
                    file=rel,
                    key=f"columns.{role}",
                    column=assoc.column,
                )
            elif role in (*vocab.NUMERIC_ROLES, "z_flag"):
                roles[role] = assoc.column
        for column, role in vocab.HOMOGENIZED_COLUMNS.items():
            if column in names:
                roles[role] = column
    ucds = {c.name: c.ucd for c in entry.columns or []}
    taken = set(roles.values())
    mags = [c for c in names if c not in taken and sentinels.kind_for(c, ucd=ucds.get(c)) == "mag"]
    checks = ValueChecks(roles, magnitudes=mags)
    n = 0
    wanted = sorted(set(roles.values()) | set(mags))
    try:
        for batch in reader.batches(columns=wanted or names[:1]):
            n += len(batch)
            if roles:
                checks.update(batch)
    except PzcatError as exc:
        prod.issues.append(_table_issue(exc, rel, key))
        return
    if getattr(reader, "comment_lines", 0):
        prod.add(
            "csv-comments",
            f"{rel}: {reader.comment_lines:,} comment lines (#) were ignored",
            file=rel,
            key=key,
            count=reader.comment_lines,
        )
    if entry.format == "hdf5":
        from pzcat.readers.hdf5 import groups_needing_pandas3, tables_io_problem

        needs = groups_needing_pandas3(target)
        if needs:
            prod.add(
                "hdf5-needs-pandas3",
                f"{rel}: the pandas table {needs[0]!r} has no "
                "pandas_version attribute (written by pandas 3); pandas 2, the pzserver "
                "client and tables_io cannot read it",
                file=rel,
                key=key,
            )
        problem = tables_io_problem(target)
        if problem:
            prod.add(
                "hdf5-not-for-tables-io",
                f"{rel}: tables_io (the pzserver client's reader) would not open it as one "
                f"table: {problem}",
                file=rel,
                key=key,
            )
    if getattr(reader, "latin1", False):
        prod.add("csv-not-utf8", f"{rel} is not UTF-8; it was read as Latin-1", file=rel, key=key)
    if n == 0:
        prod.add("empty-table", f"{rel} has no rows", file=rel, key=key)
    if entry.n_rows is not None and entry.n_rows != n:
        prod.add(
            "n-rows-mismatch",
            f"{rel} has {n:,} rows, the manifest says {entry.n_rows:,}",
            file=rel,
            key=f"{key}.n_rows",
        )
    for role in sorted(checks.non_numeric):
        prod.add(
            "non-numeric-column",
            f"column {roles[role]!r} ({role}) is not numeric",
            file=rel,
            column=roles[role],
        )
    for code, column, tally in checks.results():
        examples = f"; e.g. {tally.examples[:3]}" if tally.examples else ""
        extra = {}
        if code == "sentinel-values":
            values = {_plain_number(v): c for v, c in sorted(tally.values.items())}
            extra["values"] = values
            text = (
                f"{tally.count:,} of {n:,} rows of column {column!r} hold placeholder values "
                f"{values} (value: rows); statistics, plots and previews leave them out"
            )
        elif code in ("missing-redshift", "missing-values"):
            text = (
                f"{tally.count:,} of {n:,} rows of column {column!r} have no value "
                f"(first rows {tally.rows}); they are kept, and left out of statistics"
            )
        elif code in ("nan-redshift", "no-values"):
            text = f"none of the {n:,} rows of column {column!r} has a usable value{examples}"
        else:
            text = f"{tally.count:,} of {n:,} rows of column {column!r}{examples}"
        prod.add(code, text, file=rel, column=column, rows=tally.rows, count=tally.count, **extra)
    if entry.role == "main":
        prod.stats["rows"] = n


def _plain_number(value: float) -> int | float:
    """A sentinel value as it is usually written (-1, not -1.0)."""
    return int(value) if float(value).is_integer() else float(value)


def _table_issue(exc: PzcatError, rel: str, key: str) -> Issue:
    """A reader's error as an issue on the repository-relative path (readers know absolute ones)."""
    issue = Issue.from_error(exc, key=f"{key}.format")
    issue.file = rel
    return issue


def _against_ref(
    catalog: Catalog,
    m: Manifest,
    path: Path,
    ref: str,
    changed: set[str],
    author: str | None,
    prod: ProductReport,
) -> None:
    """Checks that compare the manifest with its state at ``ref``."""
    rel = catalog.relative(path)
    old_text = git.show(catalog.root, ref, rel)
    old = read_manifest_or_none(old_text, f"{ref}:{rel}")
    admin = catalog.config.is_admin(author)
    who = author or "an unknown author"
    if old is None:
        if m.official and not admin:
            prod.add(
                "official-not-admin",
                f"new product marked official by {who}, who is not an admin",
                key="official",
            )
        return
    if m.official != old.official and not admin:
        prod.add(
            "official-not-admin",
            f"official changed from {old.official} to {m.official} by {who}, who is not an admin",
            key="official",
        )
    content_changed = _content(m) != _content(old) or any(
        c.startswith(f"products/{m.internal_name}/") for c in changed
    )
    if content_changed and m.version <= old.version:
        prod.add(
            "version-not-bumped",
            f"content changed since {ref} but version is still {m.version} (was {old.version})",
            key="version",
        )


def _content(m: Manifest) -> dict:
    data = m.model_dump(mode="json")
    data.pop("version", None)
    data.pop("updated", None)
    return data

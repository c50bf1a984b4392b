"""Adding and editing products: the Photo-z Server's upload form and edit actions.

Every function here either completes or changes nothing: files are copied into a staging folder,
the manifest is built and validated, and only then both are moved into place.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from pydantic import ValidationError

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError, TableError, UsageError
from pzcat.files import path_digest, path_size
from pzcat.manifest import (
    STANDARD_ROLES,
    ColumnInfo,
    ColumnRole,
    FileEntry,
    FileFormat,
    Manifest,
    make_internal_name,
    now_utc,
    schema_problems,
)
from pzcat.staging import Staging, write_failed  # write_failed: also re-exported
from pzcat.tables import guess_format, open_table

#: Column-name patterns (lower-case, full match) that suggest each role, best first.
ROLE_PATTERNS: dict[str, list[str]] = {
    "id": [
        r"id",
        r"objid",
        r"obj_id",
        r"object_?id",
        r"specid",
        r"targetid",
        r"unique_id",
        r"source_?id",
        r"name",
        r"num",
        r"tmid",
        r".*_id",
    ],
    "ra": [
        r"ra",
        r"ra_?deg",
        r"radeg",
        r"ra_?j2000(_deg)?",
        r"alpha(_j2000)?",
        r"target_ra",
        r"raj2000",
        r"ra_.*",
    ],
    "dec": [
        r"dec",
        r"dec_?deg",
        r"dedeg",
        r"dec_?j2000(_deg)?",
        r"delta(_j2000)?",
        r"target_dec",
        r"dej2000",
        r"dec_.*",
    ],
    "z": [
        r"z",
        r"redshift",
        r"z_?spec",
        r"zspec",
        r"z_?best",
        r"zbest",
        r"z_?final",
        r"zfinal",
        r"z_mosfire",
        r"specz",
        r"z_true",
        r"ztrue",
        r"zphot",
        r"z_phot",
    ],
    "z_err": [
        r"z_?err",
        r"zerr",
        r"redshift_?err(or)?",
        r"e_?z",
        r"z_?error",
        r"err_?z",
        r"sigma_?z",
        r"z_?sig(ma)?",
        r"dz",
        r"z_?(spec|best|final|phot)_?err(or)?",
        r"(spec|best)z_?err",
        r"z_?unc",
        r"zerr_.*",
        r"z_?err_.*",
        r"e_?z_?(spec|best)",
        r"redshift_?unc",
    ],
    "z_flag": [
        r"z_?flag",
        r"zflag",
        r"zflags",
        r"zflg",
        r"quality",
        r"qual",
        r"z_?qual(ity)?",
        r"zquality",
        r"qop",
        r"zwarn",
        r"flag",
        r".*_quality",
    ],
    "survey": [r"survey", r"survey_name"],
}


def suggest_columns(columns: Iterable[ColumnInfo]) -> dict[str, str]:
    """Suggest the column association from UCDs first, then from column names.

    Examples
    --------
    >>> from pzcat.manifest import ColumnInfo
    >>> cols = [ColumnInfo(name=n, dtype="float64") for n in ("RAdeg", "DEdeg", "zbest")]
    >>> suggest_columns(cols)
    {'ra': 'RAdeg', 'dec': 'DEdeg', 'z': 'zbest'}
    """
    cols = list(columns)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for role, ucd in STANDARD_ROLES.items():
        for c in cols:
            if c.ucd and c.ucd.lower() == ucd.lower() and c.name not in taken:
                out[role] = c.name
                taken.add(c.name)
                break
    for role, patterns in ROLE_PATTERNS.items():
        if role in out:
            continue
        for pattern in patterns:
            match = next(
                (
                    c.name
                    for c in cols
                    if c.name not in taken and re.fullmatch(pattern, c.name.lower())
                ),
                None,
            )
            if match:
                out[role] = match
                taken.add(match)
                break
    return {r: out[r] for r in ROLE_PATTERNS if r in out}


def check_format(fmt: str | None) -> str | None:
    """``fmt`` itself when it is in the manifest's vocabulary (or None).

    Raises
    ------
    PzcatError
        ``unknown-format``.
    """
    if fmt is not None and fmt not in get_args(FileFormat):
        raise PzcatError(
            "unknown-format",
            f"format {fmt!r} is not one of {', '.join(get_args(FileFormat))}",
            key="format",
        )
    return fmt


def describe_file(path: Path, rel_path: str, role: str, fmt: str | None = None) -> FileEntry:
    """A :class:`FileEntry` with size, sha256 and (for tables) n_rows and columns.

    A description or auxiliary file whose format is only guessed from its name (``notes.txt`` looks
    like CSV) and that does not read as a table is recorded as ``other``; a main file, or a format
    given explicitly, must read.
    """
    guessed = fmt is None
    fmt = check_format(fmt) or guess_format(path)
    size, digest = path_digest(path)
    entry = FileEntry(role=role, path=rel_path, format=fmt, size=size, sha256=digest)
    if entry.is_table:
        try:
            reader = open_table(path, fmt)
            entry.columns = reader.schema()
            entry.n_rows = reader.n_rows()
        except TableError:
            if not guessed or role == "main":
                raise
            entry.format, entry.columns, entry.n_rows = "other", None, None
    return entry


def _check_metadata(
    catalog: Catalog, product_type: str, release: str | None, pz_code: str | None
) -> tuple[str, str | None]:
    ptype = catalog.config.product_type(product_type)
    if ptype is None:
        raise PzcatError(
            "unknown-product-type",
            f"product type {product_type!r} is not one of "
            f"{[t.name for t in catalog.config.product_types]}",
        )
    rel = None
    if release:
        found = catalog.config.release(release)
        if found is None:
            raise PzcatError(
                "unknown-release",
                f"release {release!r} is not one of {[r.name for r in catalog.config.releases]}",
            )
        if not ptype.release:
            raise PzcatError("release-not-allowed", f"a {ptype.display_name} has no release")
        rel = found.name
    if pz_code and not ptype.pz_code:
        raise PzcatError("pz-code-not-allowed", f"pz_code must be empty for {ptype.display_name}")
    return ptype.name, rel


def _check_size(catalog: Catalog, path: Path) -> None:
    limit = catalog.config.limits.max_file_bytes
    size = path_size(path)
    if size > limit:
        raise PzcatError(
            "file-too-large",
            f"{path.name} is {size:,} bytes, over the in-repository limit of {limit:,} bytes. "
            "Host it elsewhere (Zenodo, an S3 bucket, your institution) and register it by URL: "
            "`pzcat add ... --url https://host/path/file --format FORMAT` or "
            "`pzcat attach PRODUCT --url https://host/path/file`.",
            file=str(path),
        )


def _parse_columns(pairs: Iterable[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError("usage", f"--column takes ROLE=COLUMN, got {pair!r}")
        role, column = (s.strip() for s in pair.split("=", 1))
        out[role] = column
    return out


def _install(catalog: Catalog, manifest: Manifest, warnings: list | None = None) -> Path:
    """Write and validate a manifest whose files do not change (the one staging transaction)."""
    with Staging(catalog, manifest.internal_name, kind="edit") as stage:
        return stage.commit(manifest, warnings=warnings)


def check_official(
    catalog: Catalog, user: str | None, official: bool | None, before: bool | None = None
) -> None:
    """The one official rule: only admins of catalog.yaml set or change ``official``.

    ``before`` is the product's current value (None for a new product). Raises
    ``official-not-admin``; used by :func:`add_product` and :func:`edit_product` (so the library
    enforces what the CLI does).
    """
    if official is None or official == bool(before) or catalog.config.is_admin(user or ""):
        return
    if before is None:
        raise PzcatError(
            "official-not-admin",
            f"only admins ({catalog.config.admins}) may add "
            f"official products; you are {user or 'unknown'}",
        )
    raise PzcatError(
        "official-not-admin",
        f"only admins ({catalog.config.admins}) may set or "
        f"change official; you are {user or 'unknown'} (pass --author)",
    )


def add_product(
    catalog: Catalog,
    *,
    name: str,
    product_type: str,
    uploaded_by: str,
    main_file: Path | None = None,
    url: str | None = None,
    fmt: str | None = None,
    release: str | None = None,
    description: str = "",
    description_file: Path | None = None,
    aux_files: Iterable[Path] = (),
    columns: Iterable[str] = (),
    official: bool = False,
    pz_code: str | None = None,
    license: str = "CC-BY-4.0",
    citation: str | None = None,
    doi: str | None = None,
    product_id: int | None = None,
    warnings: list | None = None,
) -> Manifest:
    """Create a product from local files (or an external URL) and validate it.

    Parameters
    ----------
    catalog : Catalog
        Where the product goes.
    name, product_type, uploaded_by : str
        Display name, type (name or display name) and GitHub user name.
    main_file : Path, optional
        The data; copied into ``products/<internal_name>/``.
    url, fmt : str, optional
        External location and format, for data over the in-repository limit.
    columns : iterable of str
        ``ROLE=COLUMN`` overrides of the suggested association.
    warnings : list, optional
        Receives the validation warnings of the new product (missing redshifts, sentinels...).

    Raises
    ------
    PzcatError
        With the code of the first problem; nothing is written then.
    """
    check_official(catalog, uploaded_by, official)
    ptype, rel = _check_metadata(catalog, product_type, release, pz_code)
    if bool(main_file) == bool(url):
        raise UsageError("usage", "give exactly one of a main file or --url")
    if not name.strip():
        raise UsageError("usage", "the product needs a name")
    sources = [
        Path(p)
        for p in ([main_file] if main_file else [])
        + list(aux_files)
        + ([description_file] if description_file else [])
    ]
    for src in sources:
        if not src.exists():
            raise PzcatError("file-missing", f"{src} does not exist", file=str(src))
        _check_size(catalog, src)
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise UsageError("usage", f"two files share a name: {names}")
    pid = product_id or catalog.next_id()
    internal = make_internal_name(pid, name)
    if catalog.manifest_path(internal).exists() or catalog.product_dir(internal).exists():
        raise PzcatError("file-exists", f"product {internal} exists already")
    overrides = _parse_columns(columns)
    check_format(fmt)
    with Staging(catalog, internal, kind="add") as stage:
        staged = stage.folder
        files: list[FileEntry] = []
        roles = (
            ([("main", main_file)] if main_file else [])
            + ([("description", description_file)] if description_file else [])
            + [("auxiliary", a) for a in aux_files]
        )
        for role, src in roles:
            src = Path(src)
            dest = staged / src.name
            try:
                if src.is_dir():
                    shutil.copytree(src, dest)
                else:
                    shutil.copy2(src, dest)
            except (OSError, shutil.Error) as exc:
                raise write_failed(exc, dest) from None
            f_fmt = fmt if (role == "main" and fmt) else None
            files.append(describe_file(dest, f"products/{internal}/{src.name}", role, f_fmt))
        if url:
            files.insert(0, FileEntry(role="main", url=url, format=fmt or "other"))
        main = files[0] if files and files[0].role == "main" else None
        assoc = suggest_columns(main.columns or []) if main and main.columns else {}
        assoc.update(overrides)
        assoc = {r: c for r, c in assoc.items() if c}  # ROLE= drops a suggestion
        if main and main.columns:
            names_in_file = {c.name for c in main.columns}
            bad = {r: c for r, c in overrides.items() if c and c not in names_in_file}
            if bad:
                raise PzcatError(
                    "missing-column",
                    f"columns {bad} are not in {main.filename} "
                    f"(columns: {sorted(names_in_file)[:30]})",
                )
        if main and main.columns:
            for col in main.columns:
                role = next((r for r, c in assoc.items() if c == col.name), None)
                if role in STANDARD_ROLES and not col.ucd:
                    col.ucd = STANDARD_ROLES[role]
        now = now_utc()
        try:
            manifest = Manifest(
                id=pid,
                internal_name=internal,
                name=name.strip(),
                product_type=ptype,
                release=rel,
                official=official,
                pz_code=pz_code or None,
                description=description,
                uploaded_by=uploaded_by,
                created=now,
                updated=now,
                version=1,
                license=license,
                citation=citation,
                doi=doi,
                files=files,
                columns={
                    r: ColumnRole(column=c, ucd=STANDARD_ROLES.get(r)) for r, c in assoc.items()
                },
            )
        except ValidationError as exc:
            code, key, msg = schema_problems(exc)[0]
            raise PzcatError(code, f"{msg}; nothing was changed", key=key) from None
        if files and any(f.path for f in files):
            stage.place()
        stage.commit(manifest, warnings=warnings)
        return manifest


def _bump(manifest: Manifest) -> Manifest:
    manifest.version += 1
    manifest.updated = max(now_utc(), manifest.created)
    return manifest


def _edit_files(
    catalog: Catalog,
    manifest: Manifest,
    new_files: list[FileEntry],
    copy: dict[str, Path],
    remove: set[str],
) -> Manifest:
    """Write a new version whose product folder is the old one plus ``copy`` minus ``remove``."""
    internal = manifest.internal_name
    current = catalog.product_dir(internal)
    with Staging(catalog, internal, kind="edit") as stage:
        staged = stage.folder
        if current.exists():
            for item in current.iterdir():
                if item.name in remove:
                    continue
                dest = staged / item.name
                if item.is_dir() and not item.is_symlink():
                    shutil.copytree(item, dest, symlinks=True)
                else:
                    shutil.copy2(item, dest, follow_symlinks=False)
        for name, src in copy.items():
            if src.is_dir():
                shutil.copytree(src, staged / name)
            else:
                shutil.copy2(src, staged / name)
        manifest.files = new_files
        _bump(manifest)
        stage.place()
        stage.commit(manifest)
        return manifest


def edit_product(
    catalog: Catalog,
    key: str,
    *,
    author: str | None = None,
    description: str | None = None,
    release: str | None = None,
    pz_code: str | None = None,
    license: str | None = None,
    citation: str | None = None,
    doi: str | None = None,
    official: bool | None = None,
    columns: Iterable[str] = (),
    refresh: bool = False,
) -> Manifest:
    """Change metadata (and with ``refresh`` re-read the files' facts); bumps the version."""
    original = catalog.get(key)
    manifest = original.model_copy(deep=True)
    check_official(catalog, author, official, before=manifest.official)
    _check_metadata(
        catalog,
        manifest.product_type,
        release if release is not None else manifest.release,
        pz_code if pz_code is not None else manifest.pz_code,
    )
    if description is not None:
        manifest.description = description
    for field, value in (
        ("pz_code", pz_code),
        ("license", license),
        ("citation", citation),
        ("doi", doi),
        ("official", official),
    ):
        if value is not None:
            setattr(manifest, field, value if value != "" else None)  # "" clears an optional key
    if release is not None:
        manifest.release = catalog.config.release(release).name if release else None
    for role, column in _parse_columns(columns).items():
        if column:
            manifest.columns[role] = ColumnRole(column=column, ucd=STANDARD_ROLES.get(role))
        else:
            manifest.columns.pop(role, None)
    if refresh:
        manifest.files = [
            describe_file(catalog.root / f.path, f.path, f.role, f.format) if f.path else f
            for f in manifest.files
        ]
    if manifest.model_dump() == original.model_dump():
        raise UsageError("usage", "nothing to change: give at least one option")
    _bump(manifest)
    _install(catalog, manifest)
    return manifest


def attach_file(
    catalog: Catalog,
    key: str,
    *,
    file: Path | None = None,
    url: str | None = None,
    role: str = "auxiliary",
    fmt: str | None = None,
) -> Manifest:
    """Add a file (or an external url) to a product; bumps the version."""
    manifest = catalog.get(key).model_copy(deep=True)
    if bool(file) == bool(url):
        raise UsageError("usage", "give exactly one of FILE or --url")
    if role == "main" and manifest.main_file is not None:
        raise UsageError("usage", "the product has a main file already; detach it first")
    check_format(fmt)
    if url:
        manifest.files.append(FileEntry(role=role, url=url, format=fmt or "other"))
        _bump(manifest)
        _install(catalog, manifest)
        return manifest
    src = Path(file)
    if not src.exists():
        raise PzcatError("file-missing", f"{src} does not exist", file=str(src))
    _check_size(catalog, src)
    if any(f.filename == src.name for f in manifest.files):
        raise PzcatError(
            "file-exists",
            f"{manifest.internal_name} has a file named {src.name} "
            "already; detach it first or rename",
        )
    rel = f"products/{manifest.internal_name}/{src.name}"
    entry = describe_file(src, rel, role, fmt)
    return _edit_files(catalog, manifest, [*manifest.files, entry], {src.name: src}, set())


def detach_file(catalog: Catalog, key: str, filename: str) -> Manifest:
    """Remove a file from a product (its main file cannot be removed); bumps the version."""
    manifest = catalog.get(key).model_copy(deep=True)
    match = [
        f
        for f in manifest.files
        if f.filename == filename or f.path == filename or f.url == filename
    ]
    if not match:
        raise PzcatError(
            "file-missing",
            f"{manifest.internal_name} has no file {filename!r}; "
            f"files: {[f.filename for f in manifest.files]}",
        )
    if match[0].role == "main":
        raise UsageError("usage", "the main file cannot be detached; deprecate the product instead")
    keep = [f for f in manifest.files if f is not match[0]]
    remove = {match[0].filename} if match[0].path else set()
    return _edit_files(catalog, manifest, keep, {}, remove)


def deprecate_product(catalog: Catalog, key: str, reason: str) -> Manifest:
    """Mark a product deprecated (never deleted, so links and provenance keep working)."""
    if not reason.strip():
        raise UsageError("usage", "say why the product is deprecated (--reason)")
    manifest = catalog.get(key).model_copy(deep=True)
    if manifest.status == "deprecated":
        raise UsageError("usage", f"{manifest.internal_name} is deprecated already")
    manifest.status = "deprecated"
    manifest.deprecation_reason = reason.strip()
    _bump(manifest)
    _install(catalog, manifest)
    return manifest

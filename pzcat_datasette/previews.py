"""The Datasette previews database, ``build/previews.db``.

One SQLite file built from the catalog:

- ``products``: one row per product, every manifest field flattened (files, column association and
  provenance as JSON too), with full-text search on name and description (``products_fts``);
- ``columns``: one row per column of each product's main file: dtype, unit, UCD, role and
  statistics (min, max, mean, nulls) over the previewed rows;
- one table per tabular product, named by its internal_name: its rows up to
  ``limits.preview_row_cap`` (past it the first rows), typed columns, indexes on the associated
  ra, dec and z, and ``_healpix_order10`` (nested HEALPix index at order 10) for spatial queries;
- ``_pzcat_state``: per product the fingerprint (version, sha256, cap...) of what was imported, so
  that a rebuild re-imports only the products that changed.

The database is built in a temporary file next to the target (a copy of the previous one when it is
reusable) and renamed into place: readers never see a half-built file.

Examples
--------
>>> from pzcat.catalog import Catalog
>>> stats = build_previews(Catalog.open("."), "build/previews.db")   # doctest: +SKIP
>>> stats.imported, stats.reused                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pzcat import sentinels
from pzcat.bundle import DownloadError, manifest_rel, safe_product_file
from pzcat.catalog import Catalog
from pzcat.colstats import ColumnStats
from pzcat.errors import PzcatError
from pzcat.files import publish, temp_sibling
from pzcat.links import Links
from pzcat.manifest import Manifest
from pzcat.readers.base import check_column_names
from pzcat.sky import healpix_nested
from pzcat.staging import remove_dead_temps
from pzcat.vocab import STANDARD_ROLES

#: Bump when the layout of previews.db or the meaning of its statistics (pzcat.sentinels) changes:
#: forces a full rebuild.
BUILDER_VERSION = 5
HEALPIX_ORDER = 10
HEALPIX_COLUMN = f"_healpix_order{HEALPIX_ORDER}"
STATE_TABLE = "_pzcat_state"
RESERVED_TABLES = {"products", "products_fts", "columns", STATE_TABLE}
BATCH_ROWS = 100_000
INDEXED_ROLES = ("ra", "dec", "z")

Progress = Callable[[str, dict], None]


@dataclass
class ProductStats:
    """What happened to one product during a build."""

    internal_name: str
    action: str  # imported | reused | no-table | skipped
    rows: int = 0
    total_rows: int | None = None
    truncated: bool = False
    seconds: float = 0.0
    message: str | None = None


@dataclass
class PreviewStats:
    """The result of :func:`build_previews`."""

    db_path: str
    products: list[ProductStats] = field(default_factory=list)
    seconds: float = 0.0
    size: int = 0
    full_rebuild: bool = False

    @property
    def imported(self) -> list[str]:
        return [p.internal_name for p in self.products if p.action == "imported"]

    @property
    def reused(self) -> list[str]:
        return [p.internal_name for p in self.products if p.action == "reused"]

    @property
    def skipped(self) -> list[ProductStats]:
        return [p for p in self.products if p.action == "skipped"]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.products if p.action == "imported")

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(imported=self.imported, reused=self.reused)
        return out


def default_db_path(catalog: Catalog) -> Path:
    return catalog.root / "build" / "previews.db"


def quote_ident(name: str) -> str:
    """SQLite identifier quoting."""
    return '"' + str(name).replace('"', '""') + '"'


# -- safe resolution of product files ----------------------------------------------------------------


def product_file(catalog: Catalog, manifest: Manifest, rel_path: str | None) -> Path | None:
    """Absolute path of a manifest's file if it is a real file or folder inside its product folder.

    None for external urls, paths outside ``products/<internal_name>/``, symlinks and missing files
    (the same rule as downloads: :func:`pzcat.bundle.safe_product_file`).
    """
    rel = manifest_rel(manifest, rel_path)
    if rel is None:
        return None
    try:
        return safe_product_file(catalog.products_dir, manifest.internal_name, rel, allow_dir=True)
    except DownloadError:
        return None


# -- fingerprints ------------------------------------------------------------------------------------


def _fingerprint(manifest: Manifest, cap: int) -> str:
    main = manifest.main_file
    data = {
        "builder": BUILDER_VERSION,
        "cap": cap,
        "version": manifest.version,
        "main": main.model_dump(mode="json", include={"path", "format", "sha256", "size"})
        if main
        else None,
        "roles": {r: c.column for r, c in sorted(manifest.columns.items())},
    }
    return json.dumps(data, sort_keys=True)


# -- type mapping ------------------------------------------------------------------------------------


def _sql_type(series: pd.Series) -> str:
    kind = getattr(series.dtype, "kind", "O")
    if pd.api.types.is_bool_dtype(series.dtype) or kind in "iu":
        return "INTEGER"
    if kind == "f":
        return "REAL"
    if kind in "mM" or isinstance(series.dtype, pd.DatetimeTZDtype):
        return "TEXT"
    if kind == "V" or kind == "S":
        return "BLOB" if kind == "V" else "TEXT"
    return "TEXT"


def _as_values(series: pd.Series) -> list:
    """A column as a list of Python values SQLite can bind (NaN and NA become NULL)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        kind = dtype.kind
        if kind in "iuf":
            return series.to_numpy().tolist()  # SQLite stores NaN as NULL
        if kind == "b":
            return series.to_numpy().astype(np.int8).tolist()
        if kind in "mM":
            values = series.astype(str).tolist()
            mask = series.isna().to_numpy()
            return (
                [None if m else v for v, m in zip(values, mask, strict=True)]
                if mask.any()
                else values
            )
    mask = series.isna().to_numpy()
    if (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_float_dtype(dtype)
    ):
        values = series.to_numpy(dtype=object, na_value=None)
        if pd.api.types.is_bool_dtype(dtype):
            return [None if v is None else int(v) for v in values]
        return values.tolist()
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, np.dtype):
        return series.to_numpy(dtype=object, na_value=None).tolist()  # str or None already
    values = series.to_numpy(dtype=object)
    out = []
    for v, m in zip(values, mask, strict=True):
        if m:
            out.append(None)
        elif isinstance(v, str | int | float):
            out.append(v)
        elif isinstance(v, bytes):
            out.append(v.decode("utf-8", "replace"))
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(str(v))
    return out


def _healpix(ra: pd.Series, dec: pd.Series) -> list:
    """Nested HEALPix index at :data:`HEALPIX_ORDER` (None where the position is invalid)."""
    ra_v = pd.to_numeric(ra, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    dec_v = pd.to_numeric(dec, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(ra_v) & np.isfinite(dec_v) & (dec_v >= -90) & (dec_v <= 90)
    pix = np.zeros(len(ra_v), dtype=np.int64)
    if ok.any():
        pix[ok] = healpix_nested(ra_v[ok], dec_v[ok], HEALPIX_ORDER)
    values = pix.tolist()
    if not ok.all():
        values = [v if good else None for v, good in zip(values, ok.tolist(), strict=True)]
    return values


# -- one product table -------------------------------------------------------------------------------


def _import_table(
    conn: sqlite3.Connection,
    catalog: Catalog,
    manifest: Manifest,
    cap: int,
    progress: Progress | None,
) -> tuple[ProductStats, list[dict]]:
    from pzcat.tables import open_table

    name = manifest.internal_name
    main = manifest.main_file
    stats = ProductStats(name, "imported", total_rows=main.n_rows)
    path = product_file(catalog, manifest, main.path)
    if path is None:
        raise PzcatError(
            "preview-skipped",
            f"{name}: main file {main.path!r} is missing, a symlink "
            "or outside products/<internal_name>/",
            product=name,
        )
    reader = open_table(path, main.format)
    table = quote_ident(name)
    ra_col, dec_col = manifest.column_for("ra"), manifest.column_for("dec")
    batches = _capped(reader.batches(batch_rows=min(BATCH_ROWS, max(cap, 1))), cap, stats)
    first = next(batches, None)
    if first is None:
        raise PzcatError("preview-skipped", f"{name}: the main table has no rows", product=name)
    columns = [str(c) for c in first.columns]
    check_column_names(columns, path)  # the validator's limits: SQLite's columns, NUL bytes
    if len(set(c.lower() for c in columns)) != len(columns):
        raise PzcatError(
            "preview-skipped", f"{name}: column names differ only by case", product=name
        )
    has_healpix = ra_col in columns and dec_col in columns and HEALPIX_COLUMN not in columns
    sql_types = {c: _sql_type(first[c]) for c in columns}
    defs = [f"{quote_ident(c)} {sql_types[c]}" for c in columns]
    if has_healpix:
        defs.append(f"{quote_ident(HEALPIX_COLUMN)} INTEGER")
    conn.execute(f"CREATE TABLE {table} ({', '.join(defs)})")
    names = [*columns, HEALPIX_COLUMN] if has_healpix else columns
    ucds = {c.name: c.ucd for c in main.columns or []}
    kinds = {c: sentinels.kind_for(c, manifest.role_of(c), ucds.get(c)) for c in columns}
    acc = _StatsAccumulator(columns, sql_types, kinds)
    insert = (
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )

    def prepare(batch: pd.DataFrame | None) -> list[list] | None:
        """Statistics and Python values of one batch (in a helper thread)."""
        if batch is None:
            return None
        acc.add(batch)
        values = [_as_values(batch[c]) for c in columns]
        if has_healpix:
            values.append(_healpix(batch[ra_col], batch[dec_col]))
        return values

    def next_prepared() -> list[list] | None:
        return prepare(next(batches, None))

    total = 0
    # Read and convert the next batch while SQLite inserts this one (sqlite3 releases the GIL
    # while it steps; pyarrow while it decodes).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(prepare, first)
        while (values := pending.result()) is not None:
            pending = pool.submit(next_prepared)
            conn.executemany(insert, zip(*values, strict=True))
            total += len(values[0])
            if progress:
                progress("rows", {"product": name, "rows": total})
    stats.rows = total
    if stats.total_rows is None and not stats.truncated:
        stats.total_rows = total
    for role in INDEXED_ROLES:
        col = manifest.column_for(role)
        if col in columns:
            conn.execute(
                f"CREATE INDEX {quote_ident(f'idx_{name}_{role}')} ON {table} ({quote_ident(col)})"
            )
    if has_healpix:
        conn.execute(
            f"CREATE INDEX {quote_ident(f'idx_{name}_healpix')} ON {table} "
            f"({quote_ident(HEALPIX_COLUMN)})"
        )
    return stats, acc.result()


def _capped(batches, cap: int, stats: ProductStats):
    """The batches up to ``cap`` rows in all; sets ``stats.truncated`` when rows are left out."""
    total = 0
    for batch in batches:
        if len(batch) == 0:
            continue
        if total >= cap:
            stats.truncated = True
            return
        if total + len(batch) > cap:
            batch = batch.iloc[: cap - total]
            stats.truncated = True
        total += len(batch)
        yield batch
        if stats.truncated:
            return


class _StatsAccumulator:
    """min, max, mean and nulls of every column, accumulated batch by batch (NaN counts as null;
    placeholders of the column's kind, :mod:`pzcat.sentinels`, are counted and left out)."""

    def __init__(
        self,
        columns: list[str],
        sql_types: dict[str, str],
        kinds: dict[str, str | None] | None = None,
    ) -> None:
        self.sql_types = sql_types
        self.acc = {
            c: ColumnStats(sql_types[c] in ("INTEGER", "REAL"), (kinds or {}).get(c))
            for c in columns
        }

    def add(self, batch: pd.DataFrame) -> None:
        for c, a in self.acc.items():
            series = batch[c]
            if a.numeric:
                a.add_numbers(
                    pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                )
            else:
                a.nulls += int(series.isna().sum())  # text: nulls only

    def result(self) -> list[dict]:
        out = []
        for c, a in self.acc.items():
            mn, mx = a.min, a.max
            if self.sql_types[c] == "INTEGER" and mn is not None:
                mn, mx = int(mn), int(mx)
            out.append(
                {
                    "column": c,
                    "sql_type": self.sql_types[c],
                    "min": mn,
                    "max": mx,
                    "mean": a.mean,
                    "nulls": a.nulls,
                    "sentinels": a.sentinels,
                }
            )
        return out


# -- catalog tables ----------------------------------------------------------------------------------

PRODUCT_COLUMNS = [
    ("id", "INTEGER PRIMARY KEY"),
    ("internal_name", "TEXT UNIQUE"),
    ("name", "TEXT"),
    ("product_type", "TEXT"),
    ("product_type_name", "TEXT"),
    ("release", "TEXT"),
    ("official", "INTEGER"),
    ("pz_code", "TEXT"),
    ("description", "TEXT"),
    ("uploaded_by", "TEXT"),
    ("created", "TEXT"),
    ("updated", "TEXT"),
    ("version", "INTEGER"),
    ("license", "TEXT"),
    ("citation", "TEXT"),
    ("doi", "TEXT"),
    ("status", "TEXT"),
    ("deprecation_reason", "TEXT"),
    ("main_file", "TEXT"),
    ("main_format", "TEXT"),
    ("main_url", "TEXT"),
    ("n_rows", "INTEGER"),
    ("n_columns", "INTEGER"),
    ("n_files", "INTEGER"),
    ("total_size", "INTEGER"),
    *[(f"{role}_column", "TEXT") for role in STANDARD_ROLES],
    ("column_roles", "TEXT"),
    ("files", "TEXT"),
    ("pipeline", "TEXT"),
    ("pipeline_version", "TEXT"),
    ("provenance", "TEXT"),
    ("preview_table", "TEXT"),
    ("preview_rows", "INTEGER"),
    ("preview_truncated", "INTEGER"),
    ("site_page", "TEXT"),
    ("download", "TEXT"),
    ("schema_version", "INTEGER"),
]


def product_page(catalog: Catalog, internal_name: str) -> str:
    """The product's page on the site, as the server links to it (``/site/product/<name>/`` when
    the site and the server share an origin, see :mod:`pzcat.links`)."""
    return Links.of(catalog.config).site_page(f"product/{internal_name}/")


def download_url(catalog: Catalog, internal_name: str) -> str:
    """The product's zip as the server links to it (a path on the server itself)."""
    return Links.of(catalog.config).on_server(Links.download_path(internal_name))


def _product_row(catalog: Catalog, m: Manifest, state: dict | None) -> dict:
    main = m.main_file
    ptype = catalog.config.product_type(m.product_type)
    row = {
        "id": m.id,
        "internal_name": m.internal_name,
        "name": m.name,
        "product_type": m.product_type,
        "product_type_name": ptype.display_name if ptype else m.product_type,
        "release": m.release,
        "official": int(m.official),
        "pz_code": m.pz_code,
        "description": m.description,
        "uploaded_by": m.uploaded_by,
        "created": m.created.isoformat(),
        "updated": m.updated.isoformat(),
        "version": m.version,
        "license": m.license,
        "citation": m.citation,
        "doi": m.doi,
        "status": m.status,
        "deprecation_reason": m.deprecation_reason,
        "main_file": main.path if main else None,
        "main_format": main.format if main else None,
        "main_url": main.url if main else None,
        "n_rows": main.n_rows if main else None,
        "n_columns": len(main.columns) if main and main.columns else None,
        "n_files": len(m.files),
        "total_size": sum(f.size or 0 for f in m.files),
        "column_roles": json.dumps(
            {r: c.model_dump(exclude_none=True) for r, c in m.columns.items()}
        ),
        "files": json.dumps(
            [f.model_dump(mode="json", exclude_none=True, exclude={"columns"}) for f in m.files]
        ),
        "pipeline": m.provenance.pipeline if m.provenance else None,
        "pipeline_version": m.provenance.pipeline_version if m.provenance else None,
        "provenance": json.dumps(m.provenance.model_dump(mode="json", exclude_none=True))
        if m.provenance
        else None,
        "preview_table": m.internal_name if state and state.get("has_table") else None,
        "preview_rows": state.get("rows") if state else None,
        "preview_truncated": int(bool(state.get("truncated"))) if state else None,
        "site_page": product_page(catalog, m.internal_name),
        "download": download_url(catalog, m.internal_name)
        if any(f.path for f in m.files)
        else None,
        "schema_version": m.schema_version,
    }
    for role in STANDARD_ROLES:
        row[f"{role}_column"] = m.column_for(role)
    return row


def _write_catalog_tables(
    conn: sqlite3.Connection, catalog: Catalog, manifests: list[Manifest], states: dict[str, dict]
) -> None:
    conn.execute("DROP TABLE IF EXISTS products_fts")
    conn.execute("DROP TABLE IF EXISTS products")
    conn.execute("DROP TABLE IF EXISTS columns")
    conn.execute(
        f"CREATE TABLE products ({', '.join(f'{quote_ident(c)} {t}' for c, t in PRODUCT_COLUMNS)})"
    )
    names = [c for c, _ in PRODUCT_COLUMNS]
    rows = [_product_row(catalog, m, states.get(m.internal_name)) for m in manifests]
    conn.executemany(
        f"INSERT INTO products VALUES ({', '.join('?' * len(names))})",
        [[r[c] for c in names] for r in rows],
    )
    for col in ("product_type", "release", "status"):
        conn.execute(f"CREATE INDEX idx_products_{col} ON products ({col})")
    conn.execute(
        "CREATE VIRTUAL TABLE products_fts USING fts5(name, description, "
        'content="products", content_rowid="id")'
    )
    conn.execute(
        "INSERT INTO products_fts (rowid, name, description) "
        "SELECT id, name, description FROM products"
    )

    conn.execute(
        "CREATE TABLE columns (product TEXT, position INTEGER, file TEXT, "
        '"column" TEXT, dtype TEXT, sql_type TEXT, unit TEXT, ucd TEXT, role TEXT, '
        'description TEXT, "min", "max", mean REAL, nulls INTEGER, sentinels INTEGER, '
        'PRIMARY KEY (product, "column"))'
    )
    crow = []
    for m in manifests:
        main = m.main_file
        if not main or not main.columns:
            continue
        stats = {s["column"]: s for s in (states.get(m.internal_name, {}).get("columns") or [])}
        seen = set()
        for pos, col in enumerate(main.columns):
            if col.name in seen:
                continue
            seen.add(col.name)
            role = m.role_of(col.name)
            s = stats.get(col.name, {})
            ucd = col.ucd or (m.ucd_for(role) if role else None)
            crow.append(
                (
                    m.internal_name,
                    pos,
                    main.path or main.url,
                    col.name,
                    col.dtype,
                    s.get("sql_type"),
                    col.unit,
                    ucd,
                    role,
                    col.description,
                    s.get("min"),
                    s.get("max"),
                    s.get("mean"),
                    s.get("nulls"),
                    s.get("sentinels"),
                )
            )
    conn.executemany(f"INSERT INTO columns VALUES ({', '.join('?' * 15)})", crow)
    conn.execute("CREATE INDEX idx_columns_role ON columns (role)")
    conn.execute('CREATE INDEX idx_columns_column ON columns ("column")')


# -- the build -----------------------------------------------------------------------------------------


def _read_state(conn: sqlite3.Connection) -> dict[str, dict]:
    try:
        rows = conn.execute(
            f"SELECT internal_name, fingerprint, info FROM {STATE_TABLE}"
        ).fetchall()
    except sqlite3.DatabaseError:
        return {}
    return {name: {**json.loads(info), "fingerprint": fp} for name, fp, info in rows}


def _existing_tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _open_work_copy(db_path: Path, force: bool) -> tuple[Path, sqlite3.Connection, dict, bool]:
    """Temp copy of the previous database when reusable, else a fresh temp file."""
    remove_dead_temps(db_path.parent)  # copies left by killed or failed builds
    tmp = temp_sibling(db_path)
    reuse = False
    if db_path.exists() and not force:
        try:
            shutil.copyfile(db_path, tmp)
        except OSError:  # a full disk: leave no partial copy behind
            tmp.unlink(missing_ok=True)
            raise
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            reuse = version == BUILDER_VERSION and STATE_TABLE in _existing_tables(conn)
        except sqlite3.DatabaseError:
            reuse = False
        if not reuse:
            conn.close()
            tmp.unlink()
    if not reuse:
        conn = sqlite3.connect(tmp, isolation_level=None)
    state = _read_state(conn) if reuse else {}
    return tmp, conn, state, not reuse


def build_previews(
    catalog: Catalog,
    db_path: Path | str | None = None,
    progress: Progress | None = None,
    force: bool = False,
    names: list[str] | None = None,
) -> PreviewStats:
    """Build (or update) ``previews.db`` from the catalog.

    Parameters
    ----------
    catalog : Catalog
        The catalog to preview.
    db_path : Path, optional
        Target database (default ``build/previews.db``).
    progress : callable, optional
        Called as ``progress(event, info)`` with events ``product`` and ``rows``.
    force : bool
        Rebuild every product even when unchanged.
    names : list of str, optional
        Only these products get tables (others are dropped); all are listed in ``products``.

    Returns
    -------
    PreviewStats
        Per product: imported, reused, no-table or skipped (with the reason), rows and timings.

    Raises
    ------
    PzcatError
        ``previews-build`` when the database cannot be written.
    """
    start = time.perf_counter()
    db_path = Path(db_path) if db_path is not None else default_db_path(catalog)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    cap = catalog.config.limits.preview_row_cap
    manifests = catalog.manifests()
    try:
        tmp, conn, old_state, full = _open_work_copy(db_path, force)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise PzcatError(
            "previews-build", f"cannot create {db_path}: {exc}", file=str(db_path)
        ) from None
    stats = PreviewStats(str(db_path), full_rebuild=full)
    try:
        # A small page cache and file-backed sorting: large in-memory sorters make CREATE INDEX
        # 2-3 times slower here (fresh pages cost more than the sort), see benchmarks/serve.py.
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "locking_mode = EXCLUSIVE",
            "temp_store = FILE",
            "cache_size = -2000",
            "threads = 0",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (internal_name TEXT PRIMARY KEY, "
            "fingerprint TEXT, info TEXT)"
        )
        tables = _existing_tables(conn)
        wanted = {m.internal_name for m in manifests}
        for gone in set(old_state) - wanted:
            conn.execute(f"DROP TABLE IF EXISTS {quote_ident(gone)}")
            conn.execute(f"DELETE FROM {STATE_TABLE} WHERE internal_name = ?", (gone,))
        new_state: dict[str, dict] = {}
        for m in manifests:
            name = m.internal_name
            t0 = time.perf_counter()
            if progress:
                progress("product", {"product": name})
            fp = _fingerprint(m, cap)
            main = m.main_file
            tabular = (
                bool(main and main.is_table and main.path)
                and name not in RESERVED_TABLES
                and (names is None or name in names)
            )
            old = old_state.get(name)
            if (
                tabular
                and old
                and old["fingerprint"] == fp
                and old.get("has_table")
                and name in tables
            ):
                new_state[name] = old
                stats.products.append(
                    ProductStats(
                        name,
                        "reused",
                        rows=old.get("rows", 0),
                        total_rows=old.get("total_rows"),
                        truncated=bool(old.get("truncated")),
                    )
                )
                continue
            conn.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
            info: dict = {"has_table": False}
            if not tabular:
                pstats = ProductStats(name, "no-table")
            else:
                conn.execute("SAVEPOINT product")
                try:
                    pstats, col_stats = _import_table(conn, catalog, m, cap, progress)
                    conn.execute("RELEASE product")
                    info = {
                        "has_table": True,
                        "rows": pstats.rows,
                        "total_rows": pstats.total_rows,
                        "truncated": pstats.truncated,
                        "columns": col_stats,
                    }
                except PzcatError as exc:
                    conn.execute("ROLLBACK TO product")
                    conn.execute("RELEASE product")
                    pstats = ProductStats(name, "skipped", message=f"[{exc.code}] {exc.message}")
            pstats.seconds = round(time.perf_counter() - t0, 3)
            new_state[name] = info
            conn.execute(
                f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?)",
                (name, fp, json.dumps(info)),
            )
            stats.products.append(pstats)
        _write_catalog_tables(conn, catalog, manifests, new_state)
        conn.execute(f"PRAGMA user_version = {BUILDER_VERSION}")
        conn.execute("COMMIT")
        conn.execute("PRAGMA analysis_limit = 1000")
        conn.execute("ANALYZE")
        free, pages = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("freelist_count", "page_count")
        )
        if not full and free > pages // 4:
            conn.execute("VACUUM")
        conn.close()
        publish(tmp, db_path)  # fsync, rename
    except (OSError, sqlite3.DatabaseError) as exc:
        raise PzcatError(
            "previews-build", f"cannot build {db_path}: {exc}", file=str(db_path)
        ) from None
    finally:
        conn.close()
        if tmp.exists():
            tmp.unlink()
    stats.size = db_path.stat().st_size
    stats.seconds = round(time.perf_counter() - start, 3)
    return stats


# -- facts the server needs -----------------------------------------------------------------------------


def preview_state(db_path: Path) -> dict[str, dict]:
    """The per-product state recorded in a built database (rows, truncated, column stats)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return _read_state(conn)
    finally:
        conn.close()


def table_counts(db_path: Path) -> dict[str, int]:
    """Rows of every table (for Datasette's inspect file), from the build state where known."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        state = _read_state(conn)
        counts = {}
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if name in state and state[name].get("has_table"):
                counts[name] = state[name]["rows"]
                continue
            try:
                counts[name] = conn.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()[
                    0
                ]
            except sqlite3.OperationalError:
                counts[name] = 0
        return counts
    finally:
        conn.close()

"""Serve the previews and the site: Datasette 0.65 with the pzcat plugin, at one local URL.

What lives here (the Datasette plugin, :mod:`pzcat_datasette.plugin`, is registered by the
``datasette`` entry point and reads its settings with ``datasette.plugin_config("pzcat")``):

- :func:`datasette_metadata` / :func:`write_datasette_config`: the Datasette metadata generated from
  the manifests (titles, descriptions, units, UCDs, licence, source = the product page on the site,
  canned queries) and the inspect file, written into ``build/datasette/``;
- :func:`make_datasette` and :func:`serve`: Datasette in immutable mode with suggested facets off,
  the inspect data (instant start), the plugin's settings and the built site under ``/site/``;
- :func:`precompute_crcs`: the CRC-32s of every product file, so downloads start at once (the
  download layer itself is :mod:`pzcat.bundle`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pzcat.bundle import CrcCache, DownloadError, zip_plan
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text, sha256_file
from pzcat.links import Links
from pzcat.vocab import unit_for
from pzcat_datasette import settings as plugin_settings
from pzcat_datasette.export_policy import EXPORT_NOTE
from pzcat_datasette.previews import (
    HEALPIX_COLUMN,
    RESERVED_TABLES,
    STATE_TABLE,
    default_db_path,
    preview_state,
    product_page,
    quote_ident,
    table_counts,
)
from pzcat_datasette.security import GuardedH11Protocol

DB_NAME = "previews"


def markdown_html(text: str) -> str:
    """A manifest's Markdown description as sanitised HTML for Datasette's ``description_html``
    (descriptions are untrusted: :func:`pzcat.html.clean_html` drops scripts and handlers)."""
    import markdown

    from pzcat.html import clean_html

    return clean_html(markdown.markdown(text or "", extensions=["tables", "fenced_code"]))


def _pint_unit(unit: str | None) -> str | None:
    """``unit`` if Datasette's pint understands it (units it cannot parse would break pages)."""
    if not unit:
        return None
    try:
        from datasette.views.base import ureg

        ureg(unit)
    except Exception:  # noqa: BLE001 - pint raises many kinds of errors for unknown units
        return None
    return unit


#: The columns the Combine Redshift Catalogs pipeline writes, described for people.
PIPELINE_COLUMNS = {
    "CRD_ID": "Sequential id of the object across the combined catalogs (Combine Redshift Catalogs)",
    "z_flag_homogenized": "Redshift quality flag translated to the common scale: 0 no redshift, "
    "1 <70%, 2 70-90%, 3 90-99%, 4 >99% confidence, 6 star",
    "type_homogenized": "Redshift type: s spectroscopic, g grism, p photometric",
    "tie_result": "Duplicate resolution: 1 selected, 0 eliminated (a better measurement of the same "
    "object exists, or a star), 2 unresolved tie",
    "group_id": "Id of the group of measurements of the same object (crossmatch), empty when alone",
    "compared_to": "CRD_IDs of the other measurements this one was compared with",
    "is_in_DP1_fields": "1 when the position is inside one of the DP1 fields, else 0",
    "survey": "The survey the measurement comes from",
    "source": "The input product the row comes from",
}
#: Columns that the Combine pipeline copies from its inputs, described when its manifest does not.
COMBINE_INPUT_COLUMNS = {
    "id": "The object's id in the input catalog the row comes from",
    "z_flag": "The redshift quality flag as the input catalog gives it "
    "(on the common scale: z_flag_homogenized)",
    "z_err": "The redshift error as the input catalog gives it",
    "type": "The redshift type as the input catalog gives it (common scale: type_homogenized)",
}
COMBINE_PIPELINE = "combine_redshift_catalogs"
#: Facets offered on a preview table when it has these columns (in this order).
FACET_COLUMNS = (
    "survey",
    "tie_result",
    "z_flag_homogenized",
    "type_homogenized",
    "is_in_DP1_fields",
)


def _column_description(col, role: str | None, ucd: str | None, combined: bool = False) -> str:
    desc = col.description or PIPELINE_COLUMNS.get(col.name)
    if not desc and combined:
        desc = COMBINE_INPUT_COLUMNS.get(col.name)
    bits = [desc] if desc else []
    unit = unit_for(col.unit, role)
    if unit:
        bits.append(f"unit: {unit}")
    if ucd:
        bits.append(f"UCD: {ucd}")
    if role:
        bits.append(f"role: {role}")
    return " · ".join(bits)


def _cone_sql(table: str, ra: str, dec: str, healpix: bool = True) -> str:
    """Cone search: the HEALPix ranges covering the cone (index lookups), then the exact distance.

    Without the HEALPix column, a band in dec (index) then the exact distance.
    """
    t, r, d, h = (quote_ident(x) for x in (table, ra, dec, HEALPIX_COLUMN))
    if healpix:
        return (
            f"select round(pz_angdist(t.{r}, t.{d}, :ra, :dec), 3) as distance_arcsec, t.*\n"
            f"from json_each(pz_cone_ranges(:ra, :dec, :radius_arcsec)) as pix\n"
            f"join {t} as t on t.{h} between json_extract(pix.value, '$[0]')"
            f" and json_extract(pix.value, '$[1]')\n"
            f"where pz_angdist(t.{r}, t.{d}, :ra, :dec) <= cast(:radius_arcsec as real)\n"
            f"order by distance_arcsec limit 1000"
        )
    return (
        f"select round(pz_angdist({r}, {d}, :ra, :dec), 3) as distance_arcsec, * from {t}\n"
        f"where {d} between cast(:dec as real) - cast(:radius_arcsec as real) / 3600.0\n"
        f"              and cast(:dec as real) + cast(:radius_arcsec as real) / 3600.0\n"
        f"  and pz_angdist({r}, {d}, :ra, :dec) <= cast(:radius_arcsec as real)\n"
        f"order by distance_arcsec limit 1000"
    )


def _example_values(
    db_path: Path, table: str, ra: str | None, dec: str | None, z: str | None
) -> dict:
    """Example inputs of a table's canned queries, taken from a real row so they never give 0 rows.

    The middle row of the table (by rowid: one index lookup): its position, rounded to 0.0001 deg
    (well inside the 60 arcsec example radius), and the 0.1-wide redshift bin holding its z. A
    mean position would fall in empty sky between the fields of a multi-field survey.
    """
    out: dict[str, dict[str, str]] = {}
    t = quote_ident(table)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        (top,) = conn.execute(f"select max(rowid) from {t}").fetchone()
        if top is None:
            return out
        if ra and dec:
            r, d = quote_ident(ra), quote_ident(dec)
            row = (
                conn.execute(
                    f"select {r}, {d} from {t} where rowid >= ? and typeof({r}) in ('real', 'integer') "
                    f"and typeof({d}) in ('real', 'integer') and {d} between -90 and 90 "
                    "order by rowid limit 1",
                    (top // 2,),
                ).fetchone()
                or conn.execute(
                    f"select {r}, {d} from {t} where typeof({r}) in ('real', 'integer') "
                    f"and typeof({d}) in ('real', 'integer') and {d} between -90 and 90 limit 1"
                ).fetchone()
            )
            if row:
                out["cone"] = {"ra": f"{row[0]:.4f}", "dec": f"{row[1]:.4f}", "radius_arcsec": "60"}
        if z:
            zc = quote_ident(z)
            row = (
                conn.execute(
                    f"select {zc} from {t} where rowid >= ? and typeof({zc}) in ('real', 'integer') "
                    "order by rowid limit 1",
                    (top // 2,),
                ).fetchone()
                or conn.execute(
                    f"select {zc} from {t} where typeof({zc}) in ('real', 'integer') limit 1"
                ).fetchone()
            )
            if row and math.isfinite(row[0]):
                low = math.floor(row[0] * 10) / 10
                out["zrange"] = {"z_min": f"{low:.1f}", "z_max": f"{low + 0.1:.1f}"}
    except sqlite3.Error:
        return out
    finally:
        conn.close()
    return out


def _zrange_sql(table: str, z: str) -> str:
    t, zc = quote_ident(table), quote_ident(z)
    return (
        f"select * from {t}\nwhere {zc} >= cast(:z_min as real) and {zc} <= cast(:z_max as real)\n"
        f"order by {zc} limit 1000"
    )


def datasette_metadata(
    catalog: Catalog, db_path: Path | None = None, allow_sql: bool = True, with_units: bool = False
) -> dict:
    """Datasette metadata from the manifests and the built database.

    Units and UCDs are in every column's description. Datasette's own ``units`` (pint quantities,
    which allow ``?ra__gt=150 deg``) are left out by default: pint formats every cell of every page
    and makes a 100-row page 3-4 times slower; ``with_units=True`` puts them back.
    """
    db_path = Path(db_path) if db_path else default_db_path(catalog)
    cfg = catalog.config
    state = preview_state(db_path) if db_path.exists() else {}
    tables: dict[str, Any] = {
        "products": {
            "title": "Products",
            "description": "One row per product of the catalog, every manifest field (files, column "
            "roles and provenance as JSON). Full-text search on name and description.",
            "fts_table": "products_fts",
            "fts_pk": "id",
            "searchmode": "raw",
            "sort": "id",
            "facets": ["product_type", "release", "status"],
        },
        "columns": {
            "title": "Columns",
            "description": "Every column of each product's main file: dtype, unit, UCD, role and "
            "statistics (min, max, mean, nulls) over the previewed rows.",
            "facets": ["role", "ucd"],
        },
        STATE_TABLE: {"hidden": True},
        "sqlite_stat1": {"hidden": True},
    }
    queries: dict[str, Any] = {
        "products_by_type_and_release": {
            "title": "Products by type and release",
            "description": "Leave a parameter empty to match every value. Types: "
            + ", ".join(t.name for t in cfg.product_types)
            + "; releases: "
            + ", ".join(r.name for r in cfg.releases)
            + ".",
            "sql": "select id, internal_name, name, product_type, release, official, status, n_rows,\n"
            "  site_page from products\n"
            "where (:product_type = '' or product_type = :product_type)\n"
            "  and (:release = '' or release = :release)\norder by id",
        },
        "products_with_role": {
            "title": "Products with a column of a given role",
            "description": "e.g. role z_err: training sets with redshift errors.",
            "sql": 'select p.internal_name, p.name, p.product_type, p.release, c."column", c.unit, c.ucd\n'
            "from products p join columns c on c.product = p.internal_name\n"
            "where c.role = :role and (:product_type = '' or p.product_type = :product_type)\n"
            "order by p.id",
        },
    }
    for m in catalog.manifests():
        name = m.internal_name
        info = state.get(name) or {}
        if not info.get("has_table") or name in RESERVED_TABLES:
            continue
        main = m.main_file
        cols = {c.name: c for c in (main.columns or [])} if main else {}
        described = {}
        units = {}
        combined = bool(m.provenance and m.provenance.pipeline == COMBINE_PIPELINE)
        for cname, col in cols.items():
            role = m.role_of(cname)
            ucd = col.ucd or (m.ucd_for(role) if role else None)
            described[cname] = _column_description(col, role, ucd, combined)
            unit = _pint_unit(unit_for(col.unit, role))
            if unit:
                units[cname] = unit
        described[HEALPIX_COLUMN] = "Nested HEALPix index of (ra, dec) at order 10 (nside 1024)"
        rows, total = info.get("rows", 0), info.get("total_rows")
        desc = m.description.strip().split("\n\n")[0] if m.description else ""
        if info.get("truncated"):
            desc += (
                f"\n\nPreview: the first {rows:,} of {total:,} rows."
                if total
                else f"\n\nPreview: the first {rows:,} rows only (cap of catalog.yaml)."
            )
        ptype = cfg.product_type(m.product_type)
        tables[name] = {
            "title": m.name,
            "description_html": markdown_html(desc.strip() + "\n\n" + EXPORT_NOTE),
            "license": m.license,
            "source": f"{m.name} on the {cfg.name} site",
            "source_url": product_page(catalog, name),
            "about": ptype.display_name if ptype else m.product_type,
            "about_url": product_page(catalog, name),
            "columns": described,
            "facets": [c for c in FACET_COLUMNS if c in cols],
        }
        if units and with_units:
            tables[name]["units"] = units
        ra, dec, z = m.column_for("ra"), m.column_for("dec"), m.column_for("z")
        has_cone, has_z = ra in cols and dec in cols, z in cols
        examples = (
            _example_values(db_path, name, ra if has_cone else None, dec, z if has_z else None)
            if (has_cone or has_z)
            else {}
        )
        if has_cone:
            cone = examples.get("cone") or {"ra": "53.1", "dec": "-27.8", "radius_arcsec": "60"}
            queries[f"cone_{name}"] = {
                "title": f"Cone search in {m.name}",
                "description": "Rows within radius_arcsec (arcsec) of (ra, dec) (decimal degrees, "
                f"e.g. ra {cone['ra']}, dec {cone['dec']}, radius 60), nearest first; "
                "distance_arcsec to 1 mas.",
                "sql": _cone_sql(name, ra, dec, healpix=HEALPIX_COLUMN not in cols),
            }
            if "cone" in examples:
                queries[f"cone_{name}"]["pzcat_defaults"] = examples["cone"]
        if has_z:
            zr = examples.get("zrange") or {"z_min": "0.5", "z_max": "0.6"}
            queries[f"zrange_{name}"] = {
                "title": f"Redshift range in {m.name}",
                "description": "Rows with z_min <= z <= z_max, by redshift (e.g. z_min "
                f"{zr['z_min']}, z_max {zr['z_max']}).",
                "sql": _zrange_sql(name, z),
            }
            if "zrange" in examples:
                queries[f"zrange_{name}"]["pzcat_defaults"] = examples["zrange"]
    meta: dict[str, Any] = {
        "title": cfg.name,
        "description": cfg.description,
        "source": "Catalog site",
        "source_url": Links.of(cfg).site_page(),
        "databases": {
            DB_NAME: {
                "title": f"{cfg.name}: previews",
                "description": "Previews of every tabular product and the catalog itself. Downloads: "
                "/-/download/<internal_name>.zip with a token (see /-/token).",
                "tables": tables,
                "queries": queries,
            }
        },
    }
    if not allow_sql:
        meta["allow_sql"] = False
    if cfg.previews_require_token:
        meta["allow"] = {"pzcat_scope": ["read", "download"]}
    return meta


def inspect_data(db_path: Path) -> dict:
    """Datasette's inspect data for ``previews.db`` (hash, size, table counts)."""
    st = db_path.stat()
    return {
        DB_NAME: {
            "hash": sha256_file(db_path),
            "size": st.st_size,
            "file": db_path.name,
            "tables": {t: {"count": n} for t, n in table_counts(db_path).items()},
            "mtime_ns": st.st_mtime_ns,
        }
    }


def config_dir(catalog: Catalog) -> Path:
    return catalog.root / "build" / "datasette"


def write_datasette_config(
    catalog: Catalog,
    db_path: Path | None = None,
    allow_sql: bool = True,
    refresh_inspect: bool = False,
) -> tuple[Path, Path]:
    """Write ``build/datasette/metadata.json`` and ``build/datasette/inspect.json``."""
    db_path = Path(db_path) if db_path else default_db_path(catalog)
    if not db_path.exists():
        raise PzcatError(
            "previews-missing",
            f"{db_path} does not exist: run `pzcat build-previews`",
            file=str(db_path),
        )
    out = config_dir(catalog)
    out.mkdir(parents=True, exist_ok=True)
    meta_path, inspect_path = out / "metadata.json", out / "inspect.json"
    atomic_write_text(
        meta_path, json.dumps(datasette_metadata(catalog, db_path, allow_sql), indent=2)
    )
    st = db_path.stat()
    current = None
    if inspect_path.exists() and not refresh_inspect:
        try:
            current = json.loads(inspect_path.read_text()).get(DB_NAME)
        except ValueError:
            current = None
    if (
        not current
        or current.get("size") != st.st_size
        or current.get("mtime_ns") != st.st_mtime_ns
    ):
        atomic_write_text(inspect_path, json.dumps(inspect_data(db_path), indent=2))
    return meta_path, inspect_path


# =====================================================================================================
# Datasette and the server
# =====================================================================================================

PLUGIN_MODULE = "pzcat_datasette.plugin"


def require_plugin() -> None:
    """Raise ``plugin-missing`` unless Datasette loaded pzcat's plugin from its entry point."""
    from datasette.plugins import pm

    if pm.get_plugin(PLUGIN_MODULE) is None and not any(
        getattr(p, "__name__", "") == PLUGIN_MODULE for p in pm.get_plugins()
    ):
        raise PzcatError(
            "plugin-missing",
            "Datasette did not load pzcat's plugin: the `datasette` "
            "entry point of the pzcat distribution is missing; reinstall pzcat "
            "(`pip install -e .` in a checkout, or `make install`)",
        )


def make_datasette(
    catalog: Catalog,
    db_path: Path | None = None,
    allow_sql: bool = True,
    site_dir: Path | None = None,
    settings: dict | None = None,
    response_cache: bool = True,
):
    """A configured :class:`datasette.app.Datasette` (used by :func:`serve` and the tests)."""
    from datasette.app import Datasette

    require_plugin()
    db_path = Path(db_path) if db_path else default_db_path(catalog)
    meta_path, inspect_path = write_datasette_config(catalog, db_path, allow_sql)
    metadata = json.loads(meta_path.read_text())
    inspect = json.loads(inspect_path.read_text())
    # 50 rows a page: rendering dominates the cost of a table page (about 0.5 ms a row here).
    all_settings = {
        "suggest_facets": False,
        "sql_time_limit_ms": 1000,
        "allow_download": False,
        "default_page_size": 50,
        "default_cache_ttl": 60,
        "num_sql_threads": 3,
        "facet_time_limit_ms": 200,
    }
    all_settings.update(settings or {})
    secret = os.environ.get("PZCAT_SECRET")
    plugin = plugin_settings.Settings(
        root=catalog.root,
        site_dir=Path(site_dir) if site_dir else catalog.root / "build" / "site",
        crc_cache=catalog.root / "build" / "crc-cache.json",
        previews_require_token=catalog.config.previews_require_token,
        response_cache=response_cache,
    )
    metadata.setdefault("plugins", {})[plugin_settings.PLUGIN] = plugin.to_config()
    overrides = catalog.root / "datasette" / "templates"  # the catalog's own templates, if any
    # The pzcat plugin comes through its `datasette` entry point (pyproject.toml), like any plugin.
    ds = Datasette(
        [],
        immutables=[str(db_path)],
        metadata=metadata,
        inspect_data=inspect,
        template_dir=str(overrides) if overrides.is_dir() else None,
        settings=all_settings,
        secret=hashlib.sha256(f"datasette/{secret}".encode()).hexdigest() if secret else None,
    )
    return ds


def precompute_crcs(catalog: Catalog, progress=None) -> int:
    """Fill the CRC cache for every in-repository file (so first downloads start at once)."""
    cache = CrcCache(catalog.root / "build" / "crc-cache.json")
    n = 0
    for m in catalog.manifests():
        try:
            zip_plan(catalog, m, cache)
            n += 1
        except (DownloadError, OSError):
            continue
    return n


class RedactFilter(logging.Filter):
    """Remove tokens and signed links from access-log lines (they are never logged)."""

    SECRET_PARAMS = {"link", "token", "_token", "access_token"}

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            isinstance(record.args, tuple)
            and len(record.args) >= 3
            and isinstance(record.args[2], str)
        ):
            args = list(record.args)
            args[2] = redact_path(args[2])
            record.args = tuple(args)
        return True


def redact_path(path: str) -> str:
    """``path`` with the values of secret query parameters replaced by ``REDACTED``."""
    if "?" not in path:
        return path
    base, _, query = path.partition("?")
    pairs = [
        (k, "REDACTED" if k in RedactFilter.SECRET_PARAMS else v)
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{base}?{urlencode(pairs)}"


WORKER_ENV = "PZCAT_SERVE_WORKER"


def worker_app():
    """ASGI app of one uvicorn worker process (``--workers N``), configured from the environment.

    Called by uvicorn inside its event loop: Datasette runs its startup hooks on the first request.
    """
    conf = json.loads(os.environ[WORKER_ENV])
    catalog = Catalog.open(conf["root"])
    ds = make_datasette(
        catalog,
        Path(conf["db_path"]),
        allow_sql=conf["allow_sql"],
        site_dir=Path(conf["site_dir"]) if conf.get("site_dir") else None,
    )
    logging.getLogger("uvicorn.access").addFilter(RedactFilter())
    return ds.app()


def _warning(code: str, message: str) -> str:
    """A coded warning line as the CLI prints it."""
    return f"warning[{code}]: {message}"


def serve(
    catalog: Catalog,
    host: str = "127.0.0.1",
    port: int = 8001,
    db_path: Path | None = None,
    build: bool = False,
    allow_sql: bool = True,
    site_dir: Path | None = None,
    access_log: bool = True,
    workers: int = 1,
    echo=print,
) -> None:
    """Run Datasette on ``previews.db`` with the site under ``/site/`` and print the one URL.

    Parameters
    ----------
    build : bool
        Build (or update) previews.db first; otherwise it must exist (``previews-missing``).
    port : int
        0 picks a free port.
    workers : int
        Server processes sharing the socket (each a Datasette on the same immutable file).
    """
    import asyncio
    import socket

    import uvicorn

    db_path = Path(db_path) if db_path else default_db_path(catalog)
    if build or not db_path.exists():
        if not build:
            raise PzcatError(
                "previews-missing",
                f"{db_path} does not exist: run `pzcat build-previews` or `pzcat serve --build`",
                file=str(db_path),
            )
        from pzcat_datasette.previews import build_previews

        build_previews(catalog, db_path)
    t0 = time.perf_counter()
    ds = make_datasette(catalog, db_path, allow_sql=allow_sql, site_dir=site_dir)
    asyncio.run(ds.invoke_startup())
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on connections of sockets that say
    # so, and without it Nagle + delayed ACKs add 40 ms to every multi-part response.
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        import errno

        if exc.errno == errno.EADDRINUSE:
            raise PzcatError(
                "serve-port-busy",
                f"port {port} on {host} is already in use (another "
                f"server?): stop it or pick another port, e.g. `make demo PORT={port + 1}`"
                f" or `pzcat serve --port 0` for a free one",
                port=port,
            ) from None
        raise PzcatError(
            "serve-address", f"cannot listen on {host}:{port}: {exc.strerror}", port=port
        ) from None
    except (socket.gaierror, OverflowError) as exc:
        sock.close()
        raise PzcatError(
            "serve-address", f"cannot listen on {host}:{port}: {exc}", port=port
        ) from None
    # Listen before the URL is printed: whoever reads it (a user, a test, a health check) can
    # connect at once; connections wait in the backlog until uvicorn starts accepting.
    sock.listen(2048)
    port = sock.getsockname()[1]
    # Listen before the URL is printed: a client that connects as soon as it reads the URL is
    # queued (not refused) while uvicorn starts.
    sock.listen(2048)
    shown = f"[{host}]" if ":" in host else host
    if len(os.environ.get("PZCAT_SECRET", "")) < 16:
        echo(
            _warning(
                "token-secret-missing",
                "$PZCAT_SECRET is not set (or shorter than 16 "
                "characters): previews work, downloads answer 500 until it is set",
            )
        )
    site = plugin_settings.settings(ds).site_dir
    if not site.is_dir():
        echo(_warning("site-missing", f"{site} does not exist; /site/ will answer 404"))
    echo(
        f"pzcat: serving {catalog.config.name} (previews, downloads and /site/) in "
        f"{time.perf_counter() - t0:.2f} s{f' with {workers} workers' if workers > 1 else ''} at"
    )
    echo(f"http://{shown}:{port}/")
    echo(f"Open the catalog site: http://{shown}:{port}/site/")
    options = {
        "log_level": "info" if access_log else "warning",
        "access_log": access_log,
        "lifespan": "on",
        "timeout_keep_alive": 30,
        "http": GuardedH11Protocol,  # request-head timeout, per-client connection cap
        "h11_max_incomplete_event_size": 32 * 1024,
        # SIGTERM: stop accepting, give open responses this long, then close them; without it
        # one stalled download keeps a stopping server alive for ever
        "timeout_graceful_shutdown": float(os.environ.get("PZCAT_SHUTDOWN_GRACE", "10")),
    }
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ[WORKER_ENV] = json.dumps(
            {
                "root": str(catalog.root),
                "db_path": str(db_path),
                "allow_sql": allow_sql,
                "site_dir": str(site_dir) if site_dir else None,
            }
        )
        config = uvicorn.Config(
            "pzcat_datasette.serve:worker_app", factory=True, workers=workers, **options
        )
        sock.set_inheritable(True)
        Multiprocess(config, sockets=[sock]).run()
        return
    config = uvicorn.Config(ds.app(), **options)
    logging.getLogger("uvicorn.access").addFilter(RedactFilter())  # after uvicorn's logging setup
    server = uvicorn.Server(config)
    server.run(sockets=[sock])

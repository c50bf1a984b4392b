"""Jinja2 templates -> the site's Markdown pages (for mkdocs), product pages and the JSON API.

Narrative pages (landing, lists, types, releases, pipelines, contributing, downloads, error codes)
are Markdown that mkdocs builds. Product pages are rendered here straight to HTML inside the page
shell that mkdocs built for ``product/__shell__/`` (same theme, header, navigation and assets), so
10,000 products do not go through mkdocs (see GUIDE.md, "Site").
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import markdown
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown.extensions import Extension
from markupsafe import Markup, escape

from pzcat.codes import codes_markdown
from pzcat.config import CatalogConfig
from pzcat.errors import PzcatError
from pzcat.html import clean_html
from pzcat.links import TOKENS_PATH, Links
from pzcat.manifest import Manifest
from pzcat.safeyaml import load_yaml
from pzcat.vocab import unit_for
from site_builder.collect import SiteData, summary  # noqa: F401 - summary: one row of the lists
from site_builder.plots import nz_svg, sky_frame_svg, sky_svg

TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSETS = Path(__file__).resolve().parent / "assets"
SHELL_NAME = "__shell__"
TITLE_MARK = "@@PZ_TITLE@@"
CONTENT_MARK = "@@PZ_CONTENT@@"
#: Replaced in assets/pzcat.js by the link configuration (see pzcat.links).
LINKS_MARK = "/*@@PZ_LINKS@@*/null"
#: Bump when a product page's content changes for reasons the templates do not show.
RENDER_VERSION = 2
LATEST_PER_GROUP = 20
#: The run's full configuration and software versions, written next to a pipeline product's page.
PROVENANCE_FILE = "provenance.txt"

_md_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=False,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)
_html_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=False,
)


# -- safe Markdown for user text ---------------------------------------------------------------------


class _NoRawHtml(Extension):
    """Raw HTML in user Markdown is shown as text (the output is then sanitised, see below)."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


_markdown = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists", _NoRawHtml()])

#: Columns listed on a product page (wider tables: the associated ones and the first others).
MAX_PAGE_COLUMNS = 30


def safe_markdown(text: str) -> Markup:
    """User Markdown -> HTML with raw HTML escaped, sanitised (:func:`pzcat.html.clean_html`)."""
    _markdown.reset()
    return Markup(clean_html(_markdown.convert(text or "")))


# -- small formatting helpers ----------------------------------------------------------------------


def fmt_time(value: datetime | str | None) -> str:
    """``2025-01-02 03:04 UTC``."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def fmt_stat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# -- summaries (products.json rows) ------------------------------------------------------------------


def _nulls(st: dict[str, Any]) -> str:
    """The nulls cell: missing values, and the placeholders left out of the statistics."""
    if st.get("nulls") is None:
        return ""
    text = f"{st['nulls']:,}"
    if st.get("sentinels"):
        text += f" + {st['sentinels']:,} placeholders"
    return text


def _left_out(plot: dict[str, Any] | None, keys: tuple[tuple[str, str], ...]) -> str:
    """ ", 318 placeholder values and 12 missing left out" for a plot's caption."""
    if not plot:
        return ""
    parts = [f"{plot[k]:,} {label}" for k, label in keys if plot.get(k)]
    return f"; left out: {', '.join(parts)}" if parts else ""


def _latest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["updated"], r["id"]), reverse=True)[:LATEST_PER_GROUP]


def type_rows(cfg: CatalogConfig, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in sorted(cfg.product_types, key=lambda t: t.order):
        rows = [s for s in summaries if s["product_type"] == t.name]
        out.append(
            {
                "name": t.name,
                "display_name": t.display_name,
                "order": t.order,
                "description": t.description,
                "count": len(rows),
                "required": list(t.required_roles),
                "no_release": not t.release,
                "no_pz_code": not t.pz_code,
                "formats": t.main_formats(),
                "tabular": t.tabular,
                "pipeline": t.pipeline,
                "latest": _latest(rows),
            }
        )
    return out


def release_rows(cfg: CatalogConfig, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in cfg.releases:
        rows = [s for s in summaries if s["release"] == r.name]
        out.append(
            {
                "name": r.name,
                "display_name": r.display_name,
                "description": r.description,
                "count": len(rows),
                "latest": _latest(rows),
            }
        )
    return out


# -- narrative pages ---------------------------------------------------------------------------------


def translation_surveys(root: Path) -> tuple[list[str], str]:
    """Surveys of the flag translation file (the catalog's pipelines/data, else the installed one)."""
    candidates = [
        root / "pipelines" / "data" / "flags_translation.yaml",
        Path(__file__).resolve().parent.parent / "pipelines" / "data" / "flags_translation.yaml",
    ]
    for path in candidates:
        if path.is_file():
            try:
                data = load_yaml(path.read_bytes(), str(path)) or {}
            except (OSError, PzcatError):
                continue
            rules = data.get("translation_rules") or {}
            if isinstance(rules, dict) and rules:
                shown = (
                    "pipelines/data/flags_translation.yaml"
                    if "pipelines" in path.parts
                    else path.name
                )
                return sorted(str(k) for k in rules), shown
    return [], ""


def flags_page(root: Path) -> str:
    """The flags translation file the pipeline uses, as a page (product pages link to it)."""
    path = translation_file(root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
    fence = "````"
    body = (
        (
            f"The file `pipelines/data/flags_translation.yaml` (sha256 `{digest}`) that the Combine\n"
            "Redshift Catalogs pipeline uses to translate each survey's quality flags and object types\n"
            "into `z_flag_homogenized` and `type_homogenized` (see [Pipelines](../index.md)).\n\n"
            f"{fence}yaml\n{text}\n{fence}\n"
        )
        if text
        else "No translation file in this catalog.\n"
    )
    return "---\ntitle: Flags translation\n---\n# Flags translation\n\n" + body


def narrative_pages(data: SiteData, summaries: list[dict[str, Any]]) -> dict[str, str]:
    """Relative path under docs/ -> Markdown text, for every page mkdocs builds."""
    cfg = data.catalog.config
    n_official = sum(1 for s in summaries if s["official"])
    types = type_rows(cfg, summaries)
    surveys, source = translation_surveys(data.catalog.root)
    common = {"cfg": cfg, "types": types}
    lists = {
        "official": (
            "Official products",
            "official",
            "Products curated by the Photo-z coordination group (admins set `official`).",
        ),
        "user": ("User products", "user", "Products uploaded by users of the catalog."),
        "products": ("All products", "all", "Every product of the catalog, official or not."),
    }
    pages = {
        "index.md": _md_env.get_template("index.md.j2").render(
            n_products=len(summaries),
            n_official=n_official,
            n_user=len(summaries) - n_official,
            tokens_url=Links.of(cfg).server("", TOKENS_PATH),
            **common,
        ),
        "product_types/index.md": _md_env.get_template("types.md.j2").render(**common),
        "about/index.md": _md_env.get_template("about.md.j2").render(**common),
        "releases/index.md": _md_env.get_template("releases.md.j2").render(
            releases=release_rows(cfg, summaries), **common
        ),
        "pipelines/index.md": _md_env.get_template("pipelines.md.j2").render(
            surveys=surveys, translation_source=source, **common
        ),
        "pipelines/flags_translation/index.md": flags_page(data.catalog.root),
        "contribute/index.md": _md_env.get_template("contribute.md.j2").render(**common),
        "downloads/index.md": _md_env.get_template("downloads.md.j2").render(
            server=Links.of(cfg).server("downloads/", ""), **common
        ),
        "errors/index.md": _md_env.get_template("errors.md.j2").render(
            codes=codes_markdown(), **common
        ),
        f"product/{SHELL_NAME}/index.md": _md_env.get_template("shell.md.j2").render(),
    }
    for folder, (title, scope, intro) in lists.items():
        pages[f"{folder}/index.md"] = _md_env.get_template("list.md.j2").render(
            title=title, scope=scope, intro=intro, **common
        )
    links = Links.of(cfg)
    link_conf = json.dumps(
        {
            "site": links.site_url,
            "server": links.server_url,
            "server_from_site": links.server_from_site,
        }
    )
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            text = asset.read_text(encoding="utf-8")
            pages[f"assets/{asset.name}"] = text.replace(LINKS_MARK, link_conf)
    pages["assets/pz-sky-frame.svg"] = sky_frame_svg()
    return pages


# -- product pages -----------------------------------------------------------------------------------


def template_digest() -> str:
    """Digest of everything a product page depends on besides its data."""
    h = hashlib.sha256(str(RENDER_VERSION).encode())
    h.update((TEMPLATES / "product.html.j2").read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update((Path(__file__).parent / "plots.py").read_bytes())  # the plots are inline
    return h.hexdigest()


#: A product page lists the latest changes, their subjects shortened (all of them, in full, are
#: in the product's JSON and behind each commit link): long commit messages do not grow the page.
HISTORY_PAGE_ROWS = 10
HISTORY_SUBJECT_CHARS = 100


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _history_rows(entries: list[dict[str, Any]], repo_url: str) -> list[dict[str, Any]]:
    rows = []
    for e in entries[:HISTORY_PAGE_ROWS]:
        url = f"{repo_url.rstrip('/')}/commit/{e['commit']}" if repo_url else ""
        rows.append(
            {
                "date": fmt_time(e["date"]),
                "author": e["author"],
                "subject": _short(e["subject"], HISTORY_SUBJECT_CHARS),
                "short": e["commit"][:8],
                "url": url,
            }
        )
    return rows


#: Auxiliary images up to this size are copied next to the product page and shown inline.
INLINE_IMAGE_MAX_BYTES = 2 * 1024 * 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


def _median_from_nz(nz: dict[str, Any] | None) -> float | None:
    """The median redshift from the fine n(z) histogram (to within its bin width)."""
    if not nz or not nz.get("n"):
        return None
    half, seen = nz["n"] / 2, 0
    for idx, count in nz["bins"]:
        seen += count
        if seen >= half:
            return (idx + 0.5) * nz["step"]
    return None


def _fmt_deg(v: Any) -> str:
    return f"{v:.2f}°" if isinstance(v, int | float) else "?"


def summary_card(m: Manifest, stats: dict[str, Any] | None, n_rows: Any) -> list[tuple[str, str]]:
    """The facts a scientist looks for first: rows, redshifts, sky area and footprint, files."""
    facts: list[tuple[str, str]] = []
    if isinstance(n_rows, int):
        facts.append(("Rows", f"{n_rows:,}"))
    cols = {c["name"]: c for c in (stats or {}).get("columns", [])}
    z = cols.get(m.column_for("z") or "")
    if z:
        # the column statistics leave the placeholders (pzcat.sentinels) out: the real range
        text = ""
        if isinstance(z.get("min"), int | float) and isinstance(z.get("max"), int | float):
            text = f"{z['min']:.3g} – {z['max']:.3g}"
            median = _median_from_nz((stats or {}).get("nz"))
            if median is not None:
                text += f", median {median:.3g}"
        left_out = [
            f"{z[k]:,} {label}"
            for k, label in (("sentinels", "placeholder values"), ("nulls", "missing"))
            if z.get(k)
        ]
        if left_out:
            text = (text + "; " if text else "no real value; ") + " and ".join(left_out)
            text += " left out"
        if text:
            facts.append((f"Redshift ({m.column_for('z')})", text))
    ra, dec = cols.get(m.column_for("ra") or ""), cols.get(m.column_for("dec") or "")
    area = (stats or {}).get("area_deg2")
    if area is not None:
        facts.append(("Sky area", f"≈ {area:,.1f} deg²" if area >= 1 else f"≈ {area:.2f} deg²"))
    if ra and dec:
        facts.append(
            (
                "Footprint",
                f"RA {_fmt_deg(ra.get('min'))} – {_fmt_deg(ra.get('max'))}, "
                f"Dec {_fmt_deg(dec.get('min'))} – {_fmt_deg(dec.get('max'))}",
            )
        )
    total = sum(f.size or 0 for f in m.files)
    main = m.main_file
    facts.append(
        (
            "Files",
            f"{len(m.files)} ({human_size(total)})" + (f", main {main.format}" if main else ""),
        )
    )
    return facts


def _input_name(catalog, internal_name: str) -> str:
    """An input product's display name, read from the first lines of its manifest (no parse)."""
    try:
        with open(catalog.manifest_path(internal_name), encoding="utf-8") as fh:
            for _, line in zip(range(40), fh, strict=False):
                if line.startswith("name:"):
                    value = line[5:].strip().strip("'\"")
                    return value or internal_name
    except OSError:
        pass
    return internal_name


def translation_file(root: Path) -> Path:
    """The flags translation file the pipeline uses: the catalog's own, else the pipeline's default."""
    own = root / "pipelines" / "data" / "flags_translation.yaml"
    if own.is_file():
        return own
    # the installed pipeline's data file, found beside this package (no import of the pipeline:
    # the site depends on the core only, tests/test_layout.py)
    return Path(__file__).resolve().parent.parent / "pipelines" / "data" / "flags_translation.yaml"


def _translation_digest(root: Path) -> str:
    path = translation_file(root)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def pipeline_summary(m: Manifest, root: Path) -> dict[str, Any] | None:
    """The run summary of a pipeline product, in words and numbers (instead of raw YAML)."""
    pv = m.provenance
    if not pv or not pv.summary:
        return None
    sm = pv.summary if isinstance(pv.summary, dict) else {}
    dup = sm.get("duplicates") or {}
    modes = {
        "no": "stacked, duplicates not resolved",
        "mark": "duplicates identified and marked with tie_result, every row kept",
        "remove": "duplicates removed: only the best measurement of each object kept",
    }
    rows = [("Rows in", sm.get("rows_total_in")), ("Rows out", sm.get("rows_total_out"))]
    if dup:
        selected = None
        rows += [
            ("Pairs of neighbours", dup.get("pairs")),
            ("Groups of duplicates", dup.get("groups")),
            ("Objects in groups", dup.get("objects_in_groups")),
            ("Stars (z_flag_homogenized = 6)", dup.get("stars")),
            ("Eliminated rows (tie_result = 0)", dup.get("eliminated_rows")),
            ("Hard ties (tie_result = 2)", dup.get("hard_tie_rows")),
        ]
        parts = (
            sm.get("rows_total_out"),
            dup.get("eliminated_rows"),
            dup.get("hard_tie_rows"),
            dup.get("stars"),
        )
        if str(sm.get("mode")) == "mark" and all(isinstance(v, int) for v in parts):
            rows.insert(
                2,
                (
                    "Kept: the best or only measurement (tie_result = 1)",
                    parts[0] - parts[1] - parts[2] - parts[3],
                ),
            )
        decided = [
            (k.replace("groups_decided_by_", ""), v)
            for k, v in dup.items()
            if k.startswith("groups_decided_by_") and v
        ]
        if decided:
            selected = ", ".join(f"{v:,} by {k}" for k, v in decided)
            rows.append(("Groups decided", selected))
    flags = sm.get("flags_file") or {}
    current = _translation_digest(root)
    cfg = pv.config if isinstance(pv.config, dict) else {}
    return {
        "mode": modes.get(str(sm.get("mode") or cfg.get("duplicates")), str(sm.get("mode", ""))),
        "rows": [(k, f"{v:,}" if isinstance(v, int) else str(v)) for k, v in rows if v is not None],
        "flags_name": flags.get("name", ""),
        "flags_sha": flags.get("sha256", ""),
        "flags_current": bool(flags.get("sha256")) and flags.get("sha256") == current,
        "radius": cfg.get("crossmatch_radius_arcsec"),
        "delta_z": cfg.get("delta_z_threshold"),
        "priority": ", ".join(cfg.get("tiebreaking_priority") or []),
        "seconds": (sm.get("timings_s") or {}).get("total"),
        "tie_order": cfg.get("tie_order"),
        "sentinels": cfg.get("sentinels"),
    }


def product_context(data: SiteData, m: Manifest) -> dict[str, Any]:
    """Everything product.html.j2 shows for ``m``."""
    cfg = data.catalog.config
    stats = data.stats.get(m.internal_name)
    private = cfg.previews_require_token
    if private and stats:
        # previews are private: so are the rows and what is computed from them (statistics, plots)
        stats = {
            "n_rows": stats.get("n_rows"),
            "error": stats.get("error"),
            "private": True,
            "columns": [
                {"name": c["name"], "dtype": c.get("dtype", "")} for c in stats.get("columns", [])
            ],
        }
    ptype = cfg.product_type(m.product_type)
    rel = cfg.release(m.release) if m.release else None
    name = m.internal_name
    main = m.main_file
    links = Links.of(cfg)
    page = f"product/{name}/"

    def yes(v: bool) -> str:
        return "yes" if v else "no"

    fields: list[tuple[str, Any]] = [
        ("ID", m.id),
        ("Internal name", Markup("<code>%s</code>") % name),
        ("Name", m.name),
        (
            "Product type",
            Markup('<a href="../../product_types/#%s">%s</a>')
            % (m.product_type, ptype.display_name if ptype else m.product_type),
        ),
        (
            "Release",
            Markup('<a href="../../releases/#%s">%s</a>')
            % (m.release.replace(".", "-"), rel.display_name if rel else m.release)
            if m.release
            else "—",
        ),
        ("Official", yes(m.official)),
        ("Photo-z code", m.pz_code or "—"),
        ("Uploaded by", m.uploaded_by),
        ("Created", fmt_time(m.created)),
        ("Updated", fmt_time(m.updated)),
        ("Version", m.version),
        ("Status", m.status),
    ]
    if m.deprecation_reason:
        fields.append(("Deprecation reason", m.deprecation_reason))
    fields.append(("License", m.license))
    if m.citation:
        fields.append(("Citation", m.citation))
    if m.doi:
        fields.append(("DOI", Markup('<a href="https://doi.org/%s">%s</a>') % (m.doi, m.doi)))
    if m.columns:
        fields.append(
            (
                "Column association",
                ", ".join(f"{role} → {c.column}" for role, c in m.columns.items()),
            )
        )
    fields.append(("Schema version", m.schema_version))

    files = []
    frame = None
    extra_md = ""
    for f in m.files:
        download = ""
        if f.path:  # one file (a HATS folder comes in the product's zip)
            download = links.download(page, name, f.filename if f.format != "hats" else None)
        image = ""
        if (
            f.path
            and f.role == "auxiliary"
            and f.filename.lower().endswith(IMAGE_SUFFIXES)
            and (f.size or 0) <= INLINE_IMAGE_MAX_BYTES
        ):
            image = f.filename  # copied next to the page by build._write_product
        files.append(
            {
                "role": f.role,
                "name": f.filename,
                "url": f.url,
                "format": f.format,
                "download": download,
                "image": image,
                "source": str(data.catalog.resolve(f)) if image else "",
                "size": human_size(f.size),
                "size_bytes": f.size if f.size is not None else "",
                "rows": f"{f.n_rows:,}" if f.n_rows is not None else "",
                "sha256": f.sha256 or "",
                "description": f.description or "",
            }
        )
        if f.role == "description" and f.path and frame is None:
            lower = f.filename.lower()
            if lower.endswith((".html", ".htm")):
                frame = {
                    "name": f.filename,
                    "src": "description.html",
                    "source": str(data.catalog.resolve(f)),
                }
            elif lower.endswith((".md", ".markdown", ".txt")):
                src = data.catalog.resolve(f)
                if src and src.is_file():
                    extra_md = src.read_text(encoding="utf-8", errors="replace")

    stat_cols = {c["name"]: c for c in (stats or {}).get("columns", [])}
    file_cols = main.columns if main and main.columns else []
    names = [c.name for c in file_cols] or list(stat_cols)
    by_name = {c.name: c for c in file_cols}
    columns = []
    for col in names:
        info = by_name.get(col)
        st = stat_cols.get(col, {})
        role = m.role_of(col)
        ucd = (info.ucd if info and info.ucd else None) or (m.ucd_for(role) if role else None)
        columns.append(
            {
                "name": col,
                "role": role or "",
                "dtype": (info.dtype if info else st.get("dtype", "")),
                "unit": unit_for(info.unit if info else None, role),
                "ucd": ucd or "",
                "min": fmt_stat(st.get("min")),
                "max": fmt_stat(st.get("max")),
                "mean": fmt_stat(st.get("mean")),
                "nulls": _nulls(st),
            }
        )
    columns_total = len(columns)
    if columns_total > MAX_PAGE_COLUMNS:
        # keep pages small whatever the width of the table: the associated columns and the first
        # others, in file order; every column is in the JSON API and in Datasette
        keep = {c["name"] for c in columns if c["role"]}
        others = [c["name"] for c in columns if not c["role"]]
        keep.update(others[: max(MAX_PAGE_COLUMNS - len(keep), 0)])
        columns = [c for c in columns if c["name"] in keep]
    preview = (stats or {}).get("preview")
    if preview and not preview.get("rows"):
        preview = None
    n_rows = (stats or {}).get("n_rows")
    if n_rows is None and main is not None:
        n_rows = main.n_rows
    description_html = safe_markdown(m.description)
    if extra_md:
        description_html += safe_markdown(extra_md)
    if not m.description and not extra_md:
        description_html = Markup("<p><em>No description.</em></p>")
    prov_yaml = ""
    if m.provenance:
        prov = m.provenance.model_dump(
            mode="json", exclude_none=True, include={"config", "software", "error"}
        )
        prov_yaml = yaml.safe_dump(prov, sort_keys=True, allow_unicode=True, width=100).strip()
        if prov_yaml and prov_yaml != "{}":
            # a file next to the page (build._write_product), linked, not inline: it keeps
            # pipeline products' pages under 25 KB however long the configuration grows
            prov_yaml = (
                f"# {name}: the configuration and software versions of the run that made it\n"
                f"# (manifests/{name}.yaml, provenance; pzcat reproduce {name} re-runs it)\n"
                f"{prov_yaml}\n"
            )
        else:
            prov_yaml = ""
    inputs = []
    if m.provenance and m.provenance.inputs:
        for i in m.provenance.inputs:
            files_ = [
                ((f.get("path") or "").rsplit("/", 1)[-1], (f.get("sha256") or "")[:16])
                for f in (i.files or [])
            ]
            summ = m.provenance.summary or {}
            n_in = (summ.get("rows_in") or {}).get(i.internal_name)
            n_out = (summ.get("rows_out") or {}).get(i.internal_name)
            inputs.append(
                {
                    "internal_name": i.internal_name,
                    "version": i.version or "",
                    "rows_in": f"{n_in:,}" if isinstance(n_in, int) else "",
                    "rows_out": f"{n_out:,}" if isinstance(n_out, int) else "",
                    "display": _input_name(data.catalog, i.internal_name),
                    "files": files_,
                }
            )
    history = data.histories.get(f"manifests/{name}.yaml", [])
    # Datasette has a preview table exactly when the main file is a readable table
    has_table = bool(main and main.is_table and main.path and stats and not stats.get("error"))
    return {
        "m": m,
        "fields": fields,
        "files": files,
        "columns": columns,
        "columns_total": columns_total,
        "type_display": ptype.display_name if ptype else m.product_type,
        "release_display": rel.display_name if rel else (m.release or ""),
        "updated": fmt_time(m.updated),
        "download_url": links.download(page, name),
        "datasette_url": links.server(page, Links.previews_path(name)),
        "token_url": links.server(page, TOKENS_PATH),
        "links": links,
        "has_table": has_table,
        "private": private,
        "card": summary_card(m, stats, n_rows),
        "pipeline": pipeline_summary(m, data.catalog.root),
        "inputs": inputs,
        "size": human_size(sum(f.size or 0 for f in m.files)),
        "site_url": cfg.site_url,
        "description_html": description_html,
        "description_frame": frame,
        "stats_error": (stats or {}).get("error"),
        "preview": preview,
        "n_rows": f"{n_rows:,}" if isinstance(n_rows, int) else "?",
        "main_name": main.filename if main else "",
        "sky": (stats or {}).get("sky"),
        "nz": (stats or {}).get("nz"),
        "sky_columns": f"{m.column_for('ra')}, {m.column_for('dec')}",
        "z_column": m.column_for("z") or "",
        "sky_left_out": _left_out(
            (stats or {}).get("sky"), (("excluded", "rows without a valid position"),)
        ),
        "nz_left_out": _left_out(
            (stats or {}).get("nz"),
            (
                ("sentinels", "placeholder values"),
                ("missing", "missing"),
                ("outside", "outside 0-20"),
            ),
        ),
        "provenance_yaml": prov_yaml,
        "provenance_file": PROVENANCE_FILE,
        "fmt_time": fmt_time,
        "history": _history_rows(history, cfg.repository_url),
        "history_more": max(len(history) - HISTORY_PAGE_ROWS, 0),
        "raw_history": history,
    }


def render_product_content(ctx: dict[str, Any]) -> str:
    """The product page's article HTML (without the theme around it), plots inline."""
    m = ctx["m"]
    ctx["sky_svg"] = Markup(sky_svg(ctx["sky"], f"Sky density of {m.name}")) if ctx["sky"] else ""
    ctx["nz_svg"] = Markup(nz_svg(ctx["nz"], f"n(z) of {m.name}")) if ctx["nz"] else ""
    return _html_env.get_template("product.html.j2").render(p=ctx)


def product_api(ctx: dict[str, Any], stats: dict[str, Any] | None) -> dict[str, Any]:
    """``api/products/<internal_name>.json``: the manifest, statistics, history and links."""
    m: Manifest = ctx["m"]
    st = None
    if stats is not None and not ctx["private"]:
        st = {k: v for k, v in stats.items() if k not in ("sky", "nz", "version")}
    return {
        "manifest": m.model_dump(mode="json", exclude_none=True),
        "statistics": st,
        "history": [
            {k: e[k] for k in ("commit", "author", "date", "subject")} for e in ctx["raw_history"]
        ],
        # relative to the site's root (as "page" is), or absolute when the server is elsewhere
        "links": {
            "page": f"product/{m.internal_name}/",
            "download": ctx["links"].download("", m.internal_name),
            "datasette": ctx["links"].server("", f"previews/{m.internal_name}")
            if ctx["has_table"]
            else None,
            "reproduce": f"pzcat reproduce {m.internal_name}" if m.provenance else None,
        },
    }


class Shell:
    """The mkdocs-built page around a product page, split at the content marker.

    Whitespace runs that hold a newline are collapsed (the theme's templates indent heavily; the
    shell has no ``<pre>``), which halves the shell and keeps product pages under 25 KB.
    """

    def __init__(self, html: str) -> None:
        html = html.replace(f"<h1>{TITLE_MARK}</h1>", "")
        html = re.sub(r"[ \t]*\n\s*", "\n", html)
        for marker in (f"<p>{CONTENT_MARK}</p>", CONTENT_MARK):
            if marker in html:
                self.head, self.tail = html.split(marker, 1)
                break
        else:
            raise ValueError("page shell without the content marker")
        self.digest = hashlib.sha256(html.encode()).hexdigest()

    def page(self, internal_name: str, title: str, content: str) -> str:
        head = self.head.replace(SHELL_NAME, internal_name).replace(TITLE_MARK, str(escape(title)))
        tail = self.tail.replace(SHELL_NAME, internal_name).replace(TITLE_MARK, str(escape(title)))
        return head + content + tail


def api_documents(data: SiteData, summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """``api/index.json``, ``product_types.json``, ``releases.json`` and ``products.json``."""
    cfg = data.catalog.config
    links = Links.of(cfg)
    strip = [{k: v for k, v in r.items() if k != "latest"} for r in type_rows(cfg, summaries)]
    rels = [{k: v for k, v in r.items() if k != "latest"} for r in release_rows(cfg, summaries)]
    return {
        "index.json": {
            # links are relative to the site's root (the folder holding api/) when the site and the
            # server share an origin, so the same build works on any host and port
            "name": cfg.name,
            "description": cfg.description,
            "datasette_url": links.server_from_site,
            "repository_url": cfg.repository_url,
            # catalog.yaml's admins (GitHub user names only): PzServer's users on a site
            "admins": list(cfg.admins),
            "api_version": 1,
            "n_products": len(summaries),
            "n_official": sum(1 for s in summaries if s["official"]),
            "product_types": "api/product_types.json",
            "releases": "api/releases.json",
            "products": "api/products.json",
            "product": "api/products/{internal_name}.json",
            "download": links.server_from_site + Links.download_path("{internal_name}"),
        },
        "product_types.json": {"product_types": strip},
        "releases.json": {"releases": rels},
        "products.json": {"count": len(summaries), "products": summaries},
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False, separators=(",", ":")) + "\n"

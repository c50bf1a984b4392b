"""The Markdown report of a pull request: what changed in each product since the base, and why
the gate passes or fails.

For each changed product: its state (new, changed, deleted), the version bump, rows and columns
before and after, the metadata keys that changed, the files added, removed or changed with their
sizes, the validation errors and warnings with their codes and fixes, and a sky map and n(z)
written beside the report (the site's own plot code, :mod:`site_builder.plots`). The report folder
(``report.md``, ``report.json``, pictures) is what the gate uploads as an artifact and what the
trusted ``workflow_run`` job posts as the sticky comment.

Everything shown is data from the pull request: values are escaped for Markdown tables and cut
short, never interpreted.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pzcat import changes, git
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_bytes, atomic_write_text
from pzcat.manifest import Manifest, read_manifest_or_none
from pzcat.report import Issue, ProductReport, Report
from pzcat.validate import validate_catalog

REPORT_MD, REPORT_JSON = "report.md", "report.json"
#: Longest value shown in a table cell.
CELL_CHARS = 120
#: Tables above this many bytes get no pictures (the report must stay quick).
PICTURE_MAX_BYTES = 512 * 1024 * 1024
_UNSAFE = re.compile(r"[\\`*_{}\[\]<>()#+!|~]")


def cell(value: Any, limit: int = CELL_CHARS) -> str:
    """A value as the text of one Markdown table cell: one line, escaped, cut at ``limit``."""
    if value is None or value == "":
        return "–"
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _UNSAFE.sub(lambda m: "\\" + m.group(0), text).replace("@", "@\u200b")


def code(value: Any, limit: int = 80) -> str:
    """A value as an inline code span (backslashes are literal there: no escaping, no backticks)."""
    text = " ".join(str(value).split()).replace("`", "'")
    return "`" + (text if len(text) <= limit else text[: limit - 1] + "…") + "`"


def size_text(size: int | None) -> str:
    """Bytes as a short human figure."""
    if size is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


def _manifest_at(root: Path, ref: str, rel: str) -> Manifest | None:
    text = git.show(root, ref, rel)
    if text is None:
        return None
    return read_manifest_or_none(text, f"{ref}:{rel}")


def _manifest_now(path: Path) -> Manifest | None:
    try:
        return read_manifest_or_none(path.read_bytes(), str(path))
    except OSError:
        return None


def _flat(m: Manifest | None) -> dict[str, Any]:
    """Metadata keys one level deep (``columns.z``, ``provenance.config``); files apart."""
    if m is None:
        return {}
    data = m.model_dump(mode="json", exclude_none=True)
    for key in ("files", "version", "updated"):
        data.pop(key, None)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out


@dataclass
class ProductChange:
    """One changed product: before (at the base), after (in the pull request), its validation."""

    name: str
    manifest: str
    state: str  # new, changed, deleted
    before: Manifest | None
    after: Manifest | None
    validation: ProductReport | None
    pictures: dict[str, str] = field(default_factory=dict)  # label -> file name

    @property
    def valid(self) -> bool:
        return self.state != "deleted" and (self.validation is None or self.validation.valid)

    def metadata_diff(self) -> list[tuple[str, Any, Any]]:
        old, new = _flat(self.before), _flat(self.after)
        return [
            (k, old.get(k), new.get(k))
            for k in sorted(set(old) | set(new))
            if old.get(k) != new.get(k)
        ]

    def file_diff(self) -> list[tuple[str, str, int | None, int | None]]:
        """(change, file, size before, size after) for every file added, removed or changed."""

        def index(m: Manifest | None) -> dict[str, Any]:
            return {(f.path or f.url or ""): f for f in (m.files if m else [])}

        old, new = index(self.before), index(self.after)
        out = []
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            if a is None:
                out.append(("added", key, None, b.size))
            elif b is None:
                out.append(("removed", key, a.size, None))
            elif (a.sha256, a.size, a.role, a.format) != (b.sha256, b.size, b.role, b.format):
                out.append(("changed", key, a.size, b.size))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "manifest": self.manifest,
            "state": self.state,
            "valid": self.valid,
            "version": [
                getattr(self.before, "version", None),
                getattr(self.after, "version", None),
            ],
            "metadata": [{"key": k, "before": a, "after": b} for k, a, b in self.metadata_diff()],
            "files": [
                {"change": c, "file": f, "size_before": a, "size_after": b}
                for c, f, a, b in self.file_diff()
            ],
            "issues": [i.to_dict() for i in (self.validation.issues if self.validation else [])],
            "pictures": self.pictures,
        }


def _main_facts(m: Manifest | None) -> tuple[int | None, list[str] | None]:
    main = m.main_file if m else None
    if main is None:
        return None, None
    return main.n_rows, ([c.name for c in main.columns] if main.columns is not None else None)


@dataclass
class PullRequestReport:
    """The whole report: catalog-wide issues and one :class:`ProductChange` per product."""

    base: str
    products: list[ProductChange]
    catalog_issues: list[Issue]
    valid: bool
    pr: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "valid": self.valid,
            "pr": self.pr,
            "catalog_issues": [i.to_dict() for i in self.catalog_issues],
            "products": [p.to_dict() for p in self.products],
        }

    def to_markdown(self, pictures: bool = True) -> str:
        """The report; ``pictures=False`` names the picture files instead of embedding them."""
        verdict = "✅ the gate passes" if self.valid else "❌ the gate fails"
        lines = [f"## pzcat report: {verdict}", ""]
        n = len(self.products)
        base = self.base[:12] if re.fullmatch("[0-9a-f]{40}", self.base) else self.base
        lines.append(f"{n} product{'s' if n != 1 else ''} changed since {code(base, 40)}.")
        if self.catalog_issues:
            lines += ["", "### Catalog", "", *_issue_table(self.catalog_issues)]
        for p in self.products:
            lines += ["", *_product_md(p, pictures)]
        lines += ["", "<sub>Codes and fixes: `pzcat codes`. Made by `pzcat pr report`.</sub>"]
        return "\n".join(lines) + "\n"


def _issue_table(issues: list[Issue]) -> list[str]:
    rows = ["| | code | where | what | how to fix |", "| --- | --- | --- | --- | --- |"]
    for i in sorted(issues, key=lambda i: (i.severity != "error", i.code)):
        mark = "❌" if i.severity == "error" else "⚠️"
        where = ", ".join(
            x
            for x in (
                i.file,
                f"key {i.key}" if i.key else None,
                f"column {i.column}" if i.column else None,
            )
            if x
        )
        rows.append(
            f"| {mark} | `{i.code}` | {cell(where, 80)} | {cell(i.message, 300)} | "
            f"{cell(i.fix, 200)} |"
        )
    return rows


def _product_md(p: ProductChange, pictures: bool) -> list[str]:
    mark = "✅" if p.valid else "❌"
    title = p.after.name if p.after else (p.before.name if p.before else p.name)
    out = [f"### {mark} {code(p.name)}: {cell(title, 80)} ({p.state})", ""]
    rows_a, cols_a = _main_facts(p.before)
    rows_b, cols_b = _main_facts(p.after)
    out += [
        "| | base | this pull request |",
        "| --- | --- | --- |",
        f"| version | {cell(getattr(p.before, 'version', None))} | "
        f"{cell(getattr(p.after, 'version', None))} |",
        f"| rows | {rows_a if rows_a is not None else '–'} | "
        f"{rows_b if rows_b is not None else '–'} |",
        f"| columns | {len(cols_a) if cols_a is not None else '–'} | "
        f"{len(cols_b) if cols_b is not None else '–'} |",
    ]
    if cols_a is not None and cols_b is not None and cols_a != cols_b:
        added = [c for c in cols_b if c not in cols_a]
        gone = [c for c in cols_a if c not in cols_b]
        out += [
            "",
            f"Columns added: {cell(added or None, 300)}; removed: {cell(gone or None, 300)}.",
        ]
    meta = p.metadata_diff()
    if meta and p.state == "changed":
        out += ["", "| metadata | base | this pull request |", "| --- | --- | --- |"]
        out += [f"| {code(k, 60).replace('|', '/')} | {cell(a)} | {cell(b)} |" for k, a, b in meta]
    files = p.file_diff()
    if files:
        out += ["", "| file | change | size before | size after |", "| --- | --- | --- | --- |"]
        out += [
            f"| {cell(f, 100)} | {c} | {size_text(a)} | {size_text(b)} |" for c, f, a, b in files
        ]
    issues = p.validation.issues if p.validation else []
    if issues:
        out += ["", *_issue_table(issues)]
    elif p.state != "deleted":
        out += ["", "No error, no warning."]
    if p.pictures:
        if pictures:
            out += ["", " ".join(f"![{label}]({name})" for label, name in p.pictures.items())]
        else:
            out += [
                "",
                "Pictures (in the report artifact): "
                + ", ".join(f"{label} `{name}`" for label, name in p.pictures.items()),
            ]
    return out


def _pictures(catalog: Catalog, m: Manifest, out_dir: Path) -> dict[str, str]:
    """Sky map and n(z) of the product's main table, written into ``out_dir``."""
    from site_builder.plots import nz_svg, sky_frame_svg, sky_png, sky_svg
    from site_builder.stats import table_stats

    main = m.main_file
    if main is None or not main.path or not main.is_table:
        return {}
    path = catalog.resolve(main)
    if path is None or not path.exists() or (main.size or 0) > PICTURE_MAX_BYTES:
        return {}
    stats = table_stats(
        path, main.format, m.column_for("ra"), m.column_for("dec"), m.column_for("z")
    )
    out: dict[str, str] = {}
    if stats.get("sky"):
        # self-contained: an SVG shown as an image loads no other file, so the frame is inlined
        frame = "data:image/svg+xml;base64," + base64.b64encode(sky_frame_svg().encode()).decode()
        name = f"{m.internal_name}-sky.svg"
        atomic_write_text(
            out_dir / name, sky_svg(stats["sky"], f"{m.name}: sky density", frame_href=frame) + "\n"
        )
        atomic_write_bytes(out_dir / f"{m.internal_name}-sky.png", sky_png(stats["sky"]))
        out["sky map"] = name
    if stats.get("nz"):
        name = f"{m.internal_name}-nz.svg"
        atomic_write_text(out_dir / name, nz_svg(stats["nz"], f"{m.name}: n(z)") + "\n")
        out["n(z)"] = name
    return out


def build_report(
    catalog: Catalog,
    base: str,
    out_dir: Path | None = None,
    author: str | None = None,
    pr: dict[str, Any] | None = None,
    check_tables: bool = True,
) -> PullRequestReport:
    """Validate the change since ``base`` and describe every changed product.

    Parameters
    ----------
    catalog : Catalog
        The pull request's files (its configuration already judged by the trusted one, see
        :func:`pzcat.changes.judged_config`).
    base : str
        Git ref of the base (the merge base of the pull request).
    out_dir : Path, optional
        Where to write ``report.md``, ``report.json`` and the pictures.
    author : str, optional
        The pull request's author (for official and the admin-only paths).
    pr : dict, optional
        Facts of the pull request kept in ``report.json`` (number, head sha).
    """
    validation: Report = validate_catalog(
        catalog, changed_since=base, author=author, check_tables=check_tables
    )
    changed = (
        git.changed_paths(catalog.root, base)
        if not any(i.code == "git-unavailable" for i in validation.catalog_issues)
        else set()
    )
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    products: list[ProductChange] = []
    for prod in validation.products:
        path = catalog.root / prod.manifest
        before = _manifest_at(catalog.root, base, prod.manifest)
        after = _manifest_now(path)
        change = ProductChange(
            prod.name, prod.manifest, "changed" if before else "new", before, after, prod
        )
        if out_dir is not None and after is not None and check_tables:
            try:
                change.pictures = _pictures(catalog, after, out_dir)
            except (PzcatError, OSError, ValueError):
                change.pictures = {}
        products.append(change)
    for rel in changes.deleted_manifests(catalog.root, base, changed):
        products.append(
            ProductChange(
                Path(rel).stem, rel, "deleted", _manifest_at(catalog.root, base, rel), None, None
            )
        )
    report = PullRequestReport(
        base=base,
        products=products,
        catalog_issues=validation.catalog_issues,
        valid=validation.valid,
        pr=dict(pr or {}),
    )
    if out_dir is not None:
        atomic_write_text(out_dir / REPORT_MD, report.to_markdown())
        atomic_write_text(
            out_dir / REPORT_JSON, json.dumps(report.to_dict(), indent=2, default=str) + "\n"
        )
    return report

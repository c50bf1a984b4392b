"""The validation report: every problem as data with a stable code, gathered per product.

Modelled on frictionless' Report: ``valid``, ``stats`` and ``errors`` per product, printed as text,
JSON or GitHub workflow annotations; the CLI exits ``int(not report.valid)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pzcat.codes import fix_for, severity
from pzcat.errors import PzcatError


@dataclass
class Issue:
    """One problem found by validation.

    Attributes
    ----------
    code : str
        Stable code (see :mod:`pzcat.codes`).
    message : str
        What is wrong, with the values involved.
    severity : str
        ``error`` or ``warning`` (from the code).
    file : str, optional
        Repository-relative path of the file concerned (manifest or data file).
    key : str, optional
        Dotted YAML key in the manifest, e.g. ``files.0.sha256``.
    column : str, optional
        Table column concerned.
    rows : list of int, optional
        First offending rows, numbered from 1 (``pzcat.vocab.ROW_BASE``).
    count : int, optional
        Number of offending rows.
    values : dict, optional
        Sentinel value -> number of rows holding it (``sentinel-values``).
    """

    code: str
    message: str
    severity: str = ""
    file: str | None = None
    key: str | None = None
    column: str | None = None
    rows: list[int] | None = None
    count: int | None = None
    values: dict[Any, int] | None = None
    fix: str = ""

    def __post_init__(self) -> None:
        self.severity = self.severity or severity(self.code)
        self.fix = self.fix or fix_for(self.code)

    @classmethod
    def from_error(cls, err: PzcatError, **defaults: Any) -> Issue:
        """An issue from a coded exception."""
        ctx = {
            **defaults,
            **{
                k: v
                for k, v in err.context.items()
                if k in ("file", "key", "column", "rows", "count", "values")
            },
        }
        return cls(code=err.code, message=err.message, **ctx)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, empty fields left out."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", [])}


@dataclass
class ProductReport:
    """Problems and facts of one product (one manifest)."""

    name: str
    manifest: str
    issues: list[Issue] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def valid(self) -> bool:
        """No error (warnings allowed)."""
        return not self.errors

    def add(self, code: str, message: str, **context: Any) -> Issue:
        """Record an issue; ``file`` defaults to the manifest."""
        context.setdefault("file", self.manifest)
        issue = Issue(code=code, message=message, **context)
        self.issues.append(issue)
        return issue

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "manifest": self.manifest,
            "valid": self.valid,
            "stats": self.stats,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }


@dataclass
class Report:
    """The whole validation: catalog-wide issues plus one :class:`ProductReport` per product."""

    products: list[ProductReport] = field(default_factory=list)
    catalog_issues: list[Issue] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """No error anywhere."""
        return all(p.valid for p in self.products) and not any(
            i.severity == "error" for i in self.catalog_issues
        )

    @property
    def all_issues(self) -> list[Issue]:
        """Catalog-wide issues then every product's."""
        return self.catalog_issues + [i for p in self.products for i in p.issues]

    def codes(self) -> set[str]:
        """The set of codes found (handy in tests)."""
        return {i.code for i in self.all_issues}

    def product(self, name: str) -> ProductReport:
        """The report of one product by internal name or manifest path."""
        for p in self.products:
            if name in (p.name, p.manifest):
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        n_err = sum(1 for i in self.all_issues if i.severity == "error")
        n_warn = sum(1 for i in self.all_issues if i.severity == "warning")
        return {
            "valid": self.valid,
            "stats": {
                "products": len(self.products),
                "errors": n_err,
                "warnings": n_warn,
                **self.stats,
            },
            "errors": [i.to_dict() for i in self.catalog_issues],
            "products": [p.to_dict() for p in self.products],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_text(self, verbose: bool = False) -> str:
        """Human-readable report: one line per problem with its fix."""
        lines = []
        for issue in self.catalog_issues:
            lines.append(_text_line(issue))
        for p in self.products:
            if p.valid and not p.warnings and not verbose:
                continue
            mark = "ok" if p.valid else "INVALID"
            rows = p.stats.get("rows")
            extra = f" ({rows:,} rows)" if isinstance(rows, int) else ""
            lines.append(f"{p.name}: {mark}{extra}")
            for issue in p.issues:
                lines.append("  " + _text_line(issue))
        d = self.to_dict()["stats"]
        verdict = "valid" if self.valid else "INVALID"
        lines.append(
            f"{verdict}: {d['products']} products, {d['errors']} errors, {d['warnings']} warnings"
        )
        return "\n".join(lines)

    def to_github(self, line_of: Callable[[Issue], int | None] | None = None) -> str:
        """GitHub workflow commands (``::error file=...,line=...,title=...::message``), then a
        summary; ``line_of`` gives an issue's line in its file (the manifest key's line)."""
        lines = []
        for issue in self.all_issues:
            level = "error" if issue.severity == "error" else "warning"
            props = []
            if issue.file:
                props.append(f"file={_gh_escape_prop(issue.file)}")
                line = line_of(issue) if line_of else None
                if line:
                    props.append(f"line={line}")
            props.append(f"title={_gh_escape_prop(issue.code)}")
            msg = issue.message + (f" Fix: {issue.fix}" if issue.fix else "")
            lines.append(f"::{level} {','.join(props)}::{_gh_escape(msg)}")
        lines.append(self.to_text().splitlines()[-1])
        return "\n".join(lines)


def _text_line(issue: Issue) -> str:
    where = ", ".join(
        x
        for x in (
            issue.file,
            f"key {issue.key}" if issue.key else None,
            f"column {issue.column}" if issue.column else None,
        )
        if x
    )
    rows = f" rows {issue.rows}" if issue.rows else ""
    fix = f"\n      fix: {issue.fix}" if issue.fix else ""
    return f"{issue.severity}[{issue.code}] {issue.message} ({where}){rows}{fix}"


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")

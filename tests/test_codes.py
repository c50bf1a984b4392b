"""Every stable code is defined once in pzcat.codes and every defined code is produced somewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pzcat.codes import CODES, codes_markdown

REPO = Path(__file__).resolve().parents[1]
SOURCES = [
    *sorted((REPO / "pzcat").rglob("*.py")),
    *sorted((REPO / "pipelines").rglob("*.py")),
    *sorted((REPO / "site_builder").rglob("*.py")),
    *sorted((REPO / "pzcat_datasette").rglob("*.py")),
    *sorted((REPO / "pzcat_github").rglob("*.py")),
]
CODE_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")


def _raised_codes() -> dict[str, str]:
    """Codes given as the first argument of an *Error(...), Issue(...), .add(...) or _error(...)."""
    found: dict[str, str] = {}
    for path in SOURCES:
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                (
                    name.endswith("Error")
                    or name in ("Issue", "add", "_error", "_warning", "error_response")
                )
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and CODE_RE.match(first.value)
            ):
                found.setdefault(first.value, str(path.relative_to(REPO)))
    return found


def _string_constants() -> set[str]:
    out = set()
    for path in SOURCES:
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return out


def test_every_raised_code_is_defined() -> None:
    undefined = {c: p for c, p in _raised_codes().items() if c not in CODES}
    assert not undefined, f"codes used but not defined in pzcat/codes.py: {undefined}"


def test_every_defined_code_is_used() -> None:
    constants = _string_constants()
    unused = sorted(c for c in CODES if c not in constants)
    assert not unused, f"codes defined in pzcat/codes.py but produced nowhere: {unused}"


def test_codes_page_lists_every_code_once() -> None:
    rows = [ln.split("`")[1] for ln in codes_markdown().splitlines() if ln.startswith("| `")]
    assert sorted(rows) == sorted(CODES)

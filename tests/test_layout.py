"""The dependency direction of the layout: the core imports none of its consumers.

``pzcat/`` (the core) may import only itself and third-party libraries; ``site_builder``,
``pipelines`` and ``pzcat_datasette`` import the core, never the other way round, and never each
other's internals except through entry points.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONSUMERS = ("pipelines", "site_builder", "pzcat_datasette", "pzcat_github")
#: package -> the first-party packages it must not import
FORBIDDEN = {
    "pzcat": set(CONSUMERS),
    "site_builder": {"pipelines", "pzcat_datasette"},
    "pipelines": {"site_builder", "pzcat_datasette"},
    "pzcat_datasette": {"site_builder", "pipelines"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth of the file, lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_to_the_core(package: str) -> None:
    bad = {}
    for path in sorted((REPO / package).rglob("*.py")):
        hits = sorted(m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN[package])
        if hits:
            bad[str(path.relative_to(REPO))] = hits
    assert not bad, f"{package} imports what depends on it: {bad}"


def test_site_builder_modules_form_no_cycle() -> None:
    """collect, stats, plots, render and build import each other in one direction only."""
    graph = {}
    for path in (REPO / "site_builder").glob("*.py"):
        mods = imported_modules(path)
        graph[path.stem] = {
            m.split(".")[1] for m in mods if m.startswith("site_builder.") and m.count(".") == 1
        }
        for m in mods:  # ``from site_builder import render``
            if m == "site_builder":
                tree = ast.parse(path.read_text(encoding="utf-8"))
                for node in ast.walk(tree):
                    if isinstance(node, ast.ImportFrom) and node.module == "site_builder":
                        graph[path.stem].update(a.name for a in node.names)

    def reach(start: str, seen: set[str]) -> set[str]:
        for nxt in graph.get(start, ()):
            if nxt not in seen:
                seen.add(nxt)
                reach(nxt, seen)
        return seen

    cycles = sorted(m for m in graph if m in reach(m, set()))
    assert not cycles, f"site_builder import cycle through {cycles}: {graph}"

"""The core package never imports the GitHub side; the GitHub side registers its commands."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_core_does_not_import_pzcat_github() -> None:
    offenders = []
    for path in sorted((REPO / "pzcat").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "pzcat_github"
            ]
    assert not offenders


def test_commands_are_registered(pzcat_cli) -> None:
    assert {"report", "comment"} <= set(pzcat_cli.commands["pr"].commands)

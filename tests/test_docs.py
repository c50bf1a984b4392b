"""Docs that tests keep honest: every command the README and GUIDE name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pzcat.cli import _register_extensions, cli

REPO = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "GUIDE.md"]


def _commands() -> set[str]:
    _register_extensions()
    names = set(cli.commands)
    for name, command in cli.commands.items():
        for sub in getattr(command, "commands", {}):
            names.add(f"{name} {sub}")
    return names


@pytest.mark.parametrize("doc", DOCS)
def test_every_pzcat_command_in_docs_exists(doc: str) -> None:
    text = (REPO / doc).read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```.*?```", text, re.S) + re.findall(r"`[^`\n]+`", text))
    used = set(re.findall(r"(?<!from )\bpzcat ([a-z][a-z-]+)", code))  # not `from pzcat import`
    missing = sorted(u for u in used if u not in _commands())
    assert not missing, f"{doc} names pzcat commands that do not exist: {missing}"


def test_readme_make_targets_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    for target in set(re.findall(r"make ([a-z]+)", readme)):
        assert target in targets, f"README uses `make {target}`, which the Makefile lacks"


def test_ci_calls_make_test() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")

"""GUIDE.md's module tables match the packages: every module named exists, every module is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "GUIDE.md"
#: Section heading (start) -> the package folder its module table describes.
SECTIONS = {
    "Core package": "pzcat",
    "Site": "site_builder",
    "Pipeline: Combine": "pipelines/combine",
    "Serving": "pzcat_datasette",
    "GitHub": "pzcat_github",
}
NOT_LISTED = {"__init__.py", "__main__.py"}


def tables() -> dict[str, set[str]]:
    """Package folder -> the module names of its section's tables (``x.py`` or ``pkg/``)."""
    found: dict[str, set[str]] = {}
    package = None
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:]
            package = next((p for head, p in SECTIONS.items() if title.startswith(head)), None)
            continue
        if package and line.startswith("| `"):
            first = line.split("|")[1]
            names = {
                n
                for n in re.findall(r"`([^`]+)`", first)
                if n.endswith(".py") or (n.endswith("/") and "<" not in n)
            }
            found.setdefault(package, set()).update(names)
    return found


def modules(package: str) -> set[str]:
    folder = REPO / package
    out = {p.name for p in folder.glob("*.py") if p.name not in NOT_LISTED}
    out |= {f"{p.name}/" for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return out


@pytest.mark.parametrize("package", sorted(SECTIONS.values()))
def test_guide_module_table_matches_the_package(package: str) -> None:
    listed = tables().get(package, set())
    folder = REPO / package
    missing = sorted(n for n in listed if not (folder / n.rstrip("/")).exists())
    assert not missing, f"GUIDE.md names modules of {package}/ that do not exist: {missing}"
    unlisted = sorted(modules(package) - listed)
    assert not unlisted, f"modules of {package}/ missing from GUIDE.md's table: {unlisted}"

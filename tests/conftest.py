"""Shared fixtures: a private copy of the repository's demo catalog for each test that writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_copy import REPO, copy_catalog

from pzcat.catalog import Catalog


@pytest.fixture
def demo_root(tmp_path: Path) -> Path:
    """A writable copy of the demo catalog (no git)."""
    return copy_catalog(tmp_path / "repo")


@pytest.fixture
def demo_git_root(tmp_path: Path) -> Path:
    """A writable copy of the demo catalog committed in a fresh git repository."""
    return copy_catalog(tmp_path / "repo", git=True)


@pytest.fixture
def demo_catalog(demo_root: Path) -> Catalog:
    """The demo catalog copy, opened."""
    return Catalog.open(demo_root)


@pytest.fixture(scope="session")
def repo_catalog() -> Catalog:
    """The repository's own catalog, read-only."""
    return Catalog.open(REPO)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to assert that nothing changed)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }

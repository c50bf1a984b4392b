"""Shared fixtures: a private copy of the repository's demo catalog for each test that writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pzcat.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]


def copy_catalog(dest: Path, git: bool = False) -> Path:
    """Copy catalog.yaml, manifests/ and products/ of the repository into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "catalog.yaml", dest / "catalog.yaml")
    for sub in ("manifests", "products"):
        shutil.copytree(REPO / sub, dest / sub, symlinks=True)
    if git:
        run = {"cwd": dest, "check": True, "capture_output": True}
        subprocess.run(["git", "init", "-q", "-b", "main"], **run)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A"], **run)
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm",
                        "demo"], **run)
    return dest


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
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}

"""Copies of the repository's demo catalog for tests (importable by test modules and conftest)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "demo"], **run
        )
    return dest

"""Fixtures of the foundation tests: a full snapshot of a tree and a `pzcat` subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PZCAT = Path(sys.executable).with_name("pzcat")


def tree_snapshot(root: Path) -> dict[str, object]:
    """Every entry under ``root`` (files with their bytes, folders, links with their target).

    Stricter than ``tests/conftest.py:snapshot``: a new empty folder, a removed link or a changed
    link target count as changes too. ``.git`` is left out.
    """
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        here = Path(dirpath)
        for name in dirnames + filenames:
            p = here / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = p.read_bytes()
    return out


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, object]]:
    return tree_snapshot


def clean_env() -> dict[str, str]:
    """The environment for a pzcat child: no PZCAT_ROOT or GITHUB_ACTOR leaking in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PZCAT_ROOT", "GITHUB_ACTOR")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_pzcat(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``pzcat`` console script in a subprocess."""
    return subprocess.run(
        [str(PZCAT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(),
        timeout=300,
        check=False,
    )


@pytest.fixture
def pzcat() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_pzcat

"""Fixtures of the GitHub-side tests: a real git repository with a base branch and pull-request
branches, GitHub's step environment, the pzcat CLI in-process, the loopback API stand-in."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_copy import copy_catalog
from gh_api_standin import FakeGitHub
from gh_helpers import git

from pzcat.cli import _register_extensions, cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The demo catalog committed on branch main of a fresh repository."""
    return copy_catalog(tmp_path / "repo", git=True)


@pytest.fixture
def pr_branch(repo: Path) -> Callable[[str], Path]:
    """Check out a new pull-request branch from main."""

    def make(name: str) -> Path:
        git(repo, "checkout", "-qb", name, "main")
        return repo

    return make


@pytest.fixture(scope="session")
def pzcat_cli():
    _register_extensions()
    return cli


@pytest.fixture
def run(pzcat_cli) -> Callable[..., Result]:
    """Invoke ``pzcat ARGS`` in-process with extra environment variables."""

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(pzcat_cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def actions_env(tmp_path: Path) -> Callable[[dict[str, Any]], dict[str, str]]:
    """GitHub's step environment for an event payload: GITHUB_EVENT_PATH, summary, output."""

    def make(event: dict[str, Any], **extra: str) -> dict[str, str]:
        d = tmp_path / "actions"
        d.mkdir(exist_ok=True)
        (d / "event.json").write_text(json.dumps(event), encoding="utf-8")
        for name in ("summary.md", "output.txt"):
            (d / name).touch()
        return {
            "GITHUB_EVENT_PATH": str(d / "event.json"),
            "GITHUB_STEP_SUMMARY": str(d / "summary.md"),
            "GITHUB_OUTPUT": str(d / "output.txt"),
            "GITHUB_REPOSITORY": "lsst-pz/pzcat",
            "GITHUB_ACTIONS": "true",
            **extra,
        }

    return make


@pytest.fixture
def github():
    """The loopback API stand-in, running."""
    with FakeGitHub() as fake:
        yield fake

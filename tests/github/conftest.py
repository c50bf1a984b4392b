"""Fixtures of the GitHub-side tests: a real git repository with a base branch and pull-request
branches, GitHub's step environment, the pzcat CLI in-process, the loopback API stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_copy import copy_catalog
from fake_github import FakeGitHub

from pzcat.cli import _register_extensions, cli

ADMIN, OUTSIDER = "pz-coordination", "outsider"


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; its stdout."""
    out = subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                          *args], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


def write_csv(path: Path, n: int = 50, ra0: float = 53.0) -> Path:
    """A small redshift table (ra, dec, z)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["id,ra,dec,z"] + [f"{i},{ra0 + i * 0.01:.4f},{-28.0 + i * 0.01:.4f},{0.1 + i * 0.02:.3f}"
                              for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


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
        return {"GITHUB_EVENT_PATH": str(d / "event.json"),
                "GITHUB_STEP_SUMMARY": str(d / "summary.md"), "GITHUB_OUTPUT": str(d / "output.txt"),
                "GITHUB_REPOSITORY": "lsst-pz/pzcat", "GITHUB_ACTIONS": "true", **extra}
    return make


def outputs(env: dict[str, str]) -> dict[str, str]:
    """The step outputs written to $GITHUB_OUTPUT (single-line and heredoc values)."""
    lines = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8").splitlines()
    out, i = {}, 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:j])
            i = j + 1
        else:
            name, _, value = line.partition("=")
            out[name] = value
            i += 1
    return out


@pytest.fixture
def github():
    """The loopback API stand-in, running."""
    with FakeGitHub() as fake:
        yield fake


def pull_request_event(number: int, author: str, head_sha: str, base_sha: str,
                       head_owner: str = "lsst-pz", action: str = "opened",
                       **extra: Any) -> dict[str, Any]:
    """A ``pull_request`` payload (the fields pzcat reads, as GitHub documents them)."""
    return {"action": action, "number": number, **extra,
            "pull_request": {"number": number, "user": {"login": author},
                             "head": {"sha": head_sha, "ref": f"pr-{number}",
                                      "repo": {"full_name": f"{head_owner}/pzcat", "fork":
                                               head_owner != "lsst-pz"}},
                             "base": {"sha": base_sha, "ref": "main",
                                      "repo": {"full_name": "lsst-pz/pzcat"}},
                             "labels": []},
            "repository": {"full_name": "lsst-pz/pzcat"}}

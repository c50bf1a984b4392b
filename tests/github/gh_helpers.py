"""Helpers of the GitHub-side tests (a module of its own: test modules import it by name)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

ADMIN, OUTSIDER = "pz-coordination", "outsider"


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; its stdout."""
    out = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


def write_csv(path: Path, n: int = 50, ra0: float = 53.0) -> Path:
    """A small redshift table (ra, dec, z)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["id,ra,dec,z"] + [
        f"{i},{ra0 + i * 0.01:.4f},{-28.0 + i * 0.01:.4f},{0.1 + i * 0.02:.3f}" for i in range(n)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def outputs(env: dict[str, str]) -> dict[str, str]:
    """The step outputs written to $GITHUB_OUTPUT (single-line and heredoc values)."""
    lines = Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8").splitlines()
    out, i = {}, 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
        else:
            name, _, value = line.partition("=")
            out[name] = value
            i += 1
    return out


def pull_request_event(
    number: int,
    author: str,
    head_sha: str,
    base_sha: str,
    head_owner: str = "lsst-pz",
    action: str = "opened",
    **extra: Any,
) -> dict[str, Any]:
    """A ``pull_request`` payload (the fields pzcat reads, as GitHub documents them)."""
    return {
        "action": action,
        "number": number,
        **extra,
        "pull_request": {
            "number": number,
            "user": {"login": author},
            "head": {
                "sha": head_sha,
                "ref": f"pr-{number}",
                "repo": {"full_name": f"{head_owner}/pzcat", "fork": head_owner != "lsst-pz"},
            },
            "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": "lsst-pz/pzcat"}},
            "labels": [],
        },
        "repository": {"full_name": "lsst-pz/pzcat"},
    }

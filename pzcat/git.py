"""The few Git questions pzcat asks: what changed since a ref, a file at a ref, who changed what."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from pzcat.errors import CatalogError

_RS, _US = "\x1e", "\x1f"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """Run git in ``root``; None when git is missing or hangs."""
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def changed_paths(root: Path, ref: str) -> set[str]:
    """Repository-relative paths changed between ``ref`` and the working tree (incl. untracked).

    Raises
    ------
    CatalogError
        ``git-unavailable`` when git is missing, ``root`` is not a repository or ``ref`` does not
        exist.
    """
    check = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if check is None or check.returncode != 0:
        raise CatalogError(
            "git-unavailable", f"{ref!r} is not a commit of the repository at {root}"
        )
    diff = _git(root, "diff", "--name-only", ref, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard")
    if diff is None or untracked is None or diff.returncode != 0:
        raise CatalogError(
            "git-unavailable", (diff.stderr.strip() if diff else "") or "git diff failed"
        )
    return {p for p in (diff.stdout + untracked.stdout).splitlines() if p}


def show(root: Path, ref: str, path: str) -> str | None:
    """Text of ``path`` at ``ref`` (None when it did not exist there)."""
    out = _git(root, "show", f"{ref}:{path}")
    return out.stdout if out is not None and out.returncode == 0 else None


def git_head(root: Path) -> str | None:
    """The HEAD commit of the repository at ``root`` (None: not a git repository)."""
    proc = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    return proc.stdout.strip() if proc is not None and proc.returncode == 0 else None


def is_ancestor(root: Path, old: str, new: str) -> bool:
    """Whether commit ``old`` is an ancestor of ``new``."""
    proc = _git(root, "merge-base", "--is-ancestor", old, new)
    return proc is not None and proc.returncode == 0


def manifest_histories(
    root: Path, subdir: str = "manifests", limit_per_file: int = 20, revisions: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Commits touching each file under ``subdir``, newest first.

    Returns
    -------
    dict
        ``"manifests/<name>.yaml"`` -> list of ``{commit, author, email, date, subject}``
        (``revisions``, e.g. ``old..new``, limits the commits read).
        Empty when ``root`` is not a git repository or git is missing (the site then shows no
        history rather than failing).
    """
    fmt = f"{_RS}%H{_US}%an{_US}%ae{_US}%aI{_US}%s"
    proc = _git(
        root,
        "log",
        f"--format={fmt}",
        "--name-only",
        "--no-renames",
        "--relative",
        *([revisions] if revisions else []),
        "--",
        subdir,
    )
    if proc is None or proc.returncode != 0:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for record in proc.stdout.split(_RS):
        if not record.strip():
            continue
        head, _, names = record.partition("\n")
        parts = head.split(_US)
        if len(parts) != 5:
            continue
        commit, author, email, date, subject = parts
        entry = {
            "commit": commit,
            "author": author,
            "email": email,
            "date": date,
            "subject": subject,
        }
        for name in names.split("\n"):
            name = name.strip()
            if name:
                bucket = out.setdefault(name, [])
                if len(bucket) < limit_per_file:
                    bucket.append(entry)
    return out

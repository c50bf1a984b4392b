"""The few Git questions pzcat asks: what changed since a ref, and a file's text at a ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pzcat.errors import CatalogError


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise CatalogError("git-unavailable", "git is not installed") from None


def changed_paths(root: Path, ref: str) -> set[str]:
    """Repository-relative paths changed between ``ref`` and the working tree (incl. untracked).

    Raises
    ------
    CatalogError
        ``git-unavailable`` when ``root`` is not a repository or ``ref`` does not exist.
    """
    check = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if check.returncode != 0:
        raise CatalogError("git-unavailable", f"{ref!r} is not a commit of the repository at {root}")
    diff = _git(root, "diff", "--name-only", ref, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard")
    if diff.returncode != 0:
        raise CatalogError("git-unavailable", diff.stderr.strip() or "git diff failed")
    return {p for p in (diff.stdout + untracked.stdout).splitlines() if p}


def show(root: Path, ref: str, path: str) -> str | None:
    """Text of ``path`` at ``ref`` (None when it did not exist there)."""
    out = _git(root, "show", f"{ref}:{path}")
    return out.stdout if out.returncode == 0 else None


def log_entries(root: Path, path: str, limit: int = 50) -> list[dict[str, str]]:
    """Commits that touched ``path``: hash, author, ISO date, subject (newest first)."""
    out = _git(root, "log", f"-n{limit}", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", path)
    if out.returncode != 0:
        return []
    entries = []
    for line in out.stdout.splitlines():
        parts = line.split("\x1f")
        if len(parts) == 4:
            entries.append(dict(zip(("commit", "author", "date", "subject"), parts, strict=True)))
    return entries

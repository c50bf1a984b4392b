"""Who changed which manifest, and when: the git log of ``manifests/``, read in one call."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

_RS, _US = "\x1e", "\x1f"


def manifest_histories(root: Path, subdir: str = "manifests",
                       limit_per_file: int = 20) -> dict[str, list[dict[str, Any]]]:
    """Commits touching each file under ``subdir``, newest first.

    Returns
    -------
    dict
        ``"manifests/<name>.yaml"`` -> list of ``{commit, author, email, date, subject}``.
        Empty when ``root`` is not a git repository or git is missing (the site then shows no
        history rather than failing).
    """
    fmt = f"{_RS}%H{_US}%an{_US}%ae{_US}%aI{_US}%s"
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "log", f"--format={fmt}", "--name-only", "--no-renames", "--relative",
             "--", subdir],
            capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode != 0:
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
        entry = {"commit": commit, "author": author, "email": email, "date": date,
                 "subject": subject}
        for name in names.split("\n"):
            name = name.strip()
            if name:
                bucket = out.setdefault(name, [])
                if len(bucket) < limit_per_file:
                    bucket.append(entry)
    return out

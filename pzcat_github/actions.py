"""The GitHub Actions environment of a step: its event, its summary, its outputs.

On Actions, ``$GITHUB_EVENT_PATH`` holds the event's JSON payload, ``$GITHUB_STEP_SUMMARY`` and
``$GITHUB_OUTPUT`` are files a step appends to. Tests set the same variables.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from pzcat.errors import PzcatError

#: Upper bound of an event payload read from disk (GitHub's are far smaller).
MAX_EVENT_BYTES = 25 * 1024 * 1024
#: GitHub shows at most 1 MiB of a step's summary.
MAX_SUMMARY_CHARS = 900_000


def load_event(path: str | Path | None = None) -> dict[str, Any]:
    """The event payload (``path``, else ``$GITHUB_EVENT_PATH``).

    Raises
    ------
    PzcatError
        ``github-event`` when there is no payload or it is not a JSON object.
    """
    where = path or os.environ.get("GITHUB_EVENT_PATH")
    if not where:
        raise PzcatError("github-event", "no event payload: set GITHUB_EVENT_PATH or pass --event")
    try:
        with open(where, "rb") as fh:
            raw = fh.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise PzcatError("github-event", f"cannot read the event payload {where}: {exc}") from None
    if len(raw) > MAX_EVENT_BYTES:
        raise PzcatError(
            "github-event", f"the event payload {where} is over {MAX_EVENT_BYTES} bytes"
        )
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PzcatError("github-event", f"the event payload {where} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PzcatError("github-event", f"the event payload {where} is not a JSON object")
    return data


def dig(data: Any, *keys: str | int, default: Any = None) -> Any:
    """``data[k1][k2]...`` or ``default`` when a step is missing or of the wrong type."""
    for key in keys:
        in_list = isinstance(key, int) and isinstance(data, list) and -len(data) <= key < len(data)
        in_dict = isinstance(key, str) and isinstance(data, dict) and key in data
        if in_list or in_dict:
            data = data[key]
        else:
            return default
    return data


def append_summary(markdown: str) -> bool:
    """Append to ``$GITHUB_STEP_SUMMARY`` (False when not on Actions)."""
    where = os.environ.get("GITHUB_STEP_SUMMARY")
    if not where:
        return False
    text = markdown.rstrip("\n")
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[:MAX_SUMMARY_CHARS] + "\n\n… (cut: the whole report is in the artifact)"
    with open(where, "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return True


def set_outputs(**values: str) -> bool:
    """Write step outputs to ``$GITHUB_OUTPUT`` (multi-line values with a random delimiter)."""
    where = os.environ.get("GITHUB_OUTPUT")
    if not where:
        return False
    with open(where, "a", encoding="utf-8") as fh:
        for name, value in values.items():
            value = str(value)
            if "\n" in value:
                delim = f"pzcat_{secrets.token_hex(8)}"
                fh.write(f"{name}<<{delim}\n{value}\n{delim}\n")
            else:
                fh.write(f"{name}={value}\n")
    return True

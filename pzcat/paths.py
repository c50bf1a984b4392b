"""The one home of path safety: what a path written by a contributor or a client may name.

Used by validation (manifest paths), the downloads and previews (:mod:`pzcat.bundle`), the site
files server, the HATS reader and the pipeline's data files. Nothing here touches a file except
:func:`is_within`, which resolves links.

>>> clean_relative("a/b.csv"), clean_relative("../x"), clean_relative("/etc/passwd")
(['a', 'b.csv'], None, None)
>>> manifest_path_problem("products/1_x/../2_y/f.csv", "1_x")[0]
'path-traversal'
>>> manifest_path_problem("products/1_x/f.csv", "1_x") is None
True
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath

_BAD_PART = re.compile(r"[\x00-\x1f\\]")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def clean_relative(rel: str) -> list[str] | None:
    """The parts of a relative POSIX path, or None when it could leave its folder.

    Refused: empty, absolute, ``.``/``..``/empty parts, backslashes and control characters.
    """
    if not rel or rel.startswith("/") or _BAD_PART.search(rel):
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    return parts


def is_within(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path``, links resolved, is ``folder`` or inside it (links of ``folder`` resolved too)."""
    real = os.path.realpath(path)
    base = os.path.realpath(folder)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def manifest_path_problem(raw: str, internal_name: str) -> tuple[str, str] | None:
    """``(code, message)`` when a manifest's file path may not be used, else None.

    A file path of product ``internal_name`` is relative, stays in its folder and starts with
    ``products/<internal_name>/`` (codes ``path-absolute``, ``path-traversal``,
    ``path-outside-product``). Links are checked against the disk by the validator.
    """
    pure = PurePosixPath(raw)
    if pure.is_absolute() or raw.startswith("~") or _DRIVE.match(raw):
        return "path-absolute", f"{raw!r} is absolute"
    if ".." in pure.parts or "\\" in raw:
        return "path-traversal", f"{raw!r} leaves its folder"
    expected = PurePosixPath("products", internal_name)
    if pure.parts[:2] != expected.parts or len(pure.parts) < 3:
        return "path-outside-product", f"{raw!r} is not under {expected}/"
    return None

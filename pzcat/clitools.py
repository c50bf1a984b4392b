"""What every ``pzcat`` command shares: coded errors and exit status, ``--root``, the user.

The core CLI (:mod:`pzcat.cli`) and the commands of the site, the pipelines and the server
(registered through the ``pzcat.commands`` entry points) import these from here, never from
:mod:`pzcat.cli`. The exit status comes from the codes table (:func:`pzcat.codes.exit_status`):
the same code exits with the same status whichever command raised it.
"""

from __future__ import annotations

import functools
import getpass
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pzcat.catalog import Catalog
from pzcat.codes import EXIT_CANNOT_RUN, EXIT_INVALID, exit_status
from pzcat.errors import PzcatError

__all__ = [
    "EXIT_CANNOT_RUN",
    "EXIT_INVALID",
    "coded",
    "default_user",
    "fail",
    "open_catalog",
    "root_option",
]


def fail(err: PzcatError) -> None:
    """Print a coded error and exit with the status of its code (1 invalid, 2 could not run)."""
    problems = err.context.get("problems") or []
    if len(problems) > 1:  # every problem of the file, one a line
        click.echo(f"error[{err.code}]: {len(problems)} problems; nothing was changed", err=True)
        for p in problems:
            where = f" (column {p['column']})" if p.get("column") else ""
            rows = f" rows {p['rows']}" if p.get("rows") else ""
            click.echo(f"  error[{p['code']}] {p['message']}{where}{rows}", err=True)
    else:
        click.echo(f"error[{err.code}]: {err.message}", err=True)
    sys.exit(exit_status(err.code))


def coded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: turn PzcatError into a clean message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PzcatError as err:
            fail(err)

    return wrapper


def root_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Shared ``--root`` option: the repository root (default: found from the working directory)."""
    return click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        envvar="PZCAT_ROOT",
        help="Repository root (default: nearest catalog.yaml).",
    )(func)


def open_catalog(root: Path | None) -> Catalog:
    """The catalog at ``root`` (default: found from the working directory or ``$PZCAT_ROOT``)."""
    return Catalog.open(root)


def default_user() -> str:
    """The GitHub user: $GITHUB_ACTOR, else git's user.name, else the login name."""
    if os.environ.get("GITHUB_ACTOR"):
        return os.environ["GITHUB_ACTOR"]
    out = subprocess.run(
        ["git", "config", "user.name"], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or getpass.getuser()

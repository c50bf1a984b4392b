"""Writes through the API, the Git way (submissions on branches): see item 5 of issue 14.

Until submissions land, products are read from the served checkout only.
"""

from __future__ import annotations

from pathlib import Path


def overlay_for(datasette, root: Path):
    """The submissions overlay of the server (None: no submissions yet)."""
    return None


def files_root(ctx, manifest) -> Path:
    """Where the files of ``manifest`` live (the served checkout)."""
    return ctx.state.root


def catalog_for(ctx, manifest):
    """The catalog that holds the files of ``manifest`` (the served checkout)."""
    return ctx.index.catalog

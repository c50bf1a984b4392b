"""Fixtures of the Datasette tests (the catalog builder lives in ds_catalog.py)."""

from __future__ import annotations

import pytest
from ds_catalog import SECRET, make_catalog

from pzcat.catalog import Catalog


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("PZCAT_SECRET", SECRET)
    return SECRET


@pytest.fixture
def catalog(tmp_path) -> Catalog:
    return make_catalog(tmp_path / "repo")


@pytest.fixture
def built(catalog):
    """The catalog with its previews.db built."""
    from pzcat_datasette.previews import build_previews

    build_previews(catalog)
    return catalog

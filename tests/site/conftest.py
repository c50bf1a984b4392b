"""Fixtures of the site tests: the fixed catalog (see site_fixture_catalog.py) and its built site."""

from __future__ import annotations

import pytest
from site_fixture_catalog import make_fixed_catalog

from pzcat.catalog import Catalog


@pytest.fixture(scope="session")
def fixed_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The fixed catalog, opened."""
    return Catalog.open(make_fixed_catalog(tmp_path_factory.mktemp("site") / "catalog"))


@pytest.fixture(scope="session")
def built_site(fixed_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory):
    """The fixed catalog's site, built strict under ``<www>/site`` (as `pzcat serve` mounts it)."""
    from site_builder.build import build_site

    www = tmp_path_factory.mktemp("www")
    out = www / "site"
    result = build_site(fixed_catalog, out, strict=True, work_dir=www.parent / "work")
    return out, result

"""Fixtures of the API tests: the demo catalog copied, its previews built, Datasette in process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasette"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SECRET = "api-test-secret-0123456789abcdef"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("PZCAT_SECRET", SECRET)
    return SECRET


@pytest.fixture
def api_root(tmp_path, secret) -> Path:
    from demo_copy import copy_catalog

    from pzcat.catalog import Catalog
    from pzcat_datasette.previews import build_previews

    root = copy_catalog(tmp_path / "repo", git=True)
    build_previews(Catalog.open(root))
    return root


@pytest.fixture
def client(api_root):
    from ds_helpers import SyncClient

    from pzcat.catalog import Catalog
    from pzcat_datasette.serve import make_datasette

    return SyncClient(make_datasette(Catalog.open(api_root), response_cache=False))

"""The notebook API against a real `pzcat serve` on loopback: the published site's JSON API for
metadata, token-gated Datasette downloads for data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from demo_copy import copy_catalog

from pzcat.client import PzCatalog
from pzcat.errors import PzcatError
from pzcat_datasette.launch import stop_serve

SECRET = "client-test-secret-0123456789"
PZCAT = [sys.executable, "-m", "pzcat.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> tuple[str, str]:
    """The demo catalog built and served; yields (site URL, token)."""
    root = copy_catalog(tmp_path_factory.mktemp("client") / "repo")
    port = _free_port()
    # catalog.yaml keeps its default URLs (port 8001): the site's relative links must carry the
    # client to this server on whatever port it runs
    config = yaml.safe_load((root / "catalog.yaml").read_text())
    assert config["datasette_url"] == "http://127.0.0.1:8001/"
    config["site_url"] = f"http://127.0.0.1:{port}/site/"
    env = {**os.environ, "PZCAT_SECRET": SECRET, "PZCAT_ROOT": str(root), "PYTHONUNBUFFERED": "1"}
    subprocess.run([*PZCAT, "build"], env=env, check=True, capture_output=True)
    token = subprocess.run(
        [*PZCAT, "token", "create", "notebook-user", "--expires", "1h"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [*PZCAT, "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, (root / "server.log").read_text()
            time.sleep(0.1)
    yield config["site_url"], token
    stop_serve(proc)  # terminate, then kill
    log.close()


def test_metadata_from_the_published_site(served) -> None:
    site, _ = served
    pz = PzCatalog(site)
    assert "Training Set" in set(pz.display_product_types()["display_name"])
    found = pz.get_products_list(filters={"release": "DP1", "product_type": "Training Set"})
    assert [p["internal_name"] for p in found] == ["6_dp1_ecdfs_training_set"]
    meta = pz.get_product_metadata(6)
    assert (
        meta["internal_name"] == "6_dp1_ecdfs_training_set" and meta["files"][0]["n_rows"] == 5000
    )


def test_data_needs_the_token(served, tmp_path: Path) -> None:
    site, token = served
    with pytest.raises(PzcatError) as err:
        PzCatalog(site).get_product(6)
    assert err.value.code == "http-error" and "401" in err.value.message
    pz = PzCatalog(site, token=token)
    product = pz.get_product("6_dp1_ecdfs_training_set")
    assert product.data is not None and len(product.data) == 5000 and "mag_i" in product.data
    path = pz.download_product(8, save_in=tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
    assert {"bpz_validation_metrics.csv", "product_metadata.yaml"} <= names

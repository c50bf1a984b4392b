"""`from pzcat import PzServer` on a published static site: the demo built with `pzcat build`, its
folder served by a plain `http.server` on loopback (no pzcat code serves it), downloads through the
pzcat server the site names (a real `pzcat serve`, with a token). The answers are compared with the
same calls on a local clone of the same catalog."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from demo_copy import copy_catalog
from demo_server import PZCAT, free_port

from pzcat import PzServer
from pzcat.pzserver import PzServerError, SiteSource
from pzcat_datasette.launch import stop_serve

pytestmark = pytest.mark.slow

SECRET = "site-client-secret-0123456789abcdef"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "examples"
FIELDS = (
    "id",
    "internal_name",
    "display_name",
    "product_type",
    "product_type_name",
    "release_name",
    "uploaded_by",
    "official_product",
    "status",
    "pz_code",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site on a plain http.server, its downloads on a pzcat serve; (site URL, token,
    clone root)."""
    base = tmp_path_factory.mktemp("site-client")
    root = copy_catalog(base / "repo", git=True)
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    site_url = f"http://127.0.0.1:{static.server_address[1]}/"
    port = free_port()
    config = yaml.safe_load((root / "catalog.yaml").read_text(encoding="utf-8"))
    config["site_url"] = site_url
    config["datasette_url"] = f"http://127.0.0.1:{port}/"
    (root / "catalog.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PZCAT_SECRET": SECRET, "PZCAT_ROOT": str(root), "PYTHONUNBUFFERED": "1"}
    subprocess.run([*PZCAT, "build"], env=env, check=True, capture_output=True)
    static.RequestHandlerClass = functools.partial(_Quiet, directory=str(root / "build" / "site"))
    thread = threading.Thread(target=static.serve_forever, daemon=True)
    thread.start()
    token = subprocess.run(
        [*PZCAT, "token", "create", "notebook-user", "--expires", "1h"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(
        [*PZCAT, "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import socket

        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    base / "server.log"
                ).read_text()
                time.sleep(0.1)
        yield site_url, token, root
    finally:
        stop_serve(proc, timeout=30)  # terminate, then kill
        log.close()
        static.shutdown()
        static.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


def _rows(products: list[dict]) -> list[tuple]:
    return sorted(tuple(p.get(f) for f in FIELDS) for p in products)


def test_the_site_is_read_as_a_site(site) -> None:
    url, _, root = site
    pz = PzServer(host=url)
    assert isinstance(pz.source, SiteSource)
    config = yaml.safe_load((root / "catalog.yaml").read_text(encoding="utf-8"))
    assert pz.source.server == config["datasette_url"]  # what api/index.json names


def test_browsing_answers_as_on_the_clone(site, capsys, monkeypatch) -> None:
    url, token, root = site
    monkeypatch.setenv("GITHUB_ACTOR", "nobody")
    pz, clone = PzServer(host=url), PzServer(host=root)
    assert [t["name"] for t in pz.get_product_types()] == [
        t["name"] for t in clone.get_product_types()
    ]
    assert [r["name"] for r in pz.get_releases()] == [r["name"] for r in clone.get_releases()]
    assert _rows(pz.get_products_list()) == _rows(clone.get_products_list())
    assert len(pz.get_products_list()) == 16
    for filters in (
        {"release": "DP1", "product_type": "Training Set"},
        {"product_type__or": ["training", "estimates"]},
        {"product_name": "sample", "official_product": True},
        {"search": "bpz"},
        {"internal_name__in": ["1_vvds_final_release_sample", "6_dp1_ecdfs_training_set"]},
    ):
        assert _rows(pz.get_products_list(filters)) == _rows(clone.get_products_list(filters))
    assert [
        p["id"] for p in pz.get_products_list({"release": "DP1", "product_type": "Training Set"})
    ] == [6]
    with pytest.raises(ValueError, match="Invalid filter key"):
        pz.get_products_list({"colour": "red"})
    users = pz.get_users()  # uploaders and catalog.yaml's admins (api/index.json's "admins")
    uploaders = {p["uploaded_by"] for p in clone.get_products_list()}
    admins = set(yaml.safe_load((root / "catalog.yaml").read_text(encoding="utf-8"))["admins"])
    assert admins - uploaders and admins & uploaders  # an admin who uploaded, one who did not
    assert {u["username"] for u in users} == uploaders | admins
    assert {u["username"] for u in users if u["is_admin"]} == admins
    assert users == clone.get_users()
    server = PzServer(host=f"{pz.source.server}api/", token=token)
    assert users == server.get_users()  # as the server's users/ answers
    pz.display_products_list({"product_type": "estimates"})
    assert "9_bpz_estimates_for_ecdfs_objects" in capsys.readouterr().out


def test_metadata_answers_as_on_the_clone(site, monkeypatch) -> None:
    url, _, root = site
    monkeypatch.setenv("GITHUB_ACTOR", "nobody")
    pz, clone = PzServer(host=url), PzServer(host=root)
    meta, there = pz.get_product_metadata(6), clone.get_product_metadata(6)
    assert meta["internal_name"] == "6_dp1_ecdfs_training_set"
    for key in ("display_name", "product_type_name", "release_name", "description", "created_at"):
        assert meta[key] == there[key], key
    main = meta["main_file"]
    assert main["name"] == "dp1_ecdfs_training_set.hdf5" and main["n_rows"] == 5000
    assert main["columns"] == there["main_file"]["columns"]
    assert {c["alias"] for c in main["columns_association"]} >= {"ID", "RA", "Dec", "z"}
    same = pz.get_product_metadata("6_dp1_ecdfs_training_set", mainfile_info=False)
    assert same["id"] == 6 and "main_file" not in same
    frame = pz.display_product_metadata(3, show=False)
    assert {"n_rows", "columns_association", "product_type"} <= set(frame["key"])
    product = pz.get_product_object(8)
    assert [f["name"] for f in product.get_auxiliary_files()] == [
        f["name"] for f in clone.get_product_object(8).get_auxiliary_files()
    ]
    with pytest.raises(ValueError, match="not found"):
        pz.get_product_metadata(999)


def test_downloads_go_to_the_server_with_the_token(site, tmp_path) -> None:
    from astropy.table import Table

    url, token, _ = site
    with pytest.raises(PzServerError) as err:
        PzServer(host=url).get_product(6)
    assert err.value.code == "http-error" and "401" in err.value.message
    assert "token" in err.value.message
    pz = PzServer(host=url, token=token)
    table = pz.get_product(6)
    assert isinstance(table, Table) and len(table) == 5000 and "mag_i" in table.colnames
    assert len(pz.get_product(3)) == 1000  # CSV
    path = pz.download_product(8, save_in=tmp_path)
    assert path.name == "8_bpz_validation_on_ecdfs.zip"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
    assert {"bpz_validation_metrics.csv", "product_metadata.yaml"} <= names
    assert not list(tmp_path.glob("*.part"))
    with pytest.raises(PzServerError) as err:
        pz.get_product(5)  # a HATS folder: download_product() and lsdb
    assert err.value.code == "api-read-only-source"
    with pytest.raises(ValueError, match="non-tabular"):
        pz.get_product(7)


def test_a_site_is_read_only(site) -> None:
    url, token, root = site
    before = sorted(p.name for p in (root / "manifests").iterdir())
    pz = PzServer(host=url, token=token)
    with pytest.raises(PzServerError) as err:
        pz.upload(
            name="site upload",
            product_type="redshift_catalog",
            main_file=str(EXAMPLES / "upload_example.csv"),
        )
    assert err.value.code == "api-read-only-source"
    crc = pz.combine_redshift_catalogs("from a site")
    crc.append_catalog(1)
    with pytest.raises(PzServerError) as err:
        crc.run()
    assert err.value.code == "api-read-only-source"
    with pytest.raises(ValueError, match="owner"):
        pz.delete_product(6)
    assert sorted(p.name for p in (root / "manifests").iterdir()) == before

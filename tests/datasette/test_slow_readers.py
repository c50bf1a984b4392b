"""Downloads under hostile and unusual clients, against a real ``pzcat serve`` on 127.0.0.1.

- 200 slow readers of a 50 MB download: the server's memory stays bounded (each paused response
  holds at most about one send step, :data:`pzcat_datasette.responses.SEND_CHUNK`, plus uvicorn's
  64 KB write buffer) and other clients are still answered. All the readers of a loopback test
  come from 127.0.0.1, the one address the per-client connection cap counts, so this server runs
  with the cap raised to 256: the test proves bounded buffers per download, not the cap (the cap
  is tested in ``test_hostile_clients.py``).
- A file whose name is not Latin-1 downloads on its own (RFC 6266 ``filename*``), with urllib,
  requests and Chromium's download manager.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request
from urllib.parse import quote, unquote

import pytest
import requests
from chromium import launch, skip_without_chromium
from demo_server import start_serve
from ds_catalog import SECRET, add_product, make_catalog
from slow_readers import slow_reader_flood

from pzcat_datasette.launch import stop_serve
from pzcat_datasette.tokens import create_token

BIG = "4_big_download"
BIG_SIZE = 50 * 1024 * 1024
#: Not Latin-1 (CJK), with a Latin-1 accent, a space and a quote: every escaping path.
ODD_NAME = "données 名前 'v2'.txt"
ODD_BODY = "z_phot, 名前\n0.5, ok\n".encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from pzcat_datasette.previews import build_previews

    root = tmp_path_factory.mktemp("slow") / "repo"
    make_catalog(root)
    add_product(
        root,
        4,
        "Big Download",
        "training_results",
        [("model.bin", "main", os.urandom(BIG_SIZE)), (ODD_NAME, "auxiliary", ODD_BODY)],
        release="dp1",
    )
    from pzcat.catalog import Catalog

    build_previews(Catalog.open(root))
    (root / "build" / "site").mkdir(parents=True, exist_ok=True)
    (root / "build" / "site" / "index.html").write_text("<h1>Catalog site</h1>")
    log = root / "server.log"
    env = {
        **os.environ,
        "PZCAT_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
        "PZCAT_MAX_CONNECTIONS_PER_CLIENT": "256",  # every reader is 127.0.0.1 (see above)
    }
    proc, url = start_serve(root, env, log, "--quiet")
    old = os.environ.get("PZCAT_SECRET")
    os.environ["PZCAT_SECRET"] = SECRET
    yield url, proc
    stop_serve(proc)  # terminate, then kill
    if old is None:
        os.environ.pop("PZCAT_SECRET", None)
    else:
        os.environ["PZCAT_SECRET"] = old
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_200_slow_readers_hold_bounded_memory(server) -> None:
    url, proc = server
    token = create_token("erin", expires="1h")
    result = slow_reader_flood(
        url,
        proc.pid,
        f"/-/download/{BIG}/model.bin",
        {"Authorization": f"Bearer {token}"},
        readers=200,
        rate=1024,
        seconds=8,
    )
    print(
        f"200 slow readers (1 KB/s) of a 50 MB download: server RSS {result.rss_before_mb} -> "
        f"peak {result.rss_peak_mb} MB (+{result.growth_mb:.0f} MB), kernel TCP buffers "
        f"{result.kernel_tcp_before_mb} -> {result.kernel_tcp_peak_mb} MB; "
        f"{result.answered} other requests answered, {result.failed} failed, slowest "
        f"{result.slowest_s} s; {result.readers_alive} readers still served"
    )
    assert result.growth_mb < 200, result.as_dict()
    assert result.answered > 0 and result.failed == 0, result.as_dict()
    assert result.readers_alive == 200, result.as_dict()
    assert proc.poll() is None
    r = requests.get(
        url + f"-/download/{BIG}/model.bin",
        headers={"Authorization": f"Bearer {token}", "Range": "bytes=-10"},
        timeout=30,
    )
    assert r.status_code == 206 and len(r.content) == 10


def _filename_star(disposition: str) -> str:
    value = disposition.split("filename*=", 1)[1].split(";", 1)[0].strip()
    charset, _, encoded = value.partition("''")
    assert charset.upper() == "UTF-8", disposition
    return unquote(encoded, encoding="utf-8")


def test_non_latin1_file_name_downloads(server, tmp_path) -> None:
    url, _ = server
    token = create_token("erin", expires="1h")
    target = url + f"-/download/{BIG}/" + quote(ODD_NAME)
    auth = {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(target, headers=auth), timeout=30) as r:
        assert r.status == 200 and r.read() == ODD_BODY
        disposition = r.headers["Content-Disposition"]
    disposition.encode("latin-1")  # a valid header value
    assert disposition.startswith("attachment; filename=")
    assert _filename_star(disposition) == ODD_NAME
    r = requests.get(target, headers=auth, timeout=30)
    assert r.status_code == 200 and r.content == ODD_BODY
    assert _filename_star(r.headers["content-disposition"]) == ODD_NAME


@pytest.mark.browser
@skip_without_chromium
def test_non_latin1_file_name_in_chromium(server, tmp_path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = server
    token = create_token("erin", expires="1h")
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(
                accept_downloads=True, extra_http_headers={"Authorization": f"Bearer {token}"}
            )
            page = context.new_page()
            page.goto(url + "site/")
            with page.expect_download() as info:
                page.evaluate(
                    "href => { const a = document.createElement('a'); a.href = href; "
                    "document.body.appendChild(a); a.click(); }",
                    url + f"-/download/{BIG}/" + quote(ODD_NAME),
                )
            download = info.value
            assert download.suggested_filename == ODD_NAME
            saved = tmp_path / "saved"
            download.save_as(saved)
            assert saved.read_bytes() == ODD_BODY
        finally:
            browser.close()


def test_a_stalled_download_does_not_keep_a_stopping_server_alive(tmp_path) -> None:
    """SIGTERM while a client holds a download it does not read: the server gives open
    responses ``PZCAT_SHUTDOWN_GRACE`` seconds, then exits (it used to wait for ever)."""
    root = tmp_path / "repo"
    make_catalog(root)
    size = 20 * 1024 * 1024
    add_product(
        root, 4, "Big Download", "training_results", [("model.bin", "main", os.urandom(size))]
    )
    env = {
        **os.environ,
        "PZCAT_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
        "PZCAT_SHUTDOWN_GRACE": "2",
    }
    proc, url = start_serve(root, env, root / "server.log", "--quiet")
    try:
        old = os.environ.get("PZCAT_SECRET")
        os.environ["PZCAT_SECRET"] = SECRET
        token = create_token("erin", expires="1h")
        if old is None:
            os.environ.pop("PZCAT_SECRET", None)
        else:
            os.environ["PZCAT_SECRET"] = old
        host, port = url.split("//")[1].strip("/").split(":")
        stalled = socket.create_connection((host, int(port)))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        stalled.sendall(
            f"GET /-/download/4_big_download/model.bin HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        assert stalled.recv(1024).startswith(b"HTTP/1.1 200")  # then it stops reading
        time.sleep(1)
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - t < 15
        stalled.close()
    finally:
        stop_serve(proc)

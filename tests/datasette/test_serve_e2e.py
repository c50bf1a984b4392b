"""End to end: a real `pzcat serve` process on 127.0.0.1 (random port), spoken to over HTTP."""

from __future__ import annotations

import io
import os
import socket
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from demo_server import start_serve
from ds_catalog import SECRET

from pzcat_datasette.launch import stop_serve
from pzcat_datasette.tokens import create_token, make_link

SPEC = "1_spec_z_sample"


@pytest.fixture
def server(built, secret):
    site = built.root / "build" / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text("<h1>Catalog site</h1>")
    log = built.root / "server.log"
    env = {**os.environ, "PZCAT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    proc, url = start_serve(built.root, env, log)
    yield url, log
    stop_serve(proc)  # terminate, then kill


def test_real_server(server, built):
    url, log = server
    token = create_token("erin", expires="1h")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/").status_code == 200
        assert http.get("/site/").text == "<h1>Catalog site</h1>"
        rows = http.get(f"/previews/{SPEC}.json?_shape=array&_size=5").json()
        assert len(rows) == 5
        denied = http.get(f"/-/download/{SPEC}.zip")
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "token-missing"

        full = http.get(f"/-/download/{SPEC}.zip", headers=auth)
        assert full.status_code == 200 and int(full.headers["content-length"]) == len(full.content)
        # an interrupted download: read part of the stream, drop the connection, resume with Range
        got = b""
        with (
            httpx.Client(base_url=url, timeout=30) as other,
            other.stream("GET", f"/-/download/{SPEC}.zip", headers=auth) as r,
        ):
            for chunk in r.iter_bytes(1000):
                got += chunk
                if len(got) >= 5000:
                    break
        rest = http.get(
            f"/-/download/{SPEC}.zip",
            headers={**auth, "Range": f"bytes={len(got)}-", "If-Range": full.headers["etag"]},
        )
        assert rest.status_code == 206
        assert got + rest.content == full.content
        assert zipfile.ZipFile(io.BytesIO(got + rest.content)).testzip() is None

        link = make_link(SPEC, "10m")
        assert http.get(f"/-/download/{SPEC}.zip?link={link}").status_code == 200

    # raw HTTP: no client-side normalisation of '..'
    host, port = url.split("//")[1].rstrip("/").split(":")
    for target in (
        f"/-/download/{SPEC}/../../catalog.yaml",
        f"/-/download/{SPEC}/%2e%2e/%2e%2e/catalog.yaml",
        "/site/../catalog.yaml",
        "/site/%2e%2e/catalog.yaml",
    ):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        status = data.split(b"\r\n", 1)[0]
        assert b" 404 " in status or b" 400 " in status, (target, status)
        assert b"product_types" not in data

    time.sleep(0.3)
    text = Path(log).read_text()
    assert f"/-/download/{SPEC}.zip" in text  # the access log is on...
    assert token not in text and token.split(".")[2] not in text  # ...and never shows a token
    assert link.split(".")[2] not in text and "REDACTED" in text

"""Form downloads refuse what a hostile URL aims at; tokens never reach a command line or a file;
annotation lines of manifest keys."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pzcat.changes import key_line
from pzcat.errors import PzcatError
from pzcat_github.fetch import download
from pzcat_github.pipeline import auth_env


@pytest.fixture
def redirector():
    """Loopback server: /to-file redirects to file:///etc/passwd, /to-metadata to a link-local host."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            target = {
                "/to-file": "file:///etc/passwd",
                "/to-metadata": "http://169.254.169.254/latest/meta-data/",
            }.get(self.path)
            if target:
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
                return
            body = b"x" * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/to-file", "download-failed"),  # urllib refuses it
        ("/to-metadata", "bad-url"),
    ],
)
def test_redirects_to_other_schemes_or_private_hosts_are_refused(
    redirector, tmp_path, path, code
) -> None:
    with pytest.raises(PzcatError) as err:
        download(redirector + path, tmp_path / "f", allow_loopback=True)
    assert err.value.code == code and not list(tmp_path.iterdir())


def test_loopback_is_refused_unless_allowed(redirector, tmp_path) -> None:
    with pytest.raises(PzcatError) as err:
        download(redirector + "/data", tmp_path / "f")
    assert err.value.code == "bad-url"
    got = download(redirector + "/data", tmp_path / "f", allow_loopback=True)
    assert got.size == 1000 and got.path.read_bytes() == b"x" * 1000


def test_the_limit_is_checked_while_streaming(redirector, tmp_path) -> None:
    with pytest.raises(PzcatError) as err:
        download(redirector + "/data", tmp_path / "f", max_bytes=999, allow_loopback=True)
    assert err.value.code == "download-too-large" and not list(tmp_path.iterdir())


def test_the_token_goes_through_the_environment_only() -> None:
    env = auth_env("s3cret", "https://github.com/lsst-pz/pzcat")
    n = int(env["GIT_CONFIG_COUNT"]) - 1
    assert env[f"GIT_CONFIG_KEY_{n}"] == "http.extraheader"
    assert base64.b64decode(env[f"GIT_CONFIG_VALUE_{n}"].split()[-1]) == b"x-access-token:s3cret"
    local = auth_env("s3cret", "/local/origin.git")  # never sent to a non-https remote
    assert not any("s3cret" in v or "eC1hY2Nlc3MtdG9rZW46czNjcmV0" in v for v in local.values())


def test_key_lines() -> None:
    text = "id: 1\nname: x\ncolumns:\n  z:\n    column: Z\nfiles:\n  - role: main\n    sha256: ab\n"
    assert key_line(text, "name") == 2
    assert key_line(text, "columns.z.column") == 5
    assert key_line(text, "files.0.sha256") == 8
    assert key_line(text, "columns.ra") == 3  # the deepest key found
    assert key_line(text, "nothing") is None
    assert key_line("a: &x [1]\nb: *x\n", "b") is None  # aliases: the safe loader refuses

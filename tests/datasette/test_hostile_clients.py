"""Hostile clients against a real `pzcat serve` on 127.0.0.1 (random port), over raw HTTP.

Each flood runs in a bounded loop while a legitimate client keeps asking; the test counts the
legitimate requests answered. The server runs with a short request-head timeout and a small
per-client connection cap (all clients of a loopback test share one address).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from demo_server import start_serve
from ds_catalog import SECRET

from pzcat_datasette.launch import stop_serve
from pzcat_datasette.responses import content_disposition
from pzcat_datasette.security import CSP_UNTRUSTED
from pzcat_datasette.tokens import create_token

SPEC = "1_spec_z_sample"
HEADER_TIMEOUT = 2
CAP = 40
RESPONSE_CAP = 2_000_000  # bytes per response that is not a file stream (the default is 64 MiB)
SEND_BUFFER = 128 * 1024  # a fixed kernel send buffer per connection (the default: autotuning)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One catalog and one server for the whole module (a server start costs seconds)."""
    from ds_catalog import make_catalog

    from pzcat_datasette.previews import build_previews

    catalog = make_catalog(tmp_path_factory.mktemp("hostile") / "repo")
    build_previews(catalog)
    return catalog


@pytest.fixture(scope="module")
def server(built):
    old_secret = os.environ.get("PZCAT_SECRET")
    os.environ["PZCAT_SECRET"] = SECRET  # create_token in the tests signs with it
    site = built.root / "build" / "site"
    (site / "product" / SPEC).mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text("<h1>Catalog site</h1>" + "x" * 5000)
    (site / "product" / SPEC / "description.html").write_text("<p>hi</p><script>alert(1)</script>")
    (site / "product" / SPEC / "plot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    )
    (site / "product" / SPEC / "index.html").write_text("<h1>the builder's page</h1>")
    (site / "big.bin").write_bytes(b"b" * (RESPONSE_CAP + 1_000_000))  # a file: not capped
    log = built.root / "server.log"
    env = {
        **os.environ,
        "PZCAT_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
        "PZCAT_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "PZCAT_MAX_CONNECTIONS_PER_CLIENT": str(CAP),
        "PZCAT_MAX_RESPONSE_BYTES": str(RESPONSE_CAP),
        "PZCAT_SOCKET_SEND_BUFFER": str(SEND_BUFFER),
    }
    proc, url = start_serve(built.root, env, log, "--quiet")
    yield url, proc
    stop_serve(proc)  # terminate, then kill
    if old_secret is None:
        os.environ.pop("PZCAT_SECRET", None)
    else:
        os.environ["PZCAT_SECRET"] = old_secret
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _port(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def raw_get(url: str, target: str, timeout: float = 30) -> tuple[bytes, bytes]:
    """One GET over a plain socket, read until the server closes: (head, raw body)."""
    with socket.create_connection(("127.0.0.1", _port(url)), timeout=timeout) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = bytearray()
        while chunk := s.recv(1 << 16):
            data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    return head, body


_CLOSED: set[int] = set()  # fileno of the sockets seen closed by the server


def _closed_by_server(s: socket.socket) -> bool:
    """Whether the server closed this (non-blocking) socket: EOF or reset, without blocking."""
    if s.fileno() in _CLOSED:
        return True
    try:
        closed = s.recv(4096) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        closed = True
    if closed:
        _CLOSED.add(s.fileno())
    return closed


class Legit:
    """A client asking for / in a loop (new connection each time) while a flood runs."""

    def __init__(self, url: str) -> None:
        self.url, self.ok, self.failed, self.slowest = url, 0, 0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                r = httpx.get(self.url + "site/", timeout=30)
                self.ok += r.status_code == 200
                self.failed += r.status_code != 200
            except httpx.HTTPError:
                self.failed += 1
            self.slowest = max(self.slowest, time.monotonic() - t)
            time.sleep(0.05)

    def __enter__(self) -> Legit:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(20)


def test_security_headers_on_every_response(server) -> None:
    url, _ = server
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in (
            "/",
            "/site/",
            "/-/token",
            f"/previews/{SPEC}",
            "/no/such/page",
            f"/-/download/{SPEC}.zip",
            "/-/metadata.json",
        ):
            r = http.get(path)
            csp = r.headers.get("content-security-policy", "")
            assert "frame-ancestors" in csp and "object-src 'none'" in csp, (path, r.headers)
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "same-origin", path
        # user-authored files (the description copy, an SVG next to the page, any download)
        # run at an opaque origin even when opened on their own; the builder's page does not
        token = create_token("erin", expires="1h")
        for path in (
            f"/site/product/{SPEC}/description.html",
            f"/site/product/{SPEC}/plot.svg",
            f"/-/download/{SPEC}.zip",
            f"/-/download/{SPEC}/product_metadata.yaml",
        ):
            r = http.get(path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, (path, r.status_code)
            assert r.headers["content-security-policy"] == CSP_UNTRUSTED, path
        for path in (f"/site/product/{SPEC}/", f"/site/product/{SPEC}/index.html"):
            r = http.get(path)
            assert r.status_code == 200 and "sandbox" not in r.headers["content-security-policy"]


def test_range_with_5000_digits_is_416(server) -> None:
    url, _ = server
    token = create_token("erin", expires="1h")
    with httpx.Client(base_url=url, timeout=30) as http:
        for path, headers in (
            ("/site/index.html", {}),
            (f"/-/download/{SPEC}.zip", {"Authorization": f"Bearer {token}"}),
        ):
            for value in (
                "bytes=" + "9" * 5000 + "-",
                "bytes=0-" + "9" * 5000,
                "bytes=-" + "9" * 5000,
            ):
                t = time.monotonic()
                r = http.get(path, headers={**headers, "Range": value})
                assert r.status_code in (200, 206, 416), (path, value[:20], r.status_code)
                assert time.monotonic() - t < 2


def test_sql_memory_and_work_are_bounded(server) -> None:
    url, proc = server
    rss = psutil.Process(proc.pid).memory_info().rss
    with httpx.Client(base_url=url, timeout=30) as http:
        for sql in (
            "select zeroblob(100000000)",
            "select length(randomblob(50000000))",
            "select replace(hex(zeroblob(1000000)), '0', 'aaaaaaaaaa')",
            "select pz_cone_ranges(10, 10, 1e12, 29)",
            "select pz_cone_ranges(0, 0, 1e9, 29)",
            "select pz_healpix(1e308, 0, 29), pz_angdist('x', null, 1e400, 0)",
        ):
            t = time.monotonic()
            r = http.get("/previews.json", params={"sql": sql, "_shape": "array"})
            assert r.status_code in (200, 400), (sql, r.status_code, r.text[:300])
            assert time.monotonic() - t < 10, sql
            assert len(r.content) < 5_000_000, sql
        huge = http.get(
            "/previews.json", params={"sql": "select 1 where 1 in (" + ",".join(["?"] * 2000) + ")"}
        )
        assert huge.status_code in (400, 414)
    assert psutil.Process(proc.pid).memory_info().rss < rss + 300_000_000


def test_many_parameters_and_headers_are_refused_while_others_are_served(server) -> None:
    url, _ = server
    query = "&".join(f"c{i}__gt={i}" for i in range(8000))
    with Legit(url) as legit, httpx.Client(base_url=url, timeout=30) as http:
        for _ in range(20):
            t = time.monotonic()
            r = http.get(f"/previews/{SPEC}?{query[:8000]}")
            assert r.status_code in (400, 414) and r.json()["error"]["code"] == "request-too-large"
            assert time.monotonic() - t < 2
            r = http.get(f"/previews/{SPEC}?" + "&".join(f"c{i}=1" for i in range(300)))
            assert r.status_code == 400
        r = http.get("/", headers={f"x-h{i}": "v" for i in range(100)})
        assert r.status_code == 431
    assert legit.ok > 0 and legit.failed == 0, vars(legit)
    print(
        f"8,000-parameter flood: {legit.ok} legitimate requests answered, slowest "
        f"{legit.slowest:.2f} s"
    )


def test_slow_clients_are_cut_and_capped(server) -> None:
    url, proc = server
    port = _port(url)
    slow = []
    with Legit(url) as legit:
        for _ in range(CAP // 2):  # under the cap: held until the head timeout
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finishes its head
            slow.append(s)
        time.sleep(HEADER_TIMEOUT + 1.5)
        answered_during = legit.ok
        for s in slow:
            s.settimeout(2)
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(100) == b""  # the server closed it
            s.close()
    assert answered_during > 0 and legit.failed == 0, vars(legit)
    # a flood over the cap: the server holds at most CAP of them, and all go within the timeout.
    # Measured once the server has dealt with the whole flood (it closed all but CAP of them):
    # on a loaded machine it may accept a batch before it closes the excess.
    server_proc = psutil.Process(proc.pid)
    fds_before = server_proc.num_fds()
    flood = []
    _CLOSED.clear()
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\n")
        s.setblocking(False)
        flood.append(s)
    deadline = time.monotonic() + 30
    while sum(_closed_by_server(s) for s in flood) < 300 - CAP and time.monotonic() < deadline:
        time.sleep(0.2)
    held = server_proc.num_fds() - fds_before
    assert held <= CAP + 5, held
    time.sleep(HEADER_TIMEOUT + 1)
    deadline = time.monotonic() + 30
    while sum(_closed_by_server(s) for s in flood) < 300 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(_closed_by_server(s) for s in flood)  # the held ones too, after the timeout
    for s in flood:
        s.close()
    deadline = time.monotonic() + 30  # the next tests share this server (and its address)
    while server_proc.num_fds() > fds_before + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert httpx.get(url + "site/", timeout=30).status_code == 200
    print(
        f"slow-loris: {answered_during} legitimate requests answered during {CAP // 2} slow "
        f"clients; of 300 flood connections the server held {held}"
    )


def test_token_page_redirects_stay_on_this_server(server) -> None:
    url, _ = server
    token = create_token("erin", expires="1h")
    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/-/token")
        csrf = page.text.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]
        cookies = dict(page.cookies)
        for evil in (
            "/\t/evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/\n/evil.example",
            "/ok\r\nSet-Cookie: x=1",
        ):
            r = http.post(
                "/-/token", data={"token": token, "next": evil, "csrftoken": csrf}, cookies=cookies
            )
            assert r.status_code == 302 and r.headers["location"] == "/", (evil, r.headers)
    # login CSRF: a cross-site form, from a browser without cookies (Datasette's CSRF check
    # skips requests without cookies)
    with httpx.Client(base_url=url, timeout=30) as fresh:
        for headers in (
            {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "same-site"},
        ):
            r = fresh.post("/-/token", data={"token": token, "next": "/"}, headers=headers)
            assert r.status_code == 403 and "ds_pzcat" not in r.headers.get("set-cookie", ""), (
                r.text
            )
            assert r.json()["error"]["code"] == "cross-site-request"


def test_content_disposition_for_any_file_name() -> None:
    for name in ("données_ñ.csv", "名前.parquet", 'quo"te\\.csv', "plain.csv"):
        value = content_disposition("attachment", name)
        value.encode("latin-1")  # a header value must be Latin-1: the fallback is ASCII
        assert "filename*=UTF-8''" in value


#: 3 rows of 2 MB each (SQLite's 4 MB value limit is respected; the answer is 6 MB).
BIG_ROWS = (
    "with recursive c(i) as (select 1 union all select i + 1 from c limit 3) "
    "select i, hex(zeroblob(1000000)) as x from c"
)


def test_response_size_cap(server) -> None:
    """JSON over the cap: a whole 400 ``response-too-large``; a CSV stream over the cap: the rows
    sent so far, an error line, and the connection closed before the end of the chunked body (no
    client can take it for a whole answer). Files (downloads, /site/) are not capped."""
    from urllib.parse import quote

    url, proc = server
    head, body = raw_get(url, "/previews.json?_shape=array&sql=" + quote(BIG_ROWS))
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b'"code": "response-too-large"' in body and len(body) < 1000, body[:300]
    assert b"content-security-policy" in head.lower()
    head, body = raw_get(url, "/previews.csv?sql=" + quote(BIG_ROWS))
    assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
    assert b"[error response-too-large:" in body, body[-300:]
    assert not body.endswith(b"0\r\n\r\n"), body[-100:]  # the chunked body never ends
    assert len(body) < RESPONSE_CAP + 200_000
    with httpx.Client(base_url=url, timeout=30) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/previews.csv", params={"sql": BIG_ROWS})
        r = http.get("/previews.json", params={"sql": "select 1 as one", "_shape": "array"})
        assert r.json() == [{"one": 1}]  # the server goes on
        big = http.get("/site/big.bin")
        assert big.status_code == 200 and len(big.content) == RESPONSE_CAP + 1_000_000
        assert "x-pzcat-file-stream" not in big.headers  # the internal marker never leaves
    assert proc.poll() is None


@pytest.mark.skipif(not Path("/usr/bin/ss").exists(), reason="needs ss (iproute2)")
def test_fixed_send_buffer_bounds_a_paused_download(server) -> None:
    """With ``$PZCAT_SOCKET_SEND_BUFFER`` the kernel holds at most that much (Linux doubles the
    value for its bookkeeping) for a client that stopped reading, instead of up to 4 MB."""
    import re
    import subprocess

    url, _ = server
    port = _port(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(b"GET /site/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(1024)  # the response has started; then this client stops reading
        time.sleep(1.0)
        out = subprocess.run(
            ["ss", "-tmnH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        s.close()
    sizes = [int(x) for x in re.findall(r"\btb(\d+)", out)]
    assert sizes, out
    assert max(sizes) <= 2 * SEND_BUFFER, out

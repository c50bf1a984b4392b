"""Hostile clients: the headers of every response, request size caps, header timeouts, per-client
connection caps, bounded SQL. Each defence lives here once.

- :class:`SecurityMiddleware` (the outermost ASGI wrapper): every response gets a
  Content-Security-Policy (with ``frame-ancestors``; no inline script anywhere,
  :func:`csp_for`), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy`` and ``X-Frame-Options``; untrusted HTML (a product's ``description.html``
  under ``/site/``, every user file next to a product page, every download) gets
  ``Content-Security-Policy: sandbox``: even opened on its own it runs at an opaque origin, with
  no script, no cookie and no credentialed request to this server. Requests with too many or too
  long query parameters or headers are refused before Datasette parses them
  (``request-too-large``). Responses other than file streams (downloads, ``/site/``) are cut at
  :data:`MAX_RESPONSE_BYTES` (``response-too-large``).
- :class:`GuardedH11Protocol` (uvicorn's HTTP protocol, subclassed): a connection that has not
  sent a whole request head within :data:`HEADER_TIMEOUT` seconds is closed (slow clients cannot
  hold sockets for ever), and one client address holds at most :data:`MAX_CONNECTIONS_PER_CLIENT`
  connections (more are closed at once); optionally a fixed kernel send buffer per connection
  (:data:`SOCKET_SEND_BUFFER`).
- :func:`bound_connection`: SQLite limits on every Datasette connection (the longest string or
  blob, so ``zeroblob(10**8)`` fails instead of taking GB; SQL text length; bound parameters).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
from urllib.parse import parse_qs, parse_qsl

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a connection may take to send its request head.
HEADER_TIMEOUT = float(os.environ.get("PZCAT_HEADER_TIMEOUT", "10"))
#: Connections one client address may hold at once.
MAX_CONNECTIONS_PER_CLIENT = int(os.environ.get("PZCAT_MAX_CONNECTIONS_PER_CLIENT", "64"))
#: Kernel send buffer of each connection in bytes (0: Linux's autotuning, up to
#: ``net.ipv4.tcp_wmem``'s maximum, 4 MB by default). A paused download fills its socket's send
#: buffer: 200 slow readers hold ~850 MB of kernel memory with autotuning. A fixed buffer bounds
#: that, and also the speed of one download over a long path (buffer / round-trip time).
SOCKET_SEND_BUFFER = int(os.environ.get("PZCAT_SOCKET_SEND_BUFFER", "0"))
#: Request caps (checked before Datasette parses anything).
MAX_QUERY_BYTES = 8 * 1024
MAX_QUERY_PARAMS = 100
MAX_HEADERS = 64
MAX_HEADER_BYTES = 16 * 1024
#: SQLite bounds per connection: the longest string, blob or row (bytes), SQL text, parameters.
SQL_MAX_LENGTH = 4 * 1024 * 1024
SQL_MAX_SQL_LENGTH = 64 * 1024
SQL_MAX_VARIABLES = 999
#: Bytes of one response that is not a file stream (SQL, JSON, CSV, pages); downloads and the
#: static site stream files in constant memory and are not capped, nor are the token-gated
#: whole-table CSV exports (``.csv?_stream=on``: paginated, bounded by Datasette's
#: ``max_csv_mb``).
MAX_RESPONSE_BYTES = int(os.environ.get("PZCAT_MAX_RESPONSE_BYTES", str(64 * 1024 * 1024)))
#: The internal header a file stream (:class:`pzcat_datasette.responses.PlanResponse`) sets; the
#: middleware removes it.
FILE_STREAM_HEADER = b"x-pzcat-file-stream"

#: Every page of the server and of the site: scripts from the server's files only, no inline
#: script or ``onclick`` (pzcat's templates keep theirs in ``pzcat_datasette/static/``; the site's
#: theme starts from ``site_builder/assets/pzcat-theme.js`` instead of its inline scripts).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
#: The same policy (the name the server's own pages were given when the site still needed
#: ``'unsafe-inline'``).
CSP_SERVER = CSP
#: Untrusted HTML: a unique origin, no script, no form, no plugin, whatever the page holds.
CSP_UNTRUSTED = (
    "sandbox; default-src 'none'; img-src 'self' data: https:; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'"
)
#: User-authored files under /site/: a product folder holds the builder's index.html and the
#: contributor's description.html and images (an SVG may hold scripts).
UNTRUSTED_PATH = re.compile(r"^/site/product/[^/]+/(?!index\.html$)[^/]+$")
HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"SAMEORIGIN",
    b"cross-origin-opener-policy": b"same-origin",
}


def csp_for(path: str) -> str:
    """The Content-Security-Policy of a response to ``path``.

    >>> csp_for("/previews").split("; ")[1], csp_for("/site/").split("; ")[1]
    ("script-src 'self'", "script-src 'self'")
    >>> csp_for("/site/product/1_x/description.html").split("; ")[0]
    'sandbox'
    """
    if UNTRUSTED_PATH.match(path):
        return CSP_UNTRUSTED
    return CSP


def _refusal(status: int, message: str, code: str = "request-too-large") -> tuple[dict, dict]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            (b"content-security-policy", CSP_SERVER.encode()),
            *HEADERS.items(),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


def streams_all_rows(scope) -> bool:
    """Whether a request asks Datasette to stream every row of a table or query."""
    if scope.get("type") != "http":
        return False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(
        v and v[0] not in ("", "0", "off", "false") for k, v in query.items() if k == "_stream"
    )


def request_problem(scope: dict) -> tuple[int, str] | None:
    """Why a request is refused before it is parsed (status, message), or None."""
    query = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return 414, f"the query string is over {MAX_QUERY_BYTES:,} bytes"
    if (
        query.count(b"&") + 1 > MAX_QUERY_PARAMS
        and len(parse_qsl(query.decode("latin-1"), keep_blank_values=True)) > MAX_QUERY_PARAMS
    ):
        return 400, f"more than {MAX_QUERY_PARAMS} query parameters"
    headers = scope.get("headers", [])
    if len(headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
        return 431, f"more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES:,} bytes of headers"
    return None


class ResponseTooLarge(BaseException):
    """Raised into the application when its stream went over :data:`MAX_RESPONSE_BYTES`.

    A ``BaseException`` so that Datasette's ``except Exception`` around its CSV stream (which
    would write the error into the stream and go on) does not catch it: it unwinds the
    application up to :class:`SecurityMiddleware`.
    """


def _header(headers, name: bytes) -> bytes | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


class SecurityMiddleware:
    """Security headers on every response, request caps and the response-size cap, around the
    whole application."""

    def __init__(self, app, max_response_bytes: int | None = None) -> None:
        self.app = app
        self.max_response_bytes = max_response_bytes or MAX_RESPONSE_BYTES

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = request_problem(scope)
        if problem is not None:
            start, body = _refusal(*problem)
            await send(start)
            await send(body)
            return None
        path = scope.get("path", "")
        whole_csv = streams_all_rows(scope) and path.endswith(".csv")
        cap = None if whole_csv else self.max_response_bytes
        held: dict | None = None  # the response start, sent with the first body
        state = {"sent": 0, "capped": True, "refused": False, "cut": False}

        def with_headers(message: dict) -> dict:
            given = message.get("headers", [])
            state["capped"] = cap is not None and _header(given, FILE_STREAM_HEADER) is None
            disposition = (_header(given, b"content-disposition") or b"").lower()
            csp = CSP_UNTRUSTED if disposition.startswith(b"attachment") else csp_for(path)
            headers = [
                (k, v)
                for k, v in given
                if k.lower() not in HEADERS
                and k.lower() not in (b"content-security-policy", FILE_STREAM_HEADER)
            ]
            headers += [
                (b"content-security-policy", csp.encode()),
                *HEADERS.items(),
            ]
            return {**message, "headers": headers}

        async def guarded_send(message):
            nonlocal held
            if state["refused"]:
                return None  # the refusal is the whole answer
            if state["cut"]:
                raise ResponseTooLarge  # stop the application's stream
            if message["type"] == "http.response.start":
                message = with_headers(message)
                if not state["capped"]:
                    return await send(message)
                held = message
                return None
            if message["type"] != "http.response.body" or not state["capped"]:
                return await send(message)
            state["sent"] += len(message.get("body", b""))
            if cap is not None and state["sent"] > cap:
                text = (
                    f"the response is over {cap:,} bytes: ask for fewer rows (_size, LIMIT) or "
                    "download the product"
                )
                if held is not None:  # nothing sent yet: a whole answer with the code
                    state["refused"] = True
                    start, body = _refusal(400, text, "response-too-large")
                    held = None
                    await send(start)
                    return await send(body)
                # a stream under way: say so, then leave the response unfinished (the client
                # sees a broken chunked body, never a complete truncated one)
                state["cut"] = True
                marker = f"\n[error response-too-large: {text}]\n".encode()
                await send({"type": "http.response.body", "body": marker, "more_body": True})
                raise ResponseTooLarge
            if held is not None:
                start, held = held, None
                await send(start)
            return await send(message)

        try:
            return await self.app(scope, receive, guarded_send)
        except ResponseTooLarge:
            return None  # uvicorn closes a connection whose response did not complete


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and a per-client connection cap."""

    _per_client: dict[str, int] = {}

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._timer = None
        self._ip = self.client[0] if self.client else "?"
        count = self._per_client.get(self._ip, 0) + 1
        self._per_client[self._ip] = count
        if count > MAX_CONNECTIONS_PER_CLIENT:
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if SOCKET_SEND_BUFFER and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER)
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = self.cycle
        self._timer = self.loop.call_later(HEADER_TIMEOUT, self._head_timeout)

    def _head_timeout(self) -> None:
        self._timer = None
        if self.cycle is self._armed_for and not self.transport.is_closing():
            self.transport.abort()  # no (new) request head in time

    def handle_events(self) -> None:
        super().handle_events()
        if self._timer is not None and self.cycle is not self._armed_for:
            self._timer.cancel()  # a request head arrived
            self._timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head is bounded too (keep-alive data resets uvicorn's)

    def connection_lost(self, exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        left = self._per_client.get(self._ip, 1) - 1
        if left > 0:
            self._per_client[self._ip] = left
        else:
            self._per_client.pop(self._ip, None)
        super().connection_lost(exc)


def same_origin_path(value: str | None, default: str) -> str:
    """``value`` if it is a path of this server, else ``default`` (the one open-redirect check).

    Browsers drop tabs and newlines from URLs (``/\\t/host`` is ``//host``) and a newline would
    split the ``Location`` header: any control character, space or backslash refuses the value.

    >>> same_origin_path("/site/x/", "/"), same_origin_path("/\\t/evil.example", "/")
    ('/site/x/', '/')
    """
    if not value or len(value) > 2000 or re.search(r"[\x00-\x20\x7f\\\\]", value):
        return default
    if value.startswith("/") and not value.startswith("//"):
        return value
    return default


def cross_site(request) -> bool:
    """A browser's POST from another origin (login CSRF): refused by the sign-in forms.

    Browsers send ``Sec-Fetch-Site`` and ``Origin`` with form POSTs; clients that are not browsers
    send neither and cannot be tricked into posting.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or origin.split("://", 1)[-1] != request.headers.get("host", "")


def bound_connection(conn: sqlite3.Connection) -> None:
    """SQLite limits for one Datasette connection (memory and work per query)."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, SQL_MAX_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, SQL_MAX_SQL_LENGTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQL_MAX_VARIABLES)

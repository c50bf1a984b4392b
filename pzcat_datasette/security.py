"""Hostile clients: the headers of every response, request size caps, header timeouts, per-client
connection caps, bounded SQL. Each defence lives here once.

- :class:`SecurityMiddleware` (the outermost ASGI wrapper): every response gets a
  Content-Security-Policy (with ``frame-ancestors``; no inline script outside the static site,
  :func:`csp_for`), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy`` and ``X-Frame-Options``; untrusted HTML (a product's ``description.html``
  under ``/site/``) gets ``Content-Security-Policy: sandbox``. Requests with too many or too long
  query parameters or headers are refused before Datasette parses them (``request-too-large``).
- :class:`GuardedH11Protocol` (uvicorn's HTTP protocol, subclassed): a connection that has not
  sent a whole request head within :data:`HEADER_TIMEOUT` seconds is closed (slow clients cannot
  hold sockets for ever), and one client address holds at most :data:`MAX_CONNECTIONS_PER_CLIENT`
  connections (more are closed at once).
- :func:`bound_connection`: SQLite limits on every Datasette connection (the longest string or
  blob, so ``zeroblob(10**8)`` fails instead of taking GB; SQL text length; bound parameters).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from urllib.parse import parse_qsl

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a connection may take to send its request head.
HEADER_TIMEOUT = float(os.environ.get("PZCAT_HEADER_TIMEOUT", "10"))
#: Connections one client address may hold at once.
MAX_CONNECTIONS_PER_CLIENT = int(os.environ.get("PZCAT_MAX_CONNECTIONS_PER_CLIENT", "64"))
#: Request caps (checked before Datasette parses anything).
MAX_QUERY_BYTES = 8 * 1024
MAX_QUERY_PARAMS = 100
MAX_HEADERS = 64
MAX_HEADER_BYTES = 16 * 1024
#: SQLite bounds per connection: the longest string, blob or row (bytes), SQL text, parameters.
SQL_MAX_LENGTH = 4 * 1024 * 1024
SQL_MAX_SQL_LENGTH = 64 * 1024
SQL_MAX_VARIABLES = 999

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
#: The server's own pages (Datasette, tokens, errors, the API): scripts from files only, no
#: inline script or ``onclick`` (pzcat's templates keep theirs in ``pzcat_datasette/static/``).
#: The static site keeps :data:`CSP`: mkdocs-material's pages start with inline scripts.
CSP_SERVER = CSP.replace("script-src 'self' 'unsafe-inline'", "script-src 'self'")
#: Untrusted HTML: a unique origin, no script, no form, no plugin, whatever the page holds.
CSP_UNTRUSTED = (
    "sandbox; default-src 'none'; img-src 'self' data: https:; "
    "style-src 'unsafe-inline'; frame-ancestors 'self'"
)
UNTRUSTED_PATH = re.compile(r"^/site/product/[^/]+/description\.html$")
HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"SAMEORIGIN",
    b"cross-origin-opener-policy": b"same-origin",
}


def csp_for(path: str) -> str:
    """The Content-Security-Policy of a response to ``path``.

    >>> csp_for("/previews").split("; ")[1], csp_for("/site/").split("; ")[1]
    ("script-src 'self'", "script-src 'self' 'unsafe-inline'")
    """
    if UNTRUSTED_PATH.match(path):
        return CSP_UNTRUSTED
    if path == "/site" or path.startswith("/site/"):
        return CSP
    return CSP_SERVER


def _refusal(status: int, message: str) -> tuple[dict, dict]:
    body = json.dumps({"error": {"code": "request-too-large", "message": message}}).encode()
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


class SecurityMiddleware:
    """Security headers on every response and request caps, around the whole application."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        problem = request_problem(scope)
        if problem is not None:
            start, body = _refusal(*problem)
            await send(start)
            await send(body)
            return None
        csp = csp_for(scope.get("path", "")).encode()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in HEADERS and k.lower() != b"content-security-policy"
                ]
                headers += [(b"content-security-policy", csp), *HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


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

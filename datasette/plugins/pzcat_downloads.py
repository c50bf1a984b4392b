"""pzcat's Datasette plugin: token-gated downloads, the token page, the site under /site/ and SQL
functions for spatial queries.

Routes
------
- ``/-/download/<internal_name>.zip``: every file of the product plus ``product_metadata.yaml``,
  streamed (constant memory) with Content-Length, ETag and HTTP Range (interrupted downloads resume).
- ``/-/download/<internal_name>/<file>``: one file, with Range as well.
- ``/-/token``: a browser pastes a token once and gets a signed, HttpOnly cookie.
- ``/site/...``: the static site built into ``build/site``.

Downloads need ``Authorization: Bearer <token>`` (scope download), the cookie, or a signed link
``?link=...``. Every error has one JSON shape, ``{"error": {"code": ..., "message": ...}}``, and
browsers (``Accept: text/html``) get a page saying how to get a token. Tokens are never logged.

The machinery (safe paths, ZIP layout, ranges) lives in :mod:`pzcat.serve`; this file is glue.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote, unquote

from datasette.utils.asgi import Response

from datasette import hookimpl
from pzcat.bundle import (
    CrcCache,
    DownloadError,
    clean_relative,
    file_plan,
    parse_range,
    read_piece,
    zip_plan,
)
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.serve import ServeConfig
from pzcat.tokens import TokenError, load_revoked, verify_link, verify_token

COOKIE = "pzcat_token"
COOKIE_NAMESPACE = "pzcat-token"
NAME_RE = r"[0-9]+_[a-z0-9_]*"


# -- per-Datasette state -------------------------------------------------------------------------------

class _State:
    """Caches of one Datasette instance: catalog (reloaded when manifests change), revocations, CRCs."""

    def __init__(self, cfg: ServeConfig) -> None:
        self.cfg = cfg
        self.crc = CrcCache(cfg.crc_cache)
        self._catalog: Catalog | None = None
        self._catalog_sig = None
        self._revoked = frozenset()
        self._revoked_sig = None

    def _sig(self, folder: Path) -> tuple:
        try:
            return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                                for e in os.scandir(folder)))
        except OSError:
            return ()

    def catalog(self) -> Catalog:
        sig = (self._sig(self.cfg.root / "manifests"), self._sig(self.cfg.root))
        if self._catalog is None or sig != self._catalog_sig:
            self._catalog = Catalog.open(self.cfg.root)
            self._catalog_sig = sig
        return self._catalog

    def revoked(self) -> frozenset:
        path = self.cfg.root / "tokens" / "revoked.yaml"
        try:
            st = path.stat()
            sig = (st.st_mtime_ns, st.st_size)
        except OSError:
            sig = None
        if sig != self._revoked_sig:
            self._revoked = load_revoked(self.cfg.root) if sig else frozenset()
            self._revoked_sig = sig
        return self._revoked


def _state(datasette) -> _State:
    state = getattr(datasette, "_pzcat_state", None)
    if state is None:
        cfg = getattr(datasette, "_pzcat", None)
        if cfg is None:  # started by `datasette serve`: configuration from metadata or the environment
            conf = datasette.plugin_config("pzcat") or {}
            root = Path(conf.get("root") or os.environ.get("PZCAT_ROOT") or ".").resolve()
            cfg = ServeConfig(root=root, site_dir=Path(conf.get("site_dir") or root / "build" / "site"),
                              crc_cache=root / "build" / "crc-cache.json",
                              previews_require_token=bool(conf.get("previews_require_token")))
        state = _State(cfg)
        datasette._pzcat_state = state
    return state


# -- errors ------------------------------------------------------------------------------------------------

def _wants_html(request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


async def _error(datasette, request, code: str, message: str, status: int) -> Response:
    """The one error shape: JSON, or a page for browsers."""
    headers = {"x-content-type-options": "nosniff"}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="pzcat"'
    if _wants_html(request):
        try:
            admins = list(_state(datasette).catalog().config.admins)
        except PzcatError:
            admins = []
        body = await datasette.render_template(
            "pzcat_error.html",
            {"code": code, "message": message, "status": status, "pzcat_admins": admins,
             "needs_token": status in (401, 403), "next": request.path},
            request=request)
        return Response.html(body, status=status, headers=headers)
    return Response.json({"error": {"code": code, "message": message}}, status=status,
                         headers=headers)


# -- tokens ---------------------------------------------------------------------------------------------

def _request_token(datasette, request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            return datasette.unsign(cookie, COOKIE_NAMESPACE).get("t")
        except Exception:  # noqa: BLE001 - itsdangerous raises BadSignature and decoding errors
            return ""
    return None


def _authorize(datasette, request, scope: str, product: str | None = None):
    """Claims of the request's signed link (for ``product``) or token; raises TokenError."""
    link = request.args.get("link")
    if link and product:
        return verify_link(link, product)
    token = _request_token(datasette, request)
    if token is None:
        raise TokenError("token-missing", "this needs a token: send `Authorization: Bearer <token>`, "
                         "paste it at /-/token, or use a signed link (ask an admin: "
                         "`pzcat token create USER` / `pzcat link INTERNAL_NAME`)")
    return verify_token(token, scope=scope, revoked=_state(datasette).revoked())


# -- streaming --------------------------------------------------------------------------------------------

class PlanResponse:
    """Stream part or all of a :class:`pzcat.bundle.Plan` (constant memory, stops on disconnect)."""

    def __init__(self, plan, request, status: int, start: int, end: int, headers: dict) -> None:
        self.plan, self.request, self.status = plan, request, status
        self.start, self.end, self.headers = start, end, headers

    async def asgi_send(self, send) -> None:
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(k.encode("latin-1"), str(v).encode("latin-1"))
                                for k, v in self.headers.items()]})
        if self.request.method == "HEAD" or self.end < self.start:
            await send({"type": "http.response.body", "body": b""})
            return
        gone = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await self.request.receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        watcher = asyncio.create_task(watch())
        loop = asyncio.get_running_loop()
        try:
            for seg, offset, length in self.plan.pieces(self.start, self.end):
                if seg.data is not None:
                    await send({"type": "http.response.body", "body": seg.data[offset: offset + length],
                                "more_body": True})
                    continue
                chunks = read_piece(seg, offset, length)
                try:
                    while not gone.is_set():
                        data = await loop.run_in_executor(None, next, chunks, None)
                        if data is None:
                            break
                        await send({"type": "http.response.body", "body": data, "more_body": True})
                finally:
                    chunks.close()
                if gone.is_set():
                    return
            await send({"type": "http.response.body", "body": b""})
        finally:
            watcher.cancel()


def _plan_response(request, plan, disposition: str = "attachment"):
    headers = {
        "content-type": plan.content_type,
        "accept-ranges": "bytes",
        "etag": plan.etag,
        "last-modified": formatdate(plan.last_modified, usegmt=True),
        "content-disposition": f"{disposition}; filename=\"{plan.filename}\"; "
                               f"filename*=UTF-8''{quote(plan.filename)}",
        "x-content-type-options": "nosniff",
    }
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and if_range.strip() != plan.etag:
        range_header = None
    rng = parse_range(range_header, plan.size)
    if rng is None:
        headers["content-length"] = str(plan.size)
        return PlanResponse(plan, request, 200, 0, plan.size - 1, headers)
    start, end = rng
    headers["content-length"] = str(end - start + 1)
    headers["content-range"] = f"bytes {start}-{end}/{plan.size}"
    return PlanResponse(plan, request, 206, start, end, headers)


# -- routes -------------------------------------------------------------------------------------------------

async def _download(datasette, request, name: str, rel: str | None):
    try:
        if request.method not in ("GET", "HEAD"):
            raise DownloadError("download-not-found", "downloads answer GET and HEAD only", status=405)
        name = unquote(name)
        _authorize(datasette, request, "download", product=name)
        state = _state(datasette)
        catalog = state.catalog()
        try:
            manifest = catalog.get(name)
        except PzcatError:
            manifest = None
        if manifest is None or manifest.internal_name != name:
            raise DownloadError("download-not-found", f"no product {name!r}", product=name)
        loop = asyncio.get_running_loop()
        if rel is None:
            plan = await loop.run_in_executor(None, zip_plan, catalog, manifest, state.crc)
        else:
            plan = await loop.run_in_executor(None, file_plan, catalog, manifest, unquote(rel))
        return _plan_response(request, plan)
    except TokenError as exc:
        return await _error(datasette, request, exc.code, exc.message, exc.status)
    except DownloadError as exc:
        response = await _error(datasette, request, exc.code, exc.message, exc.status)
        if exc.code == "bad-range":
            response.headers["content-range"] = "bytes */*"
        return response
    except PzcatError as exc:
        return await _error(datasette, request, exc.code, exc.message, 500)


async def download_zip(datasette, request):
    return await _download(datasette, request, request.url_vars["name"], None)


async def download_file(datasette, request):
    return await _download(datasette, request, request.url_vars["name"], request.url_vars["file"])


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


async def token_page(datasette, request):
    """GET: the form (and who is signed in). POST: check a pasted token and set the cookie."""
    message, status, current = None, 200, None
    next_url = _safe_next(request.args.get("next"))
    if request.method == "POST":
        form = await request.post_vars()
        next_url = _safe_next(form.get("next"))
        if form.get("action") == "logout":
            response = Response.redirect(next_url)
            response.set_cookie(COOKIE, "", max_age=0, httponly=True)
            return response
        token = (form.get("token") or "").strip()
        try:
            claims = verify_token(token, scope="read", revoked=_state(datasette).revoked())
        except TokenError as exc:
            message, status = f"[{exc.code}] {exc.message}", exc.status
        else:
            response = Response.redirect(next_url)
            secure = request.scheme == "https" or bool(datasette.setting("force_https_urls"))
            response.set_cookie(COOKIE, datasette.sign({"t": token}, COOKIE_NAMESPACE),
                                max_age=max(1, claims.expires - int(time.time())), httponly=True,
                                samesite="lax", secure=secure)
            return response
    elif request.method != "GET":
        return await _error(datasette, request, "usage", "use GET or POST", 405)
    token = _request_token(datasette, request)
    if token:
        try:
            current = verify_token(token, revoked=_state(datasette).revoked())
        except TokenError:
            current = None
    body = await datasette.render_template(
        "pzcat_token.html", {"message": message, "current": current, "next": next_url,
                             "expires": formatdate(current.expires, usegmt=True) if current else None},
        request=request)
    return Response.html(body, status=status)


async def site_redirect(request):
    return Response.redirect("/site/")


async def site_file(datasette, request, send):
    state = _state(datasette)
    site = state.cfg.site_dir
    raw = unquote(request.url_vars["path"])
    parts = clean_relative(raw.rstrip("/")) if raw.strip("/") else []
    target = None
    if parts is not None and site.is_dir():
        candidate = site.joinpath(*parts) if parts else site
        real_site = os.path.realpath(site)
        real = os.path.realpath(candidate)
        if real == real_site or real.startswith(real_site + os.sep):
            if os.path.isdir(real):
                if parts and not raw.endswith("/"):
                    return Response.redirect(f"/site/{quote(raw)}/")
                candidate = Path(real) / "index.html"
                real = str(candidate)
            if os.path.isfile(real):
                target = Path(real)
    if target is None:
        missing = site / "404.html"
        if _wants_html(request) and missing.is_file():
            return Response.html(missing.read_text(encoding="utf-8", errors="replace"), status=404)
        return await _error(datasette, request, "download-not-found", f"/site/{raw} not found", 404)
    from pzcat.bundle import Plan

    size = target.stat().st_size
    plan = Plan(filename=target.name,
                content_type=mimetypes.guess_type(target.name)[0] or "application/octet-stream")
    plan.add(path=target, length=size)
    plan.etag = f'"{size:x}-{target.stat().st_mtime_ns:x}"'
    plan.last_modified = target.stat().st_mtime
    if plan.content_type.startswith("text/") or plan.content_type in ("application/javascript",
                                                                        "application/json"):
        plan.content_type += "; charset=utf-8"
    if request.headers.get("if-none-match") == plan.etag:
        return Response("", status=304, headers={"etag": plan.etag})
    response = _plan_response(request, plan, disposition="inline")
    response.headers.pop("content-disposition", None)
    response.headers["cache-control"] = "max-age=60"
    return response


@hookimpl
def register_routes(datasette):
    return [
        (rf"^/-/download/(?P<name>{NAME_RE})\.zip$", download_zip),
        (rf"^/-/download/(?P<name>{NAME_RE})/(?P<file>.+)$", download_file),
        (r"^/-/download/(?P<name>.*)$", download_unknown),
        (r"^/-/token$", token_page),
        (r"^/site$", site_redirect),
        (r"^/site/(?P<path>.*)$", site_file),
    ]


async def download_unknown(datasette, request):
    """Anything else under /-/download/: authorise first (nothing is revealed), then 404."""
    try:
        _authorize(datasette, request, "download")
    except TokenError as exc:
        return await _error(datasette, request, exc.code, exc.message, exc.status)
    return await _error(datasette, request, "download-not-found",
                        "use /-/download/<internal_name>.zip or /-/download/<internal_name>/<file>", 404)


# -- response cache ----------------------------------------------------------------------------------

class ResponseCache:
    """LRU cache of anonymous GET responses of Datasette pages (the database is immutable).

    Only requests without Cookie or Authorization headers, outside ``/-/`` and ``/site/``, whose
    response is a 200 without Set-Cookie and at most ``max_item`` bytes, are kept; at most
    ``max_bytes`` in all. A popular preview page then costs a dictionary lookup instead of 50 ms
    of rendering.
    """

    def __init__(self, app, max_bytes: int = 64 << 20, max_item: int = 2 << 20) -> None:
        from collections import OrderedDict

        self.app, self.max_bytes, self.max_item = app, max_bytes, max_item
        self.items: OrderedDict = OrderedDict()
        self.size = 0
        self.hits = self.misses = 0

    @staticmethod
    def cacheable(scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "GET":
            return False
        path = scope.get("path", "")
        if path.startswith(("/-/", "/site", "/api")) or b"_trace" in scope.get("query_string", b""):
            return False
        return not any(k in (b"cookie", b"authorization", b"range")
                       for k, _ in scope.get("headers", []))

    async def __call__(self, scope, receive, send):
        if not self.cacheable(scope):
            await self.app(scope, receive, send)
            return
        host = next((v for k, v in scope.get("headers", []) if k == b"host"), b"")
        # pages hold absolute URLs built from the Host header and the scheme
        key = (scope.get("scheme", "http"), host, scope.get("raw_path") or scope["path"].encode(),
               scope.get("query_string", b""))
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
            self.hits += 1
            start, body = hit
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        self.misses += 1
        start_msg, chunks, size, ok = None, [], 0, True

        async def capture(message):
            nonlocal start_msg, size, ok
            if message["type"] == "http.response.start":
                start_msg = message
                ok = message["status"] == 200 and not any(
                    k.lower() == b"set-cookie" for k, _ in message.get("headers", []))
            elif message["type"] == "http.response.body" and ok:
                size += len(message.get("body", b""))
                if size > self.max_item:
                    ok = False
                    chunks.clear()
                else:
                    chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if ok and start_msg is not None:
            self.items[key] = (start_msg, b"".join(chunks))
            self.size += size
            while self.size > self.max_bytes and self.items:
                _, (_, body) = self.items.popitem(last=False)
                self.size -= len(body)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        cfg = getattr(datasette, "_pzcat", None)
        if cfg is not None and (cfg.previews_require_token or not cfg.response_cache):
            return app
        return ResponseCache(app)

    return wrap


# -- authentication for previews --------------------------------------------------------------------------

@hookimpl
def actor_from_request(datasette, request):
    token = _request_token(datasette, request)
    if not token:
        return None
    try:
        claims = verify_token(token, revoked=_state(datasette).revoked())
    except TokenError:
        return None
    return {"id": claims.user, "pzcat_scope": claims.scope, "pzcat_token": claims.id}


@hookimpl
def forbidden(datasette, request, message):
    if not _state(datasette).cfg.previews_require_token:
        return None

    async def inner():
        if request.actor is None:
            return await _error(datasette, request, "token-missing",
                                "previews need a token: paste it at /-/token or send "
                                "`Authorization: Bearer <token>`", 401)
        return await _error(datasette, request, "token-scope", message, 403)

    return inner


_COUNT_SQL = re.compile(r"select count\(\*\) from \[([^\]]+)\] ?")


def _use_inspect_counts(datasette) -> None:
    """Answer ``select count(*) from [table]`` of immutable databases from the inspect data.

    Datasette 0.65 compares the count query with the *unescaped* table name, so tables whose
    names need brackets (every preview table: internal names start with a digit) never use the
    inspect counts and each table page counts the whole table (35+ ms per 1,000,000 rows). The
    databases are immutable, so the inspect counts are exact.
    """
    from datasette.database import Results

    for name, db in datasette.databases.items():
        counts = ((datasette.inspect_data or {}).get(name) or {}).get("tables") or {}
        if db.is_mutable or not counts or getattr(db, "_pzcat_counts", False):
            continue
        original = db.execute

        async def execute(sql, params=None, *args, _orig=original, _counts=counts, **kwargs):
            match = _COUNT_SQL.fullmatch(sql) if isinstance(sql, str) else None
            if match and not params and match.group(1) in _counts:
                return Results([(_counts[match.group(1)]["count"],)], False, [("count(*)",)])
            return await _orig(sql, params, *args, **kwargs)

        db.execute = execute
        db._pzcat_counts = True


@hookimpl
def startup(datasette):
    """Use the inspect counts."""
    _use_inspect_counts(datasette)


@hookimpl
def extra_template_vars(datasette):
    return {"pzcat_site": "/site/", "pzcat_token_page": "/-/token"}

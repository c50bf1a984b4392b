"""``/site/...``: the static site built into ``build/site`` (ETag, Range, 404 page, no escapes)."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from urllib.parse import quote, unquote

from datasette.utils.asgi import Response

from pzcat.bundle import Plan
from pzcat.errors import PzcatError
from pzcat.paths import clean_relative, is_within
from pzcat_datasette.responses import error_response, plan_response, wants_html
from pzcat_datasette.settings import settings, state


async def site_redirect(request):
    """``/site`` -> ``/site/``."""
    return Response.redirect("/site/")


def _target(site: Path, raw: str) -> Path | str | None:
    """The file under ``site`` for the URL path ``raw``; a redirect location; or None."""
    parts = clean_relative(raw.rstrip("/")) if raw.strip("/") else []
    if parts is None or not site.is_dir():
        return None
    candidate = site.joinpath(*parts) if parts else site
    if not is_within(candidate, site):
        return None
    real = os.path.realpath(candidate)
    if os.path.isdir(real):
        if parts and not raw.endswith("/"):
            return f"/site/{quote(raw)}/"
        real = str(Path(real) / "index.html")
    return Path(real) if os.path.isfile(real) else None


async def _private(datasette, request):
    """When ``access.site_private`` is set: a sign-in page for browsers, 401 for others."""
    try:
        private = state(datasette).catalog().config.access.site_private
    except PzcatError:
        private = False
    if not private or request.actor is not None:
        return None
    if wants_html(request):
        return Response.redirect("/-/tokens?next=" + quote(request.full_path, safe=""))
    return await error_response(
        datasette,
        request,
        "auth-required",
        "this catalog's site is private: sign in at /-/tokens or send "
        "`Authorization: Bearer <token>`",
        401,
    )


async def site_file(datasette, request, send):
    """One file of the built site."""
    site = settings(datasette).site_dir
    raw = unquote(request.url_vars["path"])
    denied = await _private(datasette, request)
    if denied is not None:
        return denied
    target = _target(site, raw)
    if isinstance(target, str):
        return Response.redirect(target)
    if target is None:
        missing = site / "404.html"
        if wants_html(request) and missing.is_file():
            return Response.html(missing.read_text(encoding="utf-8", errors="replace"), status=404)
        return await error_response(
            datasette, request, "download-not-found", f"/site/{raw} not found", 404
        )
    st = target.stat()
    plan = Plan(
        filename=target.name,
        content_type=mimetypes.guess_type(target.name)[0] or "application/octet-stream",
    )
    plan.add(path=target, length=st.st_size)
    plan.etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
    plan.last_modified = st.st_mtime
    if plan.content_type.startswith("text/") or plan.content_type in (
        "application/javascript",
        "application/json",
    ):
        plan.content_type += "; charset=utf-8"
    if request.headers.get("if-none-match") == plan.etag:
        return Response("", status=304, headers={"etag": plan.etag})
    response = plan_response(request, plan, disposition="inline")
    response.headers.pop("content-disposition", None)
    response.headers["cache-control"] = "max-age=60"
    return response


ROUTES = [
    (r"^/site$", site_redirect),
    (r"^/site/(?P<path>.*)$", site_file),
]

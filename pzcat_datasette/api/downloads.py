"""Downloads of the Photo-z Server API: ``download/prepare|status|file`` and the ``main-file`` ones.

Nothing is prepared in advance: a pzcat bundle is laid out when asked (:mod:`pzcat.bundle`), so
``prepare/`` answers ``ready`` at once with an expiring signed URL (a :func:`pzcat tokens.make_link`
link valid 900 s, as the original's), and ``file/`` streams it with the same code as
``/-/download`` (Content-Length, ETag, Range resume, constant memory).

- the product: a ZIP of every file at its path in the product folder, with ``product_metadata.yaml``
  (the manifest) at the root, named ``<internal_name>.zip``;
- the main file alone under its own name (the client picks its reader by the suffix), or for a HATS
  collection ``<folder>.zip`` holding ``<folder>/...``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote

from pzcat.bundle import CrcCache, DownloadError, file_plan, folder_zip_plan, manifest_rel, zip_plan
from pzcat_datasette.api.errors import ApiError, error_response, json_response
from pzcat_datasette.api.routes import Ctx, product_json, product_or_404, route, run_sync

LINK_SECONDS = 900


def _tokens():
    try:
        from pzcat_datasette import tokens
    except ImportError:  # before the serving stack moved into pzcat_datasette
        from pzcat import tokens
    return tokens


def _plan_response(request, plan):
    try:
        from pzcat_datasette.responses import plan_response
    except ImportError:  # before the serving stack moved: the plugin's own function
        from datasette.plugins import pm

        mod = next(p for p in pm.get_plugins() if hasattr(p, "_plan_response"))
        plan_response = mod._plan_response
    return plan_response(request, plan)


def _crc(ctx: Ctx) -> CrcCache:
    cache = getattr(ctx.state, "_crc", None)
    if cache is None:
        cache = CrcCache(ctx.state.root / "build" / "crc-cache.json")
        ctx.state._crc = cache
    return cache


def _plan(ctx: Ctx, m, main: bool):
    from pzcat_datasette.api import writes

    catalog = writes.catalog_for(ctx, m)
    if not main:
        return zip_plan(catalog, m, _crc(ctx), prefix="")
    entry = m.main_file
    rel = manifest_rel(m, entry.path) if entry is not None else None
    if rel is None:
        raise ApiError(
            "download-not-found",
            "This product has no main file in the repository.",
            404,
            product=m.internal_name,
        )
    if entry.format == "hats":
        return folder_zip_plan(catalog, m, rel, _crc(ctx))
    return file_plan(catalog, m, rel)


def _archive(ctx: Ctx, m, main: bool, plan) -> dict:
    now = int(time.time())
    link = _tokens().make_link(m.internal_name, LINK_SECONDS)
    kind = "main-file/" if main else ""
    when = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    entry = m.main_file
    return {
        "id": m.id,
        "task_id": None,
        "status": "ready",
        "filename": plan.filename,
        "size": plan.size,
        "checksum": entry.sha256 if main and entry is not None and entry.format != "hats" else None,
        "source_signature": plan.etag.strip('"'),
        "created_at": when,
        "updated_at": when,
        "download_url": f"{ctx.base_url()}products/{m.id}/download/{kind}file/?token={quote(link)}",
        "expired_time": datetime.fromtimestamp(now + LINK_SECONDS, UTC)
        .isoformat()
        .replace("+00:00", "Z"),
    }


async def _prepare(ctx: Ctx, pid: str, main: bool):
    index, m = product_or_404(ctx, pid)
    product_json(ctx, index, m)
    try:
        plan = await run_sync(_plan, ctx, m, main)
    except DownloadError as exc:
        raise ApiError(exc.code, exc.message, exc.status, product=m.internal_name) from None
    return json_response(_archive(ctx, m, main, plan))


@route("POST", r"/products/(?P<pid>\d+)/download/prepare")
async def prepare(ctx: Ctx, pid: str):
    return await _prepare(ctx, pid, main=False)


@route("GET", r"/products/(?P<pid>\d+)/download/status")
async def status(ctx: Ctx, pid: str):
    return await _prepare(ctx, pid, main=False)


@route("POST", r"/products/(?P<pid>\d+)/download/main-file/prepare")
async def main_prepare(ctx: Ctx, pid: str):
    return await _prepare(ctx, pid, main=True)


@route("GET", r"/products/(?P<pid>\d+)/download/main-file/status")
async def main_status(ctx: Ctx, pid: str):
    return await _prepare(ctx, pid, main=True)


async def _file(ctx: Ctx, pid: str, main: bool):
    link = ctx.request.args.get("token")
    if not link:
        return error_response("token-missing", "Missing download token.", 403)
    index = ctx.index
    m = index.manifests.get(int(pid))
    tokens = _tokens()
    try:
        if m is None:
            raise tokens.TokenError("link-invalid", "no such product")
        tokens.verify_link(link, m.internal_name)
    except tokens.TokenError as exc:
        detail = (
            "Download token has expired."
            if exc.code == "token-expired"
            else "Invalid download token."
        )
        return error_response(exc.code, detail, 403)
    try:
        plan = await run_sync(_plan, ctx, m, main)
    except DownloadError as exc:
        return error_response(exc.code, exc.message, exc.status)
    try:
        return _plan_response(ctx.request, plan)
    except DownloadError as exc:  # a Range outside the body
        response = error_response(exc.code, exc.message, exc.status)
        response.headers["content-range"] = f"bytes */{plan.size}"
        return response


@route("GET", r"/products/(?P<pid>\d+)/download/file", public=True)
async def download_file(ctx: Ctx, pid: str):
    return await _file(ctx, pid, main=False)


@route("GET", r"/products/(?P<pid>\d+)/download/main-file/file", public=True)
async def main_file(ctx: Ctx, pid: str):
    return await _file(ctx, pid, main=True)

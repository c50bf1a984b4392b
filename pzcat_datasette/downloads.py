"""Token-gated downloads: ``/-/download/<internal_name>.zip`` and ``/-/download/<internal_name>/<file>``.

The ZIP holds every file of the product plus ``product_metadata.yaml``, streamed (constant memory)
with Content-Length, ETag and HTTP Range (interrupted downloads resume). Downloads need
``Authorization: Bearer <token>`` (scope download), the cookie of ``/-/token``, or a signed link
``?link=...``. Tokens are never logged. The ZIP layout, safe paths and ranges are
:mod:`pzcat.bundle`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

from pzcat.bundle import DownloadError, file_plan, zip_plan
from pzcat.codes import http_status
from pzcat.errors import PzcatError
from pzcat_datasette.auth import authorize
from pzcat_datasette.responses import error_response, plan_response
from pzcat_datasette.settings import state
from pzcat_datasette.tokens import TokenError

NAME_RE = r"[0-9]+_[a-z0-9_]*"


async def _download(datasette, request, name: str, rel: str | None):
    try:
        if request.method not in ("GET", "HEAD"):
            raise DownloadError(
                "download-not-found", "downloads answer GET and HEAD only", status=405
            )
        name = unquote(name)
        authorize(datasette, request, "download", product=name)
        st = state(datasette)
        catalog = st.catalog()
        try:
            manifest = catalog.get(name)
        except PzcatError:
            manifest = None
        if manifest is None or manifest.internal_name != name:
            raise DownloadError("download-not-found", f"no product {name!r}", product=name)
        loop = asyncio.get_running_loop()
        if rel is None:
            plan = await loop.run_in_executor(None, zip_plan, catalog, manifest, st.crc)
        else:
            plan = await loop.run_in_executor(None, file_plan, catalog, manifest, unquote(rel))
        return plan_response(request, plan)
    except TokenError as exc:
        return await error_response(datasette, request, exc.code, exc.message, exc.status)
    except DownloadError as exc:
        response = await error_response(datasette, request, exc.code, exc.message, exc.status)
        if exc.code == "bad-range":
            response.headers["content-range"] = "bytes */*"
        return response
    except PzcatError as exc:
        return await error_response(
            datasette, request, exc.code, exc.message, http_status(exc.code)
        )


async def download_zip(datasette, request):
    """The product's ZIP."""
    return await _download(datasette, request, request.url_vars["name"], None)


async def download_file(datasette, request):
    """One file of the product."""
    return await _download(datasette, request, request.url_vars["name"], request.url_vars["file"])


async def download_unknown(datasette, request):
    """Anything else under /-/download/: authorise first (nothing is revealed), then 404."""
    try:
        authorize(datasette, request, "download")
    except TokenError as exc:
        return await error_response(datasette, request, exc.code, exc.message, exc.status)
    return await error_response(
        datasette,
        request,
        "download-not-found",
        "use /-/download/<internal_name>.zip or /-/download/<internal_name>/<file>",
        404,
    )


ROUTES = [
    (rf"^/-/download/(?P<name>{NAME_RE})\.zip$", download_zip),
    (rf"^/-/download/(?P<name>{NAME_RE})/(?P<file>.+)$", download_file),
    (r"^/-/download/(?P<name>.*)$", download_unknown),
]

"""The responses every route shares: the one error shape and the streaming of a byte plan.

Every error is ``{"error": {"code": ..., "message": ...}}`` with the status the code's class gives;
browsers (``Accept: text/html``) get a page saying how to get a token.
"""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from urllib.parse import quote

from datasette.utils.asgi import Response

from pzcat.bundle import DownloadError, parse_range, read_piece
from pzcat.errors import PzcatError
from pzcat_datasette.settings import state


def wants_html(request) -> bool:
    """The client is a browser asking for a page rather than JSON."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


async def error_response(datasette, request, code: str, message: str, status: int) -> Response:
    """The one error shape: JSON, or a page for browsers."""
    headers = {"x-content-type-options": "nosniff"}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="pzcat"'
    if wants_html(request):
        try:
            admins = list(state(datasette).catalog().config.admins)
        except PzcatError:
            admins = []
        body = await datasette.render_template(
            "pzcat_error.html",
            {
                "code": code,
                "message": message,
                "status": status,
                "pzcat_admins": admins,
                "needs_token": status in (401, 403),
                "next": request.path,
            },
            request=request,
        )
        return Response.html(body, status=status, headers=headers)
    return Response.json(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


#: Bytes read and sent at a time per download: uvicorn waits for the client to drain its buffer
#: before the next send, so a paused response holds a few of these. A trade-off between memory
#: per slow reader and speed per fast one, measured on a quiet machine (load < 1) with
#: ``benchmarks/hostile.py --only readers --send-buffer 0`` (200 readers at 1 KB/s, server RSS
#: growth) and ``benchmarks/serve.py --download-mb 40`` (one loopback download, best of 3):
#: 64 KB: +90 MB, 760 MB/s; 128 KB: +104 MB, 1,060 MB/s; 256 KB: +158 MB, 1,670 MB/s.
#: 128 KB keeps one download at the disk's speed (O_DIRECT 650-1,100 MB/s here) and the
#: 200 readers well under the 200 MB the slow-readers test allows.
SEND_CHUNK = 128 * 1024


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` fallback and the exact name in ``filename*`` (UTF-8).

    >>> print(content_disposition("attachment", "z_ñ.csv"))
    attachment; filename="z_.csv"; filename*=UTF-8''z_%C3%B1.csv
    """
    fallback = "".join(c for c in filename if 32 <= ord(c) < 127 and c not in '"\\') or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class PlanResponse:
    """Stream part or all of a :class:`pzcat.bundle.Plan` (constant memory, stops on disconnect)."""

    def __init__(self, plan, request, status: int, start: int, end: int, headers: dict) -> None:
        self.plan, self.request, self.status = plan, request, status
        self.start, self.end, self.headers = start, end, headers

    async def asgi_send(self, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [
                    (k.encode("latin-1"), str(v).encode("latin-1")) for k, v in self.headers.items()
                ],
            }
        )
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
                    await send(
                        {
                            "type": "http.response.body",
                            "body": seg.data[offset : offset + length],
                            "more_body": True,
                        }
                    )
                    continue
                chunks = read_piece(seg, offset, length, chunk=SEND_CHUNK)
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


def plan_response(request, plan, disposition: str = "attachment") -> PlanResponse:
    """A 200 or 206 (``Range``, ``If-Range``) response streaming ``plan``."""
    headers = {
        "content-type": plan.content_type,
        "accept-ranges": "bytes",
        "etag": plan.etag,
        "last-modified": formatdate(plan.last_modified, usegmt=True),
        "content-disposition": content_disposition(disposition, plan.filename),
        "x-content-type-options": "nosniff",
        # a constant-memory file stream: not cut by the response-size cap (removed by
        # pzcat_datasette.security.SecurityMiddleware before the response leaves)
        "x-pzcat-file-stream": "1",
    }
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range and if_range.strip() != plan.etag:
        range_header = None
    try:
        rng = parse_range(range_header, plan.size)
    except DownloadError as exc:  # every route that streams a plan answers 416, never 500
        return Response.json(
            {"error": {"code": exc.code, "message": exc.message}},
            status=416,
            headers={"content-range": f"bytes */{plan.size}", "x-content-type-options": "nosniff"},
        )
    if rng is None:
        headers["content-length"] = str(plan.size)
        return PlanResponse(plan, request, 200, 0, plan.size - 1, headers)
    start, end = rng
    headers["content-length"] = str(end - start + 1)
    headers["content-range"] = f"bytes {start}-{end}/{plan.size}"
    return PlanResponse(plan, request, 206, start, end, headers)

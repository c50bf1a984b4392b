"""Downloads of the Photo-z Server API: ``download/prepare|status|file`` and the ``main-file`` ones.

Nothing is prepared in advance: a pzcat bundle is laid out when asked (:mod:`pzcat.bundle`), so
``prepare/`` answers ``ready`` at once with an expiring signed URL (a :func:`pzcat tokens.make_link`
link valid 900 s, as the original's), and ``file/`` streams it with the same code as
``/-/download`` (Content-Length, ETag, Range resume, constant memory).

``checksum`` is the SHA-256 of the bytes ``file/`` sends: the manifest's for a main file; for a
ZIP (the product's, or a HATS folder's) it is computed from the laid-out archive and kept by its
ETag in ``build/api/archive-sha256.json`` (:class:`Checksums`): at once for archives up to
:data:`SYNC_CHECKSUM_BYTES`, in a background thread for larger ones (``null`` until a later
``status/`` call, which then answers it).

- the product: a ZIP of every file at its path in the product folder, with ``product_metadata.yaml``
  (the manifest) at the root, named ``<internal_name>.zip``;
- the main file alone under its own name (the client picks its reader by the suffix), or for a HATS
  collection ``<folder>.zip`` holding ``<folder>/...``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pzcat.bundle import (
    CrcCache,
    DownloadError,
    Plan,
    file_plan,
    folder_zip_plan,
    manifest_rel,
    read_piece,
    zip_plan,
)
from pzcat.files import atomic_write_text
from pzcat_datasette.api.errors import ApiError, error_response, json_response
from pzcat_datasette.api.routes import Ctx, product_json, product_or_404, route, run_sync

LINK_SECONDS = 900
#: Archives up to this size get their checksum in the ``prepare/`` answer itself.
SYNC_CHECKSUM_BYTES = 64 << 20


class Checksums:
    """SHA-256 of laid-out archives by ETag and size, kept in a JSON file (thread-safe).

    The ETag of a plan changes with any byte of the archive (names, sizes, CRCs, the manifest),
    so a known digest is the digest of what ``file/`` sends. At most :attr:`KEEP` are kept.
    """

    KEEP = 2000

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.busy: set[str] = set()
        try:
            self.known: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}

    @staticmethod
    def key(plan: Plan) -> str:
        return plan.etag.strip('"') + f"-{plan.size}"

    def get(self, plan: Plan) -> str | None:
        with self.lock:
            return self.known.get(self.key(plan))

    def compute(self, plan: Plan) -> str:
        """Read the archive as ``file/`` would send it; remember and return its SHA-256."""
        digest = hashlib.sha256()
        for seg, offset, length in plan.pieces(0, plan.size - 1):
            for chunk in read_piece(seg, offset, length):
                digest.update(chunk)
        value = digest.hexdigest()
        with self.lock:
            self.known[self.key(plan)] = value
            while len(self.known) > self.KEEP:
                self.known.pop(next(iter(self.known)))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(self.known), durable=False)
        return value

    def ensure(self, plan: Plan) -> str | None:
        """The digest if known; else computed now (small archives) or started in the background."""
        known = self.get(plan)
        if known is not None or plan.size <= 0:
            return known
        if plan.size <= SYNC_CHECKSUM_BYTES:
            return self.compute(plan)
        key = self.key(plan)
        with self.lock:
            if key in self.busy:
                return None
            self.busy.add(key)
        threading.Thread(target=self._background, args=(plan, key), daemon=True).start()
        return None

    def _background(self, plan: Plan, key: str) -> None:
        try:
            self.compute(plan)
        except (OSError, DownloadError):
            pass  # a file changed or went away: the next prepare/ lays out a new plan
        finally:
            with self.lock:
                self.busy.discard(key)


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


def _checksums(ctx: Ctx) -> Checksums:
    cache = getattr(ctx.state, "_checksums", None)
    if cache is None:
        cache = Checksums(ctx.state.root / "build" / "api" / "archive-sha256.json")
        ctx.state._checksums = cache
    return cache


def _checksum(ctx: Ctx, m, main: bool, plan: Plan) -> str | None:
    entry = m.main_file
    if main and entry is not None and entry.format != "hats":
        return entry.sha256  # the file itself, as the manifest records it
    return _checksums(ctx).ensure(plan)


def _archive(ctx: Ctx, m, main: bool, plan, checksum: str | None) -> dict:
    now = int(time.time())
    link = _tokens().make_link(m.internal_name, LINK_SECONDS)
    kind = "main-file/" if main else ""
    when = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    return {
        "id": m.id,
        "task_id": None,
        "status": "ready",
        "filename": plan.filename,
        "size": plan.size,
        "checksum": checksum,
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
        checksum = await run_sync(_checksum, ctx, m, main, plan)
    except DownloadError as exc:
        raise ApiError(exc.code, exc.message, exc.status, product=m.internal_name) from None
    return json_response(_archive(ctx, m, main, plan, checksum))


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

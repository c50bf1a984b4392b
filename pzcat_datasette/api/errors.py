"""Errors of the Photo-z Server API: JSON shaped like the original's, with a stable code.

Every error under ``/api/`` is ``{"detail": <message>, "code": <stable code>}`` (DRF's shape plus the
pzcat code of :mod:`pzcat.codes`), never an HTML page.
"""

from __future__ import annotations

import json
from typing import Any

from datasette.utils.asgi import Response

from pzcat.errors import PzcatError

#: DRF's messages, which some clients show verbatim.
NOT_AUTHENTICATED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."
FORBIDDEN = "You do not have permission to perform this action."


class ApiError(PzcatError):
    """An API error with its HTTP status (and optional extra JSON fields)."""

    def __init__(
        self, code: str, message: str, status: int = 400, extra: dict | None = None, **context: Any
    ) -> None:
        super().__init__(code, message, **context)
        self.status = status
        self.extra = extra or {}


def dumps(data: Any) -> str:
    return json.dumps(data, default=str, ensure_ascii=False)


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response (``application/json``; no body for 204)."""
    if status == 204:
        return Response("", status=204, headers=headers or {})
    return Response(
        dumps(data),
        status=status,
        headers={"x-content-type-options": "nosniff", **(headers or {})},
        content_type="application/json; charset=utf-8",
    )


def error_response(code: str, detail: str, status: int, extra: dict | None = None) -> Response:
    """The one error shape of the API."""
    headers = {}
    if status == 401:
        headers["www-authenticate"] = 'Token realm="api"'
    return json_response({"detail": detail, "code": code, **(extra or {})}, status, headers)


def from_exception(exc: PzcatError, status: int | None = None) -> Response:
    """The response of a coded error raised by pzcat code."""
    code = exc.code
    status = status or getattr(exc, "status", None) or 400
    return error_response(code, exc.message, int(status), getattr(exc, "extra", None))

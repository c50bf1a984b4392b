"""HTTP for the client and :class:`pzcat.client.PzCatalog`: JSON calls, multipart bodies and
streamed downloads, every failure a :class:`~pzcat.pzserver.errors.PzServerError` with a code.

A pzcat server answers errors as ``{"detail", "code"}``: the code is kept (``api-not-owner``,
``api-missing-columns``...); anything else is ``http-error`` (``not_found`` for a 404 without a
code, e.g. a static site's missing JSON file).
"""

from __future__ import annotations

import json
import mimetypes
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from pzcat.files import atomic_open
from pzcat.pzserver.errors import PzServerError

#: Seconds to wait for a server's answer (downloads stream after it).
TIMEOUT = 600


def call(
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = TIMEOUT,
    not_found: str = "http-error",
    hint: str = "",
):
    """Open ``url``; the response (a context manager) or a coded :class:`PzServerError`.

    Parameters
    ----------
    not_found : str
        The code of a 404 whose body names none.
    hint : str
        Added to the message of a 401 or 403 (how to pass a token).
    """
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", errors="replace")
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        code = answer.get("code") if isinstance(answer, dict) else None
        detail = f": {text[:500]}" if isinstance(answer, dict) else ""
        extra = hint if exc.code in (401, 403) else ""
        raise PzServerError(
            code or (not_found if exc.code == 404 else "http-error"),
            f"{method} {url}: HTTP {exc.code}{detail}{extra}",
            status=exc.code,
        ) from None
    except urllib.error.URLError as exc:
        raise PzServerError("http-error", f"{method} {url}: {exc.reason}") from None


def get_json(url: str, headers: dict[str, str] | None = None, timeout: float = 60, **kw) -> Any:
    """``GET url`` as JSON (``None`` for an empty body or 204)."""
    with call(
        "GET", url, {"Accept": "application/json", **(headers or {})}, None, timeout, **kw
    ) as r:
        payload = r.read()
        return json.loads(payload) if payload and r.status != 204 else None


def save(url: str, dest: Path, headers: dict[str, str] | None = None, hint: str = "") -> Path:
    """Stream ``url`` into ``dest`` atomically (:func:`pzcat.files.atomic_open`: nothing is left
    at ``dest`` when the download fails)."""
    dest = Path(dest)
    with call("GET", url, headers, hint=hint) as resp, atomic_open(dest) as out:
        shutil.copyfileobj(resp, out, 1 << 20)
    return dest


def multipart(fields: dict, files: dict[str, Path]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of ``fields`` (lists repeat the key) and ``files``."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        for v in value if isinstance(value, list | tuple) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{v}\r\n'.encode()
            )
    for key, path in files.items():
        path = Path(path)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; '
            f'filename="{path.name}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + path.read_bytes()
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"

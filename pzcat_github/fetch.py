"""Downloads of a form's files: streamed, size-capped, sha256-checked, http(s) only.

The URL comes from an issue anyone can open, so the download refuses what a hostile URL could
aim at: other schemes (``file:``, ``ftp:``), redirects to them, and hosts that resolve to private,
loopback, link-local or reserved addresses (the runner's own services), unless loopback is
allowed explicitly (tests). The size limit is checked against ``Content-Length`` and again while
streaming; the file appears at its destination only when complete and matching its sha256.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pzcat.errors import PzcatError
from pzcat.files import atomic_open

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass
class Downloaded:
    """A completed download."""

    path: Path
    size: int
    sha256: str


def check_url(url: str, allow_loopback: bool = False) -> str:
    """``url`` when it is http(s) to a public host (or loopback when allowed).

    Raises
    ------
    PzcatError
        ``bad-url``.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PzcatError("bad-url", f"{url!r} is not an http(s) URL")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise PzcatError("download-failed", f"{parts.hostname} cannot be resolved: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_loopback and allow_loopback:
            continue
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
        ):
            raise PzcatError(
                "bad-url",
                f"{parts.hostname} resolves to {addr}, a private or local "
                "address: give a public URL",
            )
    return url


class _Redirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, self.allow_loopback)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(
    url: str,
    dest: Path,
    max_bytes: int = DEFAULT_MAX_BYTES,
    sha256: str | None = None,
    allow_loopback: bool = False,
    timeout: float = 60.0,
) -> Downloaded:
    """Stream ``url`` into ``dest``.

    Raises
    ------
    PzcatError
        ``bad-url``, ``download-failed`` (not 2xx, network), ``download-too-large`` or
        ``checksum-mismatch``; ``dest`` does not exist then.
    """
    check_url(url, allow_loopback)
    opener = urllib.request.build_opener(_Redirects(allow_loopback))
    req = urllib.request.Request(url, headers={"User-Agent": "pzcat"})
    try:
        with opener.open(req, timeout=timeout) as resp, atomic_open(dest) as fh:
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise PzcatError(
                    "download-too-large",
                    f"{url} is {int(length):,} bytes, over the "
                    f"{max_bytes:,}-byte limit of a form download",
                    file=url,
                )
            digest, size = hashlib.sha256(), 0
            while chunk := resp.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PzcatError(
                        "download-too-large",
                        f"{url} is over the {max_bytes:,}-byte limit of a form download",
                        file=url,
                    )
                digest.update(chunk)
                fh.write(chunk)
            hexdigest = digest.hexdigest()
            if sha256 and sha256.lower() != hexdigest:
                raise PzcatError(
                    "checksum-mismatch",
                    f"{url} has sha256 {hexdigest}, the form says {sha256.lower()}",
                    file=url,
                )
    except urllib.error.HTTPError as exc:
        raise PzcatError("download-failed", f"{url} answered HTTP {exc.code}", file=url) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise PzcatError(
            "download-failed", f"{url} could not be downloaded: {exc}", file=url
        ) from None
    return Downloaded(dest, size, hexdigest)

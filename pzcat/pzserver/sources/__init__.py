"""Where the client reads and writes: a server's ``/api/``, a published site or a local clone.

The three share one interface (``products(params)``, ``product(pid)``, ``main_file(pid)``,
``files(pid)``, ``download(pid, dest, main)``, the writes...) and return the records of the
Photo-z Server API (:mod:`pzcat.records`), so that :class:`~pzcat.pzserver.client.PzServer` does
not know which one it has.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from pzcat.pzserver.sources.api import ApiSource
from pzcat.pzserver.sources.clone import CloneSource
from pzcat.pzserver.sources.site import SiteSource

#: The original client's host names.
ENVIRONMENTS = {
    "localhost": "http://localhost/api/",
    "pz-dev": "https://pzserver-dev.linea.org.br/api/",
    "pz": "https://pzserver.linea.org.br/api/",
}

__all__ = ["ENVIRONMENTS", "ApiSource", "CloneSource", "SiteSource", "open_source"]


def open_source(host: str | Path, token: str | None):
    """The source for ``host``: an ``/api/`` URL, a site URL or a local path."""
    text = str(host)
    text = ENVIRONMENTS.get(text, text)
    if text.startswith(("http://", "https://")):
        if urllib.parse.urlsplit(text).path.rstrip("/").endswith("/api"):
            return ApiSource(text, token)
        return SiteSource(text, token)
    return CloneSource(Path(text))

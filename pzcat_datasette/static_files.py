"""``/-/pzcat/static/<file>``: the plugin's own scripts (``pzcat_datasette/static/``).

The server's Content-Security-Policy runs scripts from the server's origin only (no inline script,
no ``onclick``): the behaviour of pzcat's pages lives in these files. Only names of the form
``pzcat-<name>.js`` or ``.css`` are served; anything else is a 404.
"""

from __future__ import annotations

import re
from pathlib import Path

from datasette.utils.asgi import NotFound, Response

STATIC = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"^pzcat-[a-z0-9-]+\.(js|css)$")
TYPES = {"js": "application/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
#: The URL prefix of the files (templates write ``{{ pzcat_static }}pzcat-copy.js``).
PREFIX = "/-/pzcat/static/"


async def static_file(request):
    """One file of ``static/``, cached for an hour by browsers."""
    name = request.url_vars["name"]
    path = STATIC / name
    if not NAME.match(name) or not path.is_file():
        raise NotFound(f"no static file {name}")
    return Response(
        path.read_text(encoding="utf-8"),
        content_type=TYPES[name.rsplit(".", 1)[1]],
        headers={"cache-control": "max-age=3600"},
    )


ROUTES = [(r"^/-/pzcat/static/(?P<name>[^/]+)$", static_file)]

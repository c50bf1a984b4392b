"""The Photo-z Server REST API of ``pzcat serve`` (``/api/``), for LIneA's ``pzserver`` client.

Modules: :mod:`.routes` (dispatch and the read side), :mod:`.errors` (the JSON error shape),
:mod:`.pagination`, :mod:`.state` (catalog and records cache), :mod:`.downloads`, :mod:`.writes`,
:mod:`.processes`. The records and the filters are core code (:mod:`pzcat.records`,
:mod:`pzcat.filters`, :mod:`pzcat.ids`), shared with :class:`pzcat.PzServer`.
"""

from __future__ import annotations

from pzcat_datasette.api import downloads as _downloads  # noqa: F401 - registers its routes
from pzcat_datasette.api import processes as _processes  # noqa: F401 - registers its routes
from pzcat_datasette.api import routes as _routes
from pzcat_datasette.api import writes as _writes  # noqa: F401 - registers its routes
from pzcat_datasette.api.routes import dispatch

#: The Datasette routes of the API (``register_routes``).
ROUTES = [(r"^/api(/.*)?$", dispatch)]


def datasette_routes():
    return list(ROUTES)


__all__ = ["ROUTES", "datasette_routes", "dispatch", "_routes"]

"""Registers the Photo-z Server API (package :mod:`pzcat_datasette.api`) and the 404 fix.

Thin glue: the code lives in ``pzcat_datasette/``.
"""

from __future__ import annotations

from datasette import hookimpl
from pzcat_datasette import notfound
from pzcat_datasette.api import datasette_routes

notfound.install()


@hookimpl
def register_routes(datasette):
    return datasette_routes()


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    return notfound.handle_exception(datasette, request, exception)

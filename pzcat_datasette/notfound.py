"""No 500 for an unknown URL: Datasette 0.65.5 with rich installed crashes in its default
exception handler when it answers a 404 that was not raised inside an ``except`` block
(``rich.get_console().print_exception`` has no traceback to print). :func:`install` stops that
handler from calling rich (tracebacks of real 500s are still printed by ``traceback``), and
:func:`handle_exception` answers 404s under ``/api/`` as JSON.
"""

from __future__ import annotations


def install() -> None:
    """Make Datasette's default exception handler skip rich (idempotent)."""
    import datasette.handle_exception as handler

    handler.rich = None


def handle_exception(datasette, request, exception):
    """JSON for any error under /api/ (never an HTML page there)."""
    from datasette.utils.asgi import Base400, NotFound

    path = request.path
    if not (path == "/api" or path.startswith("/api/")):
        return None
    from pzcat_datasette.api.errors import error_response

    if isinstance(exception, NotFound):
        return error_response("api-not-found", "Not found.", 404)
    if isinstance(exception, Base400):
        return error_response("api-error", str(exception), exception.status)
    return error_response("api-error", "Server error.", 500)

"""Unknown URLs: JSON errors under ``/api/``, a page with the way back everywhere else; no 500.

Datasette 0.65.5 with rich installed crashes in its default exception handler when it answers a
404 that was not raised inside an ``except`` block (``rich.get_console().print_exception`` has no
traceback to print). :func:`install` stops that handler from calling rich (tracebacks of real 500s
are still printed by ``traceback``). :func:`handle_exception` answers errors under ``/api/`` as
JSON, and every other unknown page (an unknown table, row, query, database or route) with
``pzcat_notfound.html`` (code ``page-not-found``): links back to the catalog site, its product
list, the previews and the token page. ``.json`` URLs keep Datasette's JSON error.
"""

from __future__ import annotations


def install() -> None:
    """Make Datasette's default exception handler skip rich (idempotent)."""
    import datasette.handle_exception as handler

    handler.rich = None


def _is_not_found(exception) -> bool:
    from datasette.utils.asgi import NotFound
    from datasette.views.base import DatasetteError

    return isinstance(exception, NotFound) or (
        isinstance(exception, DatasetteError) and exception.status == 404
    )


def not_found_page(datasette, request, message: str):
    """The 404 page of an unknown URL outside ``/api/`` (an awaitable of a Response)."""
    from datasette.utils.asgi import Response

    async def inner():
        path = request.path
        body = await datasette.render_template(
            "pzcat_notfound.html",
            {
                "code": "page-not-found",
                "message": message or "not found",
                "path": path,
                "product_hint": path.startswith("/previews/") or path.startswith("/-/download/"),
            },
            request=request,
        )
        return Response.html(body, status=404)

    return inner


def handle_exception(datasette, request, exception):
    """JSON for any error under /api/; the way back for an unknown page anywhere else."""
    from datasette.utils.asgi import Base400, NotFound

    path = request.path
    if not (path == "/api" or path.startswith("/api/")):
        if _is_not_found(exception) and not path.endswith(".json"):
            return not_found_page(
                datasette, request, str(exception.args[0] if exception.args else "")
            )
        return None
    from pzcat_datasette.api.errors import error_response

    if isinstance(exception, NotFound):
        return error_response("api-not-found", "Not found.", 404)
    if isinstance(exception, Base400):
        return error_response("api-error", str(exception), exception.status)
    return error_response("api-error", "Server error.", 500)

"""One policy for everything that hands out rows.

Downloads need a token (scope ``download``), so does everything that exports a whole table:
Datasette's streamed exports (``.csv?_stream=on``, ``.json?_stream=on``) answer ``token-missing``
(401) or ``token-scope`` (403) without one. Other exports are pages of at most
``max_returned_rows`` (1,000) rows, as on screen; the table pages say so (their description).
"""

from __future__ import annotations

from datasette.utils.asgi import Request

from pzcat_datasette.auth import authorize
from pzcat_datasette.responses import error_response
from pzcat_datasette.security import streams_all_rows
from pzcat_datasette.tokens import TokenError

EXPORT_NOTE = (
    "Exports (CSV, JSON) give the rows of one page, up to 1,000 at a time; exporting a "
    'whole table at once ("stream all rows") needs a download token, like downloads.'
)


class ExportPolicy:
    """ASGI wrapper: full-table exports need a download token (or a signed-in session)."""

    def __init__(self, app, datasette) -> None:
        self.app, self.datasette = app, datasette

    async def __call__(self, scope, receive, send):
        if streams_all_rows(scope):
            # outside Datasette's CSRF middleware: the error page has no form to protect
            request = Request(
                {**scope, "csrftoken": scope.get("csrftoken") or (lambda: "")}, receive
            )
            try:
                authorize(self.datasette, request, "download")
            except TokenError as exc:
                response = await error_response(
                    self.datasette,
                    request,
                    exc.code,
                    f"exporting a whole table needs a download token ({exc.message})",
                    exc.status,
                )
                await response.asgi_send(send)
                return
        await self.app(scope, receive, send)

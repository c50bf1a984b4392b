"""The client's one error."""

from __future__ import annotations

from pzcat.errors import PzcatError


class PzServerError(PzcatError):
    """A request the source refused (``http-error``, or the server's own code) or cannot do
    (``api-read-only-source``)."""

"""``{count, results}`` pages, as the original's ``CustomPageNumberPagination``."""

from __future__ import annotations

from typing import Any

from pzcat_datasette.api.errors import ApiError

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_of(items: list, args: dict[str, str]) -> tuple[list, int]:
    """The requested page of ``items`` and the total count.

    ``page`` is 1-based; ``page_size`` defaults to 100 and is capped at 1000.

    Raises
    ------
    ApiError
        ``api-bad-page`` (404 "Invalid page.", as DRF) for a page past the end or not a number.
    """
    size = PAGE_SIZE
    raw_size = args.get("page_size")
    if raw_size not in (None, ""):
        try:
            size = int(raw_size)
        except ValueError:
            size = PAGE_SIZE
        size = PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    raw_page = args.get("page") or "1"
    if raw_page == "last":
        page = max(1, -(-len(items) // size))
    else:
        try:
            page = int(raw_page)
        except ValueError:
            raise ApiError("api-bad-page", "Invalid page.", 404) from None
    pages = max(1, -(-len(items) // size))
    if page < 1 or page > pages:
        raise ApiError("api-bad-page", "Invalid page.", 404)
    start = (page - 1) * size
    return items[start : start + size], len(items)


def paginated(items: list, args: dict[str, str], transform=None) -> dict[str, Any]:
    """The page as ``{"count": N, "results": [...]}`` (``transform`` applied to the page only)."""
    page, count = page_of(items, args)
    return {"count": count, "results": [transform(x) for x in page] if transform else page}

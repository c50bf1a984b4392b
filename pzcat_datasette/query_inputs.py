"""Input checking of the canned queries (cone search, redshift range) before Datasette runs them.

- Opened without parameters, a browser is sent to the same query with example values of that
  product (``pzcat_defaults`` of the query's metadata: a real row's position, the redshift bin of
  a real row's z; ``serve._example_values``), so the page never opens on "0 results";
- a parameter that is not a number, a Dec outside [-90, 90] or a radius that is not positive
  answers ``query-input`` (400) saying which one and why, instead of silently returning nothing.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qsl, urlencode

from datasette.utils.asgi import Request, Response

from pzcat_datasette.responses import error_response

NUMBERS = {"cone": ("ra", "dec", "radius_arcsec"), "zrange": ("z_min", "z_max")}
PATH = re.compile(r"^/previews/(cone|zrange)_([0-9]+_[a-z0-9_]*?)(\.json|\.csv)?$")


def problem(kind: str, values: dict[str, str]) -> str | None:
    """What is wrong with the given values of a ``kind`` query, or None.

    >>> problem("cone", {"ra": "abc", "dec": "1", "radius_arcsec": "5"})
    "ra must be a number in decimal degrees (got 'abc')"
    >>> problem("cone", {"ra": "10", "dec": "95", "radius_arcsec": "5"}) is not None
    True
    """
    units = {
        "ra": "decimal degrees",
        "dec": "decimal degrees",
        "radius_arcsec": "arcsec",
        "z_min": "redshift",
        "z_max": "redshift",
    }
    nums = {}
    for name in NUMBERS[kind]:
        raw = (values.get(name) or "").strip()
        if not raw:
            return f"{name} is missing ({units[name]})"
        try:
            nums[name] = float(raw)
        except ValueError:
            return f"{name} must be a number in {units[name]} (got {raw[:40]!r})"
        if not math.isfinite(nums[name]):
            return f"{name} must be a finite number (got {raw[:40]!r})"
    if kind == "cone":
        if not -90 <= nums["dec"] <= 90:
            return f"dec must be between -90 and 90 degrees (got {nums['dec']:g})"
        if nums["radius_arcsec"] <= 0:
            return f"radius_arcsec must be positive (got {nums['radius_arcsec']:g})"
    elif nums["z_min"] > nums["z_max"]:
        return f"z_min ({nums['z_min']:g}) is above z_max ({nums['z_max']:g})"
    return None


class QueryInputs:
    """ASGI wrapper: defaults for an empty canned query, a clear message for bad input."""

    def __init__(self, app, datasette) -> None:
        self.app, self.datasette = app, datasette

    async def __call__(self, scope, receive, send):
        match = PATH.match(scope.get("path", "")) if scope.get("type") == "http" else None
        if match is not None:
            kind, name, ext = match.groups()
            values = dict(
                parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            )
            given = [k for k in NUMBERS[kind] if (values.get(k) or "").strip()]
            # outside Datasette's CSRF middleware: the error page has no form to protect
            request = Request(
                {**scope, "csrftoken": scope.get("csrftoken") or (lambda: "")}, receive
            )
            if not given and not ext:
                query = (self.datasette.metadata("queries", database="previews") or {}).get(
                    f"{kind}_{name}"
                ) or {}
                defaults = query.get("pzcat_defaults")
                if defaults:
                    rest = {k: v for k, v in values.items() if k not in NUMBERS[kind]}
                    await Response.redirect(
                        scope["path"] + "?" + urlencode({**defaults, **rest})
                    ).asgi_send(send)
                    return
            else:
                wrong = problem(kind, values)
                if wrong:
                    await (
                        await error_response(self.datasette, request, "query-input", wrong, 400)
                    ).asgi_send(send)
                    return
        await self.app(scope, receive, send)

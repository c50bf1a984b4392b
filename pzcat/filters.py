"""The products filters of the Photo-z Server API: one implementation for server and client.

The semantics are those of the original server's ``ProductFilter`` (django-filter) with DRF's
search and ordering, applied to product records (:func:`pzcat.records.product_record`):

- ``product_name``, ``product_type_name``, ``release_name``, ``uploaded_by`` match a substring,
  case-insensitively (``product_type_name`` on the type's display name or name, ``release_name``
  on the release's display name or name, ``uploaded_by`` on the user name); a comma-separated
  value is a list of substrings that must **all** match, or any of them with the ``__or`` form;
- ``internal_name``, ``display_name``, ``status``, ``user``, ``release``, ``product_type``,
  ``official_product`` are exact (ids for ``release``/``product_type``/``user``; ``user`` also takes
  a user name); each has an ``__in`` form taking a comma-separated list;
- ``official_product`` takes ``True``/``true``/``1`` or ``False``/``false``/``0``;
- ``release__isnull`` selects products with (``false``) or without (``true``) a release;
- ``search``: every word must be a substring of the display name or the uploader;
- ``ordering``: ``id``, ``display_name``, ``product_type``, ``created_at``, ``-`` for descending,
  comma-separated; default ``-created_at``.

Unlike the original (which ignores what it does not know), an unknown key or an unreadable value is
an error (``api-unknown-filter``, ``api-bad-filter-value``): a typo must not look like "no match".

Examples
--------
>>> rows = [{"id": 1, "display_name": "VVDS", "product_type_name": "Reference Redshift Catalog",
...          "product_type_internal_name": "redshift_catalog", "release_name": None,
...          "release_internal_name": None, "uploaded_by": "alice", "official_product": True,
...          "internal_name": "1_vvds", "status": 1, "user": 7, "release": None,
...          "product_type": 1, "created_at": "2025-01-01T00:00:00Z"}]
>>> [r["id"] for r in filter_products(rows, {"product_type_name": "redshift,catalog"})]
[1]
>>> [r["id"] for r in filter_products(rows, {"product_type_name__or": "training,redshift"})]
[1]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pzcat.errors import PzcatError
from pzcat.ids import user_id

#: ``name -> django-filter class name`` of every products filter (what OPTIONS products/ lists).
PRODUCT_FILTERS: dict[str, str] = {
    "release__isnull": "BooleanFilter",
    "uploaded_by__or": "CharFilter",
    "uploaded_by": "CharFilter",
    "product_type_name__or": "CharFilter",
    "product_type_name": "CharFilter",
    "release_name__or": "CharFilter",
    "release_name": "CharFilter",
    "product_name__or": "CharFilter",
    "product_name": "CharFilter",
    "internal_name": "CharFilter",
    "internal_name__in": "BaseInFilter",
    "display_name": "CharFilter",
    "display_name__in": "BaseInFilter",
    "release": "ModelChoiceFilter",
    "release__in": "BaseInFilter",
    "product_type": "ModelChoiceFilter",
    "product_type__in": "BaseInFilter",
    "official_product": "BooleanFilter",
    "official_product__in": "BaseInFilter",
    "status": "ChoiceFilter",
    "status__in": "BaseInFilter",
    "user": "ModelChoiceFilter",
    "user__in": "BaseInFilter",
}
SEARCH_FIELDS = ["display_name", "user__username", "user__first_name", "user__last_name"]
ORDERING_FIELDS = ["id", "display_name", "product_type", "created_at"]
DEFAULT_ORDERING = "-created_at"
#: Query parameters that are not filters.
CONTROL_PARAMS = {"page", "page_size", "format", "search", "ordering"}
#: The client's names for the substring filters (``PzRequests._mapping_filters``).
CLIENT_NAMES = {
    "product_type": "product_type_name",
    "product_type__or": "product_type_name__or",
    "release": "release_name",
    "release__or": "release_name__or",
}

_SUBSTRING_FIELDS = {
    "uploaded_by": ("uploaded_by",),
    "product_type_name": ("product_type_name", "product_type_internal_name"),
    "release_name": ("release_name", "release_internal_name"),
    "product_name": ("display_name",),
}
_EXACT_FIELDS = {
    "internal_name": "internal_name",
    "display_name": "display_name",
    "release": "release",
    "product_type": "product_type",
    "official_product": "official_product",
    "status": "status",
    "user": "user",
}
_INT_FIELDS = {"release", "product_type", "status"}
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


class FilterError(PzcatError):
    """A products query the API cannot answer (HTTP 400)."""

    status = 400


def filter_options() -> dict[str, Any]:
    """What ``OPTIONS products/`` adds to DRF's metadata (``filter_classes``, search, ordering)."""
    return {
        "filter_classes": [{"name": k, "type": v} for k, v in PRODUCT_FILTERS.items()],
        "search": SEARCH_FIELDS,
        "ordering": ORDERING_FIELDS,
    }


def _bool(key: str, value: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise FilterError("api-bad-filter-value", f"{key}={value!r}: use true or false", key=key)


def _exact_value(key: str, base: str, value: str) -> Any:
    if base == "official_product":
        return _bool(key, value)
    if base in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            raise FilterError(
                "api-bad-filter-value", f"{key}={value!r}: an integer id is needed", key=key
            ) from None
    if base == "user":
        return int(value) if value.strip().isdigit() else user_id(value)
    return value


@dataclass
class ProductQuery:
    """A parsed products query: predicates, search words and the ordering."""

    predicates: list = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    ordering: list[tuple[str, bool]] = field(default_factory=list)


def parse_query(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> ProductQuery:
    """Parse query parameters (a mapping or ``(key, value)`` pairs; the last value of a key wins).

    Raises
    ------
    FilterError
        ``api-unknown-filter`` or ``api-bad-filter-value``.
    """
    pairs = dict(params.items() if isinstance(params, Mapping) else params)
    query = ProductQuery()
    for key, raw in pairs.items():
        value = "" if raw is None else str(raw)
        if key in ("page", "page_size", "format"):
            continue
        if key == "search":
            query.words = [w.lower() for w in value.replace("\x00", "").replace(",", " ").split()]
            continue
        if key == "ordering":
            query.ordering = _ordering(value)
            continue
        if key not in PRODUCT_FILTERS:
            raise FilterError(
                "api-unknown-filter",
                f"unknown filter {key!r}; the filters are: "
                + ", ".join(sorted(PRODUCT_FILTERS))
                + ", search, ordering",
                key=key,
            )
        if value == "":
            continue  # django-filter: an empty value does not filter
        base = key.removesuffix("__or").removesuffix("__in")
        if key == "release__isnull":
            want_null = _bool(key, value)
            query.predicates.append(lambda r, w=want_null: (r.get("release") is None) == w)
        elif base in _SUBSTRING_FIELDS:
            words = [v.lower() for v in value.split(",")]
            fields = _SUBSTRING_FIELDS[base]
            any_of = key.endswith("__or")
            query.predicates.append(
                lambda r, words=words, fields=fields, any_of=any_of: _substrings(
                    r, words, fields, any_of
                )
            )
        elif key.endswith("__in"):
            wanted = {_exact_value(key, base, v) for v in value.split(",") if v != ""}
            name = _EXACT_FIELDS[base]
            query.predicates.append(lambda r, n=name, w=wanted: r.get(n) in w)
        else:
            wanted = _exact_value(key, base, value)
            name = _EXACT_FIELDS[base]
            query.predicates.append(lambda r, n=name, w=wanted: r.get(n) == w)
    return query


def _substrings(
    row: Mapping[str, Any], words: list[str], fields: tuple[str, ...], any_of: bool
) -> bool:
    texts = [str(row.get(f) or "").lower() for f in fields]
    if any_of:
        return any(w in t for w in words for t in texts)
    return all(any(w in t for t in texts) for w in words)


def _ordering(value: str) -> list[tuple[str, bool]]:
    out = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name = part.lstrip("-")
        if name not in ORDERING_FIELDS:
            raise FilterError(
                "api-bad-filter-value",
                f"ordering={value!r}: order by {', '.join(ORDERING_FIELDS)}",
                key="ordering",
            )
        out.append((name, part.startswith("-")))
    return out


def _search_hit(row: Mapping[str, Any], words: list[str]) -> bool:
    texts = (str(row.get("display_name") or "").lower(), str(row.get("uploaded_by") or "").lower())
    return all(any(w in t for t in texts) for w in words)


def _sort_key(name: str):
    def key(row: Mapping[str, Any]):
        value = row.get(name)
        return (value is None, value if value is not None else 0)

    return key


def apply_query(rows: Iterable[Mapping[str, Any]], query: ProductQuery) -> list:
    """The rows that pass every predicate, ordered (stable; ties by id)."""
    out = list(rows)
    for predicate in query.predicates:  # one pass per filter: each narrows the next one's rows
        out = [r for r in out if predicate(r)]
    if query.words:
        out = [r for r in out if _search_hit(r, query.words)]
    ordering = query.ordering or _ordering(DEFAULT_ORDERING)
    out.sort(key=lambda r: r.get("id") or 0, reverse=ordering[0][1])
    for name, desc in reversed(ordering):
        out.sort(key=_sort_key(name), reverse=desc)
    return out


def filter_products(
    rows: Iterable[Mapping[str, Any]], params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> list:
    """Filter and order product records with the query parameters ``params``."""
    return apply_query(rows, parse_query(params))


def client_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters of a ``pzserver`` client's ``filters`` (names mapped, lists joined).

    Raises
    ------
    FilterError
        ``api-unknown-filter`` for a key the server would not accept.
    """
    out = {}
    for key, value in (filters or {}).items():
        name = CLIENT_NAMES.get(key, key)
        if name not in PRODUCT_FILTERS and name != "search":
            valid = sorted(
                {next((k for k, v in CLIENT_NAMES.items() if v == f), f) for f in PRODUCT_FILTERS}
            )
            raise FilterError(
                "api-unknown-filter",
                "Invalid filter key was detected.\nValid filter "
                "keys are:\n  - " + "\n  - ".join([*valid, "search"]),
                key=key,
            )
        values = list(map(str, value)) if isinstance(value, list | tuple) else [str(value)]
        out[name] = ",".join(values)
    return out

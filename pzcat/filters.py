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

from collections.abc import Callable, Iterable, Mapping
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


#: A predicate narrows positions of a :class:`ProductRecords` (kept in order) to those that match.
Predicate = Callable[["ProductRecords", list[int]], list[int]]


@dataclass
class ProductQuery:
    """A parsed products query: predicates, search words and the ordering."""

    predicates: list[Predicate] = field(default_factory=list)
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
            query.predicates.append(_exact_filter("release", {None}, negate=not _bool(key, value)))
        elif base in _SUBSTRING_FIELDS:
            words = [v.lower() for v in value.split(",")]
            query.predicates.append(
                _substring_filter(_SUBSTRING_FIELDS[base], words, key.endswith("__or"))
            )
        elif key.endswith("__in"):
            wanted = {_exact_value(key, base, v) for v in value.split(",") if v != ""}
            query.predicates.append(_exact_filter(_EXACT_FIELDS[base], wanted))
        else:
            wanted = {_exact_value(key, base, value)}
            query.predicates.append(_exact_filter(_EXACT_FIELDS[base], wanted))
    return query


def _exact_filter(name: str, wanted: set, negate: bool = False) -> Predicate:
    """``record[name]`` is one of ``wanted`` (or, with ``negate``, is none of them)."""
    if negate:
        return lambda t, pos: [i for i in pos if t.records[i].get(name) not in wanted]
    return lambda t, pos: [i for i in pos if t.records[i].get(name) in wanted]


def _hits(texts: list[list[str]], word: str, pos: list[int]) -> list[int]:
    """The positions whose lowered text in any of ``texts`` (one or two fields) holds ``word``."""
    if len(texts) == 1:
        a = texts[0]
        return [i for i in pos if word in a[i]]
    if len(texts) == 2:
        a, b = texts
        return [i for i in pos if word in a[i] or word in b[i]]
    return [i for i in pos if any(word in t[i] for t in texts)]


def _substring_filter(fields: tuple[str, ...], words: list[str], any_of: bool) -> Predicate:
    """Every word (or with ``any_of`` one of them) is a substring of one of ``fields``."""

    def run(t: ProductRecords, pos: list[int]) -> list[int]:
        texts = [t.lowered[f] for f in fields]
        if not any_of:
            for word in words:  # each word narrows the next one's positions
                pos = _hits(texts, word, pos)
            return pos
        hit: set[int] = set()
        for word in words:
            hit.update(_hits(texts, word, pos))
        return [i for i in pos if i in hit]

    return run


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


#: The record fields the substring filters and ``search`` read (lowered once per record).
SEARCH_TEXTS = ("display_name", "uploaded_by")
_TEXT_FIELDS = tuple(
    sorted({f for fs in _SUBSTRING_FIELDS.values() for f in fs} | set(SEARCH_TEXTS))
)


def _sort_key(name: str):
    def key(row: Mapping[str, Any]):
        value = row.get(name)
        return (value is None, value if value is not None else 0)

    return key


class ProductRecords:
    """Product records prepared for queries: the filters' texts lowered once, orderings cached.

    Built once per catalog state (the API's ``state.Index``; the client's listing of a site or a
    clone) and read-only afterwards, so one instance serves concurrent requests. Filtering keeps
    the order, so a query starts from its ordering's cached positions and only narrows them.

    Parameters
    ----------
    records : iterable of mapping
        Product records (:func:`pzcat.records.product_record`).
    """

    #: How many different orderings are kept (the API has four fields, two directions each).
    MAX_ORDERINGS = 32

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        self.records = list(records)
        self.lowered: dict[str, list[str]] = {
            f: [str(r.get(f) or "").lower() for r in self.records] for f in _TEXT_FIELDS
        }
        self._orders: dict[tuple[tuple[str, bool], ...], list[int]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def ordered(self, ordering: list[tuple[str, bool]]) -> list[int]:
        """Positions of the records in ``ordering`` (stable; ties by id, in the first key's
        direction). The list is shared: callers must not change it."""
        key = tuple(ordering)
        cached = self._orders.get(key)
        if cached is None:
            recs = self.records
            pos = list(range(len(recs)))
            pos.sort(key=lambda i: recs[i].get("id") or 0, reverse=ordering[0][1])
            for name, desc in reversed(ordering):
                by = _sort_key(name)
                pos.sort(key=lambda i, by=by: by(recs[i]), reverse=desc)
            cached = pos
            if len(self._orders) < self.MAX_ORDERINGS:
                self._orders[key] = cached
        return cached

    def select(self, query: ProductQuery) -> list[dict[str, Any]]:
        """The records that pass every predicate and the search words, in the query's order."""
        pos = self.ordered(query.ordering or _ordering(DEFAULT_ORDERING))
        for predicate in query.predicates:
            pos = predicate(self, pos)
        if query.words:
            texts = [self.lowered[f] for f in SEARCH_TEXTS]
            for word in query.words:
                pos = _hits(texts, word, pos)
        return [self.records[i] for i in pos]


def apply_query(rows: Iterable[Mapping[str, Any]] | ProductRecords, query: ProductQuery) -> list:
    """The rows that pass every predicate, ordered (stable; ties by id)."""
    table = rows if isinstance(rows, ProductRecords) else ProductRecords(rows)
    return table.select(query)


def filter_products(
    rows: Iterable[Mapping[str, Any]] | ProductRecords,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
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

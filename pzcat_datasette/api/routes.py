"""The ``/api/`` routes: one Datasette route, dispatched here by method and path.

The paths are the original server's (DRF router, trailing slashes); a path is accepted with or
without its trailing slash and with doubled slashes (the client asks for ``api//products/``), and
is never redirected: a redirect would turn the client's OPTIONS and POST into GET.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from dataclasses import dataclass
from typing import Any

from datasette.utils.asgi import Response

from pzcat.errors import PzcatError
from pzcat.filters import FilterError, filter_options, parse_query
from pzcat.ids import product_of_file, split_content_id
from pzcat.links import Links
from pzcat.records import (
    content_records,
    file_records,
    main_file_record,
    pipeline_records,
    product_type_records,
    release_records,
    user_records,
)
from pzcat_datasette.api.errors import (
    FORBIDDEN,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    ApiError,
    error_response,
    from_exception,
    json_response,
)
from pzcat_datasette.api.pagination import paginated
from pzcat_datasette.api.state import ApiState, Index
from pzcat_datasette.tokens import TokenClaims, TokenError, verify_token

#: The entities of the API root (name -> path), as the original's router lists them.
ENTITIES = [
    "releases",
    "product-types",
    "products",
    "product-files",
    "product-contents",
    "users",
    "pipelines",
    "processes",
]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


@dataclass
class Ctx:
    """One API request: the Datasette request, the server state and who asks."""

    datasette: Any
    request: Any
    state: ApiState
    claims: TokenClaims | None
    path: str

    @property
    def user(self) -> str | None:
        return self.claims.user if self.claims else None

    @property
    def index(self) -> Index:
        return self.state.index()

    def args(self) -> dict[str, str]:
        """Query parameters (the last value of a repeated key wins, as Django's QueryDict)."""
        return {k: self.request.args.getlist(k)[-1] for k in self.request.args}

    def base_url(self) -> str:
        return f"{self.request.scheme}://{self.request.host}/api/"


def request_token(request) -> str | None:
    """The token of ``Authorization: Token <t>`` or ``Bearer <t>`` (None without the header)."""
    auth = request.headers.get("authorization", "").strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


def authenticate(state: ApiState, request, scope: str = "read") -> TokenClaims:
    token = request_token(request)
    if token is None:
        raise ApiError("token-missing", NOT_AUTHENTICATED, 401)
    try:
        return verify_token(token, scope=scope, revoked=state.revoked())
    except TokenError as exc:
        detail = (
            FORBIDDEN
            if exc.status == 403
            else (exc.message if exc.status == 500 else INVALID_TOKEN)
        )
        raise ApiError(exc.code, detail, exc.status) from None


# -- routing -----------------------------------------------------------------------------------------

_ROUTES: list[tuple[set[str], re.Pattern, Any, bool]] = []


def route(methods: str, pattern: str, public: bool = False):
    """Register a handler for ``methods`` (space separated) on ``pattern`` (after ``/api``)."""

    def deco(fn):
        _ROUTES.append((set(methods.split()), re.compile(f"^{pattern}/?$"), fn, public))
        return fn

    return deco


def normalise(path: str) -> str:
    """``/api//products/`` -> ``/products``; ``/api/`` -> ``""``."""
    rest = path[len("/api") :] if path.startswith("/api") else path
    rest = re.sub(r"/{2,}", "/", rest)
    return rest.rstrip("/")


_API_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state(datasette) -> ApiState:
    state = _API_STATES.get(datasette)
    if state is None:
        from pzcat_datasette.api import writes
        from pzcat_datasette.settings import settings

        root = settings(datasette).root  # datasette.plugin_config("pzcat")
        state = ApiState(root, overlay=writes.overlay_for(datasette, root))
        _API_STATES[datasette] = state
        from pzcat_datasette.api import processes

        processes.resume(datasette, root)  # runs left Pending by a server that died
    return state


def startup(datasette) -> None:
    """The API's set-up when the server starts (Datasette's ``startup`` hook): its state, and the
    runner woken when Pending runs are on disk."""
    _state(datasette)


async def dispatch(datasette, request):
    """The one Datasette view of ``/api`` and everything under it."""
    path = normalise(request.path)
    method = request.method.upper()
    state = _state(datasette)
    try:
        allowed: set[str] = set()
        for methods, pattern, fn, public in _ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            allowed |= methods
            if (
                method not in methods
                and not (method == "HEAD" and "GET" in methods)
                and method != "OPTIONS"
            ):
                continue
            claims = None if public else authenticate(state, request)
            ctx = Ctx(datasette, request, state, claims, path)
            if method == "OPTIONS":
                return json_response(_options(path, methods))
            return await fn(ctx, **match.groupdict())
        if allowed:
            authenticate(state, request)
            raise ApiError("api-method-not-allowed", f'Method "{method}" not allowed.', 405)
        authenticate(state, request)
        raise ApiError("api-not-found", "Not found.", 404)
    except ApiError as exc:
        return error_response(exc.code, exc.message, exc.status, exc.extra)
    except FilterError as exc:
        return error_response(exc.code, exc.message, 400)
    except PzcatError as exc:
        return from_exception(exc, getattr(exc, "status", None) or 400)


def _options(path: str, methods: set[str]) -> dict[str, Any]:
    name = path.strip("/").split("/")[0] or "api"
    out: dict[str, Any] = {
        "name": name.replace("-", " ").title() + " List",
        "description": "",
        "renders": ["application/json"],
        "parses": PARSES,
        "allowed_methods": sorted(methods | {"OPTIONS"}),
    }
    if path == "/products":
        out.update(filter_options())
    elif name in _LIST_FILTERS:
        out["filterset"] = sorted(_LIST_FILTERS[name])
        out["filter_classes"] = [
            {"name": f, "type": "CharFilter"} for f in sorted(_LIST_FILTERS[name])
        ]
    return out


async def run_sync(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


# -- read side ---------------------------------------------------------------------------------------

#: Filters of the small lists (the original's ``filterset_fields``), exact.
_LIST_FILTERS = {
    "product-types": {"id", "name", "ordering", "search"},
    "releases": {"id", "name", "ordering"},
    "users": {"username", "id"},
    "product-files": {"id", "product_id"},
    "product-contents": {"id", "product"},
    "pipelines": {"id", "name"},
    "processes": {"id", "status"},
}


def _check_keys(entity: str, args: dict[str, str]) -> None:
    known = _LIST_FILTERS[entity] | {"page", "page_size", "format"}
    for key in args:
        if key not in known:
            raise ApiError(
                "api-unknown-filter",
                f"unknown filter {key!r} for {entity}; the filters "
                f"are: {', '.join(sorted(_LIST_FILTERS[entity]))}",
                400,
                key=key,
            )


def _exact(items: list[dict], args: dict[str, str], fields: dict[str, str]) -> list[dict]:
    for key, field in fields.items():
        if args.get(key) not in (None, ""):
            want = args[key]
            items = [x for x in items if str(x.get(field)) == want]
    return items


@route("GET", "")
async def api_root(ctx: Ctx):
    base = ctx.base_url()
    return json_response({name: f"{base}{name}/" for name in ENTITIES})


def _product_types_refined(items: list[dict], args: dict[str, str]) -> list[dict]:
    """``search`` (display name or description) and ``ordering`` of ``product-types/``."""
    if args.get("search"):
        word = args["search"].lower()
        items = [
            t
            for t in items
            if word in t["display_name"].lower() or word in t["description"].lower()
        ]
    order = args.get("ordering") or "id"
    field = order.lstrip("-")
    if field not in ("id", "name", "display_name", "order"):
        raise ApiError(
            "api-bad-filter-value",
            f"ordering={order!r}: order by id, name, display_name or order",
            400,
            key="ordering",
        )
    return sorted(items, key=lambda t: t[field], reverse=order.startswith("-"))


#: The small lists: entity -> (its records, the noun of its 404 (None: no detail route, as the
#: original), what refines the list after the exact filters).
_SMALL_LISTS = {
    "product-types": (
        lambda ctx: product_type_records(ctx.index.catalog.config),
        "ProductType",
        _product_types_refined,
    ),
    "releases": (lambda ctx: release_records(ctx.index.catalog.config), "Release", None),
    "pipelines": (lambda ctx: pipeline_records(ctx.index.catalog.config), "Pipeline", None),
    "users": (
        lambda ctx: user_records(ctx.index.catalog.config, list(ctx.index.manifests.values())),
        None,
        None,
    ),
}
_EXACT_FIELDS = {"id": "id", "name": "name", "username": "username"}


def _register_small_list(entity: str, records, noun: str | None, refine) -> None:
    fields = {k: v for k, v in _EXACT_FIELDS.items() if k in _LIST_FILTERS[entity]}

    async def listing(ctx: Ctx):
        args = ctx.args()
        _check_keys(entity, args)
        items = _exact(records(ctx), args, fields)
        return json_response(paginated(refine(items, args) if refine else items, args))

    listing.__name__ = entity.replace("-", "_")
    route("GET", f"/{entity}")(listing)
    if noun is None:
        return

    async def detail(ctx: Ctx, key: str):
        for r in records(ctx):
            if str(r["id"]) == key:
                return json_response(r)
        raise ApiError("api-not-found", f"No {noun} matches the given query.", 404)

    detail.__name__ = entity.rstrip("s").replace("-", "_")
    route("GET", rf"/{entity}/(?P<key>\d+)")(detail)


for _entity, (_records, _noun, _refine) in _SMALL_LISTS.items():
    _register_small_list(_entity, _records, _noun, _refine)


@route("GET", "/users/me")
async def users_me(ctx: Ctx):
    cfg = ctx.index.catalog.config
    return json_response(
        {
            "username": ctx.user,
            "is_admin": cfg.is_admin(ctx.user),
            "scope": ctx.claims.scope if ctx.claims else None,
        }
    )


@route("GET", "/products")
async def products(ctx: Ctx):
    index = ctx.index
    args = ctx.args()
    rows = index.table.select(parse_query(args))
    return json_response(paginated(rows, args, lambda r: index.record_for(r, ctx.user)))


def product_or_404(ctx: Ctx, pid: str):
    index = ctx.index
    m = index.manifests.get(int(pid)) if pid.isdigit() else None
    if m is None:
        raise ApiError("product-not-found", "No Product matches the given query.", 404, product=pid)
    return index, m


def product_json(ctx: Ctx, index: Index, m) -> dict:
    return index.record_for(index.by_id[m.id], ctx.user)


@route("GET", r"/products/(?P<pid>\d+)")
async def product(ctx: Ctx, pid: str):
    index, m = product_or_404(ctx, pid)
    return json_response(product_json(ctx, index, m))


@route("GET", r"/products/(?P<pid>\d+)/main_file_info")
async def main_file_info(ctx: Ctx, pid: str):
    index, m = product_or_404(ctx, pid)
    root = writes_root(ctx, m)
    out = dict(product_json(ctx, index, m))
    out["main_file"] = await run_sync(main_file_record, m, root)
    return json_response(out)


def writes_root(ctx: Ctx, m):
    """Where the files of ``m`` live: the served checkout, or a submission's work tree."""
    from pzcat_datasette.api import writes

    return writes.files_root(ctx, m)


def _file_url(ctx: Ctx, m):
    base = f"{ctx.request.scheme}://{ctx.request.host}/"

    def url(entry):
        if not entry.path:
            return entry.url
        return Links.absolute(base, Links.download_path(m.internal_name, entry.filename))

    return url


def _file_records(ctx: Ctx, m) -> list[dict]:
    from pzcat.records import can_change

    cfg = ctx.index.catalog.config
    return file_records(m, can_change(cfg, m, ctx.user), _file_url(ctx, m), writes_root(ctx, m))


#: The per-product lists: entity -> (the query key naming the product, a record id -> its
#: product id, the product's records, noun).
_PER_PRODUCT = {
    "product-files": ("product_id", product_of_file, _file_records, "ProductFile"),
    "product-contents": (
        "product",
        lambda cid: split_content_id(cid)[0],
        lambda ctx, m: content_records(m),
        "ProductContent",
    ),
}


def _register_per_product(entity: str, key: str, product_of, records, noun: str) -> None:
    async def listing(ctx: Ctx):
        args = ctx.args()
        _check_keys(entity, args)
        index = ctx.index
        if args.get(key):
            ms = [index.manifests.get(int(args[key]))] if args[key].isdigit() else []
        else:
            ms = list(index.manifests.values())
        items = [r for m in ms if m is not None for r in records(ctx, m)]
        return json_response(paginated(_exact(items, args, {"id": "id"}), args))

    async def detail(ctx: Ctx, rid: str):
        m = ctx.index.manifests.get(product_of(int(rid)))
        for r in records(ctx, m) if m is not None else []:
            if str(r["id"]) == rid:
                return json_response(r)
        raise ApiError("api-not-found", f"No {noun} matches the given query.", 404)

    listing.__name__ = entity.replace("-", "_")
    detail.__name__ = entity.rstrip("s").replace("-", "_")
    route("GET", f"/{entity}")(listing)
    route("GET", rf"/{entity}/(?P<rid>\d+)")(detail)


for _entity, (_key, _product_of, _records, _noun) in _PER_PRODUCT.items():
    _register_per_product(_entity, _key, _product_of, _records, _noun)


def not_found_response(path: str) -> Response:
    """The JSON 404 of a path under /api/ that no route answers."""
    return error_response("api-not-found", f"Not found: {path}", 404)

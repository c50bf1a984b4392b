"""pzcat's Datasette plugin: the hooks, and nothing else (registered by the ``datasette`` entry point).

Each hook hands over to the module of its noun:

============================== =======================================================================
module                         what
============================== =======================================================================
:mod:`.api`                    ``/api/``: the Photo-z Server REST API (``pzserver`` client)
:mod:`.notfound`               unknown URLs: a page with the way back; JSON errors under ``/api/``
:mod:`.downloads`              ``/-/download/<internal_name>.zip`` and ``/-/download/<name>/<file>``
:mod:`.token_page`             ``/-/token`` (paste a token once, get a signed HttpOnly cookie)
:mod:`.signin`                 ``/-/login``, ``/-/auth/callback``, ``/-/logout``: sign in with GitHub
:mod:`.tokens_page`            ``/-/tokens``: a signed-in user's own tokens (make, list, revoke)
:mod:`.site_files`             ``/site/...``: the built static site
:mod:`.static_files`           ``/-/pzcat/static/...``: the plugin's scripts (no inline script: CSP)
:mod:`.auth`                   tokens, cookies and signed links; the actor; token errors for previews
:mod:`.cache`                  the response cache of anonymous Datasette pages
:mod:`.export_policy`          full-table exports need a download token, like downloads
:mod:`.query_inputs`           canned queries: example values when empty, coded errors for bad input
:mod:`.sql`                    ``pz_angdist``, ``pz_healpix``, ``pz_cone_ranges``
:mod:`.counts`                 table counts from the inspect data (Datasette 0.65 workaround)
:mod:`.templates`              pzcat's templates (titles for people), their variables, the loader
:mod:`.settings`               ``plugin_config("pzcat")`` and the per-instance caches
:mod:`.responses`              the one error shape, streaming of byte plans
:mod:`.security`               security headers, request caps, header timeouts, SQLite limits
============================== =======================================================================
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.views.special import JsonDataView

from pzcat_datasette import (
    api,
    auth,
    counts,
    downloads,
    notfound,
    security,
    signin,
    site_files,
    sql,
    static_files,
    templates,
    token_page,
    tokens_page,
)
from pzcat_datasette.cache import ResponseCache
from pzcat_datasette.export_policy import ExportPolicy
from pzcat_datasette.query_inputs import QueryInputs
from pzcat_datasette.settings import public_metadata, settings


@hookimpl
def register_routes(datasette):
    metadata = JsonDataView.as_view(datasette, "metadata.json", lambda: public_metadata(datasette))
    return [
        *downloads.ROUTES,
        *token_page.ROUTES,
        *signin.ROUTES,
        *tokens_page.ROUTES,
        *site_files.ROUTES,
        *static_files.ROUTES,
        *api.datasette_routes(),
        (r"^/-/metadata(\.(?P<format>json))?$", metadata),
    ]


notfound.install()


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    return notfound.handle_exception(datasette, request, exception)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        cfg = settings(datasette)
        if not (cfg.previews_require_token or not cfg.response_cache):
            app = ResponseCache(app)
        app = ExportPolicy(QueryInputs(app, datasette), datasette)  # before the cache
        return security.SecurityMiddleware(app)  # outermost: headers and caps on every response

    return wrap


@hookimpl
def actor_from_request(datasette, request):
    return auth.actor(datasette, request)


@hookimpl
def forbidden(datasette, request, message):
    return auth.forbidden_response(datasette, request, message)


@hookimpl
def prepare_connection(conn, database):
    security.bound_connection(conn)
    sql.prepare_connection(conn, database)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    templates.prepare(env, datasette)


@hookimpl
def startup(datasette):
    counts.use_inspect_counts(datasette)
    sql.warm_up()
    from pzcat_datasette.api import routes as api_routes

    api_routes.startup(datasette)  # the API's state; runs left Pending by a dead server resume


@hookimpl
def extra_template_vars(datasette):
    return templates.template_vars(datasette)


@hookimpl
def menu_links(datasette, actor):
    return templates.menu_links(datasette, actor)

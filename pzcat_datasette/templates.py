"""The Jinja environment of the previews: pzcat's templates and a loader that remembers misses.

pzcat's own templates (``pzcat_error.html``, ``pzcat_token.html``, ``pzcat_notfound.html``...) and
its overrides of Datasette's pages (``table.html``, ``row.html``, ``query.html``, ``database.html``,
``_crumbs.html``, each extending ``default:<name>``: titles for people, the catalog's name in
``<title>``) ship in this package's ``templates/`` folder, searched before Datasette's own. A
catalog can override any template (Datasette's or pzcat's) in its ``datasette/templates/`` folder
(given to Datasette as ``template_dir``, searched first).

:func:`template_vars` gives every page the catalog's name, the site's address and
``pzcat_title(database, table)``: the human title of a table or canned query.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, TemplateNotFound

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The longest SQL text shown in a query page's ``<title>``.
TITLE_SQL_CHARS = 60


class NegativeCachingLoader(BaseLoader):
    """A Jinja loader that remembers which template names do not exist.

    Datasette looks for per-database and per-table templates (``table-previews-<name>.html``...) on
    every page; without this each miss is a stat of every template folder.
    """

    has_source_access = True

    def __init__(self, inner: BaseLoader) -> None:
        self.inner = inner
        self.missing: set[str] = set()

    def get_source(self, environment, template):
        if template in self.missing:
            raise TemplateNotFound(template)
        try:
            return self.inner.get_source(environment, template)
        except TemplateNotFound:
            self.missing.add(template)
            raise

    def list_templates(self):
        return self.inner.list_templates()


def prepare(env, datasette=None) -> None:
    """pzcat's templates before Datasette's defaults (after the catalog's own); no reloading.

    Without ``auto_reload = False`` Jinja stats every template file on every render (7 stats per
    table page, slow on network file systems).
    """
    env.auto_reload = False
    loaders: list[BaseLoader] = []
    own = getattr(datasette, "template_dir", None)
    if own:
        loaders.append(FileSystemLoader(str(own)))
    loaders += [FileSystemLoader(str(TEMPLATES)), env.loader]
    env.loader = NegativeCachingLoader(ChoiceLoader(loaders))


def _titles(datasette) -> dict:
    """``{(database, name): title}`` of every table and canned query with a title in the metadata."""
    found = {}
    for db, meta in (datasette.metadata("databases") or {}).items():
        found[(db, None)] = meta.get("title") or db
        for kind in ("tables", "queries"):
            for name, item in (meta.get(kind) or {}).items():
                if isinstance(item, dict) and item.get("title"):
                    found[(db, name)] = item["title"]
    return found


def template_vars(datasette) -> dict:
    """Variables of every page: the catalog's name, site links and the titles of things."""
    titles = getattr(datasette, "_pzcat_titles", None)
    if titles is None:
        titles = _titles(datasette)
        datasette._pzcat_titles = titles  # the metadata does not change while serving
    site = datasette.metadata("source_url") or "/site/"

    def title(database: str | None = None, table: str | None = None) -> str:
        """The human title of a database (``table=None``), a table or a canned query."""
        return titles.get((database, table)) or table or database or ""

    def short_sql(sql: str) -> str:
        one = " ".join((sql or "").split())
        return one if len(one) <= TITLE_SQL_CHARS else one[: TITLE_SQL_CHARS - 1] + "…"

    return {
        "pzcat_catalog": datasette.metadata("title") or "pzcat",
        "pzcat_site": site,
        "pzcat_products": site + "products/",
        "pzcat_token_page": "/-/token",
        "pzcat_static": "/-/pzcat/static/",
        "pzcat_title": title,
        "pzcat_short_sql": short_sql,
    }


def menu_links(datasette, actor) -> list[dict]:
    """The menu of every Datasette page: the catalog site, and sign-in or the user's tokens."""
    site = datasette.metadata("source_url") or "/site/"
    user = (actor or {}).get("id") if isinstance(actor, dict) else None
    return [
        {"href": site, "label": "Catalog site"},
        {"href": site + "products/", "label": "All products"},
        {"href": "/-/tokens", "label": f"Tokens of {user}" if user else "Sign in / tokens"},
    ]

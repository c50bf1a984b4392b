"""The Jinja environment of the previews: pzcat's templates and a loader that remembers misses.

pzcat's own templates (``pzcat_error.html``, ``pzcat_token.html``) ship in this package's
``templates/`` folder; a catalog can override any template (Datasette's or pzcat's) in its
``datasette/templates/`` folder (given to Datasette as ``template_dir``, searched first).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, TemplateNotFound

TEMPLATES = Path(__file__).resolve().parent / "templates"


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


def prepare(env) -> None:
    """Add pzcat's templates after Datasette's search path; templates do not change while serving.

    Without ``auto_reload = False`` Jinja stats every template file on every render (7 stats per
    table page, slow on network file systems).
    """
    env.auto_reload = False
    env.loader = NegativeCachingLoader(ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))]))

"""Where the site's links to the server and the server's links to the site point.

The catalog has two public addresses in ``catalog.yaml``: ``site_url`` (the static site) and
``datasette_url`` (the server: previews, downloads, tokens). When both share an origin (``pzcat
serve`` mounts the site under ``/site/``), every link between them is *relative*, so the same
build works on whatever host and port serves it (``make demo PORT=8021``, a reverse proxy, a
laptop). When they do not (the site on GitHub Pages, the server elsewhere), the configured public
URLs are used, as they must be.

Examples
--------
>>> links = Links("http://127.0.0.1:8001/site/", "http://127.0.0.1:8001/")
>>> links.same_origin, links.server_from_site, links.site_from_server
(True, '../', '/site/')
>>> links.server("product/x/", "-/download/x.zip")
'../../../-/download/x.zip'
>>> gh = Links("https://lsst-pz.github.io/pzcat/", "https://pz.example.org/")
>>> gh.server("product/x/", "previews/x")
'https://pz.example.org/previews/x'
>>> gh.site_from_server
'https://lsst-pz.github.io/pzcat/'

:class:`Links` is the one URL builder: the server's paths (:meth:`Links.download_path`,
:meth:`Links.previews_path`), links to them from a site page (:meth:`Links.server`,
:meth:`Links.download`), from a server page (:meth:`Links.on_server`, :meth:`Links.site_page`) and
absolute URLs for clients and signed links (:meth:`Links.absolute`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    from pzcat.config import CatalogConfig

#: Where the server answers downloads (relative to its root).
DOWNLOAD_PREFIX = "-/download/"
#: Where the server's previews of a product are (``previews/<internal_name>``).
PREVIEWS_PREFIX = "previews/"
#: The server's token page.
TOKENS_PATH = "-/tokens"


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


@dataclass(frozen=True)
class Links:
    """The link policy between the site and the server.

    Parameters
    ----------
    site_url : str
        The site's public root URL (``catalog.yaml`` ``site_url``).
    server_url : str
        The server's public root URL (``catalog.yaml`` ``datasette_url``).
    """

    site_url: str
    server_url: str

    @classmethod
    def of(cls, config: CatalogConfig) -> Links:
        """The links of a :class:`pzcat.config.CatalogConfig`."""
        return cls(config.site_url, config.datasette_url)

    @property
    def same_origin(self) -> bool:
        """Whether the site and the server share scheme, host and port (then links are relative)."""
        a, b = urlsplit(self.site_url), urlsplit(self.server_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    @property
    def server_from_site(self) -> str:
        """The server's root seen from the site's root: relative (``../``) or the public URL."""
        if not self.same_origin:
            return _slash(self.server_url)
        site = _slash(urlsplit(self.site_url).path or "/")
        server = _slash(urlsplit(self.server_url).path or "/")
        rel = posixpath.relpath(server, site)
        return "" if rel == "." else _slash(rel)

    @property
    def site_from_server(self) -> str:
        """The site's root as the server links to it: a path (``/site/``) or the public URL."""
        if self.same_origin:
            return _slash(urlsplit(self.site_url).path or "/")
        return _slash(self.site_url)

    def server(self, page: str, path: str) -> str:
        """A link from the site page at ``page`` (relative to the site root) to server ``path``."""
        base = self.server_from_site
        if not self.same_origin:
            return base + path
        depth = len([p for p in page.split("/") if p])
        return "../" * depth + base + path

    def download(self, page: str, internal_name: str, filename: str | None = None) -> str:
        """A link from the site page at ``page`` to a product's ZIP (or one of its files)."""
        return self.server(page, self.download_path(internal_name, filename))

    @staticmethod
    def download_path(internal_name: str, filename: str | None = None) -> str:
        """The download path of a product's ZIP, or of one file (relative to the server root).

        >>> Links.download_path("1_x"), Links.download_path("1_x", "a b.csv")
        ('-/download/1_x.zip', '-/download/1_x/a%20b.csv')
        """
        if filename:
            return f"{DOWNLOAD_PREFIX}{internal_name}/{quote(filename)}"
        return f"{DOWNLOAD_PREFIX}{internal_name}.zip"

    @staticmethod
    def previews_path(internal_name: str) -> str:
        """The path of a product's previews table (relative to the server root)."""
        return f"{PREVIEWS_PREFIX}{internal_name}"

    @staticmethod
    def absolute(base_url: str, path: str, query: str | None = None) -> str:
        """``path`` on the server at ``base_url`` (clients, signed links, API records).

        >>> Links.absolute("http://x:1", Links.download_path("1_a"), "link=abc")
        'http://x:1/-/download/1_a.zip?link=abc'
        """
        return _slash(base_url) + path + (f"?{query}" if query else "")

    def on_server(self, path: str) -> str:
        """A link from a server page to the server's own ``path`` (a path: works on any host)."""
        return _slash(urlsplit(self.server_url).path or "/") + path

    def site_page(self, path: str = "") -> str:
        """A link from a server page to the site's ``path`` (e.g. ``product/<name>/``)."""
        return self.site_from_server + path

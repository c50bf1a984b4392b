"""Where links between the site and the server point (pzcat.links)."""

from __future__ import annotations

import pytest

from pzcat.links import Links


@pytest.mark.parametrize(("site", "server", "from_site", "from_server"), [
    ("http://127.0.0.1:8001/site/", "http://127.0.0.1:8001/", "../", "/site/"),
    ("https://pz.example.org/", "https://pz.example.org/ds/", "ds/", "/"),
    ("https://pz.example.org/cat/site", "https://pz.example.org/cat", "../", "/cat/site/"),
    # GitHub Pages plus a separately hosted server: the configured public URLs
    ("https://lsst-pz.github.io/pzcat/", "https://pz.example.org/", "https://pz.example.org/",
     "https://lsst-pz.github.io/pzcat/"),
    ("http://a.org:8001/site/", "http://a.org:8002/", "http://a.org:8002/", "http://a.org:8001/site/"),
])
def test_links(site: str, server: str, from_site: str, from_server: str) -> None:
    links = Links(site, server)
    assert links.server_from_site == from_site
    assert links.site_from_server == from_server


def test_page_relative_links() -> None:
    same = Links("http://127.0.0.1:8001/site/", "http://127.0.0.1:8001/")
    assert same.server("product/x/", "-/download/x.zip") == "../../../-/download/x.zip"
    assert same.server("", "-/token") == "../-/token"
    assert same.on_server("-/download/x.zip") == "/-/download/x.zip"
    apart = Links("https://lsst-pz.github.io/pzcat/", "https://pz.example.org/")
    assert apart.server("product/x/", "previews/x") == "https://pz.example.org/previews/x"
    assert apart.site_page("product/x/") == "https://lsst-pz.github.io/pzcat/product/x/"

"""Where links between the site and the server point (pzcat.links)."""

from __future__ import annotations

import pytest

from pzcat.links import Links


@pytest.mark.parametrize(
    ("site", "server", "from_site", "from_server"),
    [
        ("http://127.0.0.1:8001/site/", "http://127.0.0.1:8001/", "../", "/site/"),
        ("https://pz.example.org/", "https://pz.example.org/ds/", "ds/", "/"),
        ("https://pz.example.org/cat/site", "https://pz.example.org/cat", "../", "/cat/site/"),
        # GitHub Pages plus a separately hosted server: the configured public URLs
        (
            "https://lsst-pz.github.io/pzcat/",
            "https://pz.example.org/",
            "https://pz.example.org/",
            "https://lsst-pz.github.io/pzcat/",
        ),
        (
            "http://a.org:8001/site/",
            "http://a.org:8002/",
            "http://a.org:8002/",
            "http://a.org:8001/site/",
        ),
    ],
)
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


def test_one_builder_for_download_links(tmp_path, monkeypatch) -> None:
    """The site's relative download links, the server's own and signed links: one builder."""
    from urllib.parse import parse_qs, urlsplit

    from pzcat_datasette.tokens import make_link, verify_link

    same = Links("http://127.0.0.1:8001/site/", "http://127.0.0.1:8001/")
    assert same.download("product/1_x/", "1_x") == "../../../-/download/1_x.zip"
    assert (
        same.download("product/1_x/", "1_x", "a b#.csv") == "../../../-/download/1_x/a%20b%23.csv"
    )
    assert same.download("", "1_x") == "../-/download/1_x.zip"
    assert same.on_server(Links.download_path("1_x")) == "/-/download/1_x.zip"
    apart = Links("https://lsst-pz.github.io/pzcat/", "https://pz.example.org/")
    assert apart.download("product/1_x/", "1_x") == "https://pz.example.org/-/download/1_x.zip"
    assert apart.server("", Links.previews_path("1_x")) == "https://pz.example.org/previews/1_x"

    monkeypatch.setenv("PZCAT_SECRET", "s" * 32)
    url = make_link("1_x", "1h", base_url="http://127.0.0.1:9", file="a b.csv")
    parts = urlsplit(url)
    assert parts.path == "/" + Links.download_path("1_x", "a b.csv")
    link = parse_qs(parts.query)["link"][0]
    assert url == Links.absolute(
        "http://127.0.0.1:9/", Links.download_path("1_x", "a b.csv"), f"link={link}"
    )
    verify_link(link, "1_x")  # raises if the link were not valid for the product

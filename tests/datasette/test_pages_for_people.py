"""Datasette pages titled for people, 404 pages with the way back, no inline script anywhere.

The real Datasette with pzcat's plugin on a built previews.db (Datasette's own test client). The
Chromium checks of the same pages, on a served demo, are in tests/site/test_demo_browser.py.
"""

from __future__ import annotations

import re

import pytest
from ds_helpers import SyncClient

from pzcat_datasette.serve import make_datasette

SPEC = "1_spec_z_sample"
CATALOG = "LSST Photo-z Catalog"  # catalog.yaml's name
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


@pytest.fixture
def client(built, secret):
    site = built.root / "build" / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text("<h1>Catalog site</h1>")
    c = SyncClient(make_datasette(built))
    yield c
    c.close()


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def _h1(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)).strip()


def test_catalog_name_is_the_one_of_catalog_yaml(built) -> None:
    assert built.config.name == CATALOG


def test_pages_are_titled_for_people(client) -> None:
    table = client.get(f"/previews/{SPEC}").text
    assert _title(table) == f"Spec Z Sample (500 rows) · {CATALOG}"
    assert _h1(table) == "Spec Z Sample"
    crumbs = re.search(r'<p class="crumbs" id="pz-crumbs">(.*?)</p>', table, re.S).group(1)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", crumbs)).strip() == (f"{CATALOG} / Previews")
    filtered = client.get(f"/previews/{SPEC}?survey=VVDS").text
    assert _title(filtered).startswith("Spec Z Sample (") and "where survey = " in _title(filtered)
    row = client.get(f"/previews/{SPEC}/1").text
    assert _title(row) == f"Row 1 of Spec Z Sample · {CATALOG}"
    assert _h1(row) == "Spec Z Sample: row 1"
    assert f'<a href="/previews/{SPEC}">Spec Z Sample</a>' in row  # the crumbs
    cone = client.get(f"/previews/cone_{SPEC}?ra=150&dec=2&radius_arcsec=60").text
    assert _title(cone) == f"Cone search in Spec Z Sample · {CATALOG}"
    assert _h1(cone) == "Cone search in Spec Z Sample"
    sql = client.get("/previews?sql=select+count(*)+from+products").text
    assert _title(sql) == f"SQL: select count(*) from products · {CATALOG}"
    long_sql = client.get("/previews?sql=select+" + "+id,+name," * 30 + "+1+from+products").text
    assert len(_title(long_sql)) < 100 and "…" in _title(long_sql)
    database = client.get("/previews").text
    assert _title(database) == f"{CATALOG}: previews"
    assert _title(client.get("/").text) == f"Previews · {CATALOG}"
    for page in (table, row, cone, database):
        assert "previews: cone_" not in page and f"<title>previews: {SPEC}" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page",
        "/previews/no_such_table",
        "/previews/cone_no_such_product",
        f"/previews/{SPEC}/999999",
        "/no_such_database/some_table",
        "/-/no-such-thing",
    ],
)
def test_unknown_pages_give_the_way_back(client, path) -> None:
    r = client.get(path, headers={"accept": "text/html"})
    assert r.status_code == 404, (path, r.status_code)
    assert "page-not-found" in r.text
    for link in ('href="/site/"', 'href="/site/products/"', 'href="/"', 'href="/-/tokens"'):
        assert link in r.text, (path, link)
    assert _title(r.text) == f"Not found · {CATALOG}"


def test_the_api_and_json_urls_keep_json_errors(client) -> None:
    r = client.get("/api/no-such-endpoint/", headers={"accept": "text/html"})
    assert r.status_code in (401, 404) and r.json()["code"] in ("api-not-found", "token-missing")
    r = client.get("/previews/no_such_table.json")
    assert r.status_code == 404 and r.json()["ok"] is False


def test_no_inline_script_or_handler_in_the_server_pages(client) -> None:
    """The CSP runs scripts from the server's origin only: every page's scripts are files."""
    pages = [
        "/",
        "/previews",
        f"/previews/{SPEC}",
        f"/previews/{SPEC}/1",
        f"/previews/cone_{SPEC}?ra=150&dec=2&radius_arcsec=60",
        "/previews?sql=select+1",
        "/-/token",
        "/-/tokens",
        "/no-such-page",
        "/-/download/no_such_product.zip",
    ]
    for path in pages:
        html = client.get(path, headers={"accept": "text/html"}).text
        assert not INLINE_SCRIPT.search(html), (path, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (path, INLINE_HANDLER.search(html).group(0))
    table = client.get(f"/previews/{SPEC}").text
    assert 'src="/-/pzcat/static/pzcat-table.js" data-allow-facet="true"' in table
    assert 'src="/-/pzcat/static/pzcat-menus.js"' in table


def test_the_plugin_serves_its_scripts_and_nothing_else(client) -> None:
    for name in ("pzcat-copy.js", "pzcat-menus.js", "pzcat-sql-editor.js", "pzcat-table.js"):
        r = client.get(f"/-/pzcat/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/javascript"
        ), name
    for bad in ("../plugin.py", "plugin.py", "pzcat-none.js", "%2e%2e%2fsettings.py"):
        r = client.get(f"/-/pzcat/static/{bad}")
        assert r.status_code in (302, 404) and "import" not in r.text, bad


def test_the_menu_leads_to_the_site_and_the_tokens(client) -> None:
    html = client.get(f"/previews/{SPEC}").text
    menu = re.search(r'<div class="nav-menu-inner">(.*?)</div>', html, re.S).group(1)
    assert 'href="/site/"' in menu and 'href="/site/products/"' in menu
    assert 'href="/-/tokens"' in menu and "Sign in" in menu


def test_ra_and_dec_default_to_degrees(built, secret) -> None:
    """A manifest without units: ra and dec are described in deg (the site's table: test_build)."""
    import yaml

    path = built.root / "manifests" / f"{SPEC}.yaml"
    data = yaml.safe_load(path.read_text())
    for col in data["files"][0]["columns"]:
        col.pop("unit", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    from pzcat.catalog import Catalog
    from pzcat_datasette.serve import datasette_metadata

    meta = datasette_metadata(Catalog.open(built.root))
    cols = meta["databases"]["previews"]["tables"][SPEC]["columns"]
    assert "unit: deg" in cols["ra"] and "unit: deg" in cols["dec"]
    assert "unit:" not in cols["z"]


def test_every_page_forbids_inline_scripts(client) -> None:
    from pzcat_datasette.security import CSP

    assert "'unsafe-inline'" not in CSP.split("script-src")[1].split(";")[0]
    for path in (
        "/",
        f"/previews/{SPEC}",
        "/-/tokens",
        "/no-such-page",
        "/api/products/",
        "/site/",
    ):
        assert client.get(path).headers["content-security-policy"] == CSP, path

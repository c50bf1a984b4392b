"""One policy for everything that hands out rows: full-table exports need a download token like
downloads; a private site needs a sign-in or a token."""

from __future__ import annotations

import yaml
from ds_catalog import make_catalog
from ds_helpers import SyncClient

from pzcat.catalog import Catalog
from pzcat_datasette.previews import build_previews
from pzcat_datasette.serve import datasette_metadata, make_datasette
from pzcat_datasette.tokens import create_token

SPEC = "1_spec_z_sample"
JSON = {"accept": "application/json"}


def test_full_table_exports_need_a_download_token(built, secret) -> None:
    c = SyncClient(make_datasette(built))
    try:
        # one page of rows, as on screen: public
        page = c.get(f"/previews/{SPEC}.csv?_size=50")
        assert page.status_code == 200 and page.text.count("\n") == 51
        # the whole table at once: a download token, like /-/download
        for path in (
            f"/previews/{SPEC}.csv?_stream=on",
            f"/previews/{SPEC}.csv?_stream=1&_size=max",
            f"/previews/{SPEC}.json?_stream=on",
        ):
            r = c.get(path, headers=JSON)
            assert r.status_code == 401 and r.json()["error"]["code"] == "token-missing", path
        read = {"Authorization": f"Bearer {create_token('rae', scope='read')}", **JSON}
        r = c.get(f"/previews/{SPEC}.csv?_stream=on", headers=read)
        assert r.status_code == 403 and r.json()["error"]["code"] == "token-scope"
        dl = {"Authorization": f"Bearer {create_token('rae', scope='download')}"}
        full = c.get(f"/previews/{SPEC}.csv?_stream=on", headers=dl)
        assert full.status_code == 200 and full.text.count("\n") == 501  # header + every row
        # the table page says so
        html = datasette_metadata(built)["databases"]["previews"]["tables"][SPEC][
            "description_html"
        ]
        assert "needs a download token" in html
        assert "needs a download token" in c.get(f"/previews/{SPEC}").text
    finally:
        c.close()


def test_a_private_site_needs_a_sign_in(tmp_path, secret) -> None:
    cat = make_catalog(tmp_path / "repo")
    path = cat.root / "catalog.yaml"
    config = yaml.safe_load(path.read_text())
    config["access"] = {"site_private": True}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    cat = Catalog.open(cat.root)
    build_previews(cat)
    site = cat.root / "build" / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "index.html").write_text("<h1>Catalog site</h1>")
    c = SyncClient(make_datasette(cat))
    try:
        r = c.get("/site/", headers=JSON)
        assert r.status_code == 401 and r.json()["error"]["code"] == "auth-required"
        page = c.get("/site/", headers={"accept": "text/html"})
        assert page.status_code == 302 and page.headers["location"].startswith("/-/tokens?next=")
        tok = {"Authorization": f"Bearer {create_token('rae', scope='read')}"}
        assert c.get("/site/", headers=tok).status_code == 200
        assert c.get("/-/tokens").status_code == 200  # the way in stays open
    finally:
        c.close()


def test_canned_queries_check_their_input(built, secret) -> None:
    c = SyncClient(make_datasette(built))
    try:
        # opened empty, a browser gets example values of this product, not "0 results"
        first = c.get(f"/previews/cone_{SPEC}", headers={"accept": "text/html"})
        assert first.status_code == 302 and "radius_arcsec=60" in first.headers["location"]
        assert "ra=" in first.headers["location"] and "dec=" in first.headers["location"]
        page = c.get(first.headers["location"])
        assert page.status_code == 200
        # the example is a real row's position, so it finds rows; so does the redshift example
        path, _, query = first.headers["location"].partition("?")
        assert c.get(f"{path}.json?_shape=array&{query}").json(), first.headers["location"]
        empty_z = c.get(f"/previews/zrange_{SPEC}", headers={"accept": "text/html"})
        assert empty_z.status_code == 302 and "z_min=" in empty_z.headers["location"]
        path, _, query = empty_z.headers["location"].partition("?")
        assert c.get(f"{path}.json?_shape=array&{query}").json(), empty_z.headers["location"]
        for query, needle in (
            ("ra=abc&dec=1&radius_arcsec=5", "ra must be a number"),
            ("ra=10&dec=95&radius_arcsec=5", "dec must be between"),
            ("ra=10&dec=5&radius_arcsec=-1", "radius_arcsec must be positive"),
        ):
            r = c.get(f"/previews/cone_{SPEC}.json?{query}", headers=JSON)
            assert r.status_code == 400 and r.json()["error"]["code"] == "query-input", query
            assert needle in r.json()["error"]["message"]
        html = c.get(
            f"/previews/cone_{SPEC}?ra=abc&dec=1&radius_arcsec=5", headers={"accept": "text/html"}
        )
        assert html.status_code == 400 and "ra must be a number" in html.text
        z = c.get(f"/previews/zrange_{SPEC}.json?z_min=2&z_max=1", headers=JSON)
        assert z.status_code == 400 and "z_min" in z.json()["error"]["message"]
        assert c.get(f"/previews/zrange_{SPEC}.json?z_min=0&z_max=1").status_code == 200
    finally:
        c.close()

"""Datasette on previews.db: metadata, canned queries, settings, gating of previews and /site/."""

from __future__ import annotations

import json
import math

import pytest
from ds_catalog import make_catalog
from ds_helpers import SyncClient

from pzcat.catalog import Catalog
from pzcat_datasette.previews import build_previews
from pzcat_datasette.serve import datasette_metadata, make_datasette, redact_path
from pzcat_datasette.tokens import create_token

SPEC = "1_spec_z_sample"
TRAIN = "2_training_set_a"


@pytest.fixture
def client(built, secret):
    site = built.root / "build" / "site"
    (site / "product" / SPEC).mkdir(parents=True)
    (site / "index.html").write_text("<h1>Catalog site</h1>")
    (site / "404.html").write_text("<h1>Not here</h1>")
    (site / "product" / SPEC / "index.html").write_text("<h1>Spec Z page</h1>")
    (site / "style.css").write_text("body{}")
    c = SyncClient(make_datasette(built))
    yield c
    c.close()


def test_metadata_from_manifests(built):
    meta = datasette_metadata(built)
    tables = meta["databases"]["previews"]["tables"]
    spec = tables[SPEC]
    assert spec["title"] == "Spec Z Sample" and spec["license"] == "CC-BY-4.0"
    assert spec["source_url"] == f"/site/product/{SPEC}/"  # same origin: a path
    assert "units" not in spec  # pint formatting of every cell is slow: units are in descriptions
    assert "unit: deg" in spec["columns"]["ra"]
    with_units = datasette_metadata(built, with_units=True)["databases"]["previews"]["tables"][SPEC]
    assert with_units["units"] == {"ra": "deg", "dec": "deg"}
    assert (
        "UCD: pos.eq.ra;meta.main" in spec["columns"]["ra"] and "role: ra" in spec["columns"]["ra"]
    )
    assert "UCD: src.redshift" in spec["columns"]["z"]
    assert tables["products"]["fts_table"] == "products_fts"
    assert tables["_pzcat_state"]["hidden"] is True
    queries = meta["databases"]["previews"]["queries"]
    assert {
        f"cone_{SPEC}",
        f"zrange_{SPEC}",
        f"zrange_{TRAIN}",
        "products_by_type_and_release",
    } <= set(queries)
    assert f"cone_{TRAIN}" not in queries  # no ra/dec
    assert "allow" not in meta  # previews open by default


def test_truncation_is_said_in_the_description(tmp_path):
    cat = make_catalog(tmp_path / "repo", n_rows=500, cap=100)
    build_previews(cat)
    desc = datasette_metadata(cat)["databases"]["previews"]["tables"][SPEC]["description_html"]
    assert "first 100 of 500 rows" in desc


def test_pages_and_settings(client):
    assert client.get("/").status_code == 200
    r = client.get(f"/previews/{SPEC}")
    assert r.status_code == 200 and "Spec Z Sample" in r.text
    assert f"/site/product/{SPEC}/" in r.text and "CC-BY-4.0" in r.text
    data = client.get(f"/previews/{SPEC}.json?_size=1").json()
    assert data["filtered_table_rows_count"] == 500
    assert data.get("suggested_facets", []) == []
    settings = client.get("/-/settings.json").json()
    assert settings["suggest_facets"] is False and settings["sql_time_limit_ms"] == 1000
    assert settings["allow_download"] is False
    dbs = client.get("/-/databases.json").json()
    assert [d["is_mutable"] for d in dbs if d["name"] == "previews"] == [False]


def test_products_search_and_columns(client):
    rows = client.get("/previews/products.json?_search=training&_shape=array").json()
    assert [r["internal_name"] for r in rows] == [TRAIN]
    rows = client.get("/previews/columns.json?role=z_err&_shape=array").json()
    assert {r["product"] for r in rows} == {SPEC, TRAIN}
    rows = client.get(
        "/previews/products.json?product_type=training_set&release=dp1&_shape=array"
    ).json()
    assert [r["internal_name"] for r in rows] == [TRAIN]


def _brute_cone(client, ra, dec, radius):
    rows = client.get(f"/previews/{SPEC}.json?_shape=array&_size=max").json()
    out = []
    for r in rows:
        d1, d2 = math.radians(r["dec"]), math.radians(dec)
        s = (
            math.sin((d2 - d1) / 2) ** 2
            + math.cos(d1) * math.cos(d2) * math.sin(math.radians(ra - r["ra"]) / 2) ** 2
        )
        if math.degrees(2 * math.asin(math.sqrt(s))) * 3600 <= radius:
            out.append(r["id"])
    return sorted(out)


@pytest.mark.parametrize(
    "ra, dec, radius",
    [(55.0, -35.0, 1800), (52.5, -31.0, 7200), (58.0, -39.0, 300), (50.0, -30.0, 200)],
)
def test_cone_search(client, ra, dec, radius):
    rows = client.get(
        f"/previews/cone_{SPEC}.json?_shape=array&ra={ra}&dec={dec}&radius_arcsec={radius}"
    ).json()
    assert sorted(r["id"] for r in rows) == _brute_cone(client, ra, dec, radius)
    assert rows or radius < 600
    dists = [r["distance_arcsec"] for r in rows]
    assert dists == sorted(dists) and all(d <= radius for d in dists)
    # empty or bad parameters: a coded message, not a crash nor a silent empty answer
    empty = client.get(f"/previews/cone_{SPEC}.json?_shape=array&ra=&dec=&radius_arcsec=")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "query-input"


def test_redshift_range_and_products_by_type(client):
    rows = client.get(f"/previews/zrange_{SPEC}.json?_shape=array&z_min=1&z_max=1.2").json()
    assert rows and all(1 <= r["z"] <= 1.2 for r in rows)
    rows = client.get(
        "/previews/products_by_type_and_release.json?_shape=array"
        "&product_type=training_set&release="
    ).json()
    assert [r["internal_name"] for r in rows] == [TRAIN]
    rows = client.get(
        "/previews/products_by_type_and_release.json?_shape=array&product_type=&release="
    ).json()
    assert len(rows) == 3


def test_sql_functions(client):
    r = client.get(
        "/previews.json?_shape=array&sql=select+pz_angdist(0,0,1,0)+as+d,"
        "+pz_healpix(10,20)+as+p,+pz_healpix(10,20,0)+as+p0,+pz_angdist('x',0,0,0)+as+bad"
    )
    row = r.json()[0]
    import healpy

    assert row["d"] == pytest.approx(3600.0)
    assert row["p"] == int(healpy.ang2pix(1024, 10, 20, nest=True, lonlat=True))
    assert row["p0"] == int(healpy.ang2pix(1, 10, 20, nest=True, lonlat=True))
    assert row["bad"] is None


def test_no_way_to_write(client):
    r = client.get(f"/previews.json?sql=delete+from+%22{SPEC}%22")
    assert r.status_code in (400, 403)
    assert client.get(f"/previews/{SPEC}.json?_size=1").json()["filtered_table_rows_count"] == 500


def test_sql_can_be_switched_off(built, secret):
    c = SyncClient(make_datasette(built, allow_sql=False))
    try:
        assert c.get("/previews.json?sql=select+1").status_code == 403
        assert c.get(f"/previews/zrange_{SPEC}.json?z_min=0&z_max=1").status_code == 200
    finally:
        c.close()


def test_site_is_served_under_site(client):
    r = client.get("/site/")
    assert r.status_code == 200 and "Catalog site" in r.text
    assert r.headers["content-type"].startswith("text/html")
    assert client.get("/site").status_code == 302
    r = client.get(f"/site/product/{SPEC}/")
    assert r.status_code == 200 and "Spec Z page" in r.text
    r = client.get(f"/site/product/{SPEC}")
    assert r.status_code == 302 and r.headers["location"].endswith(f"/site/product/{SPEC}/")
    assert client.get("/site/style.css").headers["content-type"].startswith("text/css")
    r = client.get("/site/missing/", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "Not here" in r.text
    for raw in (
        "/site/../catalog.yaml",
        "/site/%2e%2e/catalog.yaml",
        "/site/..%2fcatalog.yaml",
        "/site/%2e%2e%2f%2e%2e%2fetc/passwd",
        "/site//etc/passwd",
    ):
        resp = client.raw(raw)
        assert resp.status_code == 404 and b"product_types" not in resp.content, raw


def test_site_symlink_out_is_refused(client, built, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("SECRET")
    (built.root / "build" / "site" / "leak.txt").symlink_to(outside)
    r = client.get("/site/leak.txt")
    assert r.status_code == 404 and "SECRET" not in r.text


def test_previews_can_require_a_token(tmp_path, secret):
    cat = make_catalog(tmp_path / "repo")
    cfg = cat.root / "catalog.yaml"
    cfg.write_text(
        cfg.read_text().replace("previews_require_token: false", "previews_require_token: true")
    )
    cat = Catalog.open(cat.root)
    build_previews(cat)
    c = SyncClient(make_datasette(cat))
    try:
        r = c.get(f"/previews/{SPEC}.json")
        assert r.status_code == 401 and r.json()["error"]["code"] == "token-missing"
        page = c.get(f"/previews/{SPEC}", headers={"Accept": "text/html"})
        assert page.status_code == 401 and "/-/token" in page.text
        read = {"Authorization": f"Bearer {create_token('dan', scope='read')}"}
        assert c.get(f"/previews/{SPEC}.json", headers=read).status_code == 200
        forged = {"Authorization": "Bearer pzc1.abc.def"}
        assert c.get(f"/previews/{SPEC}.json", headers=forged).status_code == 401
        # a read token still cannot download
        assert c.get(f"/-/download/{SPEC}.zip", headers=read).status_code == 403
        assert c.get("/-/token").status_code == 200  # the way in stays open
    finally:
        c.close()


def test_inspect_file_gives_counts(built):
    from pzcat_datasette.serve import write_datasette_config

    _, inspect = write_datasette_config(built)
    data = json.loads(inspect.read_text())["previews"]
    assert data["tables"][SPEC]["count"] == 500 and len(data["hash"]) == 64


def test_tokens_are_redacted_from_logged_paths():
    assert (
        redact_path("/-/download/x.zip?link=pzl1.a.b&x=1") == "/-/download/x.zip?link=REDACTED&x=1"
    )
    assert redact_path("/a/b") == "/a/b"


def test_response_cache_serves_anonymous_pages_only(built, secret):
    ds = make_datasette(built)
    c = SyncClient(ds)
    try:
        app = ds.app()
        assert type(app).__name__ == "SecurityMiddleware"  # outermost
        assert type(app.app).__name__ == "ExportPolicy"  # then the export policy, then the cache
        assert type(app.app.app).__name__ == "QueryInputs"  # then the canned queries' checks
        cache = app.app.app.app
        assert type(cache).__name__ == "ResponseCache"
        import httpx

        async def get(path, **kw):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://localhost"
            ) as http:
                return await http.get(path, **kw)

        first = c.loop.run_until_complete(get(f"/previews/{SPEC}.json?_size=3"))
        second = c.loop.run_until_complete(get(f"/previews/{SPEC}.json?_size=3"))
        assert (cache.misses, cache.hits) == (1, 1) and first.content == second.content
        tok = create_token("x")
        c.loop.run_until_complete(
            get(f"/previews/{SPEC}.json?_size=3", headers={"Authorization": f"Bearer {tok}"})
        )
        c.loop.run_until_complete(get(f"/-/download/{SPEC}.zip"))
        c.loop.run_until_complete(get("/previews/nope"))
        c.loop.run_until_complete(get("/previews/nope"))
        assert cache.hits == 1  # authorised, /-/ and non-200 responses are never served from cache
    finally:
        c.close()


def test_no_response_cache_when_previews_need_a_token(tmp_path, secret):
    cat = make_catalog(tmp_path / "repo")
    cfg = cat.root / "catalog.yaml"
    cfg.write_text(
        cfg.read_text().replace("previews_require_token: false", "previews_require_token: true")
    )
    cat = Catalog.open(cat.root)
    build_previews(cat)
    ds = make_datasette(cat)
    assert type(ds.app().app.app.app).__name__ != "ResponseCache"


def test_odd_column_names_work_in_tables_and_canned_queries(tmp_path, secret):
    import numpy as np
    import pandas as pd
    from ds_catalog import add_product

    root = tmp_path / "repo"
    make_catalog(root, n_rows=10)
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            'R.A. "deg"': rng.uniform(10, 11, 300),
            "dec j2000": rng.uniform(0, 1, 300),
            "z'spec": rng.uniform(0, 1, 300),
            "select": np.arange(300),
        }
    )
    add_product(
        root,
        4,
        "Odd Names",
        "redshift_catalog",
        [("odd.parquet", "main", df)],
        columns={"ra": 'R.A. "deg"', "dec": "dec j2000", "z": "z'spec"},
    )
    cat = Catalog.open(root)
    build_previews(cat)
    c = SyncClient(make_datasette(cat))
    try:
        assert c.get("/previews/4_odd_names.json?_size=1").status_code == 200
        rows = c.get(
            "/previews/cone_4_odd_names.json?_shape=array&ra=10.5&dec=0.5&radius_arcsec=1800"
        ).json()
        assert rows and all(r["distance_arcsec"] <= 1800 for r in rows)
        rows = c.get("/previews/zrange_4_odd_names.json?_shape=array&z_min=0.2&z_max=0.3").json()
        assert rows and all(0.2 <= r["z'spec"] <= 0.3 for r in rows)
    finally:
        c.close()


def test_plugin_comes_from_the_datasette_entry_point_with_its_settings(client, built) -> None:
    from importlib.metadata import entry_points

    from datasette.plugins import pm

    from pzcat_datasette.settings import settings

    eps = {ep.name: ep.value for ep in entry_points(group="datasette")}
    assert eps.get("pzcat") == "pzcat_datasette.plugin"
    assert "pzcat_datasette.plugin" in {getattr(p, "__name__", "") for p in pm.get_plugins()}
    cfg = settings(client.ds)  # from datasette.plugin_config("pzcat"), not attributes of Datasette
    assert cfg.root == built.root and cfg.site_dir == built.root / "build" / "site"
    assert client.ds.plugin_config("pzcat")["root"] == str(built.root)


def test_public_metadata_hides_the_server_paths(client, built) -> None:
    r = client.get("/-/metadata.json")
    assert r.status_code == 200
    assert str(built.root) not in r.text
    assert r.json()["plugins"]["pzcat"] == {"previews_require_token": False, "response_cache": True}
    assert client.get("/-/metadata").status_code == 200

"""The read side of /api/ (real Datasette in process, the demo catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import auth


def test_root_checks_the_token(client) -> None:
    assert client.get("/api/").status_code == 401
    r = client.get("/api/", headers={"Authorization": "Token pzc1.forged.sig"})
    assert r.status_code == 401 and r.json()["detail"] == "Invalid token."
    for scheme in ("Token", "Bearer"):
        r = client.get("/api/", headers=auth(scheme=scheme))
        assert r.status_code == 200
        assert r.json()["products"].endswith("/api/products/")


def test_no_redirect_no_html_under_api(client) -> None:
    h = auth()
    for path in ("/api/products", "/api/products/", "/api//products/", "/api/products/1"):
        r = client.raw(path, headers=h)
        assert r.status_code == 200, path
    for path in ("/api/nothing/", "/api/products/999/", "/api/products/x/"):
        r = client.raw(path, headers={**h, "Accept": "text/html"})
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/json")


def test_unknown_urls_answer_404_not_500(client) -> None:
    """Datasette 0.65.5 with rich answers 500 for any unmatched URL without the fix."""
    for path in ("/a/b/c/d/e", "/x.y/z", "/a/b/c/d", "/no-such-page", "/previews/no_such_table"):
        assert client.get(path).status_code == 404, path


def test_products_list_filters_pages(client) -> None:
    h = auth()
    r = client.raw(
        "/api//products/?status=1&release_name=DP1&product_type_name=Training Set", headers=h
    )
    import json

    body = json.loads(r.content)
    assert body["count"] == 1 and body["results"][0]["internal_name"] == "6_dp1_ecdfs_training_set"
    r = client.get("/api/products/?page_size=5&page=3", headers=h).json()
    n = len(list((Path(__file__).resolve().parents[2] / "manifests").glob("*.yaml")))
    assert r["count"] == n and len(r["results"]) == min(5, n - 10)
    assert client.get("/api/products/?page=9", headers=h).status_code == 404
    bad = client.get("/api/products/?colour=red", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "api-unknown-filter"


def test_product_fields_and_ownership(client) -> None:
    p = client.get("/api/products/9/", headers=auth("pz-user")).json()
    for key in (
        "id",
        "release",
        "release_name",
        "product_type",
        "product_type_name",
        "product_type_internal_name",
        "uploaded_by",
        "is_owner",
        "origin",
        "process_status",
        "process_id",
        "product_status",
        "can_delete",
        "can_update",
        "internal_name",
        "display_name",
        "official_product",
        "pz_code",
        "description",
        "created_at",
        "updated_at",
        "status",
        "release_year",
    ):
        assert key in p, key
    assert p["is_owner"] and p["can_update"] and p["product_status"] == "Published"
    other = client.get("/api/products/9/", headers=auth("someone")).json()
    assert not other["is_owner"] and not other["can_update"]
    admin = client.get("/api/products/9/", headers=auth("pz-coordination")).json()
    assert not admin["is_owner"] and admin["can_update"]
    assert (
        client.get("/api/products/12/", headers=auth()).json()["origin"]
        == "Combine Redshift Catalogs"
    )


def test_options_lists_the_filters(client) -> None:
    r = client.raw("/api/products/", headers=auth(), method="OPTIONS")
    import json

    body = json.loads(r.content)
    names = {f["name"] for f in body["filter_classes"]}
    assert {
        "product_type_name",
        "release_name__or",
        "internal_name__in",
        "release__isnull",
    } <= names
    assert "search" in body and "created_at" in body["ordering"]


def test_vocabularies_and_users(client) -> None:
    h = auth()
    types = client.get("/api/product-types/?ordering=order", headers=h).json()["results"]
    assert [t["name"] for t in types][:2] == ["redshift_catalog", "training_set"]
    assert (
        client.get("/api/product-types/?name=training_set", headers=h).json()["results"][0]["id"]
        == 2
    )
    assert client.get("/api/product-types/2/", headers=h).json()["name"] == "training_set"
    rel = client.get("/api/releases/?name=dp1", headers=h).json()
    assert rel["count"] == 1 and rel["results"][0]["display_name"] == "DP1"
    users = [u["username"] for u in client.get("/api/users/", headers=h).json()["results"]]
    assert "cblake" in users and "julia-gschwend" in users


@pytest.mark.parametrize(
    "pid, ext, directory", [(3, ".csv", False), (5, "", True), (1, ".fits", False)]
)
def test_main_file_info(client, pid, ext, directory) -> None:
    info = client.get(f"/api/products/{pid}/main_file_info/", headers=auth()).json()["main_file"]
    assert info["extension"] == ext and info["is_directory"] is directory
    assert info["n_rows"] > 0 and info["size"] > 0
    aliases = {c["alias"] for c in info["associated_columns"]}
    assert {"RA", "Dec", "z"} <= aliases
    if ext == ".csv":
        assert info["delimiter"] == "," and info["has_header"] is True and info["columns"]


def test_product_files_and_contents(client) -> None:
    h = auth("pz-user")
    files = client.get("/api/product-files/?product_id=8", headers=h).json()["results"]
    assert [f["role_name"] for f in files] == ["Main", "Auxiliary", "Auxiliary"] or {
        f["role_name"] for f in files
    } >= {"Main"}
    assert all(f["id"] // 1000 == 8 for f in files)
    assert [f["can_delete"] for f in files if f["role"] == 0] == [False]
    one = client.get(f"/api/product-files/{files[0]['id']}/", headers=h).json()
    assert one["name"] == files[0]["name"]
    contents = client.get("/api/product-contents/?product=3", headers=h).json()["results"]
    assert contents[0]["id"] == 300001
    assert {c["alias"] for c in contents if c["alias"]} >= {"RA", "Dec", "z"}


@pytest.mark.parametrize(
    "entity, query, noun",
    [
        ("releases", "", "Release"),
        ("pipelines", "", "Pipeline"),
        ("product-types", "", "ProductType"),
        ("product-files", "?product_id=8", "ProductFile"),
        ("product-contents", "?product=3", "ProductContent"),
    ],
)
def test_every_list_item_is_its_detail_and_unknown_ids_are_404(client, entity, query, noun):
    h = auth()
    items = client.get(f"/api/{entity}/{query}", headers=h).json()["results"]
    assert items
    for item in items:
        assert client.get(f"/api/{entity}/{item['id']}/", headers=h).json() == item
        same = client.get(f"/api/{entity}/?id={item['id']}", headers=h).json()["results"]
        assert same == [item]
    r = client.get(f"/api/{entity}/987654321/", headers=h)
    assert r.status_code == 404 and r.json()["detail"] == f"No {noun} matches the given query."
    bad = client.get(f"/api/{entity}/?colour=red", headers=h)
    assert bad.status_code == 400 and bad.json()["code"] == "api-unknown-filter"

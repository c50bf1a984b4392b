"""Downloads: tokens, cookies, signed links, ZIP streaming with Range, and nothing outside products/."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from ds_helpers import SyncClient

from pzcat.catalog import Catalog
from pzcat_datasette.serve import make_datasette
from pzcat_datasette.tokens import create_token, make_link, revoke_token, token_id

SPEC = "1_spec_z_sample"
MODEL = "3_trained_model"


@pytest.fixture
def client(built, secret):
    c = SyncClient(make_datasette(built))
    yield c
    c.close()


@pytest.fixture
def auth(secret):
    return {"Authorization": f"Bearer {create_token('bob', scope='download', expires='1h')}"}


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json() == {
        "error": {"code": code, "message": response.json()["error"]["message"]}
    }
    assert set(response.json()) == {"error"} and set(response.json()["error"]) == {
        "code",
        "message",
    }


# -- authorisation ---------------------------------------------------------------------------------


def test_no_token_is_401_json(client):
    r = client.get(f"/-/download/{SPEC}.zip")
    _error(r, 401, "token-missing")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_no_token_browser_gets_a_page(client):
    r = client.get(f"/-/download/{SPEC}.zip", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "/-/token" in r.text and "pzcat token create" in r.text and "julia-gschwend" in r.text


@pytest.mark.parametrize("kind", ["forged", "expired", "garbage", "other-secret"])
def test_bad_tokens_are_401(client, kind, monkeypatch):
    tok = create_token("bob", expires="1h")
    if kind == "forged":
        tok = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
    elif kind == "expired":
        tok = create_token("bob", expires="1s", now=1000)
    elif kind == "garbage":
        tok = "not a token"
    elif kind == "other-secret":
        monkeypatch.setenv("PZCAT_SECRET", "some-other-secret-123456")
        tok = create_token("bob", expires="1h")
        monkeypatch.setenv("PZCAT_SECRET", "test-secret-0123456789abcdef")
    r = client.get(f"/-/download/{SPEC}.zip", headers={"Authorization": f"Bearer {tok}"})
    _error(r, 401, "token-expired" if kind == "expired" else "token-invalid")


def test_revoked_token_is_401_without_restart(client, built, auth):
    assert client.get(f"/-/download/{SPEC}.zip", headers=auth).status_code == 200
    revoke_token(built.root, token_id(auth["Authorization"].split()[1]))
    _error(client.get(f"/-/download/{SPEC}.zip", headers=auth), 401, "token-revoked")


def test_read_scope_is_403(client):
    tok = create_token("bob", scope="read")
    _error(
        client.get(f"/-/download/{SPEC}.zip", headers={"Authorization": f"Bearer {tok}"}),
        403,
        "token-scope",
    )


def test_unknown_product_needs_auth_then_404(client, auth):
    _error(client.get("/-/download/99_nope.zip"), 401, "token-missing")
    _error(client.get("/-/download/99_nope.zip", headers=auth), 404, "download-not-found")
    _error(client.get("/-/download/whatever", headers=auth), 404, "download-not-found")


def test_signed_link(client):
    link = make_link(SPEC, "1h")
    r = client.get(f"/-/download/{SPEC}.zip?link={link}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert client.get(f"/-/download/{SPEC}/specz.parquet?link={link}").status_code == 200
    _error(client.get(f"/-/download/{MODEL}.zip?link={link}"), 401, "link-invalid")
    expired = make_link(SPEC, "1s", now=1000)
    _error(client.get(f"/-/download/{SPEC}.zip?link={expired}"), 401, "token-expired")
    _error(client.get(f"/-/download/{SPEC}.zip?link={link[:-3]}xyz"), 401, "link-invalid")


def test_signed_link_can_be_revoked(client, built):
    """`pzcat token revoke <link id>` is truthful: the link stops working at once."""
    from pzcat_datasette.tokens import link_id

    url = make_link(SPEC, "1h", base_url="http://x/")
    link = url.split("link=", 1)[1]
    assert client.get(f"/-/download/{SPEC}.zip?link={link}").status_code == 200
    assert revoke_token(built.root, url) == link_id(link)  # the whole URL, or the link, or its id
    _error(client.get(f"/-/download/{SPEC}.zip?link={link}"), 401, "token-revoked")
    _error(client.get(f"/-/download/{SPEC}/specz.parquet?link={link}"), 401, "token-revoked")


def test_non_latin1_file_name_downloads(client, built, auth):
    from pzcat_datasette.responses import content_disposition

    header = content_disposition("attachment", "données_名前.csv")
    header.encode("latin-1")
    assert "filename*=UTF-8''donn%C3%A9es_%E5%90%8D%E5%89%8D.csv" in header


def test_token_page_sets_a_signed_cookie(client):
    page = client.get("/-/token")
    assert page.status_code == 200 and 'name="token"' in page.text
    csrf = page.cookies.get("ds_csrftoken")
    tok = create_token("carol", expires="1h")
    r = client.post(
        "/-/token",
        data={"token": tok, "csrftoken": csrf, "next": f"/-/download/{SPEC}.zip"},
        cookies={"ds_csrftoken": csrf},
    )
    assert r.status_code == 302 and r.headers["location"] == f"/-/download/{SPEC}.zip"
    cookie = r.cookies.get("pzcat_token")
    assert cookie
    set_cookie = r.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
    ok = client.get(f"/-/download/{SPEC}.zip", cookies={"pzcat_token": cookie})
    assert ok.status_code == 200
    who = client.get("/-/token", cookies={"pzcat_token": cookie})
    assert "carol" in who.text and tok not in who.text
    _error(
        client.get(f"/-/download/{SPEC}.zip", cookies={"pzcat_token": cookie[:-2] + "xx"}),
        401,
        "token-invalid",
    )
    # the cookie must be signed by the server: a raw token in the cookie is refused
    _error(
        client.get(f"/-/download/{SPEC}.zip", cookies={"pzcat_token": tok}), 401, "token-invalid"
    )


def test_token_page_rejects_bad_token_and_open_redirect(client):
    page = client.get("/-/token")
    csrf = page.cookies.get("ds_csrftoken")
    r = client.post(
        "/-/token", data={"token": "nope", "csrftoken": csrf}, cookies={"ds_csrftoken": csrf}
    )
    assert (
        r.status_code == 401
        and "token-invalid" in r.text
        and "pzcat_token" not in r.headers.get("set-cookie", "")
    )
    tok = create_token("carol", expires="1h")
    r = client.post(
        "/-/token",
        data={"token": tok, "csrftoken": csrf, "next": "//evil.example/x"},
        cookies={"ds_csrftoken": csrf},
    )
    assert r.status_code == 302 and r.headers["location"] == "/"


# -- ZIP and Range ----------------------------------------------------------------------------------


def test_zip_holds_every_file_and_the_manifest(client, built, auth):
    r = client.get(f"/-/download/{SPEC}.zip", headers=auth)
    assert r.status_code == 200
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.headers["accept-ranges"] == "bytes" and r.headers["etag"]
    assert 'filename="1_spec_z_sample.zip"' in r.headers["content-disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.testzip() is None
    assert sorted(z.namelist()) == sorted(
        [f"{SPEC}/specz.parquet", f"{SPEC}/readme.html", f"{SPEC}/product_metadata.yaml"]
    )
    pdir = built.root / "products" / SPEC
    assert z.read(f"{SPEC}/specz.parquet") == (pdir / "specz.parquet").read_bytes()
    assert z.read(f"{SPEC}/product_metadata.yaml") == built.manifest_path(SPEC).read_bytes()
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())


def test_head_gives_the_size_without_a_body(client, auth):
    full = client.get(f"/-/download/{SPEC}.zip", headers=auth)
    head = client.head(f"/-/download/{SPEC}.zip", headers=auth)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == full.headers["content-length"]
    assert head.headers["etag"] == full.headers["etag"]


def test_ranges_resume_to_the_same_bytes(client, auth):
    full = client.get(f"/-/download/{SPEC}.zip", headers=auth).content
    n = len(full)
    parts, start = [], 0
    for size in (1, 29, 1000, 7, 30_000):
        end = min(start + size, n) - 1
        r = client.get(f"/-/download/{SPEC}.zip", headers={**auth, "Range": f"bytes={start}-{end}"})
        assert r.status_code == 206 and r.headers["content-range"] == f"bytes {start}-{end}/{n}"
        assert int(r.headers["content-length"]) == end - start + 1
        parts.append(r.content)
        start = end + 1
        if start >= n:
            break
    if start < n:
        r = client.get(f"/-/download/{SPEC}.zip", headers={**auth, "Range": f"bytes={start}-"})
        assert r.status_code == 206
        parts.append(r.content)
    assert b"".join(parts) == full
    tail = client.get(f"/-/download/{SPEC}.zip", headers={**auth, "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == full[-100:]


def test_if_range_and_bad_ranges(client, auth):
    full = client.get(f"/-/download/{SPEC}.zip", headers=auth)
    etag, n = full.headers["etag"], len(full.content)
    r = client.get(
        f"/-/download/{SPEC}.zip", headers={**auth, "Range": "bytes=10-19", "If-Range": etag}
    )
    assert r.status_code == 206 and r.content == full.content[10:20]
    r = client.get(
        f"/-/download/{SPEC}.zip", headers={**auth, "Range": "bytes=10-19", "If-Range": '"old"'}
    )
    assert r.status_code == 200 and r.content == full.content
    r = client.get(f"/-/download/{SPEC}.zip", headers={**auth, "Range": f"bytes={n}-"})
    _error(r, 416, "bad-range")
    r = client.get(f"/-/download/{SPEC}.zip", headers={**auth, "Range": "bytes=0-1,5-6"})
    assert r.status_code == 200  # several ranges: the whole body


def test_single_files(client, built, auth):
    r = client.get(f"/-/download/{SPEC}/specz.parquet", headers=auth)
    assert r.status_code == 200
    assert r.content == (built.root / "products" / SPEC / "specz.parquet").read_bytes()
    r = client.get(f"/-/download/{SPEC}/specz.parquet", headers={**auth, "Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == b"PAR1"
    r = client.get(f"/-/download/{SPEC}/product_metadata.yaml", headers=auth)
    assert r.status_code == 200 and r.content == built.manifest_path(SPEC).read_bytes()
    _error(client.get(f"/-/download/{SPEC}/nope.csv", headers=auth), 404, "download-not-found")
    _error(client.get(f"/-/download/{SPEC}/specz.parquet"), 401, "token-missing")


def test_etag_changes_when_the_product_changes(client, built, auth):
    first = client.get(f"/-/download/{MODEL}.zip", headers=auth).headers["etag"]
    path = built.manifest_path(MODEL)
    path.write_text(path.read_text().replace("\nversion: 1\n", "\nversion: 2\n"))
    second = client.get(f"/-/download/{MODEL}.zip", headers=auth)
    assert second.status_code == 200 and second.headers["etag"] != first
    assert b"version: 2" in zipfile.ZipFile(io.BytesIO(second.content)).read(
        f"{MODEL}/product_metadata.yaml"
    )


def test_zip64_layout_is_read_by_zipfile(built, monkeypatch, tmp_path):
    import pzcat.bundle as bundle

    monkeypatch.setattr(bundle, "ZIP64_LIMIT", 100)
    plan = bundle.zip_plan(built, built.get(SPEC), bundle.CrcCache(tmp_path / "crc.json"))
    data = b"".join(
        b"".join(bundle.read_piece(s, o, n)) for s, o, n in plan.pieces(0, plan.size - 1)
    )
    assert len(data) == plan.size
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.testzip() is None
    assert (
        z.read(f"{SPEC}/specz.parquet")
        == (built.root / "products" / SPEC / "specz.parquet").read_bytes()
    )


def test_crc_cache_is_keyed_by_sha256(built, tmp_path):
    import json

    from pzcat.bundle import CrcCache, zip_plan

    cache_path = tmp_path / "crc.json"
    zip_plan(built, built.get(SPEC), CrcCache(cache_path))
    data = json.loads(cache_path.read_text())
    sha = built.get(SPEC).main_file.sha256
    assert f"sha256:{sha}" in data


# -- nothing outside products/ -----------------------------------------------------------------------

TRAVERSALS = [
    f"/-/download/{SPEC}/../../catalog.yaml",
    f"/-/download/{SPEC}/%2e%2e/%2e%2e/catalog.yaml",
    f"/-/download/{SPEC}/%2E%2E%2F%2E%2E%2Fcatalog.yaml",
    f"/-/download/{SPEC}/..%2f..%2fcatalog.yaml",
    f"/-/download/{SPEC}/..%5c..%5ccatalog.yaml",
    f"/-/download/{SPEC}/%252e%252e/%252e%252e/catalog.yaml",
    f"/-/download/{SPEC}//etc/passwd",
    f"/-/download/{SPEC}/%2fetc%2fpasswd",
    f"/-/download/{SPEC}/./specz.parquet/../../../catalog.yaml",
    f"/-/download/{SPEC}/specz.parquet%00.yaml",
    "/-/download/../catalog.yaml",
    "/-/download/%2e%2e/catalog.yaml",
    "/-/download/..%2fmanifests%2f1_spec_z_sample.yaml",
    f"/-/download/{SPEC}/../{MODEL}/model.pkl",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_never_escapes(client, auth, path):
    r = client.raw(path, headers=auth)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert b"product_types" not in r.content and b"root:" not in r.content
    assert b"pickle" not in r.content


def test_symlink_inside_product_is_refused(client, built, auth, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("TOP SECRET")
    link = built.root / "products" / MODEL / "notes.txt"
    link.unlink()
    link.symlink_to(secret_file)
    r = client.get(f"/-/download/{MODEL}/notes.txt", headers=auth)
    _error(r, 404, "download-unavailable")
    r = client.get(f"/-/download/{MODEL}.zip", headers=auth)
    _error(r, 404, "download-unavailable")
    assert b"TOP SECRET" not in r.content


def test_symlinked_product_folder_is_refused(client, built, auth, tmp_path):
    pdir = built.root / "products" / MODEL
    moved = tmp_path / "elsewhere"
    os.rename(pdir, moved)
    pdir.symlink_to(moved, target_is_directory=True)
    _error(client.get(f"/-/download/{MODEL}.zip", headers=auth), 404, "download-unavailable")
    _error(client.get(f"/-/download/{MODEL}/model.pkl", headers=auth), 404, "download-unavailable")


def test_manifest_path_outside_its_folder_is_refused(client, built, auth):
    path = built.manifest_path(MODEL)
    text = path.read_text().replace(f"products/{MODEL}/notes.txt", f"products/{SPEC}/specz.parquet")
    path.write_text(text)
    Catalog.open(built.root)
    _error(client.get(f"/-/download/{MODEL}.zip", headers=auth), 404, "download-unavailable")
    r = client.get(f"/-/download/{MODEL}/specz.parquet", headers=auth)
    assert r.status_code == 404


def test_missing_secret_is_a_coded_500(client, auth, monkeypatch):
    monkeypatch.delenv("PZCAT_SECRET")
    _error(client.get(f"/-/download/{SPEC}.zip", headers=auth), 500, "token-secret-missing")
    _error(client.get(f"/-/download/{SPEC}.zip"), 401, "token-missing")

"""Downloads of /api/: prepare, status and the signed file URL (ZIP and main file), Range resume."""

from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import urlsplit

import pytest
from api_helpers import auth


def _url(client, pid: int, main: bool = False) -> str:
    kind = "main-file/" if main else ""
    r = client.post(f"/api/products/{pid}/download/{kind}prepare/", headers=auth(), json=None)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["size"] > 0 and body["expired_time"]
    status = client.get(f"/api/products/{pid}/download/{kind}status/", headers=auth()).json()
    assert status["status"] == "ready"
    url = urlsplit(body["download_url"])
    assert url.path == f"/api/products/{pid}/download/{kind}file/"
    return f"{url.path}?{url.query}"


def test_product_zip_has_the_metadata_at_its_root(client) -> None:
    r = client.get(_url(client, 8))
    assert r.status_code == 200
    assert 'filename="8_bpz_validation_on_ecdfs.zip"' in r.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "product_metadata.yaml" in names
    assert {"bpz_validation_metrics.csv", "validation_report.html", "zphot_vs_zspec.png"} <= set(
        names
    )


@pytest.mark.parametrize(
    "pid, name", [(1, "vvds_final_release_sample.fits"), (3, "desi_dr1_dp1_fields_sample.csv")]
)
def test_main_file_alone_under_its_name_same_bytes(client, api_root, pid, name) -> None:
    r = client.get(_url(client, pid, main=True))
    assert r.status_code == 200 and f'filename="{name}"' in r.headers["content-disposition"]
    same = client.get(
        f"/-/download/{pid}_{_slug(api_root, pid)}/{name}", headers=auth(scheme="Bearer")
    )
    assert same.status_code == 200 and same.content == r.content


def _slug(root, pid: int) -> str:
    return next(p.stem for p in (root / "manifests").glob(f"{pid}_*.yaml")).split("_", 1)[1]


def test_hats_main_file_is_a_zip_of_its_folder(client) -> None:
    r = client.get(_url(client, 5, main=True))
    assert 'filename="elaiss1_hats.zip"' in r.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert names and all(n.startswith("elaiss1_hats/") for n in names)
    assert any(n.endswith("properties") for n in names)


@pytest.mark.parametrize("pid, main", [(8, False), (5, True), (3, True)])
def test_checksum_is_the_sha256_of_the_bytes_sent(client, api_root, pid, main, monkeypatch) -> None:
    """ZIPs (the product's, a HATS folder's) and main files: checksum = SHA-256 of file/'s body."""
    kind = "main-file/" if main else ""
    body = client.post(f"/api/products/{pid}/download/{kind}prepare/", headers=auth()).json()
    got = client.get(_url(client, pid, main=main)).content
    assert body["checksum"] == hashlib.sha256(got).hexdigest()
    if not main or pid == 5:  # a ZIP: kept by ETag, read back by the next server process
        from pzcat_datasette.api import downloads

        kept = downloads.Checksums(api_root / "build" / "api" / "archive-sha256.json")
        assert body["checksum"] in kept.known.values()
        monkeypatch.setattr(downloads.Checksums, "compute", None)  # no second reading
        again = client.get(f"/api/products/{pid}/download/{kind}status/", headers=auth()).json()
        assert again["checksum"] == body["checksum"]


def test_big_archives_get_their_checksum_in_the_background(client, monkeypatch) -> None:
    import time

    from pzcat_datasette.api import downloads

    monkeypatch.setattr(downloads, "SYNC_CHECKSUM_BYTES", 0)
    first = client.post("/api/products/8/download/prepare/", headers=auth()).json()
    assert first["status"] == "ready" and first["checksum"] is None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        later = client.get("/api/products/8/download/status/", headers=auth()).json()
        if later["checksum"]:
            break
        time.sleep(0.1)
    got = client.get(_url(client, 8)).content
    assert later["checksum"] == hashlib.sha256(got).hexdigest()


def test_range_resume(client) -> None:
    url = _url(client, 3, main=True)
    whole = client.get(url).content
    part = client.get(url, headers={"Range": "bytes=100-"})
    assert part.status_code == 206 and part.content == whole[100:]
    assert part.headers["content-range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"


def test_forged_expired_and_missing_tokens(client) -> None:
    from pzcat_datasette.tokens import make_link

    base = "/api/products/3/download/file/"
    r = client.get(base)
    assert r.status_code == 403 and r.json()["detail"] == "Missing download token."
    r = client.get(base + "?token=pzl1.forged.x")
    assert r.status_code == 403 and r.json()["code"] == "link-invalid"
    other = make_link("1_vvds_final_release_sample", "1h")
    assert client.get(base + f"?token={other}").json()["code"] == "link-invalid"
    old = make_link("3_desi_dr1_in_dp1_fields_sample", 60, now=0)
    r = client.get(base + f"?token={old}")
    assert r.status_code == 403 and r.json()["detail"] == "Download token has expired."
    assert client.post("/api/products/99/download/prepare/", headers=auth()).status_code == 404

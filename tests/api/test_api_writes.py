"""Writes through /api/, the Git way: a branch per submission, commits as the token's user, pushed
to a real remote; a pull request opened on a loopback stand-in of GitHub's API; bad input refused."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from api_helpers import auth

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "examples"


def _git(cwd, *args) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def remote(api_root, tmp_path):
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    _git(api_root, "remote", "add", "origin", str(bare))
    return bare


@pytest.fixture
def github(monkeypatch):
    """A loopback HTTP server standing in for GitHub's pulls API."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            seen.append((self.path, self.headers["authorization"], body))
            out = json.dumps({"html_url": "https://github.example/lsst-pz/pzcat/pull/7"}).encode()
            self.send_response(201)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PZCAT_GITHUB_REPO", "lsst-pz/pzcat")
    monkeypatch.setenv("PZCAT_GITHUB_TOKEN", "gh-test-token")
    monkeypatch.setenv("PZCAT_GITHUB_API", f"http://127.0.0.1:{server.server_port}")
    yield seen
    server.shutdown()


def _upload(client, h, name="upload example", ptype=1):
    r = client.post(
        "/api/products/",
        headers=h,
        json={
            "display_name": name,
            "product_type": ptype,
            "release": None,
            "official_product": False,
            "pz_code": None,
            "description": "first",
            "status": 0,
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    for role, fname in ((0, "upload_example.csv"), (2, "upload_example.html")):
        with open(EXAMPLES / fname, "rb") as fh:
            r = client.post(
                "/api/product-files/",
                headers=h,
                data={"product": pid, "role": role},
                files={"file": (fname, fh)},
            )
        assert r.status_code == 201, r.text
    assert client.get(f"/api/products/{pid}/registry/", headers=h).status_code == 200
    return pid


def test_upload_is_a_pushed_branch_with_a_pull_request(client, api_root, remote, github) -> None:
    h = auth("alice", scope="write")
    pid = _upload(client, h)
    rec = client.get(f"/api/products/{pid}/", headers=h).json()
    assert rec["status"] == 0 and rec["product_status"] == "Registering" and rec["is_owner"]
    contents = client.get(f"/api/product-contents/?product={pid}", headers=h).json()["results"]
    ids = {c["column_name"]: c["id"] for c in contents}
    for col, alias in (("RA", "RA"), ("DEC", "Dec"), ("Z", "z")):
        r = _patch(client, f"/api/product-contents/{ids[col]}/", h, {"alias": alias, "ucd": ""})
        assert r.status_code == 200 and r.json()["alias"] == alias
    r = _patch(client, f"/api/products/{pid}/", h, {"status": "1"})
    assert r.status_code == 200 and r.json()["product_status"] == "Registering"
    branch = f"pzcat-api/{pid}-alice"
    log = _git(remote, "log", branch, "--format=%an|%s")
    assert log.splitlines()[0] == f"alice|Add product {pid}_upload_example"
    manifest = _git(remote, "show", f"{branch}:manifests/{pid}_upload_example.yaml")
    assert "uploaded_by: alice" in manifest and "column: DEC" in manifest
    assert github and github[0][0] == "/repos/lsst-pz/pzcat/pulls"
    assert github[0][2]["head"] == branch and github[0][1] == "Bearer gh-test-token"
    # the served checkout is untouched
    assert not (api_root / "manifests" / f"{pid}_upload_example.yaml").exists()
    assert _git(api_root, "status", "--porcelain", "--", "manifests", "products") == ""
    # description, then delete = deprecate, on the same branch
    assert _patch(client, f"/api/products/{pid}/", h, {"description": "second"}).status_code == 200
    assert client.get(f"/api/products/{pid}/", headers=h).json()["description"] == "second"
    assert _delete(client, f"/api/products/{pid}/", h).status_code == 204
    assert client.get(f"/api/products/{pid}/", headers=h).json()["product_status"] == "Deleted"
    subjects = _git(remote, "log", branch, "--format=%s").splitlines()
    assert subjects[:2] == [
        f"Deprecate {pid}_upload_example",
        f"Edit {pid}_upload_example (description)",
    ]


def _patch(client, path, headers, data):
    return client.loop.run_until_complete(
        client.ds.client.request("PATCH", path, headers=headers, data=data)
    )


def _delete(client, path, headers):
    return client.loop.run_until_complete(client.ds.client.request("DELETE", path, headers=headers))


def test_save_without_required_columns_answers_406(client, remote) -> None:
    h = auth("alice", scope="write")
    pid = _upload(client, h)
    contents = client.get(f"/api/product-contents/?product={pid}", headers=h).json()["results"]
    z = next(c["id"] for c in contents if c["column_name"] == "Z")
    assert _patch(client, f"/api/product-contents/{z}/", h, {"alias": ""}).status_code == 200
    r = _patch(client, f"/api/products/{pid}/", h, {"status": "1"})
    assert r.status_code == 406 and r.json()["code"] == "api-missing-columns"


def test_edit_of_a_published_product_is_a_branch(client, api_root, remote) -> None:
    h = auth("pz-user", scope="write")
    assert _patch(client, "/api/products/9/", h, {"description": "better"}).status_code == 200
    assert "description: better" in _git(
        remote, "show", "pzcat-api/9-pz-user:manifests/9_bpz_estimates_for_ecdfs_objects.yaml"
    )
    files = client.get("/api/product-files/?product_id=8", headers=auth("pz-user")).json()[
        "results"
    ]
    aux = next(f for f in files if f["role"] == 2)
    assert (
        _delete(
            client, f"/api/product-files/{aux['id']}/", auth("pz-user", scope="write")
        ).status_code
        == 204
    )
    shown = _git(remote, "show", "pzcat-api/8-pz-user:manifests/8_bpz_validation_on_ecdfs.yaml")
    assert aux["name"] not in shown


def _snapshot(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and "build" not in p.parts
    }


@pytest.mark.parametrize("case", ["other-user", "read-token", "official", "not-admin-official"])
def test_changes_refused_without_the_right(client, api_root, remote, case) -> None:
    before = _snapshot(api_root)
    if case == "other-user":
        r = _patch(client, "/api/products/9/", auth("mallory", scope="write"), {"description": "x"})
        assert r.status_code == 403 and r.json()["code"] == "api-not-owner"
        r = _delete(client, "/api/products/9/", auth("mallory", scope="write"))
        assert r.status_code == 403 and r.json()["code"] == "api-not-owner"
    elif case == "read-token":
        r = _delete(client, "/api/products/9/", auth("pz-user", scope="download"))
        assert r.status_code == 403 and r.json()["code"] == "token-scope"
    elif case == "official":
        r = client.post(
            "/api/products/",
            headers=auth("alice", scope="write"),
            json={"display_name": "x", "product_type": 1, "official_product": True},
        )
        assert r.status_code == 403 and r.json()["code"] == "official-not-admin"
    else:
        r = _patch(
            client, "/api/products/9/", auth("pz-user", scope="write"), {"official_product": "true"}
        )
        assert r.status_code == 403 and r.json()["code"] == "official-not-admin"
    assert _snapshot(api_root) == before
    assert _git(remote, "branch", "--list") == ""


@pytest.mark.parametrize(
    "filename, code, status",
    [
        ("../evil.csv", "api-bad-file-name", 400),
        ("sub/dir.csv", "api-bad-file-name", 400),
        (".hidden", "api-bad-file-name", 400),
    ],
)
def test_bad_file_names(client, api_root, filename, code, status) -> None:
    h = auth("alice", scope="write")
    pid = client.post(
        "/api/products/", headers=h, json={"display_name": "n", "product_type": 1}
    ).json()["id"]
    r = client.post(
        "/api/product-files/",
        headers=h,
        data={"product": pid, "role": 0},
        files={"file": (filename, b"a,b\n1,2\n")},
    )
    assert r.status_code == status and r.json()["code"] == code
    assert not any((api_root / "build" / "api" / "uploads").rglob("*.csv"))


def test_oversized_upload(client, api_root) -> None:
    import yaml

    cfg = yaml.safe_load((api_root / "catalog.yaml").read_text())
    cfg["limits"]["max_file_bytes"] = 1000
    (api_root / "catalog.yaml").write_text(yaml.safe_dump(cfg))
    h = auth("alice", scope="write")
    pid = client.post(
        "/api/products/", headers=h, json={"display_name": "n", "product_type": 1}
    ).json()["id"]
    r = client.post(
        "/api/product-files/",
        headers=h,
        data={"product": pid, "role": 0},
        files={"file": ("big.csv", b"x" * 5000)},
    )
    assert r.status_code == 413 and r.json()["code"] == "api-upload-too-large"
    assert not any((api_root / "build" / "api" / "uploads").rglob("big.csv"))


def test_foreign_ids(client) -> None:
    h = auth("pz-user", scope="write")
    assert client.get("/api/products/4242/", headers=h).json()["code"] == "product-not-found"
    assert _delete(client, "/api/product-files/9999/", h).status_code == 404
    assert _patch(client, "/api/product-contents/999999999/", h, {"alias": "z"}).status_code == 404

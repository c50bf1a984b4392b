"""Sign in with GitHub end to end: a real `pzcat serve` on a random port, a loopback stand-in of
GitHub's OAuth and API endpoints (their base URLs set in catalog.yaml), a real headless Chromium.

A member of an allowed organisation signs in from a product page, lands on her tokens page (who
and until when), makes a token, copies it; the token downloads, reads the API and is revoked; a
user outside the allowed organisations, teams and users is refused; an admin revokes anyone's
token; signing out returns to the page the user came from. Screenshots: test-artifacts/signin/.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from browser_csp import no_inline_scripts, watch_console
from chromium import launch, requires_chromium
from demo_server import demo_server
from fake_github import FakeGitHub

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "signin"
CLIENT_ID, CLIENT_SECRET = "Iv1.test-client", "test-client-secret"
PRODUCT = "6_dp1_ecdfs_training_set"

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def github():
    with FakeGitHub(
        CLIENT_ID,
        CLIENT_SECRET,
        orgs={"carol": ["lsst-pz"], "mallory": ["elsewhere"], "dave": []},
        teams={"dave": ["lsst/pz-wg"]},
    ) as fake:
        yield fake


@pytest.fixture(scope="module")
def demo(tmp_path_factory, github):
    def edit(root: Path) -> None:
        path = root / "catalog.yaml"
        config = yaml.safe_load(path.read_text())
        config["access"] = {
            "github": {
                "client_id": CLIENT_ID,
                "oauth_url": github.url,
                "api_url": github.url,
                "orgs": ["lsst-pz"],
                "teams": ["lsst/pz-wg"],
                "users": ["julia-gschwend"],
            }
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))

    with demo_server(
        tmp_path_factory.mktemp("signin"),
        edit=edit,
        extra_env={"PZCAT_GITHUB_CLIENT_SECRET": CLIENT_SECRET},
    ) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _sign_in(browser, demo, github, user: str, start: str, problems: list[str] | None = None):
    github.next_user = user
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.url.rstrip("/"))
    page = context.new_page()
    if problems is not None:
        watch_console(page, problems)
    page.goto(start)
    page.click("a.pz-signin")
    page.wait_for_url("**/-/tokens?next=*")
    page.click("#pz-signin")  # -> GitHub (stand-in) -> callback -> back
    page.wait_for_load_state()
    return context, page


def test_sign_in_make_use_and_revoke_a_token(demo, github, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    product_page = demo.site + f"product/{PRODUCT}/"
    problems: list[str] = []
    context, page = _sign_in(browser, demo, github, "carol", product_page, problems)
    assert "/-/tokens?next=" in page.url
    assert {
        "GET /login/oauth/authorize",
        "POST /login/oauth/access_token",
        "GET /user",
        "GET /user/orgs",
    } <= set(github.requests)
    who = page.locator("#pz-who").inner_text()
    assert "Signed in as carol" in who and "until" in who and "UTC" in who
    # the session itself downloads in this browser
    resp = context.request.get(demo.url + f"-/download/{PRODUCT}.zip")
    assert resp.status == 200 and resp.body()[:2] == b"PK"

    page.select_option("#scope", "download")
    page.select_option("#days", "7")
    page.fill("#note", "laptop")
    page.click("#pz-create input[type=submit]")
    page.wait_for_load_state()
    token = page.input_value("#pz-token")
    assert token.startswith("pzc1.")
    # Copy puts the token on the clipboard (the handler is a static script: the CSP runs no
    # inline onclick), with no CSP violation or error in the console
    csp = context.request.get(demo.url + "-/tokens").headers["content-security-policy"]
    assert no_inline_scripts(csp), csp
    page.click("#pz-copy")
    for _ in range(50):
        if page.locator("#pz-copy").inner_text() == "Copied":
            break
        page.wait_for_timeout(100)
    assert page.locator("#pz-copy").inner_text() == "Copied"
    assert page.evaluate("() => navigator.clipboard.readText()") == token
    assert not problems, "\n".join(problems)
    row = page.locator("#pz-mine tbody tr").first
    assert (
        "download" in row.inner_text()
        and "active" in row.inner_text()
        and "laptop" in row.inner_text()
    )
    page.screenshot(path=str(ARTIFACTS / "01-tokens.png"), full_page=True)
    assert token not in (demo.root / "tokens" / "issued.yaml").read_text()  # ids only

    # the same token works for downloads, the API and the Python client
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=demo.url, timeout=30) as http:
        assert http.get(f"/-/download/{PRODUCT}.zip", headers=auth).status_code == 200
        assert http.get("/api/product-types", headers=auth).status_code == 200
        from pzcat.client import PzCatalog

        data = PzCatalog(demo.site, token=token).get_product(PRODUCT).data
        assert data is not None and len(data) == 5000

        # revoke it: it stops working at once
        tid = row.get_attribute("data-id")
        row.locator("input[value=Revoke]").click()
        page.wait_for_load_state()
        assert f"Token {tid} revoked." in page.locator("#pz-message").inner_text()
        gone = http.get(f"/-/download/{PRODUCT}.zip", headers=auth)
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "token-revoked"

    # sign out: back to the product page, no longer signed in
    page.goto(demo.url + "-/tokens?next=" + f"/site/product/{PRODUCT}/")
    page.click("#pz-signout")
    page.wait_for_url(f"**/site/product/{PRODUCT}/")
    assert (
        context.request.get(
            demo.url + f"-/download/{PRODUCT}.zip", headers={"accept": "application/json"}
        ).status
        == 401
    )
    context.close()


def test_who_may_get_in(demo, github, browser) -> None:
    # a member of an allowed team gets in; someone of another organisation does not
    context, page = _sign_in(browser, demo, github, "dave", demo.site + f"product/{PRODUCT}/")
    assert "Signed in as dave" in page.locator("#pz-who").inner_text()
    context.close()
    context, page = _sign_in(browser, demo, github, "mallory", demo.site + f"product/{PRODUCT}/")
    assert "auth-not-allowed" in page.content()
    page.screenshot(path=str(ARTIFACTS / "02-not-allowed.png"))
    assert (
        context.request.get(
            demo.url + f"-/download/{PRODUCT}.zip", headers={"accept": "application/json"}
        ).status
        == 401
    )
    context.close()
    # a callback that did not start here is refused
    with httpx.Client(base_url=demo.url, timeout=30) as http:
        resp = http.get(
            "/-/auth/callback?code=x&state=forged", headers={"accept": "application/json"}
        )
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "auth-github-failed"


def test_admin_revokes_anyones_token(demo, github, browser) -> None:
    context, page = _sign_in(browser, demo, github, "carol", demo.site)
    page.click("#pz-create input[type=submit]")
    page.wait_for_load_state()
    token = page.input_value("#pz-token")
    context.close()
    context, page = _sign_in(browser, demo, github, "julia-gschwend", demo.site)
    assert "(admin)" in page.locator("#pz-who").inner_text()
    others = page.locator("#pz-others tbody tr", has_text="carol").filter(has_text="active")
    others.first.locator("input[value=Revoke]").click()
    page.wait_for_load_state()
    assert "revoked" in page.locator("#pz-message").inner_text()
    page.screenshot(path=str(ARTIFACTS / "03-admin.png"), full_page=True)
    context.close()
    resp = httpx.get(
        demo.url + f"-/download/{PRODUCT}.zip",
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "token-revoked"


def test_tokens_made_with_the_cli_are_listed_and_revocable(demo, github, browser) -> None:
    """An admin's `pzcat token create` shows at /-/tokens, for its user and for the admins."""
    token = demo.token("dave", scope="read")
    context, page = _sign_in(browser, demo, github, "julia-gschwend", demo.site)
    admin_row = page.locator("#pz-others tbody tr", has_text="dave").filter(has_text="active")
    assert admin_row.count() >= 1
    context.close()
    context, page = _sign_in(browser, demo, github, "dave", demo.site)
    mine = page.locator("#pz-mine tbody tr").filter(has_text="active").filter(has_text="made by")
    assert mine.count() == 1 and "read" in mine.first.inner_text()
    tid = mine.first.get_attribute("data-id")
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(demo.url + "api/product-types", headers=auth, timeout=30).status_code == 200
    page.screenshot(path=str(ARTIFACTS / "04-cli-token-listed.png"), full_page=True)
    mine.first.locator("input[value=Revoke]").click()
    page.wait_for_load_state()
    assert f"Token {tid} revoked." in page.locator("#pz-message").inner_text()
    gone = httpx.get(demo.url + "api/product-types", headers=auth, timeout=30)
    assert gone.status_code == 401
    context.close()

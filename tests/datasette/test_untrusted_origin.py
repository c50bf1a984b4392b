"""Untrusted HTML runs at an opaque origin, even opened on its own, in a real Chromium.

A product's ``description.html`` is served from the origin that holds the sign-in cookie and the
cookie-authenticated downloads, so it is served with ``Content-Security-Policy: sandbox`` (no
``allow-same-origin``, no ``allow-scripts``). The test builds the site of a small catalog, serves
it with a real ``pzcat serve`` on 127.0.0.1, signs a browser in through ``/-/token``, then puts
an unsanitised description in the served folder (a script that slipped through the sanitiser)
and opens it at top level: nothing of it runs, and code evaluated in that document (by the
browser's debugger protocol, which no page can stop) sees the origin ``"null"``, cannot read
cookies and cannot make a credentialed request: the signed-in download it asks for is refused
(``connect-src`` is ``'none'``), while the same request from the catalog's own page succeeds,
and the one request the page can make (an image) goes out without the sign-in cookie, as from
another site. The product page still shows the description in its iframe (screenshots in
``test-artifacts/hostile/``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chromium import launch, requires_chromium
from demo_server import start_serve
from ds_catalog import SECRET, make_catalog

from pzcat_datasette.launch import stop_serve
from pzcat_datasette.tokens import create_token

pytestmark = requires_chromium

SPEC = "1_spec_z_sample"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "hostile"
SLIPPED = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<h1 id="title">Spec Z description</h1>
<script>document.title = "RAN"; fetch("/beacon/script?c=" + encodeURIComponent(document.cookie));
</script>
<img src="/beacon/missing.png" onerror="fetch('/beacon/onerror')">
<a id="go" href="javascript:fetch('/beacon/link')">a link</a>
</body></html>"""
PROBE = """async () => {
  const out = {origin: self.origin};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = "refused: " + e.name; }
  try {
    const r = await fetch("/-/download/SPEC/product_metadata.yaml", {credentials: "include"});
    out.download = r.status;
  } catch (e) { out.download = "refused: " + e.name; }
  try {
    const r = await fetch("/-/actor.json", {credentials: "include"});
    out.actor = (await r.json()).actor;
  } catch (e) { out.actor = "refused: " + e.name; }
  return out;
}""".replace("SPEC", SPEC)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from pzcat_datasette.previews import build_previews
    from site_builder.build import build_site

    root = tmp_path_factory.mktemp("origin") / "repo"
    catalog = make_catalog(root)
    build_previews(catalog)
    build_site(catalog, root / "build" / "site", strict=False, work_dir=root / "work")
    log = root / "server.log"
    env = {**os.environ, "PZCAT_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    proc, url = start_serve(root, env, log, "--quiet")
    yield url, root
    stop_serve(proc)  # terminate, then kill
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_untrusted_html_runs_at_an_opaque_origin(server) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url, root = server
    old = os.environ.get("PZCAT_SECRET")
    os.environ["PZCAT_SECRET"] = SECRET
    try:
        token = create_token("erin", expires="1h")
    finally:
        if old is None:
            os.environ.pop("PZCAT_SECRET", None)
        else:
            os.environ["PZCAT_SECRET"] = old
    description = root / "build" / "site" / "product" / SPEC / "description.html"
    assert description.is_file()  # the builder wrote the sanitised copy
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    seen: list = []  # every request the browser made
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.on("request", lambda r: seen.append(r))
            page.goto(url + "-/token")
            page.fill("textarea[name=token]", token)
            page.click("input[type=submit][value='Use this token']")
            page.wait_for_load_state()
            assert any(c["name"] == "pzcat_token" for c in page.context.cookies())

            # the product page: the (sanitised) description in its sandboxed iframe
            page.goto(url + f"site/product/{SPEC}/")
            frame_el = page.wait_for_selector("iframe.pz-desc-frame")
            frame_el.scroll_into_view_if_needed()
            frame = frame_el.content_frame()
            assert frame is not None
            frame.wait_for_selector("h1")
            assert "Spec Z" in frame.inner_text("h1")
            page.screenshot(
                path=str(ARTIFACTS / "01-product-description-iframe.png"), full_page=True
            )

            # control: the catalog's own page is signed in and reads its cookies
            own = page.evaluate(PROBE)
            assert own["origin"] == url.rstrip("/"), own
            assert own["download"] == 200 and own["actor"] is not None, own
            assert "ds_csrftoken" in own["cookie"] or own["cookie"] == "", own

            # a description that slipped through the sanitiser, opened at top level
            description.write_text(SLIPPED, encoding="utf-8")
            seen.clear()
            page.goto(url + f"site/product/{SPEC}/description.html")
            page.wait_for_timeout(500)
            page.click("#go", no_wait_after=True)
            page.wait_for_timeout(300)
            assert page.title() != "RAN"
            assert "Spec Z description" in page.inner_text("#title")
            beacons = [r.url for r in seen if "/beacon/" in r.url]
            beacons = [u for u in beacons if not u.endswith("missing.png")]
            assert beacons == [], beacons  # no script, handler or script link ran
            page.screenshot(path=str(ARTIFACTS / "02-description-top-level.png"))
            probe = page.evaluate(PROBE)
            assert probe["origin"] == "null", probe
            assert str(probe["cookie"]).startswith("refused"), probe
            assert probe["download"] != 200, probe  # refused (CORS) or 401, never the file
            assert probe["actor"] is None or str(probe["actor"]).startswith("refused"), probe
            # the one request the page may make (an image: img-src 'self') goes out as from
            # another site: no sign-in cookie (SameSite=Lax), whatever the page asks
            asked = [r.all_headers() for r in seen if r.url.endswith("/beacon/missing.png")]
            assert asked, [r.url for r in seen]
            for headers in asked:
                assert "pzcat_token" not in headers.get("cookie", ""), headers
        finally:
            browser.close()

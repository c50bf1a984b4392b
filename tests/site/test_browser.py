"""End to end in a real headless Chromium: the built site served on loopback by http.server.

Searches, filters by type, opens a product page, checks the preview, the plots and the download
link, and that the browser console stays free of errors. Screenshots go to test-artifacts/site/.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from chromium import launch, requires_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "site"

pytestmark = requires_chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(built_site):
    out, _ = built_site
    handler = functools.partial(_Quiet, directory=str(out.parent))   # the site lives under /site/
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/site/"
    httpd.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def test_search_filter_open_product(server: str, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    # ERR_ABORTED: a request still in flight when the test navigates on (favicon, search worker)
    page.on("requestfailed", lambda req: None if "ERR_ABORTED" in (req.failure or "")
            else errors.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

    # landing page: the three cards
    page.goto(server)
    cards = page.locator(".grid.cards")
    for title in ("Official products", "User products", "Pipelines"):
        assert cards.get_by_text(title, exact=True).count() == 1
    page.screenshot(path=str(ARTIFACTS / "01-landing.png"), full_page=True)

    # the list: 4 products, then a search over descriptions and column names
    page.goto(server + "products/")
    rows = page.locator("#pz-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4
    page.fill("#pz-search", "magnitudes")              # in a description only
    assert rows.count() == 1 and "ECDFS training set" in rows.first.inner_text()
    page.fill("#pz-search", "tie_result")              # a column name only
    assert rows.count() == 1 and "Combined redshifts" in rows.first.inner_text()
    assert parse_qs(urlparse(page.url).query)["find"] == ["tie_result"]   # not q: the theme's
    assert "q" not in parse_qs(urlparse(page.url).query)
    # a shared or reloaded URL restores the exact state, without the theme's search overlay
    page.goto(server + "products/?find=tie_result&sort=name&dir=desc")
    rows.first.wait_for()
    assert page.input_value("#pz-search") == "tie_result" and rows.count() == 1
    assert not page.locator("input[data-md-toggle=search]").is_checked()
    page.click("#pz-table tbody tr:first-child a")        # clicks reach the list
    page.wait_for_url("**/product/3_combined_redshifts/")
    page.go_back()
    rows.first.wait_for()
    page.keyboard.press("Escape")
    assert "find=tie_result" in page.url and rows.count() == 1
    page.fill("#pz-search", "")

    # filter by type; the state is in the URL and survives a reload
    page.select_option("#pz-type", "redshift_catalog")
    assert rows.count() == 2
    assert parse_qs(urlparse(page.url).query)["type"] == ["redshift_catalog"]
    page.reload()
    rows.first.wait_for()
    assert page.input_value("#pz-type") == "redshift_catalog" and rows.count() == 2
    page.click("#pz-table th[data-key=name]")           # sort by name, ascending
    names = [r.inner_text().split("\t")[0] for r in rows.all()]
    assert names[0].startswith("Combined redshifts") and names[1].startswith("Reference redshifts")
    page.screenshot(path=str(ARTIFACTS / "02-list-filtered.png"), full_page=True)

    # the header search finds products by name, description and column names
    for query, name in (("Reference", "1_reference_redshifts"), ("magnitudes", "2_ecdfs_training_set"),
                        ("tie_result", "3_combined_redshifts")):
        page.goto(server)
        page.click(".md-search__input")
        hit = page.locator(f".md-search-result__list a[href*='product/{name}/']")
        for _ in range(10):          # the theme's search worker loads its index in the background
            page.fill(".md-search__input", "")
            page.keyboard.type(query)
            try:
                hit.first.wait_for(timeout=1000)
                break
            except Exception:  # noqa: BLE001 - playwright's timeout; type again once the index is in
                continue
        hit.first.wait_for(timeout=2000)
    page.screenshot(path=str(ARTIFACTS / "02b-header-search.png"))
    hit.first.click()
    page.wait_for_url("**/product/3_combined_redshifts/**")

    # official list shows the official product only
    page.goto(server + "official/")
    rows.first.wait_for()
    assert rows.count() == 1 and "Reference redshifts" in rows.first.inner_text()

    # open a product page from the list
    page.goto(server + "products/?type=redshift_catalog&sort=name&dir=desc")
    rows.first.wait_for()
    page.click("#pz-table tbody tr:first-child a")
    page.wait_for_url("**/product/1_reference_redshifts/")
    assert page.locator("h1#pz-title").inner_text().startswith("Reference redshifts")
    preview = page.locator("#pz-preview tbody tr")
    assert preview.count() == 10
    assert page.locator("#pz-preview thead th").first.inner_text() == "id"

    # plots: inline SVG, the sky frame image loaded, the raster present
    sky = page.locator("svg#pz-sky")
    sky.scroll_into_view_if_needed()
    assert sky.is_visible() and page.locator("svg#pz-nz").is_visible()
    bars = page.locator("svg#pz-nz path.pz-bars").get_attribute("d")
    assert len([v for v in re.findall(r"V([\d.]+)", bars) if v != "260"]) >= 5  # bar heights
    box = sky.bounding_box()
    assert box and box["width"] > 300
    frame = page.evaluate("fetch(document.querySelector('svg#pz-sky image').getAttribute('href'))"
                          ".then(r => r.status)")
    assert frame == 200

    download = page.locator("#pz-download")
    assert download.get_attribute("href") == "../../../-/download/1_reference_redshifts.zip"
    assert page.locator("#pz-datasette").get_attribute("href") == \
        "../../../previews/1_reference_redshifts"
    assert 'get_product("1_reference_redshifts")' in page.locator("#pz-snippet").inner_text()
    page.screenshot(path=str(ARTIFACTS / "03-product.png"), full_page=True)

    # the description file: sandboxed iframe, rendered, no script allowed
    page.goto(server + "product/2_ecdfs_training_set/")
    iframe = page.locator("iframe.pz-desc-frame")
    assert iframe.get_attribute("sandbox") == ""
    iframe.scroll_into_view_if_needed()
    assert "Selected with" in page.frame_locator("iframe.pz-desc-frame").locator("#note").inner_text()
    page.screenshot(path=str(ARTIFACTS / "04-product-description.png"), full_page=True)

    # provenance links lead to the input's page
    page.goto(server + "product/3_combined_redshifts/")
    page.click("a[href='../1_reference_redshifts/']")
    page.wait_for_url("**/product/1_reference_redshifts/")
    page.goto(server + "pipelines/")
    page.screenshot(path=str(ARTIFACTS / "05-pipelines.png"), full_page=True)

    assert not errors, "\n".join(errors)
    page.close()

"""The demo catalog served by a real ``pzcat serve`` on a random port, in a real headless Chromium.

``catalog.yaml`` keeps its default ``http://127.0.0.1:8001/`` URLs while the server runs elsewhere,
so a link built from the configuration instead of the page's own address fails here. One crawl
follows every link of every page of the site (URLs deduplicated), loads the server pages they lead
to, and fails on any failed request, HTTP error or console error. Screenshots go to
``test-artifacts/demo/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
from demo_server import demo_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("PZCAT_REQUIRE_BROWSER"),
                       reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("demo")) as server:
        assert not server.url.startswith("http://127.0.0.1:8001/")
        yield server


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _watch(page, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(f"console: {m.text} ({page.url})")
            if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc} ({page.url})"))
    # ERR_ABORTED: a request still in flight when the crawl navigates on (search worker, favicon)
    page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)


def sign_in(page, server) -> None:
    """Paste a download token at the server's token page, as a user does."""
    page.goto(server.url + "-/token")
    page.fill("#token", server.token())
    page.click("form[autocomplete=off] input[type=submit]")
    page.wait_for_load_state()


def test_every_link_of_every_page_works_on_another_port(demo, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    sign_in(page, demo)
    _watch(page, problems)
    origin = urlparse(demo.url).netloc
    seen: set[str] = set()
    queue = [demo.site]
    pages = fetched = 0
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https"):
            continue
        if parsed.netloc != origin:
            # links off the server: never at a loopback host (the configured 127.0.0.1:8001 ...)
            assert parsed.hostname not in ("127.0.0.1", "localhost"), f"{url} (linked from the site)"
            continue
        in_site = parsed.path.startswith("/site/")
        html = not parsed.path.startswith("/-/download/") and (
            parsed.path.endswith(("/", ".html")) or (not in_site and "." not in parsed.path))
        if not html:
            response = context.request.get(url)
            fetched += 1
            if response.status >= 400:
                problems.append(f"HTTP {response.status}: {url}")
            continue
        response = page.goto(url)
        pages += 1
        if response is None or response.status >= 400:
            problems.append(f"HTTP {response.status if response else '?'}: {url}")
            continue
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            target = urldefrag(href)[0]
            t = urlparse(target)
            # from server pages (Datasette) follow only the links back to the site and downloads
            if not in_site and t.netloc == origin and not t.path.startswith(("/site/", "/-/")):
                continue
            if target not in seen:
                queue.append(target)
    print(f"crawl: {pages} pages, {fetched} other URLs")
    assert pages >= 20 and fetched >= 12, (pages, fetched)
    assert not problems, "\n".join(sorted(set(problems)))

    # the copy-paste examples name the address the page was served from, not catalog.yaml's
    page.goto(demo.site + "product/6_dp1_ecdfs_training_set/")
    assert f'PzServer(host="{demo.site}"' in page.locator("#pz-snippet").inner_text()
    page.screenshot(path=str(ARTIFACTS / "01-product-other-port.png"), full_page=True)
    page.goto(demo.site + "downloads/")
    text = page.locator("article").inner_text()
    assert f"{demo.url}-/download/" in text and "127.0.0.1:8001" not in text
    context.close()


def test_product_pages_for_a_scientist(demo, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    _watch(page, problems)
    # the summary card comes first: rows, redshifts, sky area, footprint, files and the download
    page.goto(demo.site + "product/12_combined_reference_redshifts/")
    card = page.locator("#pz-summary")
    facts = card.locator("dt").all_inner_texts()
    assert [f.upper() for f in facts[:4]] == ["ROWS", "REDSHIFT (Z)", "SKY AREA", "FOOTPRINT"]
    import yaml

    n_rows = yaml.safe_load((demo.root / "manifests" / "12_combined_reference_redshifts.yaml")
                            .read_text())["files"][0]["n_rows"]
    assert f"{n_rows:,}" in card.inner_text() and "median" in card.inner_text()
    assert card.locator("#pz-download").is_visible()
    heads = page.locator("article h2").all_inner_texts()
    assert heads.index("Description") < heads.index("Columns") < heads.index("Files") \
        < heads.index("Provenance") < heads.index("Metadata")
    page.screenshot(path=str(ARTIFACTS / "02-product-summary.png"))
    # provenance: display names linking to the inputs, a readable run summary, the flags file
    inputs = page.locator("article table", has_text="Rows out").first
    assert "VVDS final release sample" in inputs.inner_text()
    run = page.locator("#pz-run").inner_text()
    assert "Rows in" in run and "Stars" in run and "Hard ties" in run
    assert "mode:" not in page.locator("article").inner_text()        # no raw YAML summary
    page.locator("#run-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "03-product-provenance.png"))
    page.click("a[href='../../pipelines/flags_translation/']")
    page.wait_for_url("**/pipelines/flags_translation/")
    assert "translation_rules" in page.locator("article").inner_text()
    # images among the files are shown inline; every file has its own download link
    page.goto(demo.site + "product/8_bpz_validation_on_ecdfs/")
    img = page.locator("figure.pz-image img")
    img.scroll_into_view_if_needed()
    # polled from here: wait_for_function evaluates its predicate with eval(), which the server's
    # Content-Security-Policy (no 'unsafe-eval') rightly blocks
    for _ in range(100):
        if img.evaluate("el => el.naturalWidth") > 100:
            break
        page.wait_for_timeout(100)
    assert img.evaluate("el => el.naturalWidth") > 100
    assert page.locator("a.pz-file").count() == 3
    page.screenshot(path=str(ARTIFACTS / "04-product-image.png"))
    # no table, no Datasette link
    page.goto(demo.site + "product/7_bpz_inform_model/")
    assert page.locator("#pz-datasette").count() == 0
    assert not problems, "\n".join(problems)
    page.close()


def test_datasette_pages_for_people(demo, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    name = "12_combined_reference_redshifts"
    meta = page.request.get(demo.url + "-/metadata.json").json()
    table = meta["databases"]["previews"]["tables"][name]
    assert "unresolved tie" in table["columns"]["tie_result"]
    assert "star" in table["columns"]["z_flag_homogenized"]
    assert table["facets"][:2] == ["survey", "tie_result"]
    assert "<p>" in table["description_html"] and "<code>tie_result</code>" in table["description_html"]
    page.goto(demo.url + f"previews/{name}")
    assert page.locator(".facet-info").count() >= 2                 # survey, tie_result, ...
    assert "needs a download token" in page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "05-datasette-table.png"))
    # distances rounded
    page.goto(demo.url + f"previews/cone_{name}?ra=53.1&dec=-27.8&radius_arcsec=600")
    cells = page.locator("td.col-distance_arcsec").all_inner_texts()
    assert cells and all(len(c.split(".")[-1]) <= 3 for c in cells)
    page.screenshot(path=str(ARTIFACTS / "06-datasette-cone.png"))
    page.close()

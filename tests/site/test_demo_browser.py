"""The demo catalog served by a real ``pzcat serve`` on a random port, in a real headless Chromium.

``catalog.yaml`` keeps its default ``http://127.0.0.1:8001/`` URLs while the server runs elsewhere,
so a link built from the configuration instead of the page's own address fails here. One crawl
follows every link of every page of the site (URLs deduplicated), loads the server pages they lead
to, and fails on any failed request, HTTP error or console error. Screenshots go to
``test-artifacts/demo/``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
import yaml
from chromium import launch, requires_chromium
from browser_csp import no_inline_scripts, watch_console
from demo_server import demo_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "demo"

pytestmark = requires_chromium


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("demo")) as server:
        assert not server.url.startswith("http://127.0.0.1:8001/")
        yield server


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def _watch(page, problems: list[str]) -> None:
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text} ({page.url})") if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc} ({page.url})"))
    # ERR_ABORTED: a request still in flight when the crawl navigates on (search worker, favicon)
    page.on(
        "requestfailed",
        lambda r: (
            None
            if "ERR_ABORTED" in (r.failure or "")
            else problems.append(f"request failed: {r.url} ({r.failure})")
        ),
    )
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )


def sign_in(page, server) -> None:
    """Paste a download token at the server's token page, as a user does."""
    page.goto(server.url + "-/token")
    page.fill("#token", server.token())
    page.click("form[autocomplete=off] input[type=submit]")
    page.wait_for_load_state()


def test_every_link_of_every_page_works_on_another_port(demo, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # the server's pages (Datasette, tokens, errors) have a CSP without 'unsafe-inline' scripts:
    # an inline script or onclick left anywhere is a console error, which fails the crawl
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
            assert parsed.hostname not in ("127.0.0.1", "localhost"), (
                f"{url} (linked from the site)"
            )
            continue
        in_site = parsed.path.startswith("/site/")
        html = not parsed.path.startswith("/-/download/") and (
            parsed.path.endswith(("/", ".html")) or (not in_site and "." not in parsed.path)
        )
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

    n_rows = yaml.safe_load(
        (demo.root / "manifests" / "12_combined_reference_redshifts.yaml").read_text()
    )["files"][0]["n_rows"]
    assert f"{n_rows:,}" in card.inner_text() and "median" in card.inner_text()
    assert card.locator("#pz-download").is_visible()
    heads = page.locator("article h2").all_inner_texts()
    assert (
        heads.index("Description")
        < heads.index("Columns")
        < heads.index("Files")
        < heads.index("Provenance")
        < heads.index("Metadata")
    )
    page.screenshot(path=str(ARTIFACTS / "02-product-summary.png"))
    # provenance: display names linking to the inputs, a readable run summary, the flags file
    inputs = page.locator("article table", has_text="Rows out").first
    assert "VVDS final release sample" in inputs.inner_text()
    run = page.locator("#pz-run").inner_text()
    assert "Rows in" in run and "Stars" in run and "Hard ties" in run
    assert "mode:" not in page.locator("article").inner_text()  # no raw YAML summary
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
    # every column of the pipeline's product is described, those copied from its inputs too
    assert all(table["columns"].values()), [c for c, d in table["columns"].items() if not d]
    assert "input catalog" in table["columns"]["id"] and "input" in table["columns"]["z_flag"]
    assert table["facets"][:2] == ["survey", "tie_result"]
    assert (
        "<p>" in table["description_html"]
        and "<code>tie_result</code>" in table["description_html"]
    )
    page.goto(demo.url + f"previews/{name}")
    assert page.locator(".facet-info").count() >= 2  # survey, tie_result, ...
    assert "needs a download token" in page.locator("body").inner_text()
    page.screenshot(path=str(ARTIFACTS / "05-datasette-table.png"))
    # distances rounded
    page.goto(demo.url + f"previews/cone_{name}?ra=53.1&dec=-27.8&radius_arcsec=600")
    cells = page.locator("td.col-distance_arcsec").all_inner_texts()
    assert cells and all(len(c.split(".")[-1]) <= 3 for c in cells)
    page.screenshot(path=str(ARTIFACTS / "06-datasette-cone.png"))
    # opened empty, the cone search and the redshift range of a survey of several fields (its
    # mean position is empty sky) start on example values that find rows, never "0 results"
    for query in ("cone_1_vvds_final_release_sample", "zrange_1_vvds_final_release_sample"):
        page.goto(demo.url + f"previews/{query}")
        assert "?" in page.url and page.locator("table.rows-and-columns tbody tr").count() >= 1
        assert page.locator(".zero-results").count() == 0, page.url
    page.screenshot(path=str(ARTIFACTS / "06b-datasette-empty-zrange.png"))
    page.close()


CATALOG = yaml.safe_load((Path(__file__).resolve().parents[2] / "catalog.yaml").read_text())["name"]


def test_datasette_pages_are_titled_and_unknown_pages_lead_back(demo, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    watch_console(page, problems)
    # the 404 documents are meant; a missing style, script or image of them is not
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    name = "12_combined_reference_redshifts"
    title = yaml.safe_load((demo.root / "manifests" / f"{name}.yaml").read_text())["name"]
    page.goto(demo.url + f"previews/{name}")
    assert page.title().startswith(f"{title} (") and page.title().endswith(f" · {CATALOG}")
    assert page.locator("h1").first.inner_text().strip() == title
    assert page.locator("#pz-crumbs").inner_text().split(" / ")[:2] == [CATALOG, "Previews"]
    page.goto(demo.url + f"previews/{name}/1")
    assert page.title() == f"Row 1 of {title} · {CATALOG}"
    assert page.locator("h1").first.inner_text().strip() == f"{title}: row 1"
    page.screenshot(path=str(ARTIFACTS / "07-datasette-row-titled.png"))
    page.goto(demo.url + f"previews/cone_{name}?ra=53.1&dec=-27.8&radius_arcsec=60")
    assert page.title() == f"Cone search in {title} · {CATALOG}"
    assert "cone_" not in page.locator("h1").first.inner_text()
    page.goto(demo.url + "previews")
    assert page.title() == f"{CATALOG}: previews"
    assert page.locator("h2", has_text=title).count() >= 1 or title in page.content()
    # unknown pages of the server: a 404 with the way back, each link working
    for path in (f"previews/{name}_typo", "previews/cone_nothing", "no/such/page", "-/nope"):
        response = page.goto(demo.url + path)
        assert response.status == 404, path
        assert page.title() == f"Not found · {CATALOG}", path
        assert page.locator("#pz-way-back a").count() == 4, path
    page.screenshot(path=str(ARTIFACTS / "08-datasette-404.png"), full_page=True)
    page.click("#pz-back-products")
    page.wait_for_url("**/site/products/")
    page.wait_for_selector("#pz-table tbody tr")
    assert page.locator("#pz-table tbody tr").count() > 5
    page.go_back()
    page.click("#pz-back-previews")
    page.wait_for_url(demo.url)
    assert page.title() == f"Previews · {CATALOG}"
    page.go_back()
    page.click("#pz-back-site")
    page.wait_for_url(demo.site)
    # the API keeps its JSON errors
    api = context.request.get(demo.url + "api/no-such-endpoint/")
    assert api.status in (401, 404) and api.headers["content-type"].startswith("application/json")
    # unknown pages of the site, at any depth: the site's 404, its styles, links that work
    for path in ("product/no_such_product/", "a/b/c/d/e.html"):
        failed: list[str] = []

        def broken(request, failed=failed):
            # a request Chromium cancels itself (the favicon, the search worker, while the
            # page settles) is not a broken link: ERR_ABORTED is the browser's, not the server's
            if "ERR_ABORTED" not in (request.failure or ""):
                failed.append(f"{request.url} {request.failure}")

        def refused(response, failed=failed, path=path):
            if response.status >= 400 and not response.url.endswith(path):
                failed.append(f"{response.url} {response.status}")

        page.on("requestfailed", broken)
        page.on("response", refused)
        response = page.goto(demo.site + path)
        page.wait_for_load_state("load")
        assert response.status == 404, path
        assert page.locator("#pz-way-back a").count() == 4, path
        assert page.locator("link[rel=stylesheet]").count() >= 1 and not failed, failed
        page.remove_listener("requestfailed", broken)
        page.remove_listener("response", refused)
        color = page.locator("header.md-header").evaluate("el => getComputedStyle(el).position")
        assert color in ("sticky", "fixed", "relative"), color  # the theme's CSS is applied
    page.screenshot(path=str(ARTIFACTS / "09-site-404.png"), full_page=True)
    page.click("#pz-back-products")
    page.wait_for_url("**/site/products/")
    page.go_back()
    page.click("#pz-back-previews")
    page.wait_for_url(demo.url)
    # Chromium logs every 404 document as "Failed to load resource"
    problems = [p for p in problems if "status of 404 (Not Found)" not in p]
    assert not problems, "\n".join(problems)
    context.close()


def test_the_site_works_under_a_csp_without_inline_scripts(demo, browser) -> None:
    """The theme starts from a file (assets/pzcat-theme.js): search, lists and pages work."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    watch_console(page, problems)
    response = page.goto(demo.site)
    assert no_inline_scripts(response.headers["content-security-policy"])
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    # the header search (the theme's bundle and its search worker)
    page.click(".md-search__input")
    hit = page.locator(".md-search-result__list a[href*='product/1_vvds_final_release_sample/']")
    for _ in range(10):  # the search worker loads its index in the background
        page.fill(".md-search__input", "")
        page.keyboard.type("VVDS")
        try:
            hit.first.wait_for(timeout=1000)
            break
        except Exception:  # noqa: BLE001 - playwright's timeout; type again once the index is in
            continue
    hit.first.wait_for(timeout=2000)
    page.screenshot(path=str(ARTIFACTS / "11-site-search-strict-csp.png"))
    # the product list (pzcat.js) filters
    page.goto(demo.site + "products/")
    rows = page.locator("#pz-table tbody tr")
    rows.first.wait_for()
    total = rows.count()
    page.fill("#pz-search", "VVDS")
    for _ in range(50):
        if rows.count() < total:
            break
        page.wait_for_timeout(100)
    assert 0 < rows.count() < total
    # the theme's "back to top" and palette state use the helpers of pzcat-theme.js
    page.goto(demo.site + "product/12_combined_reference_redshifts/")
    assert page.evaluate("() => typeof __md_get === 'function' && __md_scope.pathname") == "/site/"
    assert not problems, "\n".join(problems)
    context.close()


def test_server_pages_work_under_a_csp_without_inline_scripts(demo, browser) -> None:
    """Datasette's scripts (SQL editor, column menus, menus) run from files, not inline."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    watch_console(page, problems)
    name = "12_combined_reference_redshifts"
    # the SQL editor (CodeMirror) starts
    response = page.goto(demo.url + "previews?sql=select+count(*)+from+products")
    assert no_inline_scripts(response.headers["content-security-policy"])
    page.wait_for_selector(".CodeMirror")
    # the column menu of a table (Datasette's table.js), with "Facet by this"
    page.goto(demo.url + f"previews/{name}")
    page.locator("th svg.dropdown-menu-icon").nth(3).click()  # not the first column: no facet
    assert page.locator(".dropdown-menu .dropdown-facet").is_visible()
    page.screenshot(path=str(ARTIFACTS / "10-strict-csp-column-menu.png"))
    # the menu opens, and a click outside closes it
    page.click("details.nav-menu summary")
    assert page.locator("details.nav-menu").evaluate("el => el.open")
    assert page.locator(".nav-menu-inner a", has_text="Catalog site").is_visible()
    page.click("h1")
    assert not page.locator("details.nav-menu").evaluate("el => el.open")
    for path in ("", "previews", f"previews/{name}/1", "-/token", "-/tokens", "nope"):
        response = page.goto(demo.url + path)
        assert no_inline_scripts(response.headers["content-security-policy"]), path
    problems = [p for p in problems if "status of 404 (Not Found) (" + demo.url + "nope)" not in p]
    assert not problems, "\n".join(problems)
    context.close()

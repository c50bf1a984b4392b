"""Hostile descriptions: no script runs, whatever the encoding of the attack.

The sanitiser (:mod:`pzcat.html`, nh3) in-process, then a real site built from a product whose
Markdown description and HTML description file hold the attacks, opened in headless Chromium
(top level, the worst case: not even the iframe's sandbox), every link clicked.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from chromium import launch, skip_without_chromium

from pzcat.catalog import Catalog
from pzcat.html import clean_document, clean_html
from site_builder.render import safe_markdown

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"

MARKDOWN_ATTACKS = [
    "[a](javascript&#58;alert(1))", "[b](&#106;avascript:alert(1))", "[c](javascript&colon;alert(1))",
    "[d](javascript&#x3A;alert(1))", "[e](JaVaScRiPt:alert(1))", "[f](java&#x09;script:alert(1))",
    "[g](data:text/html,<script>alert(1)</script>)", "[h](vbscript:msgbox(1))",
    "![i](javascript:alert(1))", "<javascript:alert(1)>", "<img src=x onerror=alert(1)>",
    "<scr<script></script>ipt>alert(1)</script>", "[ok](https://example.org/) [rel](other/page.html)",
]
HTML_ATTACK = """<html><body onload="alert(1)"><h1>Sample</h1>
<scr<script></script>ipt>alert(1)</script>
<script>alert(2)</script><img src="x" onerror="alert(3)"><svg onload="alert(4)"></svg>
<a id="l1" href="javascript&#58;alert(5)">one</a> <a href="&#106;avascript:alert(6)">two</a>
<a href="javascript&colon;alert(7)">three</a> <a href="javascript&#x3A;alert(8)">four</a>
<iframe src="javascript:alert(9)"></iframe><form action="javascript:alert(10)"><button>go</button></form>
<meta http-equiv="refresh" content="0;url=javascript:alert(11)"><object data="javascript:alert(12)"></object>
<a href="https://example.org/" onclick="alert(13)">fine</a><p style="background:url(javascript:alert(14))">p</p>
</body></html>"""


class _Audit(HTMLParser):
    """Every tag and attribute as a browser sees them (character references decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "form", "meta", "base", "style", "svg"):
            if not (tag in ("meta", "base") and set(dict(attrs)) <= {"charset", "target"}):
                self.bad.append(tag)
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or name == "style" or (
                    name in ("href", "src", "action", "data", "formaction", "content")
                    and re.match(r"[a-z][a-z0-9+.-]*:", url)
                    and not url.startswith(("http:", "https:", "mailto:"))):
                self.bad.append(f"{tag} {name}={value!r}")


def _no_script_urls(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    assert not audit.bad, (audit.bad, html)


@pytest.mark.parametrize("text", MARKDOWN_ATTACKS)
def test_markdown_attacks_are_cleaned(text: str) -> None:
    _no_script_urls(str(safe_markdown(text)))


def test_html_file_attacks_are_cleaned() -> None:
    doc = clean_document(HTML_ATTACK)
    _no_script_urls(doc)
    assert 'href="https://example.org/"' in doc and "<h1>Sample</h1>" in doc
    assert clean_html('<a href="mailto:a@b.org">m</a>') == \
        '<a href="mailto:a@b.org" rel="noopener noreferrer">m</a>'


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from site_builder.build import build_site

    root = tmp_path_factory.mktemp("hostile") / "repo"
    shutil.copytree(CORPUS / "html_script", root)
    (root / "expected.yaml").unlink()
    shutil.copy2(CORPUS / "_base" / "catalog.yaml", root / "catalog.yaml")
    folder = root / "products" / "1_base_sample"
    html = next(folder.glob("*.htm*"))
    html.write_text(HTML_ATTACK, encoding="utf-8")
    manifest = root / "manifests" / "1_base_sample.yaml"
    from pzcat.files import path_digest
    from pzcat.manifest import dump_yaml, load_manifest_data

    data = load_manifest_data(manifest.read_text(encoding="utf-8"))
    data["description"] = "\n\n".join(MARKDOWN_ATTACKS)
    for f in data["files"]:
        if f["path"].endswith(html.name):
            f["size"], f["sha256"] = path_digest(html)
    manifest.write_text(dump_yaml(data), encoding="utf-8")
    www = root / "www"
    build_site(Catalog.open(root), www / "site", work_dir=root / "work")
    return www


def test_description_copy_is_sanitised(hostile_site: Path) -> None:
    copy = hostile_site / "site" / "product" / "1_base_sample" / "description.html"
    _no_script_urls(copy.read_text(encoding="utf-8"))


@pytest.mark.browser
@pytest.mark.browser
@skip_without_chromium
def test_nothing_runs_in_chromium(hostile_site: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(hostile_site))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/site/product/1_base_sample/"
    dialogs: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for url in (base, base + "description.html"):
                page.goto(url)
                page.wait_for_timeout(300)
                hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                assert not [h for h in hrefs if h.lower().startswith(("javascript", "data", "vbscript"))]
                count = page.eval_on_selector_all("a", "els => els.length")
                for i in range(count):  # click every link of the page, then come back
                    link = page.locator("a").nth(i)
                    if (link.get_attribute("href") or "#")[:1] != "#" or not link.is_visible():
                        continue  # a real link leaves the page: not a script; the attacks lost href
                    try:
                        link.click(timeout=500, no_wait_after=True)
                    except sync_api.Error:
                        pass
                    page.wait_for_timeout(50)
                    if page.url.split("#")[0] != url:
                        page.goto(url)
                assert page.evaluate("document.querySelectorAll('[onerror],[onload],[onclick]')"
                                     ".length") == 0
            browser.close()
    finally:
        httpd.shutdown()
        thread.join(5)
    assert dialogs == [], dialogs


def test_html_script_warning_is_what_the_sanitiser_removes() -> None:
    """The validator's ``html-script`` lists what nh3 takes out: every attack of the file, none
    of the harmless markup (a whole document, styles, prose naming ``javascript:``)."""
    from pzcat.html import removed_scripts

    found = " ".join(removed_scripts(HTML_ATTACK))
    for what in ("<script>", "onload=", "onerror=", "onclick=", "<svg>", "<iframe>", "<object>"):
        assert what in found, (what, found)
    assert "javascript: URL (7)" in found  # 4 links, the iframe, the form, the object
    assert "<meta http-equiv=refresh>" in found
    harmless = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Report</title>'
        "<style>p {color: red}</style></head><body style='margin:0'><h1>Report</h1>"
        "<p>Links use the javascript: scheme; onload = handlers are HTML.</p>"
        '<img src="plot.png" alt="plot"><a href="https://example.org/">more</a></body></html>'
    )
    assert removed_scripts(harmless) == []

"""The one HTML sanitiser for untrusted text (descriptions, description files), on nh3 (Ammonia).

Rendered Markdown and description HTML files are parsed as a browser would (character references
decoded, broken tags repaired) and rebuilt from an allow-list of tags and attributes; URLs keep
only the schemes of :data:`URL_SCHEMES` (or none: relative links), so ``javascript&#58;``,
``&#106;avascript:``, ``javascript&colon;``, event handlers and ``<scr<script></script>ipt>``
cannot run. This is the only place such HTML is cleaned.

:func:`removed_scripts` says what the sanitiser takes out of a document that could run (the
validator's ``html-script`` warning): it compares the elements and attributes of the input with
those of :func:`clean_html`'s output, both parsed as a browser does.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import nh3

#: URL schemes a link or an image may use (relative URLs and #fragments are kept).
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Attributes allowed on every tag (besides nh3's per-tag defaults: href on a, src/alt on img...).
GENERIC_ATTRIBUTES = frozenset({"class", "id", "lang", "title"})
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": set(GENERIC_ATTRIBUTES),
}


def clean_html(html: str) -> str:
    """Untrusted HTML -> HTML that holds no script, event handler or script URL.

    Examples
    --------
    >>> clean_html('<a href="javascript&#58;alert(1)">x</a>')
    '<a rel="noopener noreferrer">x</a>'
    >>> clean_html('<scr<script></script>ipt>alert(1)</script>')
    'ipt&gt;alert(1)'
    """
    return nh3.clean(
        html, attributes=_ATTRIBUTES, url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer"
    )


def clean_document(html: str) -> str:
    """A whole description file, cleaned, as a small standalone document (for the iframe copy)."""
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"><base target="_blank">'
        "</head><body>\n" + clean_html(html) + "\n</body></html>\n"
    )


#: Elements that run or load active content; their removal is reported by :func:`removed_scripts`.
ACTIVE_TAGS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math"}
)
#: Attributes holding a URL (a ``javascript:`` one runs when followed or loaded).
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")


class _Inventory(HTMLParser):
    """Start tags and ``(tag, attribute, value)`` triples, character references decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: Counter[tuple[str, str, str]] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            self.attributes[(tag, name, value or "")] += 1

    handle_startendtag = handle_starttag


def _inventory(html: str) -> _Inventory:
    found = _Inventory()
    found.feed(html)
    found.close()
    return found


def removed_scripts(html: str) -> list[str]:
    """What :func:`clean_html` removes from ``html`` that could run: script elements, event
    handlers, script URLs (one entry per kind, with its count), or ``[]``.

    Only what the sanitiser actually removed is looked at, so prose that mentions
    ``javascript:`` is not reported and ``&#106;avascript:`` (which a browser decodes) is.

    Examples
    --------
    >>> removed_scripts('<p onclick="x()">a</p><a href="&#106;avascript:go()">b</a>')
    ['onclick= (1)', 'javascript: URL (1)']
    >>> removed_scripts("<p>the javascript: scheme, onload = x</p><script>x()</script>")
    ['<script> (1)']
    """
    before, after = _inventory(html), _inventory(clean_html(html))
    found: Counter[str] = Counter()
    for tag, n in (before.tags - after.tags).items():
        if tag in ACTIVE_TAGS:
            found[f"<{tag}>"] += n
    for (tag, name, value), n in (before.attributes - after.attributes).items():
        if name.startswith("on"):
            found[f"{name}="] += n
        elif name in URL_ATTRIBUTES:
            scheme = _SCHEME.match(re.sub(r"[\x00-\x20]", "", value).lower())
            if scheme and scheme.group(1) not in URL_SCHEMES:
                found[f"{scheme.group(1)}: URL"] += n
        elif tag == "meta" and name == "http-equiv" and value.lower() == "refresh":
            found["<meta http-equiv=refresh>"] += n
    return [f"{what} ({n})" for what, n in found.items()]

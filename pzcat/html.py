"""The one HTML sanitiser for untrusted text (descriptions, description files), on nh3 (Ammonia).

Rendered Markdown and description HTML files are parsed as a browser would (character references
decoded, broken tags repaired) and rebuilt from an allow-list of tags and attributes; URLs keep
only the schemes of :data:`URL_SCHEMES` (or none: relative links), so ``javascript&#58;``,
``&#106;avascript:``, ``javascript&colon;``, event handlers and ``<scr<script></script>ipt>``
cannot run. This is the only place such HTML is cleaned.
"""

from __future__ import annotations

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

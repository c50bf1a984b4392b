"""The browser side of the server's Content-Security-Policy: a watcher of the violations Chromium
reports in the console.

The server's own pages (Datasette, tokens, errors) are served with
:data:`pzcat_datasette.security.CSP_SERVER` (scripts from the server's files only): a page that
still had an inline ``<script>`` or an ``onclick`` would log "Refused to execute inline
script/event handler because it violates the following Content Security Policy directive".
"""

from __future__ import annotations


def watch_console(page, problems: list[str]) -> None:
    """Record console errors (CSP violations among them) and uncaught exceptions of ``page``."""
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text} ({page.url})") if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc} ({page.url})"))


def no_inline_scripts(csp: str) -> bool:
    """Whether a Content-Security-Policy header forbids inline scripts."""
    scripts = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    return "'unsafe-inline'" not in scripts and "script-src" in scripts

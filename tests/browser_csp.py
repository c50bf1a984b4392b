"""A Content-Security-Policy without ``'unsafe-inline'`` scripts, put on a Chromium context's
responses from the server (not the static site, whose theme needs inline scripts), and a watcher
of the violations Chromium reports in the console.

Pages that still had an inline ``<script>`` or an ``onclick`` would log "Refused to execute inline
script/event handler because it violates the following Content Security Policy directive".
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from pzcat_datasette.security import CSP

#: The server's policy with scripts from its own origin only.
STRICT_CSP = re.sub(r"script-src [^;]*", "script-src 'self'", CSP)


def strict_csp(context, site_too: bool = False) -> None:
    """Serve every response of ``context`` (but ``/site/`` unless ``site_too``) with STRICT_CSP."""

    def handler(route) -> None:
        path = urlparse(route.request.url).path
        if path.startswith("/site/") and not site_too:
            route.continue_()
            return
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", handler)


def watch_console(page, problems: list[str]) -> None:
    """Record console errors (CSP violations among them) and uncaught exceptions of ``page``."""
    page.on(
        "console",
        lambda m: problems.append(f"console: {m.text} ({page.url})") if m.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc} ({page.url})"))

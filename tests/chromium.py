"""The one headless Chromium of the browser tests: where it is, how it starts, when tests skip.

Tests use Debian's ``/usr/bin/chromium`` through Playwright. Without it they skip, except in CI:
``.ci/run`` installs it and sets ``PZCAT_REQUIRE_BROWSER``, so there a missing browser fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Skip where there is no browser, unless CI requires one.
skip_without_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("PZCAT_REQUIRE_BROWSER"),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium); "
    ".ci/run installs it",
)
#: The marks of a module of browser tests (its ``pytestmark``).
requires_chromium = [pytest.mark.browser, skip_without_chromium]


def launch(playwright):
    """Start the headless browser with the tests' flags (``playwright`` from ``sync_playwright``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

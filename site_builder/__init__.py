"""The browsable site: manifests and table statistics -> jinja2 pages -> ``mkdocs build --strict``.

Entry point: :func:`site_builder.build.build_site`. See GUIDE.md, section "Site".
"""

from pzcat.codes import CODES, Code, register

if "site-build-failed" not in CODES:
    register(Code("site-build-failed", "error", "run", "The static site could not be built",
                  "Read the mkdocs output printed with the error; fix the page or template it names."))

__all__ = ["build"]

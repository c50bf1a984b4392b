"""The browsable site: manifests and table statistics -> jinja2 pages -> ``mkdocs build --strict``.

Entry point: :func:`site_builder.build.build_site`. See GUIDE.md, section "Site".
"""

__all__ = ["build"]

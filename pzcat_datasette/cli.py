"""CLI commands for previews, serving, tokens and links (module level; the ``pzcat.commands`` entry
point ``serve`` registers them).

``pzcat build-previews``, ``pzcat serve``, ``pzcat token create|revoke|check`` and ``pzcat link``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import click

from pzcat.clitools import coded, default_user, open_catalog, root_option


@click.command("build-previews")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Target database (default build/previews.db).",
)
@click.option("--force", is_flag=True, help="Re-import every product, changed or not.")
@click.option("--no-sql", "no_sql", is_flag=True, help="Generated metadata forbids arbitrary SQL.")
@root_option
@coded
def build_previews_cmd(db_path: Path | None, force: bool, no_sql: bool, root: Path | None) -> None:
    """Build build/previews.db and the Datasette config in build/datasette/.

    Only products whose version, files or column association changed are re-imported.

    \b
    Example:
      pzcat build-previews && pzcat serve
    """
    from pzcat_datasette.previews import build_previews
    from pzcat_datasette.serve import precompute_crcs, write_datasette_config

    catalog = open_catalog(root)
    stats = build_previews(catalog, db_path, force=force)
    for p in stats.products:
        extra = f" {p.rows:,} rows" if p.rows else ""
        if p.truncated:
            extra += f" (first rows of {p.total_rows:,})" if p.total_rows else " (truncated)"
        note = f": {p.message}" if p.message else ""
        click.echo(f"  {p.action:9} {p.internal_name}{extra}{note}")
    write_datasette_config(catalog, stats.db_path, allow_sql=not no_sql)
    precompute_crcs(catalog)
    for p in stats.skipped:
        click.echo(f"warning[preview-skipped]: {p.internal_name}: {p.message}", err=True)
    click.echo(
        f"{stats.db_path}: {len(stats.imported)} imported, {len(stats.reused)} unchanged, "
        f"{stats.size / 1e6:.1f} MB in {stats.seconds:.1f} s"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--build", "build", is_flag=True, help="Update previews.db first (incremental).")
@click.option(
    "--no-sql", "no_sql", is_flag=True, help="Forbid arbitrary SQL (canned queries only)."
)
@click.option("--quiet", is_flag=True, help="No access log.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (e.g. the number of cores).",
)
@root_option
@coded
def serve_cmd(
    host: str, port: int, build: bool, no_sql: bool, quiet: bool, workers: int, root: Path | None
) -> None:
    """Serve the previews (Datasette), downloads and the site (/site/) at one URL.

    \b
    Example:
      pzcat serve                   # http://127.0.0.1:8001/ and /site/
    """
    from pzcat_datasette.previews import default_db_path
    from pzcat_datasette.serve import serve

    catalog = open_catalog(root)
    db = default_db_path(catalog)
    if not db.exists() and not build:
        click.echo(f"{db} does not exist: building it first")
        build = True
    serve(
        catalog,
        host=host,
        port=port,
        build=build,
        allow_sql=not no_sql,
        access_log=not quiet,
        workers=workers,
        echo=lambda line: click.echo(line),
    )


@click.group("token")
def token_group() -> None:
    """Download tokens (signed with $PZCAT_SECRET; for admins)."""


@token_group.command("create")
@click.argument("user")
@click.option("--expires", default="30d", show_default=True, help="Lifetime: 30d, 12h, 15m...")
@click.option(
    "--scope",
    type=click.Choice(["download", "read", "write"]),
    default="download",
    show_default=True,
    help="download (files and previews), read (previews only) or "
    "write (also changes through /api/).",
)
@click.option(
    "--note", default="", help="A note shown with the token at /-/tokens (100 characters)."
)
@root_option
@coded
def token_create(user: str, expires: str, scope: str, note: str, root: Path | None) -> None:
    """Print a new token for USER (only the token on stdout, details on stderr).

    The token's id and claims (never the token) go to tokens/issued.yaml of the catalog, so USER
    and the admins see it, and can revoke it, at /-/tokens like the tokens made there. Outside a
    catalog (no --root, no catalog.yaml above, no $PZCAT_ROOT) the token is made but not listed.

    \b
    Example:
      TOKEN=$(pzcat token create alice --expires 30d --note "for the notebook")
      curl -H "Authorization: Bearer $TOKEN" -O -C - http://127.0.0.1:8001/-/download/1_x.zip
    """
    from pzcat.catalog import find_root
    from pzcat.errors import CatalogError
    from pzcat_datasette.tokens import create_token, record_issued, verify_token

    try:
        where = Path(root).resolve() if root else find_root()
    except CatalogError as exc:
        if exc.code != "catalog-config":
            raise
        where = None
    token = create_token(user, scope=scope, expires=expires)
    claims = verify_token(token)
    if where is not None:
        record_issued(where, token, note=note.strip(), by=default_user())
    when = datetime.fromtimestamp(claims.expires, UTC).isoformat().replace("+00:00", "Z")
    listed = (
        "listed at /-/tokens (tokens/issued.yaml)"
        if where is not None
        else "not listed at /-/tokens: no catalog here (--root)"
    )
    click.echo(
        f"token {claims.id} for {claims.user}, scope {claims.scope}, expires {when}; {listed} "
        f"(revoke: pzcat token revoke {claims.id})",
        err=True,
    )
    click.echo(token)


@token_group.command("revoke")
@click.argument("token_id")
@click.option("--reason", help="Why (kept in tokens/revoked.yaml).")
@root_option
@coded
def token_revoke(token_id: str, reason: str | None, root: Path | None) -> None:
    """Revoke a token or signed link by its id (or itself); commit tokens/revoked.yaml."""
    from pzcat_datasette.tokens import revoke_token

    catalog = open_catalog(root)
    tid = revoke_token(catalog.root, token_id, by=default_user(), reason=reason)
    click.echo(f"revoked {tid} (tokens/revoked.yaml; the server rereads it at once)")


@token_group.command("check")
@click.argument("token")
@root_option
@coded
def token_check(token: str, root: Path | None) -> None:
    """Say whether a token is valid, for whom, and until when."""
    from pzcat_datasette.tokens import load_revoked, verify_token

    claims = verify_token(token, revoked=load_revoked(open_catalog(root).root))
    left = (claims.expires - time.time()) / 86400
    click.echo(f"valid: {claims.id} for {claims.user}, scope {claims.scope}, {left:.1f} days left")


@click.command("link")
@click.argument("internal_name")
@click.option("--expires", default="1h", show_default=True, help="Lifetime: 1h, 2d, 30m...")
@click.option("--file", "file", help="Link to one file of the product instead of the ZIP.")
@root_option
@coded
def link_cmd(internal_name: str, expires: str, file: str | None, root: Path | None) -> None:
    """Print a signed link to one product that works without a token until it expires."""
    from pzcat_datasette.tokens import link_id, make_link

    catalog = open_catalog(root)
    manifest = catalog.get(internal_name)
    url = make_link(
        manifest.internal_name, expires, base_url=catalog.config.datasette_url, file=file
    )
    click.echo(url)
    click.echo(f"(revoke: pzcat token revoke {link_id(url.split('link=', 1)[-1])})", err=True)


COMMANDS = [build_previews_cmd, serve_cmd, token_group, link_cmd]


def register(cli: click.Group) -> None:
    """Add the commands of this module to the ``pzcat`` group."""
    for command in COMMANDS:
        cli.add_command(command)

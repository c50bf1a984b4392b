"""``pzcat build-site``: defined at module level, registered on the pzcat CLI through the ``pzcat.commands`` entry point."""

from __future__ import annotations

from pathlib import Path

import click

from pzcat.clitools import coded, open_catalog, root_option


@click.command("build-site")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <root>/build/site, where `pzcat serve` serves it).",
)
@click.option(
    "--strict/--no-strict", default=True, show_default=True, help="Fail on any mkdocs warning."
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@root_option
@coded
def build_site_command(out: Path | None, strict: bool, quiet: bool, root: Path | None) -> None:
    """Build the static site (product pages, lists, JSON API) with mkdocs-material.

    \b
    Example:
      pzcat build-site && pzcat serve
    """
    from site_builder.build import build_site

    catalog = open_catalog(root)
    target = out or catalog.root / "build" / "site"
    result = build_site(
        catalog,
        target,
        strict=strict,
        progress=None if quiet else (lambda msg: click.echo(f"  {msg}")),
    )
    for problem in result.problems:
        click.echo(f"skipped unreadable manifest: {problem}", err=True)
    click.echo(
        f"site: {result.products} products ({result.pages_written} pages written, "
        f"{result.pages_kept} unchanged) in {result.seconds:.1f} s -> {target}"
    )


COMMANDS = [build_site_command]


def register(cli: click.Group) -> None:
    """Add the commands of this module to the ``pzcat`` group."""
    for command in COMMANDS:
        cli.add_command(command)

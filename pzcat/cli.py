"""The ``pzcat`` command line: a thin click layer over the library.

Every command catches :class:`~pzcat.errors.PzcatError` only, prints ``error[code]: message`` and
exits with the status of the code (:func:`pzcat.codes.exit_status`: 1 bad input, 2 could not run);
the shared helpers are :mod:`pzcat.clitools`. ``pzcat validate`` exits ``int(not report.valid)``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from pzcat import __version__
from pzcat.catalog import Catalog
from pzcat.clitools import (  # noqa: F401 - also re-exported for older callers
    EXIT_CANNOT_RUN,
    EXIT_INVALID,
    coded,
    default_user,
    fail,
    open_catalog,
    root_option,
)
from pzcat.codes import CODES, codes_markdown
from pzcat.errors import UsageError
from pzcat.files import atomic_write_text
from pzcat.manifest import json_schema

SCHEMA_PATH = Path(__file__).parent / "schema" / "manifest.schema.json"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pzcat")
def cli() -> None:
    """pzcat: the Photo-z Server as a Git repository.

    \b
    Examples:
      pzcat validate                      check the whole catalog
      pzcat list --type training_set      list training sets
      pzcat show 3                        one product by id or internal_name
      pzcat add "My sample" --type redshift_catalog --main sample.parquet
    """


# -- validation ------------------------------------------------------------------------------------


@cli.command()
@click.argument("manifests", nargs=-1, type=click.Path(path_type=Path), metavar="[PRODUCT]...")
@click.option(
    "--changed-since",
    metavar="GIT_REF",
    help="Check products changed since this ref, and that their version was bumped.",
)
@click.option("--author", metavar="USER", help="GitHub user of the change (for official).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
)
@click.option(
    "--trusted-config",
    metavar="FILE_OR_REF",
    help="Judge the change by this "
    "catalog.yaml (a file, or a Git ref such as the base branch): its admins and limits.",
)
@click.option("--no-tables", is_flag=True, help="Skip reading table values (faster).")
@click.option("-v", "--verbose", is_flag=True, help="List valid products too.")
@root_option
@coded
def validate(
    manifests: tuple[Path, ...],
    changed_since: str | None,
    author: str | None,
    fmt: str,
    trusted_config: str | None,
    no_tables: bool,
    verbose: bool,
    root: Path | None,
) -> None:
    """Validate manifests, files and tables; print one report.

    Exit 0 when valid, 1 when not, 2 when validation could not run.

    \b
    Examples:
      pzcat validate
      pzcat validate manifests/3_my_sample.yaml --format json
      pzcat validate 3_my_sample          # an internal name or an id, as for `pzcat show`
      pzcat validate 3
      pzcat validate --changed-since origin/main --author octocat --format github \\
          --trusted-config origin/main
    """
    from pzcat import changes
    from pzcat.validate import validate_catalog

    catalog = open_catalog(root)
    if trusted_config:
        catalog.config = changes.judged_config(
            catalog.config, changes.trusted_config(catalog.root, trusted_config)
        )
    paths = [_manifest_path(catalog, m) for m in manifests]
    report = validate_catalog(
        catalog,
        paths or None,
        changed_since=changed_since,
        author=author,
        check_tables=not no_tables,
    )
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "github":
        click.echo(report.to_github(line_of=lambda issue: _issue_line(catalog, issue)))
    else:
        click.echo(report.to_text(verbose=verbose))
    git_failed = any(i.code == "git-unavailable" for i in report.catalog_issues)
    sys.exit(EXIT_CANNOT_RUN if git_failed else int(not report.valid))


def _manifest_path(catalog: Catalog, given: Path) -> Path:
    """A manifest file from a path, an internal name or an id (as `pzcat show` takes them).

    Looked up by file name first, so that a manifest too broken to parse can still be named.
    """
    if given.exists():
        return given
    text = str(given).strip()
    paths = catalog.manifest_paths()
    for path in paths:
        if path.stem == text or (text.isdigit() and path.stem.split("_", 1)[0] == text):
            return path
    found = catalog.get(text)  # by name; raises product-not-found
    return catalog.manifest_dir / f"{found.internal_name}.yaml"


def _issue_line(catalog: Catalog, issue: Any) -> int | None:
    """The line of an issue's manifest key (for annotations on the changed line)."""
    if not (issue.key and issue.file and issue.file.startswith("manifests/")):
        return None
    try:
        text = (catalog.root / issue.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    from pzcat.changes import key_line

    return key_line(text, issue.key)


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json", "text"]),
    default="text",
    show_default=True,
)
def codes(fmt: str) -> None:
    """List every stable error code with its severity and fix."""
    if fmt == "markdown":
        click.echo(codes_markdown(), nl=False)
    elif fmt == "json":
        click.echo(
            json.dumps(
                {
                    c.code: {
                        "severity": c.severity,
                        "group": c.group,
                        "title": c.title,
                        "fix": c.fix,
                    }
                    for c in CODES.values()
                },
                indent=2,
            )
        )
    else:
        for c in sorted(CODES.values(), key=lambda c: c.code):
            click.echo(f"{c.code:32} {c.severity:8} {c.title}")


@cli.command()
@click.option("--check", is_flag=True, help="Exit 1 if the committed schema is out of date.")
def schema(check: bool) -> None:
    """Export the manifest JSON Schema to pzcat/schema/manifest.schema.json."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != text:
            click.echo("manifest.schema.json is out of date: run `pzcat schema`", err=True)
            sys.exit(1)
        click.echo("manifest.schema.json is current")
        return
    atomic_write_text(SCHEMA_PATH, text)
    click.echo(f"wrote {SCHEMA_PATH}")


# -- browsing --------------------------------------------------------------------------------------


@cli.command("list")
@click.option("--type", "ptype", help="Only this product type.")
@click.option("--release", help="Only this release.")
@click.option("--official/--all", default=False, help="Only official products.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@root_option
@coded
def list_(
    ptype: str | None, release: str | None, official: bool, fmt: str, root: Path | None
) -> None:
    """Print the catalog, one product a line.

    \b
    Examples:
      pzcat list
      pzcat list --type "Training Set" --release dp1
    """
    catalog = open_catalog(root)
    items = catalog.manifests()
    if ptype:
        t = catalog.config.product_type(ptype)
        if t is None:
            raise UsageError("usage", f"unknown product type {ptype!r}")
        items = [m for m in items if m.product_type == t.name]
    if release:
        items = [m for m in items if (m.release or "").lower() == release.lower()]
    if official:
        items = [m for m in items if m.official]
    if fmt == "json":
        click.echo(
            json.dumps([m.model_dump(mode="json", exclude_none=True) for m in items], indent=2)
        )
        return
    click.echo(f"{'id':>4}  {'internal_name':40} {'type':20} {'release':8} {'version':>7}  status")
    for m in items:
        badge = " *" if m.official else ""
        click.echo(
            f"{m.id:>4}  {m.internal_name[:40]:40} {m.product_type:20} {m.release or '-':8} "
            f"{m.version:>7}  {m.status}{badge}"
        )
    click.echo(f"{len(items)} products (* official)")


@cli.command()
@click.argument("product")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "yaml", "json"]),
    default="text",
    show_default=True,
)
@root_option
@coded
def show(product: str, fmt: str, root: Path | None) -> None:
    """Print one product (by id or internal_name)."""
    m = open_catalog(root).get(product)
    if fmt == "yaml":
        click.echo(m.to_yaml(), nl=False)
        return
    if fmt == "json":
        click.echo(json.dumps(m.model_dump(mode="json", exclude_none=True), indent=2))
        return
    click.echo(f"{m.name}  ({m.internal_name}, id {m.id}, version {m.version}, {m.status})")
    click.echo(f"type: {m.product_type}   release: {m.release or '-'}   official: {m.official}")
    click.echo(
        f"uploaded by {m.uploaded_by}, created {m.created:%Y-%m-%d}, updated {m.updated:%Y-%m-%d}"
    )
    if m.deprecation_reason:
        click.echo(f"deprecated: {m.deprecation_reason}")
    if m.description:
        click.echo("\n" + m.description.strip() + "\n")
    click.echo("files:")
    for f in m.files:
        rows = f", {f.n_rows:,} rows" if f.n_rows is not None else ""
        size = f"{f.size:,} bytes" if f.size is not None else "external"
        click.echo(f"  [{f.role}] {f.path or f.url} ({f.format}, {size}{rows})")
    if m.columns:
        click.echo("columns: " + ", ".join(f"{r}={c.column}" for r, c in m.columns.items()))
    if m.provenance:
        p = m.provenance
        click.echo(
            f"provenance: {p.pipeline} {p.pipeline_version}; inputs: "
            + ", ".join(i.internal_name for i in p.inputs)
        )


# -- adding and editing ----------------------------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option("--type", "ptype", required=True, help="Product type (name or display name).")
@click.option(
    "--main", "main_file", type=click.Path(exists=True, path_type=Path), help="The main data file."
)
@click.option("--url", help="External URL of the main data (over the in-repository limit).")
@click.option("--format", "fmt", help="Format of the main file (guessed from its name).")
@click.option("--release", help="LSST release (not for redshift catalogs).")
@click.option("--description", default="", help="Markdown description.")
@click.option(
    "--description-file",
    type=click.Path(exists=True, path_type=Path),
    help="HTML/Markdown/PDF description file.",
)
@click.option(
    "--aux",
    "aux_files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Auxiliary file (repeatable).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="Override the suggested column association (repeatable).",
)
@click.option("--uploaded-by", help="GitHub user name (default: $GITHUB_ACTOR or git user.name).")
@click.option("--official", is_flag=True, help="Official product (admins only).")
@click.option("--pz-code", help="Photo-z code used.")
@click.option("--license", "license_", default="CC-BY-4.0", show_default=True)
@click.option("--citation")
@click.option("--doi")
@root_option
@coded
def add(
    name: str,
    ptype: str,
    main_file: Path | None,
    url: str | None,
    fmt: str | None,
    release: str | None,
    description: str,
    description_file: Path | None,
    aux_files: tuple[Path, ...],
    columns: tuple[str, ...],
    uploaded_by: str | None,
    official: bool,
    pz_code: str | None,
    license_: str,
    citation: str | None,
    doi: str | None,
    root: Path | None,
) -> None:
    """Add a product from local files, as the Photo-z Server's upload form did.

    \b
    Examples:
      pzcat add "VVDS sample" --type redshift_catalog --main vvds.fits --column z_flag=ZFLAGS
      pzcat add "Big estimates" --type photoz_estimates --release dp1 \\
          --url https://zenodo.org/records/1/files/pz.parquet --format parquet
    """
    from pzcat.products import add_product

    catalog = open_catalog(root)
    user = uploaded_by or default_user()
    warnings: list = []
    m = add_product(
        catalog,
        name=name,
        product_type=ptype,
        uploaded_by=user,
        main_file=main_file,
        url=url,
        fmt=fmt,
        release=release,
        description=description,
        description_file=description_file,
        aux_files=aux_files,
        columns=columns,
        official=official,
        pz_code=pz_code,
        license=license_,
        citation=citation,
        doi=doi,
        warnings=warnings,
    )
    click.echo(f"added {m.internal_name} (id {m.id}): manifests/{m.internal_name}.yaml")
    given = {c.split("=", 1)[0].strip() for c in columns}
    guessed = [f"{r}={c.column}" for r, c in m.columns.items() if r not in given]
    if guessed:
        click.echo(
            "columns guessed from names and UCDs: "
            + ", ".join(guessed)
            + " (change with `pzcat edit --column ROLE=COLUMN`)"
        )
    if given & set(m.columns):
        click.echo(
            "columns given: "
            + ", ".join(f"{r}={c.column}" for r, c in m.columns.items() if r in given)
        )
    for issue in warnings:
        click.echo(f"warning[{issue.code}] {issue.message}", err=True)


@cli.command()
@click.argument("product")
@click.option("--description")
@click.option("--release")
@click.option("--pz-code")
@click.option("--license", "license_")
@click.option("--citation")
@click.option("--doi")
@click.option("--official/--not-official", default=None, help="Admins only.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="Set (or with ROLE= remove) an association (repeatable).",
)
@click.option(
    "--refresh", is_flag=True, help="Re-read size, sha256, rows and columns of the files."
)
@click.option("--author", help="Your GitHub user name (default: $GITHUB_ACTOR or git user.name).")
@root_option
@coded
def edit(
    product: str,
    description: str | None,
    release: str | None,
    pz_code: str | None,
    license_: str | None,
    citation: str | None,
    doi: str | None,
    official: bool | None,
    columns: tuple[str, ...],
    refresh: bool,
    author: str | None,
    root: Path | None,
) -> None:
    """Edit a product's metadata; bumps its version.

    \b
    Examples:
      pzcat edit 3 --description "Now with z_err" --column z_err=ZERR
      pzcat edit 3 --refresh
    """
    from pzcat.products import edit_product

    m = edit_product(
        open_catalog(root),
        product,
        author=author or default_user(),
        description=description,
        release=release,
        pz_code=pz_code,
        license=license_,
        citation=citation,
        doi=doi,
        official=official,
        columns=columns,
        refresh=refresh,
    )
    click.echo(f"{m.internal_name} is now version {m.version}")


@cli.command()
@click.argument("product")
@click.argument("file", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--url", help="Attach an external URL instead of a file.")
@click.option(
    "--role",
    type=click.Choice(["auxiliary", "description", "main"]),
    default="auxiliary",
    show_default=True,
)
@click.option("--format", "fmt", help="Format (guessed from the name).")
@root_option
@coded
def attach(
    product: str, file: Path | None, url: str | None, role: str, fmt: str | None, root: Path | None
) -> None:
    """Attach a file (or URL) to a product; bumps its version."""
    from pzcat.products import attach_file

    m = attach_file(open_catalog(root), product, file=file, url=url, role=role, fmt=fmt)
    click.echo(f"{m.internal_name} is now version {m.version} with {len(m.files)} files")


@cli.command()
@click.argument("product")
@click.argument("filename")
@root_option
@coded
def detach(product: str, filename: str, root: Path | None) -> None:
    """Remove a file from a product; bumps its version."""
    from pzcat.products import detach_file

    m = detach_file(open_catalog(root), product, filename)
    click.echo(f"{m.internal_name} is now version {m.version} with {len(m.files)} files")


@cli.command()
@click.argument("product")
@click.option("--reason", required=True, help="Why (shown on the product page).")
@root_option
@coded
def deprecate(product: str, reason: str, root: Path | None) -> None:
    """Deprecate a product (it is never deleted: links and provenance keep working)."""
    from pzcat.products import deprecate_product

    m = deprecate_product(open_catalog(root), product, reason)
    click.echo(f"{m.internal_name} is deprecated (version {m.version})")


@cli.command()
@click.option("--skip-validate", is_flag=True, help="Build even if validation fails.")
@root_option
@click.pass_context
@coded
def build(ctx: click.Context, skip_validate: bool, root: Path | None) -> None:
    """Validate the catalog, then build the site and the Datasette previews.

    \b
    Example:
      pzcat build && pzcat serve
    """
    from pzcat.validate import validate_catalog

    catalog = open_catalog(root)
    if not skip_validate:
        report = validate_catalog(catalog)
        click.echo(report.to_text().splitlines()[-1])
        if not report.valid:
            click.echo(report.to_text(), err=True)
            sys.exit(EXIT_INVALID)
    for name in ("build-site", "build-previews"):
        command = cli.commands.get(name)
        if command is None:
            click.echo(f"({name} is not available in this installation; skipped)")
            continue
        ctx.invoke(command, root=root)


def main() -> None:
    """Console-script entry point."""
    _register_extensions()
    cli(prog_name="pzcat")


COMMANDS_GROUP = "pzcat.commands"


def _register_extensions() -> None:
    """Commands of the site, the pipelines and the server, from the ``pzcat.commands`` entry points.

    Each entry point names a ``register(cli)`` function; a part that is not installed (its module
    missing) is skipped.
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group=COMMANDS_GROUP):
        try:
            register = ep.load()
        except ModuleNotFoundError as exc:
            module = ep.value.split(":")[0]
            if not (module == exc.name or module.startswith(f"{exc.name}.")):
                raise
            continue
        register(cli)


if __name__ == "__main__":
    main()

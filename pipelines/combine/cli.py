"""``pzcat combine``: create a Combine Redshift Catalogs run (registered by ``pzcat.commands``)."""

from __future__ import annotations

from pathlib import Path

import click

from pzcat import vocab
from pzcat.clitools import coded, default_user, open_catalog, root_option


@click.command("combine")
@click.option("--name", required=True, help="Name of the combined catalog.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="PRODUCT",
    help="Input redshift_catalog (id or internal_name), in order (repeatable).",
)
@click.option(
    "--duplicates",
    type=click.Choice(["no", "mark", "remove"]),
    default=None,
    help="no: stack; mark: add tie_result; remove: keep the best of each group.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(vocab.OUTPUT_FORMATS)),
    default=None,
    help="Output format (default parquet).",
)
@click.option(
    "--cut",
    type=int,
    default=None,
    metavar="N",
    help="Keep rows with z_flag_homogenized >= N (0, 1, 2, 3, 4 or 6; the Photo-z "
    "Server's form offers 3). Default: no cut.",
)
@click.option(
    "--tie-order",
    type=click.Choice(["crd_id", "reference"]),
    default=None,
    help="Survivor a delta_z cluster keeps: smallest CRD_ID (default) or the "
    "reference's smallest id string (reproduces a Photo-z Server output).",
)
@click.option(
    "--sentinels",
    type=click.Choice(["keep", "missing"]),
    default=None,
    help="keep (default, as the reference): placeholders such as z = -1 are used "
    "as values; missing: they become missing values.",
)
@click.option("--description", default="", help="Description (Markdown).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML of configuration keys (radius, priorities, executor...).",
)
@click.option("--uploaded-by", help="GitHub user name (default: $GITHUB_ACTOR or git user.name).")
@click.option("--run", "run_now", is_flag=True, help="Execute the run now.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@root_option
@coded
def combine(
    name,
    inputs,
    duplicates,
    fmt,
    cut,
    tie_order,
    sentinels,
    description,
    config_file,
    uploaded_by,
    run_now,
    quiet,
    root,
):
    """Create a Combine Redshift Catalogs run (a pending product); --run executes it.

    \b
    Example:
      pzcat combine --name "DP1 fields specz" --input 2 --input 3 --duplicates remove --run
    """
    from pipelines.combine.lifecycle import PIPELINE, create_combine, load_config_file
    from pzcat.runs import run_pending

    catalog = open_catalog(root)
    config = dict(load_config_file(config_file) or {})
    for key, value in (("cut", cut), ("tie_order", tie_order), ("sentinels", sentinels)):
        if value is not None:
            config[key] = value
    manifest = create_combine(
        catalog,
        name=name,
        inputs=list(inputs),
        uploaded_by=uploaded_by or default_user(),
        duplicates=duplicates,
        fmt=fmt,
        description=description,
        config=config or None,
    )
    click.echo(
        f"pending {manifest.internal_name} (id {manifest.id}): "
        f"manifests/{manifest.internal_name}.yaml"
    )
    if run_now:
        done = run_pending(catalog, manifest.internal_name, PIPELINE.progress(quiet))
        click.echo(
            f"published {done.internal_name}: {done.files[0].path} ({done.files[0].n_rows} rows)"
        )


COMMANDS = [combine]


def register(cli: click.Group) -> None:
    """Add ``combine`` to the pzcat click group."""
    for command in COMMANDS:
        cli.add_command(command)

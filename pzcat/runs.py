"""Pipeline runs as products: the run lifecycle (pending, staged, published, failed, reproduce).

The core knows no pipeline. A pipeline registers itself through the ``pzcat.pipelines`` entry point
group (an object with the attributes of :class:`Pipeline`, named by the ``provenance.pipeline`` of
its products); :func:`registered_pipelines` finds them. A pipeline's own package writes the pending
manifest (e.g. :func:`pipelines.combine.lifecycle.create_combine`); the lifecycle does the rest:

* :func:`run_pending` executes a pending product: the pipeline writes its output into a temporary
  folder next to ``products/<internal_name>/`` which is renamed into place when complete; the
  manifest gets the file (size, sha256, rows, columns), the pipeline's column association,
  software versions, timings and summary, and status ``published``, written atomically. A failure
  publishes nothing: the manifest stays pending with the error recorded. The run is a
  :class:`pzcat.staging.Staging` transaction (``kind="run"``): its folder is named by the process
  id, and the folders of killed runs are removed when the next change starts.
* :func:`reproduce` reruns a published product from its manifest in a temporary folder and
  compares every output file byte for byte.

``pzcat run`` and ``pzcat reproduce`` are defined here (module level, registered through the
``pzcat.commands`` entry point); ``pzcat combine`` lives with its pipeline.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import click

from pzcat.catalog import Catalog
from pzcat.clitools import coded, open_catalog, root_option
from pzcat.errors import PzcatError
from pzcat.files import path_digest
from pzcat.manifest import ColumnRole, Manifest, Provenance, now_utc, read_manifest
from pzcat.staging import Staging
from pzcat.vocab import STANDARD_ROLES

PIPELINES_GROUP = "pzcat.pipelines"
#: A progress callback (one line per step), or None for none.
Progress = Callable[[str], None] | None


class RunError(PzcatError):
    """A pipeline run cannot be created, executed or reproduced."""


class RunResult(Protocol):
    """What a pipeline's ``execute`` returns."""

    files: list[dict[str, Any]]  # [{"path": relative to out_dir, ...}], the main output first
    versions: dict[str, str]
    summary: dict[str, Any]
    timings: dict[str, float]
    executor: str
    rows: int


class Pipeline(Protocol):
    """What the run lifecycle asks of a registered pipeline."""

    name: str  # the provenance.pipeline of its products
    version: str
    output_roles: dict[str, str]  # role -> column of the main output

    def output_format(self, manifest: Manifest) -> str: ...

    def execute(
        self,
        catalog: Catalog,
        manifest: Manifest,
        out_dir: Path,
        progress: Callable[[str], None] | None = None,
        strict: bool = True,
    ) -> RunResult: ...

    def progress(self, quiet: bool) -> Callable[[str], None] | None: ...

    def create(self, catalog: Catalog, **options: Any) -> Manifest: ...


_EXTRA: dict[str, Pipeline] = {}


@cache
def _from_entry_points() -> dict[str, Pipeline]:
    from importlib.metadata import entry_points

    found: dict[str, Pipeline] = {}
    for ep in entry_points(group=PIPELINES_GROUP):
        pipeline = ep.load()
        found[pipeline.name] = pipeline
    return found


def registered_pipelines() -> dict[str, Pipeline]:
    """Pipelines by name: the ``pzcat.pipelines`` entry points and :func:`register_pipeline`."""
    return {**_from_entry_points(), **_EXTRA}


def create_run(catalog: Catalog, pipeline: str, **options: Any) -> Manifest:
    """Write the pending manifest of a new run of the registered ``pipeline`` (nothing runs yet).

    ``options`` are the pipeline's (for ``combine_redshift_catalogs``: ``name``, ``inputs``,
    ``uploaded_by``, ``duplicates``, ``fmt``, ``description``, ``config``, ``product_id``; see
    :func:`pipelines.combine.lifecycle.create_combine`).
    """
    found = registered_pipelines().get(pipeline)
    if found is None:
        names = ", ".join(sorted(registered_pipelines())) or "none installed"
        raise RunError("usage", f"no pipeline {pipeline!r} is installed ({names})")
    return found.create(catalog, **options)


def register_pipeline(pipeline: Pipeline) -> None:
    """Register a pipeline without an entry point (tests, notebooks)."""
    _EXTRA[pipeline.name] = pipeline


def pipeline_of(manifest: Manifest) -> Pipeline | None:
    """The registered pipeline that made ``manifest`` (None for other products)."""
    if manifest.provenance is None:
        return None
    return registered_pipelines().get(manifest.provenance.pipeline)


def _provenance(manifest: Manifest) -> Provenance:
    """The provenance of a pipeline product (:func:`pipeline_of` found it, so it exists)."""
    if manifest.provenance is None:
        raise RunError(
            "missing-provenance",
            f"{manifest.internal_name} has no provenance",
            product=manifest.internal_name,
        )
    return manifest.provenance


def _pipeline_manifest(catalog: Catalog, key: str) -> tuple[Manifest, Pipeline]:
    manifest = catalog.get(key)
    pipeline = pipeline_of(manifest)
    if pipeline is None:
        names = ", ".join(sorted(registered_pipelines())) or "none installed"
        raise RunError(
            "not-a-pipeline-product",
            f"{manifest.internal_name} was not made by a registered pipeline ({names})",
            product=manifest.internal_name,
        )
    return manifest, pipeline


def run_pending(catalog: Catalog, key: str, progress: Progress = None) -> Manifest:
    """Execute a pending combination and publish it.

    Raises
    ------
    PzcatError
        When the run fails; the manifest then stays pending with ``provenance.error`` set and
        nothing is published.
    """
    from pzcat.products import describe_file

    manifest, pipeline = _pipeline_manifest(catalog, key)
    if manifest.status != "pending":
        raise RunError(
            "not-pending",
            f"{manifest.internal_name} is {manifest.status}; "
            "`pzcat reproduce` reruns published products",
            product=manifest.internal_name,
        )
    internal = manifest.internal_name
    pending_text = catalog.manifest_path(internal).read_text(encoding="utf-8")
    started = now_utc()
    try:
        with Staging(catalog, internal, kind="run") as stage:
            result = pipeline.execute(catalog, manifest, stage.folder, progress, strict=True)
            target = stage.place()
            fmt = pipeline.output_format(manifest)
            entry_path = target / result.files[0]["path"].split("/")[0]
            entry = describe_file(entry_path, catalog.relative(entry_path), "main", fmt)
            names = {c.name for c in entry.columns or []}
            for col in entry.columns or []:
                role = next((r for r, c in pipeline.output_roles.items() if c == col.name), None)
                if role and not col.ucd:
                    col.ucd = STANDARD_ROLES.get(role)
            published = manifest.model_copy(deep=True)
            published.files = [entry]
            published.columns = {
                r: ColumnRole(column=c, ucd=STANDARD_ROLES.get(r))
                for r, c in pipeline.output_roles.items()
                if c in names
            }
            published.status = "published"
            published.updated = now_utc()
            prov = _provenance(published)
            prov.software = result.versions
            prov.started, prov.ended = started, published.updated
            prov.summary = result.summary | {
                "timings_s": result.timings,
                "executor": result.executor,
                "rows": result.rows,
            }
            prov.error = None
            try:
                stage.commit(published)
            except PzcatError as exc:
                raise RunError(exc.code, f"the output does not validate: {exc.message}") from None
        return published
    except PzcatError as exc:  # the staging transaction put everything back; record the error
        failed = read_manifest(pending_text, internal)
        _provenance(failed).error = {
            "code": exc.code,
            "message": exc.message,
            "time": now_utc().isoformat(),
        }
        catalog.save(failed)
        raise


def pending_names(catalog: Catalog) -> list[str]:
    """Internal names of pending pipeline products, by id."""
    return [
        m.internal_name
        for m in catalog.manifests()
        if m.status == "pending" and pipeline_of(m) is not None
    ]


@dataclass
class FileComparison:
    """One output file of a reproduction."""

    path: str
    expected: str | None  # digest of the published file on disk
    actual: str | None  # digest of the rerun's file
    recorded: str | None = None  # sha256 in the manifest

    @property
    def identical(self) -> bool:
        """The rerun's bytes equal the published file's, which match the manifest."""
        return self.expected is not None and self.expected == self.actual == self.recorded


def reproduce(catalog: Catalog, key: str, progress: Progress = None) -> list[FileComparison]:
    """Rerun a published pipeline product in a temporary folder; compare its files."""
    manifest, pipeline = _pipeline_manifest(catalog, key)
    if manifest.status != "published":
        raise RunError(
            "not-published",
            f"{manifest.internal_name} is {manifest.status}; `pzcat run` executes pending runs",
            product=manifest.internal_name,
        )
    with tempfile.TemporaryDirectory(prefix=f"pzcat-reproduce-{manifest.internal_name}-") as tmp:
        result = pipeline.execute(catalog, manifest, Path(tmp), progress, strict=True)
        produced = {}
        for f in result.files:
            top = f["path"].split("/")[0]
            produced[top] = path_digest(Path(tmp) / top)[1]
        out = []
        for entry in manifest.files:
            if entry.role != "main":
                continue
            published = catalog.resolve(entry)
            on_disk = path_digest(published)[1] if published and published.exists() else None
            out.append(
                FileComparison(
                    entry.filename, on_disk, produced.pop(entry.filename, None), entry.sha256
                )
            )
        out += [FileComparison(name, None, digest) for name, digest in sorted(produced.items())]
        return out


# --------------------------------------------------------------------------------------- CLI


def _progress(key: str | None, root: Path | None, quiet: bool) -> Progress:
    if quiet or key is None:
        return None
    try:
        _, pipeline = _pipeline_manifest(open_catalog(root), key)
    except PzcatError:
        return None
    return pipeline.progress(quiet)


@click.command("run")
@click.argument("product", required=False)
@click.option("--pending", "all_pending", is_flag=True, help="Run every pending pipeline product.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@root_option
@coded
def run_command(product: str | None, all_pending: bool, quiet: bool, root: Path | None) -> None:
    """Execute a pending pipeline run (or all of them with --pending)."""
    catalog = open_catalog(root)
    if bool(product) == all_pending:
        raise RunError("usage", "give a PRODUCT or --pending")
    names = pending_names(catalog) if all_pending or product is None else [product]
    if all_pending and not names:
        click.echo("no pending runs")
    for key in names:
        done = run_pending(catalog, key, _progress(key, root, quiet))
        click.echo(
            f"published {done.internal_name}: {done.files[0].path} ({done.files[0].n_rows} rows)"
        )


@click.command("reproduce")
@click.argument("product")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@root_option
@coded
def reproduce_command(product: str, quiet: bool, root: Path | None) -> None:
    """Rerun a published pipeline product in a temporary folder; exit 1 unless byte-identical."""
    catalog = open_catalog(root)
    results = reproduce(catalog, product, _progress(product, root, quiet))
    for r in results:
        state = "identical" if r.identical else "DIFFERENT"
        click.echo(
            f"{state}  {r.path}  published {r.expected}  manifest {r.recorded}  rerun {r.actual}"
        )
    if not results or not all(r.identical for r in results):
        sys.exit(1)


COMMANDS = [run_command, reproduce_command]


def register(cli: click.Group) -> None:
    """Add ``run`` and ``reproduce`` to the pzcat click group (idempotent)."""
    for command in COMMANDS:
        cli.add_command(command)

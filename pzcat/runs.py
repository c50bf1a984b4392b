"""Pipeline runs as products: ``pzcat combine``, ``pzcat run``, ``pzcat reproduce``.

The one module that converts manifests into :class:`pipelines.combine.inputs.CombineInput`.

* :func:`create_combine` writes the manifest of a new ``redshift_catalog`` with status
  ``pending``: its full configuration and its inputs (id, version, files and checksums) in
  provenance. The plan is checked first, so a pending run is one that can start.
* :func:`run_pending` executes it: the output is written into a temporary folder next to
  ``products/<internal_name>/`` and renamed into place when complete; the manifest gets the
  file (size, sha256, rows, columns), the column association (id: CRD_ID, z_flag:
  z_flag_homogenized, ra, dec, z, z_err, survey), software versions, timings and summary, and
  status ``published``, written atomically. A failure publishes nothing: the manifest stays
  pending with the error recorded; temporary folders of earlier runs (killed ones too) are
  removed before a run starts.
* :func:`reproduce` reruns a published product from its manifest in a temporary folder and
  compares every output file byte for byte.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pzcat import vocab
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import path_digest
from pzcat.manifest import (
    STANDARD_ROLES,
    ColumnRole,
    Manifest,
    Provenance,
    ProvenanceInput,
    load_manifest_data,
    make_internal_name,
    now_utc,
)
from pzcat.safeyaml import load_yaml

PIPELINE = "combine_redshift_catalogs"
PIPELINE_VERSION = "1"
#: Output column association of a combined catalog (role -> column).
OUTPUT_ROLES = {"id": "CRD_ID", "ra": "ra", "dec": "dec", "z": "z", "z_err": "z_err",
                "z_flag": "z_flag_homogenized", "survey": "survey"}
INPUT_ROLES = ("id", "ra", "dec", "z", "z_flag", "z_err", "survey", "instrument_type")


class RunError(PzcatError):
    """A pipeline run cannot be created, executed or reproduced."""


def _input_manifest(catalog: Catalog, key: str) -> Manifest:
    manifest = catalog.get(key)
    if manifest.product_type != "redshift_catalog":
        raise RunError("not-a-redshift-catalog", f"{manifest.internal_name} is a "
                       f"{manifest.product_type}; only redshift_catalog products can be combined",
                       product=manifest.internal_name)
    if manifest.status != "published":
        raise RunError("input-not-published", f"{manifest.internal_name} is {manifest.status}; "
                       "only published products can be combined", product=manifest.internal_name)
    main = manifest.main_file
    if main is None or not main.path:
        raise RunError("input-not-local", f"{manifest.internal_name} has no main file in the "
                       "repository (external URL or none); download it first",
                       product=manifest.internal_name)
    return manifest


def to_combine_input(catalog: Catalog, manifest: Manifest):
    """The pipeline's view of a redshift_catalog product.

    Returns
    -------
    pipelines.combine.inputs.CombineInput
    """
    from pipelines.combine.inputs import CombineInput

    main = manifest.main_file
    return CombineInput(
        internal_name=manifest.internal_name,
        version=manifest.version,
        path=catalog.resolve(main),
        format=main.format,
        columns={r: manifest.column_for(r) for r in INPUT_ROLES if manifest.column_for(r)},
        files_sha256={f.path: f.sha256 for f in manifest.files if f.path and f.sha256},
    )


def _provenance_inputs(catalog: Catalog, manifests: list[Manifest]) -> list[ProvenanceInput]:
    return [
        ProvenanceInput(
            internal_name=m.internal_name, id=m.id, version=m.version,
            files=[{"path": f.path, "sha256": f.sha256} for f in m.files if f.role == "main"],
        )
        for m in manifests
    ]


def load_config_file(path: Path | None) -> dict[str, Any]:
    """A user's ``--config`` YAML (empty when None)."""
    if path is None:
        return {}
    try:
        data = load_yaml(Path(path).read_bytes(), str(path), error=RunError) or {}
    except OSError as exc:
        raise RunError("invalid-config", f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RunError("invalid-config", f"{path} must be a mapping of configuration keys")
    return data


def create_combine(catalog: Catalog, *, name: str, inputs: list[str], uploaded_by: str,
                   duplicates: str | None = None, fmt: str | None = None, description: str = "",
                   config: dict[str, Any] | None = None, product_id: int | None = None) -> Manifest:
    """Write the pending manifest of a new combination (nothing runs yet).

    Parameters
    ----------
    catalog : Catalog
    name : str
        Display name of the new product.
    inputs : list of str
        Input products by id, internal_name or name, in order.
    uploaded_by : str
    duplicates, fmt : str, optional
        Override ``config``'s ``duplicates`` and ``output_format``.
    description : str
    config : dict, optional
        Configuration keys (:class:`pipelines.combine.config.CombineConfig`).
    product_id : int, optional
        The id to give the product (default the next free one; the API allocates ids across
        its submissions).

    Raises
    ------
    PzcatError
        When the inputs or configuration cannot run (the plan is checked first).
    """
    from pipelines.combine.config import CombineConfig
    from pipelines.combine.plan import make_plan

    if not name.strip():
        raise RunError("usage", "the combined catalog needs a name")
    if not inputs:
        raise RunError("no-inputs", "give at least one --input product")
    data = _relative_paths(catalog, dict(config or {}))
    if duplicates:
        data["duplicates"] = duplicates
    if fmt:
        data["output_format"] = fmt
    cfg = CombineConfig.from_dict(data)
    manifests = [_input_manifest(catalog, key) for key in inputs]
    make_plan([to_combine_input(catalog, m) for m in manifests],
              CombineConfig.from_dict(_absolute_paths(catalog, data)))
    pid = product_id or catalog.next_id()
    internal = make_internal_name(pid, name)
    if catalog.manifest_path(internal).exists():
        raise RunError("file-exists", f"product {internal} exists already")
    now = now_utc()
    manifest = Manifest(
        id=pid, internal_name=internal, name=name.strip(), product_type="redshift_catalog",
        description=description, uploaded_by=uploaded_by, created=now, updated=now, version=1,
        status="pending", files=[], columns={},
        provenance=Provenance(
            pipeline=PIPELINE, pipeline_version=PIPELINE_VERSION, config=cfg.to_dict(),
            inputs=_provenance_inputs(catalog, manifests),
        ),
    )
    catalog.save(manifest)
    return manifest


def _pinned_inputs(catalog: Catalog, manifest: Manifest, strict: bool):
    """The inputs recorded in provenance, checked against the catalog's current files."""
    out = []
    for pinned in manifest.provenance.inputs:
        current = _input_manifest(catalog, pinned.internal_name)
        inp = to_combine_input(catalog, current)
        for f in pinned.files:
            path = catalog.root / f["path"]
            if not path.exists():
                raise RunError("input-changed", f"input {pinned.internal_name}: file {f['path']} "
                               "recorded in provenance no longer exists", product=pinned.internal_name)
            if strict and path_digest(path)[1] != f["sha256"]:
                raise RunError("input-changed", f"input {pinned.internal_name}: {f['path']} changed "
                               f"since the run was created (version {pinned.version}, now "
                               f"{current.version})", product=pinned.internal_name)
        out.append(inp)
    return out


PATH_KEYS = ("flags_file", "fields_file")


def _relative_paths(catalog: Catalog, data: dict[str, Any]) -> dict[str, Any]:
    """Data files of a configuration as paths relative to the repository (reproducible)."""
    for key in PATH_KEYS:
        if data.get(key):
            path = Path(data[key])
            path = path if path.is_absolute() else Path.cwd() / path
            if not path.resolve().is_relative_to(catalog.root):
                raise RunError("invalid-config", f"{key} {data[key]} must be a file inside the "
                               "repository, so that the run can be reproduced from its manifest")
            data[key] = catalog.relative(path)
    return data


def _absolute_paths(catalog: Catalog, data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for key in PATH_KEYS:
        if data.get(key) and not Path(data[key]).is_absolute():
            data[key] = str(catalog.root / data[key])
    return data


def _clean_stale(catalog: Catalog, internal: str) -> None:
    """Remove temporary folders of earlier runs of ``internal`` (interrupted or killed)."""
    if catalog.products_dir.is_dir():
        for stale in catalog.products_dir.glob(f".{internal}.run-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _execute(catalog: Catalog, manifest: Manifest, out_dir: Path, progress, strict: bool):
    from pipelines.combine.config import CombineConfig
    from pipelines.combine.plan import make_plan
    from pipelines.combine.runner import run_combine

    cfg = CombineConfig.from_dict(_absolute_paths(catalog, manifest.provenance.config))
    inputs = _pinned_inputs(catalog, manifest, strict)
    plan = make_plan(inputs, cfg, output_name=manifest.internal_name)
    return run_combine(plan, out_dir, progress)


def _pipeline_manifest(catalog: Catalog, key: str) -> Manifest:
    manifest = catalog.get(key)
    if manifest.provenance is None or manifest.provenance.pipeline != PIPELINE:
        raise RunError("not-a-pipeline-product", f"{manifest.internal_name} was not made by "
                       f"{PIPELINE}", product=manifest.internal_name)
    return manifest


def run_pending(catalog: Catalog, key: str, progress=None) -> Manifest:
    """Execute a pending combination and publish it.

    Raises
    ------
    PzcatError
        When the run fails; the manifest then stays pending with ``provenance.error`` set and
        nothing is published.
    """
    from pzcat.products import describe_file
    from pzcat.validate import validate_manifest

    manifest = _pipeline_manifest(catalog, key)
    if manifest.status != "pending":
        raise RunError("not-pending", f"{manifest.internal_name} is {manifest.status}; "
                       "`pzcat reproduce` reruns published products", product=manifest.internal_name)
    internal = manifest.internal_name
    _clean_stale(catalog, internal)
    catalog.products_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=catalog.products_dir, prefix=f".{internal}.run-"))
    target = catalog.product_dir(internal)
    pending_text = catalog.manifest_path(internal).read_text(encoding="utf-8")
    started = now_utc()
    try:
        result = _execute(catalog, manifest, staged, progress, strict=True)
        if target.exists():
            shutil.rmtree(target)
        staged.replace(target)
        fmt = manifest.provenance.config.get("output_format", "parquet")
        entry_path = target / result.files[0]["path"].split("/")[0]
        entry = describe_file(entry_path, catalog.relative(entry_path), "main", fmt)
        names = {c.name for c in entry.columns or []}
        for col in entry.columns or []:
            role = next((r for r, c in OUTPUT_ROLES.items() if c == col.name), None)
            if role and not col.ucd:
                col.ucd = STANDARD_ROLES.get(role)
        published = manifest.model_copy(deep=True)
        published.files = [entry]
        published.columns = {r: ColumnRole(column=c, ucd=STANDARD_ROLES.get(r))
                             for r, c in OUTPUT_ROLES.items() if c in names}
        published.status = "published"
        published.updated = now_utc()
        prov = published.provenance
        prov.software = result.versions
        prov.started, prov.ended = started, published.updated
        prov.summary = result.summary | {"timings_s": result.timings, "executor": result.executor,
                                         "rows": result.rows}
        prov.error = None
        path = catalog.save(published)
        report = validate_manifest(catalog, path)
        if not report.valid:
            first = report.errors[0]
            raise RunError(first.code, f"the output does not validate: {first.message}")
        return published
    except PzcatError as exc:
        if target.exists():
            shutil.rmtree(target)
        failed = Manifest.model_validate(load_manifest_data(pending_text, internal))
        failed.provenance.error = {"code": exc.code, "message": exc.message,
                                   "time": now_utc().isoformat()}
        catalog.save(failed)
        raise
    finally:
        if staged.exists():
            shutil.rmtree(staged)


def pending_names(catalog: Catalog) -> list[str]:
    """Internal names of pending pipeline products, by id."""
    return [m.internal_name for m in catalog.manifests()
            if m.status == "pending" and m.provenance and m.provenance.pipeline == PIPELINE]


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


def reproduce(catalog: Catalog, key: str, progress=None) -> list[FileComparison]:
    """Rerun a published pipeline product in a temporary folder; compare its files."""
    manifest = _pipeline_manifest(catalog, key)
    if manifest.status != "published":
        raise RunError("not-published", f"{manifest.internal_name} is {manifest.status}; "
                       "`pzcat run` executes pending runs", product=manifest.internal_name)
    with tempfile.TemporaryDirectory(prefix=f"pzcat-reproduce-{manifest.internal_name}-") as tmp:
        result = _execute(catalog, manifest, Path(tmp), progress, strict=True)
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
            out.append(FileComparison(entry.filename, on_disk, produced.pop(entry.filename, None),
                                      entry.sha256))
        out += [FileComparison(name, None, digest) for name, digest in sorted(produced.items())]
        return out


# --------------------------------------------------------------------------------------- CLI


def register(cli) -> None:
    """Add ``combine``, ``run`` and ``reproduce`` to the pzcat click group (idempotent)."""
    import click

    from pzcat.cli import coded, default_user, open_catalog, root_option

    if "combine" in cli.commands:
        return

    def progress_for(quiet: bool):
        from pipelines.combine.runner import stderr_progress

        return None if quiet else stderr_progress

    @cli.command()
    @click.option("--name", required=True, help="Name of the combined catalog.")
    @click.option("--input", "inputs", multiple=True, required=True, metavar="PRODUCT",
                  help="Input redshift_catalog (id or internal_name), in order (repeatable).")
    @click.option("--duplicates", type=click.Choice(["no", "mark", "remove"]), default=None,
                  help="no: stack; mark: add tie_result; remove: keep the best of each group.")
    @click.option("--format", "fmt", type=click.Choice(list(vocab.OUTPUT_FORMATS)),
                  default=None, help="Output format (default parquet).")
    @click.option("--cut", type=int, default=None, metavar="N",
                  help="Keep rows with z_flag_homogenized >= N (0, 1, 2, 3, 4 or 6; the Photo-z "
                       "Server's form offers 3). Default: no cut.")
    @click.option("--tie-order", type=click.Choice(["crd_id", "reference"]), default=None,
                  help="Survivor a delta_z cluster keeps: smallest CRD_ID (default) or the "
                       "reference's smallest id string (reproduces a Photo-z Server output).")
    @click.option("--sentinels", type=click.Choice(["keep", "missing"]), default=None,
                  help="keep (default, as the reference): placeholders such as z = -1 are used "
                       "as values; missing: they become missing values.")
    @click.option("--description", default="", help="Description (Markdown).")
    @click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="YAML of configuration keys (radius, priorities, executor...).")
    @click.option("--uploaded-by", help="GitHub user name (default: $GITHUB_ACTOR or git user.name).")
    @click.option("--run", "run_now", is_flag=True, help="Execute the run now.")
    @click.option("--quiet", is_flag=True, help="No progress lines.")
    @root_option
    @coded
    def combine(name, inputs, duplicates, fmt, cut, tie_order, sentinels, description, config_file,
                uploaded_by, run_now, quiet, root):
        """Create a Combine Redshift Catalogs run (a pending product); --run executes it.

        \b
        Example:
          pzcat combine --name "DP1 fields specz" --input 2 --input 3 --duplicates remove --run
        """
        catalog = open_catalog(root)
        config = dict(load_config_file(config_file) or {})
        for key, value in (("cut", cut), ("tie_order", tie_order), ("sentinels", sentinels)):
            if value is not None:
                config[key] = value
        manifest = create_combine(
            catalog, name=name, inputs=list(inputs), uploaded_by=uploaded_by or default_user(),
            duplicates=duplicates, fmt=fmt, description=description, config=config or None,
        )
        click.echo(f"pending {manifest.internal_name} (id {manifest.id}): "
                   f"manifests/{manifest.internal_name}.yaml")
        if run_now:
            done = run_pending(catalog, manifest.internal_name, progress_for(quiet))
            click.echo(f"published {done.internal_name}: {done.files[0].path} ({done.files[0].n_rows} rows)")

    @cli.command()
    @click.argument("product", required=False)
    @click.option("--pending", "all_pending", is_flag=True, help="Run every pending pipeline product.")
    @click.option("--quiet", is_flag=True, help="No progress lines.")
    @root_option
    @coded
    def run(product, all_pending, quiet, root):
        """Execute a pending pipeline run (or all of them with --pending)."""
        catalog = open_catalog(root)
        if bool(product) == all_pending:
            raise RunError("usage", "give a PRODUCT or --pending")
        names = pending_names(catalog) if all_pending else [product]
        if all_pending and not names:
            click.echo("no pending runs")
        for key in names:
            done = run_pending(catalog, key, progress_for(quiet))
            click.echo(f"published {done.internal_name}: {done.files[0].path} ({done.files[0].n_rows} rows)")

    @cli.command()
    @click.argument("product")
    @click.option("--quiet", is_flag=True, help="No progress lines.")
    @root_option
    @coded
    def reproduce_cmd(product, quiet, root):
        """Rerun a published pipeline product in a temporary folder; exit 1 unless byte-identical."""
        catalog = open_catalog(root)
        results = reproduce(catalog, product, progress_for(quiet))
        for r in results:
            state = "identical" if r.identical else "DIFFERENT"
            click.echo(f"{state}  {r.path}  published {r.expected}  manifest {r.recorded}  "
                       f"rerun {r.actual}")
        if not results or not all(r.identical for r in results):
            sys.exit(1)

    reproduce_cmd.name = "reproduce"
    cli.commands.pop("reproduce-cmd", None)
    cli.commands.pop("reproduce_cmd", None)
    cli.add_command(reproduce_cmd, "reproduce")

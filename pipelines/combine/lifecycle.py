"""Combine Redshift Catalogs as a product of the catalog: what the core's run lifecycle asks of it.

Registered with the core through the ``pzcat.pipelines`` entry point (``pyproject.toml``:
``combine_redshift_catalogs = "pipelines.combine.lifecycle:PIPELINE"``); :mod:`pzcat.runs` runs,
publishes, fails and reproduces it without knowing it. This is the one module that converts
manifests into :class:`pipelines.combine.inputs.CombineInput`.

* :func:`create_combine` writes the manifest of a new ``redshift_catalog`` with status
  ``pending``: its full configuration and its inputs (id, version, files and checksums) in
  provenance. The plan is checked first, so a pending run is one that can start.
* :data:`PIPELINE` executes it into the folder the lifecycle stages (:meth:`Combine.execute`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pzcat.catalog import Catalog
from pzcat.files import path_digest
from pzcat.manifest import (
    Manifest,
    Provenance,
    ProvenanceInput,
    make_internal_name,
    now_utc,
)
from pzcat.paths import is_within
from pzcat.runs import RunError, RunResult
from pzcat.safeyaml import load_yaml

PIPELINE_NAME = "combine_redshift_catalogs"
PIPELINE_VERSION = "1"
#: Output column association of a combined catalog (role -> column).
OUTPUT_ROLES = {
    "id": "CRD_ID",
    "ra": "ra",
    "dec": "dec",
    "z": "z",
    "z_err": "z_err",
    "z_flag": "z_flag_homogenized",
    "survey": "survey",
}
INPUT_ROLES = ("id", "ra", "dec", "z", "z_flag", "z_err", "survey", "instrument_type")


def _input_manifest(catalog: Catalog, key: str) -> Manifest:
    manifest = catalog.get(key)
    ptype = catalog.config.product_type(manifest.product_type)
    if ptype is None or ptype.pipeline != PIPELINE_NAME:  # catalog.yaml product_types[].pipeline
        types = [t.name for t in catalog.config.product_types if t.pipeline == PIPELINE_NAME]
        raise RunError(
            "not-a-redshift-catalog",
            f"{manifest.internal_name} is a "
            f"{manifest.product_type}; only {' or '.join(types) or 'no'} products can be combined",
            product=manifest.internal_name,
        )
    if manifest.status != "published":
        raise RunError(
            "input-not-published",
            f"{manifest.internal_name} is {manifest.status}; "
            "only published products can be combined",
            product=manifest.internal_name,
        )
    main = manifest.main_file
    if main is None or not main.path:
        raise RunError(
            "input-not-local",
            f"{manifest.internal_name} has no main file in the "
            "repository (external URL or none); download it first",
            product=manifest.internal_name,
        )
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
            internal_name=m.internal_name,
            id=m.id,
            version=m.version,
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


def create_combine(
    catalog: Catalog,
    *,
    name: str,
    inputs: list[str],
    uploaded_by: str,
    duplicates: str | None = None,
    fmt: str | None = None,
    description: str = "",
    config: dict[str, Any] | None = None,
    product_id: int | None = None,
) -> Manifest:
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
    if cfg.output_layout != "file":
        raise RunError(
            "invalid-config",
            "output_layout 'dataset' (a folder of Parquet files) cannot be published as a "
            "catalog product, which is one file or a HATS folder: use --format hats for a "
            "partitioned output",
        )
    manifests = [_input_manifest(catalog, key) for key in inputs]
    make_plan(
        [to_combine_input(catalog, m) for m in manifests],
        CombineConfig.from_dict(_absolute_paths(catalog, data)),
    )
    pid = product_id or catalog.next_id()
    internal = make_internal_name(pid, name)
    if catalog.manifest_path(internal).exists():
        raise RunError("file-exists", f"product {internal} exists already")
    now = now_utc()
    manifest = Manifest(
        id=pid,
        internal_name=internal,
        name=name.strip(),
        product_type="redshift_catalog",
        description=description,
        uploaded_by=uploaded_by,
        created=now,
        updated=now,
        version=1,
        status="pending",
        files=[],
        columns={},
        provenance=Provenance(
            pipeline=PIPELINE_NAME,
            pipeline_version=PIPELINE_VERSION,
            config=cfg.to_dict(),
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
                raise RunError(
                    "input-changed",
                    f"input {pinned.internal_name}: file {f['path']} "
                    "recorded in provenance no longer exists",
                    product=pinned.internal_name,
                )
            if strict and path_digest(path)[1] != f["sha256"]:
                raise RunError(
                    "input-changed",
                    f"input {pinned.internal_name}: {f['path']} changed "
                    f"since the run was created (version {pinned.version}, now "
                    f"{current.version})",
                    product=pinned.internal_name,
                )
        out.append(inp)
    return out


PATH_KEYS = ("flags_file", "fields_file")


def _relative_paths(catalog: Catalog, data: dict[str, Any]) -> dict[str, Any]:
    """Data files of a configuration as paths relative to the repository (reproducible)."""
    for key in PATH_KEYS:
        if data.get(key):
            path = Path(data[key])
            path = path if path.is_absolute() else Path.cwd() / path
            if not is_within(path, catalog.root):
                raise RunError(
                    "invalid-config",
                    f"{key} {data[key]} must be a file inside the "
                    "repository, so that the run can be reproduced from its manifest",
                )
            data[key] = catalog.relative(path)
    return data


def _absolute_paths(catalog: Catalog, data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    for key in PATH_KEYS:
        if data.get(key) and not Path(data[key]).is_absolute():
            data[key] = str(catalog.root / data[key])
    return data


class Combine:
    """The pipeline as the run lifecycle sees it (:class:`pzcat.runs.Pipeline`)."""

    name = PIPELINE_NAME
    version = PIPELINE_VERSION
    output_roles = OUTPUT_ROLES

    def output_format(self, manifest: Manifest) -> str:
        """Format of the run's main output file."""
        return manifest.provenance.config.get("output_format", "parquet")

    def execute(
        self,
        catalog: Catalog,
        manifest: Manifest,
        out_dir: Path,
        progress=None,
        strict: bool = True,
    ) -> RunResult:
        """Run the manifest's recorded configuration on its pinned inputs, writing into ``out_dir``."""
        from pipelines.combine.config import CombineConfig
        from pipelines.combine.plan import make_plan
        from pipelines.combine.runner import run_combine

        cfg = CombineConfig.from_dict(_absolute_paths(catalog, manifest.provenance.config))
        inputs = _pinned_inputs(catalog, manifest, strict)
        # create_combine scanned the rows; the run checks them again on its workers
        plan = make_plan(inputs, cfg, output_name=manifest.internal_name, scan_rows=False)
        return run_combine(plan, out_dir, progress)

    def create(self, catalog: Catalog, **options: Any) -> Manifest:
        """The pending manifest of a new run (:func:`create_combine`)."""
        return create_combine(catalog, **options)

    def progress(self, quiet: bool):
        """Progress callback of a run (None when quiet)."""
        from pipelines.combine.runner import stderr_progress

        return None if quiet else stderr_progress


#: The registered pipeline (entry point ``pzcat.pipelines``).
PIPELINE = Combine()

"""Running a planned combination: :func:`run_combine`.

Phases (each reported to ``progress`` and timed): ``prepare`` (one task per piece of an input:
read, prepare, write), ``duplicates`` (one task per HEALPix partition with margins; the groups
that cross partition borders are resolved once from compact arrays; modes mark and remove),
``write`` (decisions joined to the rows per piece, then one task streams the output file). See
:func:`pipelines.combine.graph.run_graphs`. Nothing is written into ``output_dir`` until the
output file is complete (temporary name, then rename).
"""

from __future__ import annotations

import importlib.metadata
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.combine import graph, tasks, writers
from pipelines.combine.inputs import plan_pieces
from pipelines.combine.plan import CombinePlan
from pzcat.files import sha256_file

Progress = Callable[[str], None]
DECISION_COLUMNS = ("tie_result", "group_id", "compared_to")
PACKAGES = (
    "pzcat",
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "dask",
    "lsdb",
    "hats",
    "astropy",
    "h5py",
)


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    files : list of dict
        ``path`` (relative to the output folder), ``size``, ``sha256`` (files only).
    columns : list of dict
        ``name`` and ``dtype`` in output order.
    rows : int
        Rows written.
    summary : dict
        Rows in and out per input, duplicates found, groups resolved by each rule, hard ties,
        stars.
    timings : dict
        Seconds per phase and in total.
    versions : dict
        Software versions.
    executor : dict
    """

    files: list[dict[str, Any]]
    columns: list[dict[str, str]]
    rows: int
    summary: dict[str, Any]
    timings: dict[str, float]
    versions: dict[str, str]
    executor: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "files": self.files,
            "columns": self.columns,
            "rows": self.rows,
            "summary": self.summary,
            "timings": self.timings,
            "versions": self.versions,
            "executor": self.executor,
        }


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the output."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def stderr_progress(message: str) -> None:
    """A progress callback printing one line per step on stderr."""
    print(f"[combine] {message}", file=sys.stderr, flush=True)


MATCH_FACTOR = 4  # neighbour-search partitions hold about this many pieces' rows


def _context(plan: CombinePlan, scratch: Path) -> tasks.Context:
    config = plan.config
    return tasks.Context(
        inputs=tuple(ip.input for ip in plan.inputs),
        translation=plan.translation,
        fields=plan.fields,
        extra_columns=plan.extra_columns,
        cut=config.cut,
        scratch=str(scratch),
        batch_rows=config.partition_rows,
        duplicates=config.duplicates,
        radius_arcsec=config.crossmatch_radius_arcsec,
        settings={
            "n_neighbors": config.n_neighbors,
            "priority": list(config.tiebreaking_priority),
            "type_priority": dict(config.type_priority),
            "delta_z": config.delta_z_threshold,
            "tie_order": config.tie_order,
            "sources": [(ip.input.internal_name, ip.n_rows) for ip in plan.inputs],
            "sentinels": config.sentinels,
        },
        keep_hard_ties=config.keep_hard_ties,
        output_format=config.output_format,
        hats_pixel_rows=config.hats_pixel_rows,
        output_layout=config.output_layout,
        dataset_file_rows=config.dataset_file_rows,
    )


def run_combine(plan: CombinePlan, output_dir: Path, progress: Progress | None = None) -> RunResult:
    """Execute a plan and write the output into ``output_dir``.

    The driver (this process) plans pieces from the inputs' footers, builds the graphs and
    receives small facts only: rows are read, prepared, matched, joined and written by the
    workers (:mod:`pipelines.combine.tasks`), through a scratch folder removed at the end.

    Parameters
    ----------
    plan : CombinePlan
        From :func:`pipelines.combine.plan.make_plan`.
    output_dir : Path
        Existing folder (the caller makes it a temporary folder it renames on success).
    progress : callable, optional
        Called with one line per step.

    Returns
    -------
    RunResult
    """
    progress = progress or (lambda message: None)
    config = plan.config
    t0 = time.perf_counter()
    output_dir = Path(output_dir).resolve()
    made = not output_dir.exists()  # removed again if the run fails: bad input changes nothing
    output_dir.mkdir(parents=True, exist_ok=True)
    base = (
        Path(config.executor.scratch_dir).resolve() if config.executor.scratch_dir else output_dir
    )
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{plan.output_name}.scratch-", dir=base))
    ok = False
    try:
        pieces = plan_pieces(
            [ip.input for ip in plan.inputs],
            [ip.n_rows for ip in plan.inputs],
            config.partition_rows,
        )
        with graph.executor(config.executor) as executor_facts:
            progress(
                f"prepare: {len(plan.inputs)} inputs, {plan.total_rows} rows, "
                f"{len(pieces)} pieces on {executor_facts['kind']}"
            )
            done = graph.run_graphs(
                _context(plan, scratch),
                pieces,
                config.neighbor_partition_rows or config.partition_rows * MATCH_FACTOR,
                config.neighbor_search,
                str(output_dir),
                plan.output_name,
                progress,
            )
        ok = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not ok and made and not any(output_dir.iterdir()):
            output_dir.rmdir()
    timings = dict(done["timings"])
    facts, finished = done["facts"], done["finished"]
    names = [ip.input.internal_name for ip in plan.inputs]
    rows_in = {ip.input.internal_name: ip.n_rows for ip in plan.inputs}
    after_cut = dict.fromkeys(names, 0)
    rows_out = dict.fromkeys(names, 0)
    for f, r in zip(facts, finished, strict=True):
        after_cut[names[f.input_index]] += f.n_rows
        rows_out[names[f.input_index]] += r["rows"]
    summary: dict[str, Any] = {
        "mode": config.duplicates,
        "rows_in": rows_in,
        "flags_file": {
            "name": plan.translation.path.name,
            "sha256": sha256_file(plan.translation.path),
        },
    }
    if config.cut is not None:
        summary["rows_after_cut"] = after_cut
    if "stats" in done:
        stats = done["stats"]
        summary["duplicates"] = stats
        progress(
            f"duplicates: {stats.get('pairs', 0)} pairs, {stats.get('groups', 0)} groups, "
            f"{stats.get('hard_tie_rows', 0)} hard-tie rows, {stats['border_rows']} rows in "
            "groups across partition borders"
        )
    n_rows = int(done["n_rows"])
    timings["total"] = time.perf_counter() - t0
    summary["rows_out"] = rows_out
    summary["rows_total_in"] = int(sum(rows_in.values()))
    summary["rows_total_out"] = n_rows
    progress(f"done: {n_rows} rows in {timings['total']:.1f} s")
    return RunResult(
        files=_file_facts(output_dir, Path(done["target"])),
        columns=[{"name": c, "dtype": _dtype_name(d)} for c, d in done["dtypes"].items()],
        rows=n_rows,
        summary=summary,
        timings={k: round(v, 3) for k, v in timings.items()},
        versions=software_versions(),
        executor=executor_facts,
    )


def _dtype_name(dtype: object) -> str:
    return "string" if writers.is_text(dtype) else str(np.dtype(dtype))


def _file_facts(output_dir: Path, target: Path) -> list[dict[str, Any]]:
    paths = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    return [
        {"path": str(p.relative_to(output_dir)), "size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in paths
    ]

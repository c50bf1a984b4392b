"""Running a planned combination: :func:`run_combine`.

Phases (each reported to ``progress`` and timed): ``prepare`` (read and prepare every input's
partitions as Dask tasks), ``duplicates`` (neighbour search and resolution; modes mark and
remove), ``write`` (stream the output file). Nothing is written into ``output_dir`` until the
output file is complete (temporary name, then rename).
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd

from pipelines.combine import dedup, graph, writers
from pipelines.combine.errors import PipelineError
from pipelines.combine.inputs import iter_input
from pipelines.combine.plan import CombinePlan
from pipelines.combine.prepare import apply_cut, prepare_partition
from pzcat.files import sha256_file

Progress = Callable[[str], None]
DECISION_COLUMNS = ("tie_result", "group_id", "compared_to")
PACKAGES = ("pzcat", "pandas", "numpy", "pyarrow", "scipy", "dask", "lsdb", "hats", "astropy", "h5py")


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
            "files": self.files, "columns": self.columns, "rows": self.rows,
            "summary": self.summary, "timings": self.timings, "versions": self.versions,
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


def _prepare_all(plan: CombinePlan, progress: Progress) -> list[list[pd.DataFrame]]:
    """Prepared partitions of every input, in CRD_ID order.

    Batches are read in order (CRD_IDs follow the rows) and prepared as Dask tasks computed in
    waves of about ``n_workers * partition_rows`` rows, so that small inputs are prepared in
    parallel while memory stays bounded.
    """
    config = plan.config
    wave_rows = config.partition_rows * max(config.executor.n_workers, 1)
    out: list[list[pd.DataFrame]] = [[] for _ in plan.inputs]
    wave: list[tuple[int, Any]] = []
    pending_rows = 0
    next_crd = 1

    def flush() -> None:
        nonlocal wave, pending_rows
        parts = graph.compute_tasks([task for _, task in wave])
        for (k, _), part in zip(wave, parts, strict=True):
            out[k].append(apply_cut(part, config.cut))
        wave, pending_rows = [], 0

    for k, ip in enumerate(plan.inputs):
        first_row = 0
        n_batches = 0
        for batch in iter_input(ip.input, config.partition_rows):
            wave.append((k, dask.delayed(prepare_partition)(
                batch, ip.input, next_crd + first_row, first_row, plan.translation, plan.fields,
                plan.extra_columns, sentinels=config.sentinels,
            )))
            first_row += len(batch)
            pending_rows += len(batch)
            n_batches += 1
            if pending_rows >= wave_rows:
                flush()
        next_crd += first_row
        progress(f"prepare: {k + 1}/{len(plan.inputs)} {ip.input.internal_name} "
                 f"({first_row} rows, {n_batches} partitions)")
    if wave:
        flush()
    return out


def _keys(prepared: list[list[pd.DataFrame]], plan: CombinePlan) -> pd.DataFrame:
    wanted = ["CRD_ID", "ra", "dec", "z", "z_flag_homogenized", "type_homogenized", *plan.extra_columns]
    parts = []
    for k, input_parts in enumerate(prepared):
        for p in input_parts:
            sub = p[wanted].copy()
            sub["source_index"] = np.int32(k)
            parts.append(sub)
    return pd.concat(parts, ignore_index=True)


def _output_frames(
    prepared: list[list[pd.DataFrame]],
    decisions: dict[str, Any] | None,
    keep: np.ndarray | None,
    columns: list[str],
) -> Iterator[pd.DataFrame]:
    start = 0
    for input_parts in prepared:
        for part in input_parts:
            stop = start + len(part)
            frame = part
            if decisions is not None:
                frame = part.copy()
                for name, values in decisions.items():
                    frame[name] = values[start:stop]
            if keep is not None:
                frame = frame.loc[keep[start:stop]]
            start = stop
            yield frame[columns].reset_index(drop=True)


def _column_facts(
    prepared: list[list[pd.DataFrame]], decisions: dict[str, Any] | None, keep: np.ndarray | None,
    columns: list[str], need_widths: bool,
) -> tuple[list[str], dict[str, object], dict[str, int], int]:
    """Non-empty columns, their dtypes, text widths in UTF-8 bytes and the output rows.

    Works on the prepared partitions directly (no output frame is built).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    non_empty: dict[str, bool] = dict.fromkeys(columns, False)
    widths: dict[str, int] = {}
    dtypes: dict[str, object] = {}
    n_rows = 0
    start = 0
    for part in (p for parts in prepared for p in parts):
        stop = start + len(part)
        mask = keep[start:stop] if keep is not None else None
        n_rows += int(mask.sum()) if mask is not None else len(part)
        for name in columns:
            if decisions is not None and name in decisions:
                col = pd.Series(decisions[name][start:stop])
            else:
                col = part[name]
            dtypes.setdefault(name, col.dtype)
            if mask is not None:
                col = col[mask]
            if not non_empty[name] and col.notna().any():
                non_empty[name] = True
            if need_widths and writers.is_text(col.dtype) and len(col):
                longest = pc.max(pc.binary_length(pa.array(col, type=pa.string()))).as_py()
                widths[name] = max(widths.get(name, 1), int(longest or 1))
        start = stop
    kept = [c for c in columns if non_empty[c]]
    return kept, {c: dtypes[c] for c in kept}, widths, n_rows


def run_combine(plan: CombinePlan, output_dir: Path, progress: Progress | None = None) -> RunResult:
    """Execute a plan and write the output into ``output_dir``.

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
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with graph.executor(config.executor) as executor_facts:
        t = time.perf_counter()
        progress(f"prepare: {len(plan.inputs)} inputs, {plan.total_rows} rows")
        prepared = _prepare_all(plan, progress)
        timings["prepare"] = time.perf_counter() - t

        rows_in = {ip.input.internal_name: ip.n_rows for ip in plan.inputs}
        rows_after_cut = {
            ip.input.internal_name: int(sum(len(p) for p in parts))
            for ip, parts in zip(plan.inputs, prepared, strict=True)
        }
        summary: dict[str, Any] = {
            "mode": config.duplicates, "rows_in": rows_in,
            "flags_file": {"name": plan.translation.path.name,
                           "sha256": sha256_file(plan.translation.path)},
        }
        if config.cut is not None:
            summary["rows_after_cut"] = rows_after_cut
        decisions = None
        keep = None
        if not any(len(p) for parts in prepared for p in parts):
            raise PipelineError("no-rows", "the inputs have no rows to combine (after the cut)")
        if config.duplicates != "no":
            t = time.perf_counter()
            keys = _keys(prepared, plan)
            progress(f"duplicates: neighbour search among {len(keys)} objects "
                     f"({config.neighbor_search}, radius {config.crossmatch_radius_arcsec}\")")
            pairs, n_parts = graph.find_pairs(
                keys["ra"].to_numpy(), keys["dec"].to_numpy(), config.crossmatch_radius_arcsec,
                config.n_neighbors, config.partition_rows, config.neighbor_search,
            )
            resolution = dedup.resolve(
                keys, pairs, config.tiebreaking_priority, config.type_priority,
                config.delta_z_threshold, tie_order=config.tie_order,
                sources=[(ip.input.internal_name, ip.n_rows) for ip in plan.inputs],
            )
            decisions = {
                "tie_result": resolution.tie_result,
                "group_id": resolution.group_id,
                "compared_to": resolution.compared_to.array,
            }
            summary["duplicates"] = resolution.stats | {"neighbour_partitions": n_parts}
            progress(f"duplicates: {resolution.stats['pairs']} pairs, "
                     f"{resolution.stats['groups']} groups, {resolution.stats['hard_tie_rows']} "
                     "hard-tie rows")
            if config.duplicates == "remove":
                allowed = (1, 2) if config.keep_hard_ties else (1,)
                keep = np.isin(resolution.tie_result, allowed)
            timings["duplicates"] = time.perf_counter() - t
            del keys
    t = time.perf_counter()
    columns = list(next(part for parts in prepared for part in parts).columns)
    if decisions is not None:
        columns += list(DECISION_COLUMNS)
    kept, dtypes, widths, n_rows = _column_facts(
        prepared, decisions, keep, columns, config.output_format in ("fits", "hdf5"))
    progress(f"write: {n_rows} rows, {len(kept)} columns as {config.output_format}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    target = writers.write_output(
        output_dir, plan.output_name, config.output_format,
        _output_frames(prepared, decisions, keep, kept), dtypes, widths, n_rows,
    )
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    rows_out = _rows_out(plan, prepared, keep)
    summary["rows_out"] = rows_out
    summary["rows_total_in"] = int(sum(rows_in.values()))
    summary["rows_total_out"] = int(n_rows)
    progress(f"done: {n_rows} rows in {timings['total']:.1f} s")
    return RunResult(
        files=_file_facts(output_dir, target),
        columns=[{"name": c, "dtype": _dtype_name(d)} for c, d in dtypes.items()],
        rows=int(n_rows), summary=summary, timings={k: round(v, 3) for k, v in timings.items()},
        versions=software_versions(), executor=executor_facts,
    )


def _rows_out(plan: CombinePlan, prepared, keep) -> dict[str, int]:
    out = {}
    start = 0
    for ip, parts in zip(plan.inputs, prepared, strict=True):
        n = sum(len(p) for p in parts)
        out[ip.input.internal_name] = int(n if keep is None else keep[start:start + n].sum())
        start += n
    return out


def _dtype_name(dtype: object) -> str:
    return "string" if writers.is_text(dtype) else str(np.dtype(dtype))


def _file_facts(output_dir: Path, target: Path) -> list[dict[str, Any]]:
    paths = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    return [
        {"path": str(p.relative_to(output_dir)), "size": p.stat().st_size, "sha256": sha256_file(p)}
        for p in paths
    ]

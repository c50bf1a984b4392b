"""The one module that builds and computes Dask graphs, and the executors they run on.

:func:`run_graphs` computes a run as four phases of tasks (:mod:`pipelines.combine.tasks`):
*prepare* (one task per piece of an input), *duplicates* (one task per HEALPix partition with
margins, then the groups crossing partition borders, resolved here from compact arrays),
*finish* (decisions joined to each piece's rows) and *write* (one task streaming the output
file). Tasks carry paths and descriptors, never rows; :func:`compute_tasks` runs a phase on the
current :func:`executor` (threads, a LocalCluster, a scheduler address or SLURM), reports
progress the same way on all of them, and turns a lost worker into ``worker-lost``.

:func:`find_pairs` (whole-sky arrays in, pairs out) is the reference implementation of the
neighbour search that the partition tasks reproduce; the tests compare them.

Neighbour search has two implementations that give the same pairs:

``partitioned`` (default)
    Positions are assigned to HEALPix order-7 nested pixels (HATS numbering, via cdshealpix, the
    library behind hats' pixel maths); pixels, in nested order, are grouped into partitions of
    about ``partition_rows`` rows (one partition, and no pixel work, when everything fits). Each
    partition gets a margin: the objects of other partitions within the radius of its border
    (objects in border pixels of a finer order are probed at 4 radii in 16 directions). Each
    partition is searched in its own Dask task with a k-d tree over unit vectors (scipy's, as in
    LSDB's crossmatch) for all pairs within the radius' chord; the ``n_neighbors`` limit is then
    applied as LSDB's k-nearest crossmatch applies it (:func:`limit_neighbors`). Radius search
    then rank is used instead of LSDB's k-nearest query because, with a sub-arcsecond radius, it
    is several times faster. All inputs are searched together, once.
``lsdb-catalog``
    One ``lsdb.from_dataframe`` catalog of all inputs (margin included) and one
    ``Catalog.crossmatch`` of it with itself. LSDB's margin generation and Numba compilation cost
    about ten seconds whatever the size, which is why it is not the default; the tests check that
    both give the same pairs.
"""

from __future__ import annotations

import contextlib
import operator
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd

from pipelines.combine.config import ExecutorConfig
from pipelines.combine.errors import PipelineError
from pzcat.files import publish
from pzcat.sky import healpix_nested

PIXEL_ORDER = 7
PROBE_FACTOR = 4.0  # probes at 4 x radius: enough for HEALPix corners down to 60 degrees
PROBE_DIRECTIONS = 16


_CURRENT: dict[str, Any] = {"client": None}


def slurm_cluster(config: ExecutorConfig) -> Any:
    """The ``dask_jobqueue.SLURMCluster`` of a configuration (no job submitted yet).

    ``executor.slurm`` holds SLURMCluster keyword arguments (``queue``, ``account``,
    ``walltime``, ``interface``, ``job_extra_directives``...); ``cores`` defaults to
    ``threads_per_worker`` and ``memory`` to ``memory_limit`` (else 4 GB).
    """
    from dask_jobqueue import SLURMCluster

    options = {
        "cores": config.threads_per_worker,
        "processes": 1,
        "memory": config.memory_limit or "4GB",
    } | dict(config.slurm)
    return SLURMCluster(**options)


def _client_facts(client: Any) -> int:
    return len(client.scheduler_info().get("workers", {}))


@contextlib.contextmanager
def executor(config: ExecutorConfig) -> Iterator[dict[str, Any]]:
    """Run the enclosed Dask computations on the configured executor.

    ``local``: threads of this process; ``processes``: a ``distributed.LocalCluster`` of
    ``n_workers`` processes on 127.0.0.1, started here and stopped on leaving; ``distributed``:
    the existing scheduler at ``address``; ``slurm``: :func:`slurm_cluster`, scaled to
    ``n_workers`` jobs and closed on leaving.

    Yields
    ------
    dict
        Facts about the executor for the run's provenance.

    Raises
    ------
    PipelineError
        ``executor-unavailable`` when the cluster cannot be started or reached.
    """
    if config.kind == "local":
        from dask import threaded

        # a callable scheduler: dask then does not import distributed to look for a client
        with dask.config.set(scheduler=threaded.get, num_workers=config.n_workers):
            yield {"kind": "local", "scheduler": "threads", "n_workers": config.n_workers}
        return
    from distributed import Client

    with contextlib.ExitStack() as stack:
        stack.enter_context(
            dask.config.set(
                {
                    "distributed.scheduler.allowed-failures": config.allowed_failures,
                    "distributed.admin.large-graph-warning-threshold": "10MB",
                }
            )
        )
        facts: dict[str, Any] = {"kind": config.kind}
        try:
            if config.kind == "processes":
                from distributed import LocalCluster

                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=config.n_workers,
                        threads_per_worker=config.threads_per_worker,
                        processes=True,
                        memory_limit=config.memory_limit or "auto",
                        host="127.0.0.1",
                        scheduler_port=0,
                        dashboard_address=None,
                    )
                )
                client = stack.enter_context(Client(cluster))
            elif config.kind == "distributed":
                client = stack.enter_context(Client(config.address, timeout=config.connect_timeout))
                facts["address"] = config.address
            else:
                cluster = stack.enter_context(slurm_cluster(config))
                cluster.scale(jobs=config.n_workers)
                client = stack.enter_context(Client(cluster))
                client.wait_for_workers(1, timeout=config.connect_timeout)
                facts["dashboard"] = client.dashboard_link
        except (OSError, TimeoutError) as exc:
            raise PipelineError(
                "executor-unavailable", f"cannot start or reach the {config.kind} executor: {exc}"
            ) from exc
        facts["n_workers"] = _client_facts(client) if config.kind != "slurm" else config.n_workers
        _CURRENT["client"] = client
        try:
            yield facts
        finally:
            _CURRENT["client"] = None


class _Report:
    """Progress lines at every tenth of a phase's tasks: the same on every executor."""

    def __init__(self, progress: Callable[[str], None] | None, label: str, total: int) -> None:
        self.progress, self.label, self.total, self.shown = progress, label, total, -1

    def __call__(self, done: int) -> None:
        if self.progress is None or not self.total:
            return
        tenth = done * 10 // self.total
        if tenth > self.shown:
            self.shown = tenth
            self.progress(f"{self.label}: {done}/{self.total} tasks")


def _lost(exc: BaseException) -> PipelineError:
    return PipelineError(
        "worker-lost",
        f"a Dask worker died or was lost during the run "
        f"({type(exc).__name__}: {exc}); nothing was published, run again "
        "(raise executor.memory_limit if workers ran out of memory)",
    )


def compute_tasks(
    tasks: Sequence[Any], progress: Callable[[str], None] | None = None, label: str = "tasks"
) -> list[Any]:
    """Compute ``dask.delayed`` objects on the current executor, keeping order.

    Raises
    ------
    PipelineError
        The tasks' own coded errors; ``worker-lost`` when a worker died.
    """
    if not tasks:
        return []
    client = _CURRENT["client"]
    report = _Report(progress, label, len(tasks))
    if client is None:
        from dask.callbacks import Callback

        keys = {t.key for t in tasks}
        done = [0]

        def posttask(key, result, dsk, state, worker_id):
            if key in keys:
                done[0] += 1
                report(done[0])

        with Callback(posttask=posttask):
            return list(dask.compute(*tasks))
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    futures = client.compute(list(tasks))
    finished = False
    try:
        for n, future in enumerate(as_completed(futures), start=1):
            if future.status == "error":
                future.result()  # raises the task's own error
            report(n)
        results = client.gather(futures)
        finished = True
        return results
    except (KilledWorker, CommClosedError, FutureCancelledError) as exc:
        raise _lost(exc) from exc
    finally:
        client.cancel(futures)
        if not finished:
            _wait_until_stopped(
                client, {f.key for f in futures} | {k for t in tasks for k in t.__dask_graph__()}
            )


def _executing_keys(dask_worker: Any) -> list[str]:
    """The keys a worker is executing right now (run on the worker by ``Client.run``)."""
    return [str(ts.key) for ts in dask_worker.state.executing]


def _wait_until_stopped(client: Any, keys: set[Any], timeout: float = 120.0) -> None:
    """Wait until no worker still executes a task of ``keys`` (bounded by ``timeout``).

    Cancelling a future does not interrupt a task that is already running (and the scheduler
    forgets it at once): after a failure the other workers' tasks would go on writing into the
    run's scratch folder after the runner has removed it. So ask the workers themselves, and
    return once none of them runs one of ours: the cleanup that follows is then the last word.
    """
    wanted = {str(k) for k in keys}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = client.run(_executing_keys, on_error="ignore")
        if not any(k in wanted for on_worker in running.values() for k in on_worker):
            return
        time.sleep(0.05)


def tree_sum(items: list[Any], add: Callable[..., Any], width: int = 8) -> Any:
    """A Dask tree reduction of ``items`` with ``add`` (results stay on the workers)."""
    while len(items) > 1:
        items = [dask.delayed(add)(*items[i : i + width]) for i in range(0, len(items), width)]
    return items[0]


def partition_pixels(counts: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """Ranges ``[lo, hi)`` of order-7 pixels (nested order) holding about ``rows`` objects each."""
    occupied = np.flatnonzero(counts)
    if not len(occupied):
        return []
    starts = np.r_[0, np.cumsum(counts[occupied])[:-1]]
    _, first = np.unique(starts // max(rows, 1), return_index=True)
    lows = occupied[first]
    highs = np.r_[lows[1:], len(counts)]
    lows[0] = 0
    return [(int(a), int(b)) for a, b in zip(lows, highs, strict=True)]


def run_graphs(
    ctx: Any,
    pieces: list[Any],
    match_rows: int,
    method: str,
    out_dir: str,
    output_name: str,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """The run's graphs, phase by phase; only small facts come back to this process.

    Phases: *prepare* (one task per piece: read, prepare, write prepared rows and keys; pixel
    counts summed on the workers), *duplicates* (one task per HEALPix partition: neighbour
    search with margins and resolution of its own groups; then the groups crossing borders,
    resolved here from compact arrays), *finish* (one task per piece: decisions joined to the
    rows) and *write* (one task streaming the output file).
    """
    import time

    from pipelines.combine import partition, tasks

    timings: dict[str, float] = {}
    t = time.perf_counter()
    context = dask.delayed(ctx, name="combine-context")
    prepared = [dask.delayed(tasks.prepare_piece, pure=False)(context, p) for p in pieces]
    wanted = [dask.delayed(operator.getitem)(r, 0) for r in prepared]
    if ctx.duplicates != "no":
        wanted.append(
            tree_sum([dask.delayed(operator.getitem)(r, 1) for r in prepared], tasks.add_counts)
        )
    results = compute_tasks(wanted, progress, "prepare")
    errors = [r for r in results[: len(pieces)] if isinstance(r, PipelineError)]
    if errors:
        raise errors[0]  # the earliest piece's: the same error whoever finished first
    facts = [f for group in results[: len(pieces)] for f in group]
    timings["prepare"] = time.perf_counter() - t
    out: dict[str, Any] = {"facts": facts, "timings": timings}
    if not sum(f.n_rows for f in facts):
        raise PipelineError("no-rows", "the inputs have no rows to combine (after the cut)")
    where: list[dict[int, int]] = []
    paths: list[str] = []
    starts = np.array([f.first_crd for f in facts], dtype=np.int64)
    if ctx.duplicates != "no":
        t = time.perf_counter()
        counts = results[-1]
        ranges = (
            partition_pixels(counts, match_rows) if method == "partitioned" else [(0, len(counts))]
        )
        progress(
            f"duplicates: {int(counts.sum())} objects in {len(ranges)} partitions ({method}, "
            f'radius {ctx.radius_arcsec}")'
        )
        key_files = [f.keys for f in facts]
        matched = compute_tasks(
            [
                dask.delayed(tasks.match_partition, pure=False)(
                    context, i, lo, hi, key_files, starts, method
                )
                for i, (lo, hi) in enumerate(ranges)
            ],
            progress,
            "duplicates",
        )
        stats: dict[str, int] = {}
        for s, _, _, _ in matched:
            partition.add_stats(stats, s)
        borders = [b for _, b, _, _ in matched]
        border_decisions, border_stats = partition.resolve_borders(borders, ctx.settings)
        partition.add_stats(stats, border_stats)
        stats["border_rows"] = len(border_decisions)
        stats["neighbour_partitions"] = len(ranges)
        del borders
        where = [m[2] for m in matched]
        paths = [
            str(Path(ctx.scratch) / "decisions" / f"part-{i:05d}.parquet")
            for i in range(len(ranges))
        ]
        where.append(tasks.write_border(ctx, border_decisions, starts))
        paths.append(str(Path(ctx.scratch) / "decisions" / "border.parquet"))
        out["stats"] = stats
        timings["duplicates"] = time.perf_counter() - t
    t = time.perf_counter()
    need_widths = ctx.output_format in ("fits", "hdf5")
    finishing = [
        dask.delayed(tasks.finish_piece, pure=False)(
            context,
            k,
            f,
            [(paths[i], w[k]) for i, w in enumerate(where) if k in w],
            need_widths,
        )
        for k, f in enumerate(facts)
    ]
    wanted = [dask.delayed(tasks.without_hist)(r) for r in finishing]
    if ctx.output_format == "hats":
        wanted.append(
            tree_sum(
                [dask.delayed(operator.getitem)(r, "hist") for r in finishing], tasks.add_counts
            )
        )
    finished = compute_tasks(wanted, progress, "finish")
    hats_counts = finished.pop() if ctx.output_format == "hats" else None
    columns = list(finished[0]["dtypes"])
    kept = [c for c in columns if any(r["non_empty"][c] for r in finished)]
    dtypes = {c: finished[0]["dtypes"][c] for c in kept}
    widths: dict[str, int] = {}
    for r in finished:
        for c, w in r["widths"].items():
            widths[c] = max(widths.get(c, 1), w)
    n_rows = sum(r["rows"] for r in finished)
    progress(f"write: {n_rows} rows, {len(kept)} columns as {ctx.output_format}")
    if ctx.output_layout == "dataset":
        target = _write_dataset(ctx, out_dir, output_name, finished, dtypes, n_rows, progress)
    elif ctx.output_format == "hats":
        target = _write_hats(
            ctx, out_dir, output_name, finished, dtypes, hats_counts, n_rows, progress
        )
    else:
        [target] = compute_tasks(
            [
                dask.delayed(tasks.write_single, pure=False)(
                    out_dir,
                    output_name,
                    ctx.output_format,
                    [r["path"] for r in finished],
                    dtypes,
                    {c: w for c, w in widths.items() if c in dtypes},
                    n_rows,
                )
            ],
            progress,
            "write",
        )
    timings["write"] = time.perf_counter() - t
    out.update(finished=finished, dtypes=dtypes, n_rows=n_rows, target=target)
    return out


def dataset_slices(rows: list[int], file_rows: int) -> list[list[tuple[int, int, int]]]:
    """For each file of a dataset output: (piece, first row, end row) slices of the pieces.

    File k holds the output rows ``[k * file_rows, (k + 1) * file_rows)`` (global offsets in
    CRD_ID order), whatever the pieces.
    """
    starts = np.r_[0, np.cumsum(rows)]
    total = int(starts[-1])
    out = []
    for lo in range(0, total, file_rows):
        hi = min(lo + file_rows, total)
        parts = []
        for k, n in enumerate(rows):
            a, b = max(lo, int(starts[k])), min(hi, int(starts[k]) + n)
            if a < b:
                parts.append((k, a - int(starts[k]), b - int(starts[k])))
        out.append(parts)
    return out


def _write_dataset(
    ctx: Any,
    out_dir: str,
    name: str,
    finished: list[dict[str, Any]],
    dtypes: dict[str, Any],
    n_rows: int,
    progress: Callable[[str], None],
) -> str:
    """Parquet dataset output: one task per file of ``dataset_file_rows`` rows, in a folder
    renamed into place when every file is written."""
    import shutil

    from pipelines.combine import tasks

    building = Path(out_dir) / f".{name}.parquet.tmp-{os.getpid()}"
    building.mkdir(parents=True, exist_ok=True)
    files = dataset_slices([r["rows"] for r in finished], ctx.dataset_file_rows)
    try:
        written = compute_tasks(
            [
                dask.delayed(tasks.write_dataset_file, pure=False)(
                    str(building),
                    i,
                    [(finished[k]["path"], a, b) for k, a, b in parts],
                    dtypes,
                )
                for i, parts in enumerate(files)
            ],
            progress,
            "write",
        )
        if sum(written) != n_rows:
            raise PipelineError("output-size", f"wrote {sum(written)} rows, expected {n_rows}")
        target = Path(out_dir) / f"{name}.parquet"
        publish(building, target, durable=False)  # the one rename home (pzcat.files)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return str(target)


def _write_hats(
    ctx: Any,
    out_dir: str,
    name: str,
    finished: list[dict[str, Any]],
    dtypes: dict[str, Any],
    counts: np.ndarray,
    n_rows: int,
    progress: Callable[[str], None],
) -> str:
    """HATS output: one task per HATS pixel, then one for the catalog's metadata files."""
    from pipelines.combine import hats_out

    pixels = hats_out.pixels_of(counts, ctx.hats_pixel_rows)
    counts_path = Path(ctx.scratch) / "hats-counts.npy"
    np.save(counts_path, counts)
    building = Path(out_dir) / f".{name}.hats.tmp-{os.getpid()}"
    sorted_paths = [r["path"] for r in finished]
    try:
        written = compute_tasks(
            [
                dask.delayed(hats_out.write_pixel, pure=False)(
                    str(building / name), order, pixel, sorted_paths, dtypes
                )
                for order, pixel, _ in pixels
            ],
            progress,
            "write",
        )
        if sum(written) != n_rows or list(written) != [r for _, _, r in pixels]:
            raise PipelineError(
                "output-size", f"wrote {sum(written)} rows in HATS pixels, expected {n_rows}"
            )
        [target] = compute_tasks(
            [
                dask.delayed(hats_out.finish_catalog, pure=False)(
                    out_dir, name, pixels, str(counts_path), str(building)
                )
            ]
        )
    finally:
        import shutil

        shutil.rmtree(building, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- neighbour search


def _offset(
    ra: np.ndarray, dec: np.ndarray, dist_deg: float, theta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions at angular distance ``dist_deg`` from (ra, dec) in direction ``theta``."""
    d = np.radians(dist_deg)
    r1, d1 = np.radians(ra), np.radians(dec)
    sin_d2 = np.sin(d1) * np.cos(d) + np.cos(d1) * np.sin(d) * np.cos(theta)
    d2 = np.arcsin(np.clip(sin_d2, -1, 1))
    r2 = r1 + np.arctan2(np.sin(theta) * np.sin(d) * np.cos(d1), np.cos(d) - np.sin(d1) * sin_d2)
    return np.degrees(r2) % 360.0, np.degrees(d2)


def _pixels(ra: np.ndarray, dec: np.ndarray, order: int = PIXEL_ORDER) -> np.ndarray:
    """HEALPix nested pixels at ``order`` (default ``PIXEL_ORDER``), numbered as HATS numbers them."""
    return healpix_nested(ra, dec, order)


def _deinterleave(v: np.ndarray) -> np.ndarray:
    """The even bits of ``v`` packed together (one coordinate of a nested HEALPix index)."""
    v = v & np.uint64(0x5555555555555555)
    for shift, mask in (
        (1, 0x3333333333333333),
        (2, 0x0F0F0F0F0F0F0F0F),
        (4, 0x00FF00FF00FF00FF),
        (8, 0x0000FFFF0000FFFF),
        (16, 0x00000000FFFFFFFF),
    ):
        v = (v | (v >> np.uint64(shift))) & np.uint64(mask)
    return v


def _fine_order(radius_deg: float) -> int:
    """Finest order whose pixels are still clearly wider than the probe distance."""
    for order in range(20, PIXEL_ORDER, -1):
        resolution = np.degrees(np.sqrt(np.pi / 3) / 2**order)
        if 0.5 * resolution > PROBE_FACTOR * radius_deg:
            return order
    return PIXEL_ORDER


def _near_border(fine: np.ndarray, fine_order: int) -> np.ndarray:
    """Objects whose fine pixel touches the border of their order-PIXEL_ORDER pixel."""
    k = fine_order - PIXEL_ORDER
    if k <= 0:
        return np.ones(len(fine), dtype=bool)
    sub = fine.astype(np.uint64) & np.uint64(4**k - 1)
    x, y = _deinterleave(sub), _deinterleave(sub >> np.uint64(1))
    edge = np.uint64(2**k - 1)
    return (x == 0) | (y == 0) | (x == edge) | (y == edge)


def _own_pixels_and_border(
    ra: np.ndarray, dec: np.ndarray, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Order-PIXEL_ORDER pixel of every object and whether it may lie near the pixel's border."""
    fine_order = _fine_order(radius_deg)
    fine = _pixels(ra, dec, fine_order)
    own = fine >> (2 * (fine_order - PIXEL_ORDER))
    return own, _near_border(fine, fine_order)


def _margin_memberships(
    ra: np.ndarray, dec: np.ndarray, own: np.ndarray, near: np.ndarray, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (object, pixel) for objects within ``radius_deg`` of a pixel that is not theirs.

    Only objects near their pixel's border are probed, at ``PROBE_FACTOR`` radii in
    ``PROBE_DIRECTIONS`` directions.
    """
    dist = PROBE_FACTOR * radius_deg
    idx = np.flatnonzero(near)
    objects, pixels = [], []
    for theta in np.linspace(0, 2 * np.pi, PROBE_DIRECTIONS, endpoint=False):
        pra, pdec = _offset(ra[idx], dec[idx], dist, theta)
        pix = _pixels(pra, pdec)
        other = pix != own[idx]
        objects.append(idx[other])
        pixels.append(pix[other])
    if not objects or not sum(len(o) for o in objects):
        return np.empty(0, np.int64), np.empty(0, np.int64)
    obj, pix = np.concatenate(objects), np.concatenate(pixels)
    order = np.lexsort((pix, obj))
    obj, pix = obj[order], pix[order]
    first = np.r_[True, (obj[1:] != obj[:-1]) | (pix[1:] != pix[:-1])]
    return obj[first], pix[first]


def _match_partition(
    xyz: np.ndarray, core: np.ndarray, right: np.ndarray, chord: float
) -> np.ndarray:
    """All pairs within ``chord`` touching the partition's core; rows (i, j, chord distance).

    ``right`` starts with ``core`` and continues with the margin.
    """
    from scipy.spatial import cKDTree

    tree = cKDTree(xyz[right])
    local = tree.query_pairs(chord, output_type="ndarray")
    local = local[(local[:, 0] < len(core)) | (local[:, 1] < len(core))]
    i, j = right[local[:, 0]], right[local[:, 1]]
    dist = np.linalg.norm(xyz[i] - xyz[j], axis=1)
    return np.stack([i.astype(np.float64), j.astype(np.float64), dist], axis=1)


def limit_neighbors(pairs: np.ndarray, dist: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Keep a pair when one of its objects has the other among its ``n_neighbors`` nearest.

    As in LSDB's crossmatch, an object counts itself as its first neighbour, so each object
    keeps its ``n_neighbors - 1`` nearest others (ties broken by position).
    """
    if len(pairs) == 0:
        return pairs
    obj = np.concatenate([pairs[:, 0], pairs[:, 1]])
    other = np.concatenate([pairs[:, 1], pairs[:, 0]])
    d = np.concatenate([dist, dist])
    order = np.lexsort((other, d, obj))
    obj_sorted = obj[order]
    starts = np.flatnonzero(np.r_[True, obj_sorted[1:] != obj_sorted[:-1]])
    rank = np.arange(len(obj_sorted)) - np.repeat(starts, np.diff(np.r_[starts, len(obj_sorted)]))
    keep_directed = np.zeros(len(obj), dtype=bool)
    keep_directed[order] = rank < n_neighbors - 1
    keep = keep_directed[: len(pairs)] | keep_directed[len(pairs) :]
    return pairs[keep]


def _xyz(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    r, d = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)], axis=1)


def _chord(radius_arcsec: float) -> float:
    return 2.0 * np.sin(np.radians(radius_arcsec / 3600.0) / 2.0)


def _normalise_pairs(pairs: np.ndarray) -> np.ndarray:
    """Drop self pairs, order each pair (i < j), deduplicate, sort."""
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0)


def _pairs_partitioned(
    ra: np.ndarray, dec: np.ndarray, radius_arcsec: float, n_neighbors: int, partition_rows: int
) -> tuple[np.ndarray, int]:
    xyz = _xyz(ra, dec)
    chord = _chord(radius_arcsec)
    tasks = []
    if len(ra) <= partition_rows:
        everything = np.arange(len(ra), dtype=np.int64)
        tasks.append(dask.delayed(_match_partition)(xyz, everything, everything, chord))
    else:
        own, near = _own_pixels_and_border(ra, dec, radius_arcsec / 3600.0)
        uniq, starts = np.unique(np.sort(own), return_index=True)
        # cut the pixel sequence (nested order) into partitions of about partition_rows rows
        _, first_of_part = np.unique(starts // partition_rows, return_index=True)
        first_pixel = uniq[first_of_part]
        n_parts = len(first_pixel)
        part_of_obj = np.searchsorted(first_pixel, own, side="right") - 1
        m_obj, m_pix = _margin_memberships(ra, dec, own, near, radius_arcsec / 3600.0)
        m_part = np.searchsorted(first_pixel, m_pix, side="right") - 1
        keep = (m_part >= 0) & (m_part != part_of_obj[m_obj])
        m_obj, m_part = m_obj[keep], m_part[keep]
        by_part = np.argsort(part_of_obj, kind="stable")
        core_bounds = np.searchsorted(part_of_obj[by_part], np.arange(n_parts + 1))
        m_order = np.lexsort((m_obj, m_part))
        m_obj, m_part = m_obj[m_order], m_part[m_order]
        m_bounds = np.searchsorted(m_part, np.arange(n_parts + 1))
        for p in range(n_parts):
            core = by_part[core_bounds[p] : core_bounds[p + 1]]
            if len(core):
                right = np.concatenate([core, m_obj[m_bounds[p] : m_bounds[p + 1]]])
                tasks.append(dask.delayed(_match_partition)(xyz, core, right, chord))
    results = compute_tasks(tasks)
    found = np.concatenate(results) if results else np.empty((0, 3))
    pairs = found[:, :2].astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs, first = np.unique(pairs, axis=0, return_index=True)
    pairs = limit_neighbors(pairs, found[first, 2], n_neighbors)
    return _normalise_pairs(pairs), len(tasks)


def _pairs_lsdb_catalog(
    ra: np.ndarray, dec: np.ndarray, radius_arcsec: float, n_neighbors: int, partition_rows: int
) -> tuple[np.ndarray, int]:
    import warnings

    import lsdb

    frame = pd.DataFrame({"pos": np.arange(len(ra), dtype=np.int64), "ra": ra, "dec": dec})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        catalog = lsdb.from_dataframe(
            frame,
            ra_column="ra",
            dec_column="dec",
            partition_rows=partition_rows,
            margin_threshold=max(10.0, 2 * radius_arcsec),
            should_generate_moc=False,
        )
        matched = catalog.crossmatch(
            catalog,
            n_neighbors=n_neighbors,
            radius_arcsec=radius_arcsec,
            suffixes=("_l", "_r"),
            suffix_method="all_columns",
            log_changes=False,
        )
        result = matched.to_dask_dataframe()[["pos_l", "pos_r"]].compute()
    pairs = np.stack(
        [result["pos_l"].to_numpy(dtype=np.int64), result["pos_r"].to_numpy(dtype=np.int64)], axis=1
    )
    return _normalise_pairs(pairs), len(catalog.get_healpix_pixels())


def find_pairs(
    ra: np.ndarray,
    dec: np.ndarray,
    radius_arcsec: float,
    n_neighbors: int,
    partition_rows: int,
    method: str = "partitioned",
) -> tuple[np.ndarray, int]:
    """Candidate duplicate pairs among all positions.

    Parameters
    ----------
    ra, dec : numpy.ndarray
        Degrees.
    radius_arcsec : float
    n_neighbors : int
        Neighbours per object, the object itself included (as LSDB counts them).
    partition_rows : int
    method : {"partitioned", "lsdb-catalog"}

    Returns
    -------
    (numpy.ndarray, int)
        Pairs of positions (i < j), shape (m, 2), sorted; the number of partitions used.
    """
    if len(ra) < 2:
        return np.empty((0, 2), dtype=np.int64), 0
    if method == "partitioned":
        return _pairs_partitioned(ra, dec, radius_arcsec, n_neighbors, partition_rows)
    if method == "lsdb-catalog":
        return _pairs_lsdb_catalog(ra, dec, radius_arcsec, n_neighbors, partition_rows)
    raise PipelineError("invalid-config", f"unknown neighbor_search {method!r}")


def cpu_count() -> int:
    """Cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

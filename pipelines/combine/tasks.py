"""The work of one Dask task, done on a worker: read its own files, compute, write its own files.

Tasks receive paths and small descriptors, never rows, and return small facts; rows go from
file to file inside a *scratch* folder every worker sees (``executor.scratch_dir``, by default a
hidden folder inside the run's output folder)::

    prep/<first CRD_ID>.arrow       prepared rows of one piece of an input (after the cut)
    keys/<first CRD_ID>.parquet     their keys for duplicates, with margin copies, by pixel
    decisions/part-<p>.parquet      decisions of partition p, one row group per piece
    decisions/border.parquet        decisions of the groups crossing borders (written once)
    final/<first CRD_ID>.arrow      output rows of one piece (decisions joined, rows removed)

Rows are Arrow IPC files (no encoding: the cheapest to write and read back); keys and decisions
are Parquet, whose row-group statistics let a partition read only its pixels.

The computations are the pure functions of :mod:`pipelines.combine.prepare`,
:mod:`pipelines.combine.dedup` and :mod:`pipelines.combine.partition`; this module only moves
their inputs and outputs between files. Graphs of these tasks are built in
:mod:`pipelines.combine.graph` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.combine import graph, hats_out, partition, writers
from pipelines.combine.errors import PipelineError
from pipelines.combine.flags import Translation
from pipelines.combine.footprint import Fields
from pipelines.combine.inputs import CombineInput, Piece, read_piece
from pipelines.combine.prepare import apply_cut, prepare_checked
from pzcat.files import atomic_path

N_PIXELS = 12 * 4**graph.PIXEL_ORDER
KEY_ROW_GROUP = 32_768
KEYS = ["CRD_ID", "ra", "dec", "z", "z_flag_homogenized", "type_homogenized"]


@dataclass(frozen=True)
class Context:
    """Everything a task needs besides its own descriptor (shipped once per phase)."""

    inputs: tuple[CombineInput, ...]
    translation: Translation
    fields: Fields | None
    extra_columns: tuple[str, ...]
    cut: int | None
    scratch: str
    batch_rows: int
    duplicates: str
    radius_arcsec: float
    settings: dict[str, Any] = field(default_factory=dict)
    keep_hard_ties: bool = False
    output_format: str = "parquet"
    hats_pixel_rows: int = 1_000_000
    output_layout: str = "file"
    dataset_file_rows: int = 1_000_000


@dataclass
class PieceFacts:
    """What preparing one piece (or one batch of a streamed input) produced."""

    input_index: int
    first_crd: int
    end_crd: int  # one past the last CRD_ID of the raw rows
    n_rows: int  # after the cut
    prep: str
    keys: str | None


def _write(frame: pd.DataFrame | pa.Table, path: Path, row_group_size: int | None = None) -> None:
    """Write a scratch Parquet file (pandas metadata kept: dtypes come back unchanged)."""
    table = (
        frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, durable=False) as tmp:  # scratch: lost files are recomputed
        pq.write_table(table, tmp, compression="none", row_group_size=row_group_size)


def _read(path: str | Path, row_groups: list[int] | None = None, columns=None) -> pd.DataFrame:
    pf = pq.ParquetFile(path)
    table = (
        pf.read(columns=columns)
        if row_groups is None
        else pf.read_row_groups(row_groups, columns=columns)
    )
    return table.to_pandas()


def _write_rows(frame: pd.DataFrame, path: Path) -> None:
    """Write rows to an Arrow IPC scratch file (no encoding: the fastest to write and read)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_path(path, durable=False) as tmp,
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write_table(table)


def _read_rows(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    with pa.memory_map(str(path), "r") as source:
        table = pa.ipc.open_file(source).read_all()
        if columns is not None:
            table = table.select(columns)
        return table.to_pandas()


# --------------------------------------------------------------------------- prepare


def _keys_file(
    frame: pd.DataFrame, source_index: int, extra: tuple[str, ...], radius_arcsec: float, path: Path
) -> np.ndarray:
    """Write the keys of a prepared frame, with margin copies, sorted by pixel; pixel counts."""
    ra, dec = frame["ra"].to_numpy(np.float64), frame["dec"].to_numpy(np.float64)
    # same-position pairs are within 1e-6 deg: margins are at least that wide
    margin_deg = max(radius_arcsec / 3600.0, 2e-6)
    own, near = graph._own_pixels_and_border(ra, dec, margin_deg)
    m_obj, m_pix = graph._margin_memberships(ra, dec, own, near, margin_deg)
    keys = frame[[*KEYS, *extra]].copy()
    keys["source_index"] = np.int32(source_index)
    keys["own"] = own.astype(np.int64)
    rows = np.concatenate([np.arange(len(frame)), m_obj])
    table = keys.iloc[rows].reset_index(drop=True)
    table.insert(0, "pix", np.concatenate([own, m_pix]).astype(np.int64))
    table = table.sort_values(["pix", "CRD_ID"], kind="stable").reset_index(drop=True)
    _write(table, path, KEY_ROW_GROUP)
    return np.bincount(own.astype(np.int64), minlength=N_PIXELS).astype(np.int64)


def prepare_piece(
    ctx: Context, piece: Piece
) -> tuple[list[PieceFacts] | PipelineError, np.ndarray | None]:
    """Read one piece of an input, check and prepare it, write its prepared rows (and keys).

    The rows are checked as the plan's scan checks them (positions, translation, homogenized
    values, the columns the rules read: :func:`pipelines.combine.prepare.prepare_checked`).
    A coded error is *returned*, not raised, so that every piece is looked at and the run
    reports the error of the earliest piece whatever the order the workers finished in.

    Returns
    -------
    (list of PieceFacts or PipelineError, numpy.ndarray or None)
        Facts of what was written (one per batch of a streamed input), or the piece's coded
        error; the number of objects per order-7 pixel (None when the run does not look for
        duplicates).
    """
    hist = np.zeros(N_PIXELS, np.int64) if ctx.duplicates != "no" else None
    try:
        return _prepare_piece(ctx, piece, hist), hist
    except PipelineError as exc:
        return exc, (None if hist is None else np.zeros(N_PIXELS, np.int64))


def _prepare_piece(ctx: Context, piece: Piece, hist: np.ndarray | None) -> list[PieceFacts]:
    inp = ctx.inputs[piece.input_index]
    scratch = Path(ctx.scratch)
    facts: list[PieceFacts] = []
    first_row = piece.first_row
    for raw in read_piece(inp, piece, ctx.batch_rows):
        first_crd = piece.first_crd + first_row - piece.first_row
        prepared = apply_cut(
            prepare_checked(
                raw,
                inp,
                first_crd,
                first_row,
                ctx.translation,
                ctx.fields,
                ctx.extra_columns,
                sentinels=ctx.settings.get("sentinels", "keep"),
            ),
            ctx.cut,
        )
        name = f"{first_crd:012d}"
        _write_rows(prepared, scratch / "prep" / f"{name}.arrow")
        keys = None
        if hist is not None:
            keys = str(scratch / "keys" / f"{name}.parquet")
            hist += _keys_file(
                prepared, piece.input_index, ctx.extra_columns, ctx.radius_arcsec, Path(keys)
            )
        facts.append(
            PieceFacts(
                piece.input_index,
                first_crd,
                first_crd + len(raw),
                len(prepared),
                str(scratch / "prep" / f"{name}.arrow"),
                keys,
            )
        )
        first_row += len(raw)
    if first_row - piece.first_row != piece.n_rows:
        raise PipelineError(
            "input-changed",
            f"input {inp.internal_name} has {first_row - piece.first_row} rows, the plan "
            f"counted {piece.n_rows}: it changed during the run",
            input=inp.internal_name,
        )
    return facts


def add_counts(*counts: np.ndarray) -> np.ndarray:
    """Sum pixel counts (a step of the graph's tree reduction)."""
    out = counts[0].copy()
    for c in counts[1:]:
        out += c
    return out


# --------------------------------------------------------------------------- duplicates


def _partition_keys(key_files: list[str], lo: int, hi: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Core and margin keys of the partition of pixels ``[lo, hi)`` from every piece's keys."""
    core, margin = [], []
    for path in key_files:
        pf = pq.ParquetFile(path)
        groups = []
        for g in range(pf.metadata.num_row_groups):
            stats = pf.metadata.row_group(g).column(0).statistics
            if stats is None or not stats.has_min_max or (stats.max >= lo and stats.min < hi):
                groups.append(g)
        if not groups:
            continue
        frame = pf.read_row_groups(groups).to_pandas()
        pix = frame["pix"].to_numpy()
        own = frame["own"].to_numpy()
        inside = (pix >= lo) & (pix < hi)
        is_core = inside & (pix == own)
        is_margin = inside & (pix != own) & ((own < lo) | (own >= hi))
        core.append(frame.loc[is_core])
        margin.append(frame.loc[is_margin])

    def done(parts: list[pd.DataFrame]) -> pd.DataFrame:
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=[])
        out = pd.concat(parts, ignore_index=True).drop(columns=["pix", "own"])
        out = out.drop_duplicates("CRD_ID").sort_values("CRD_ID", kind="stable")
        return out.reset_index(drop=True)

    return done(core), done(margin)


def _split_by_piece(frame: pd.DataFrame, starts: np.ndarray, path: Path) -> dict[int, int]:
    """Write ``frame`` (sorted by CRD_ID) with one row group per piece; piece -> row group."""
    piece = np.searchsorted(starts, frame["CRD_ID"].to_numpy(np.int64), side="right") - 1
    bounds = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1], True]) if len(frame) else []
    out: dict[int, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.Table.from_pandas(partition.empty_decisions(), preserve_index=False).schema
    with (
        atomic_path(path, durable=False) as tmp,
        pq.ParquetWriter(tmp, schema, compression="lz4") as writer,
    ):
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            table = pa.Table.from_pandas(frame.iloc[a:b], schema=schema, preserve_index=False)
            writer.write_table(table, row_group_size=b - a + 1)
            out[int(piece[a])] = len(out)
    return out


def match_partition(
    ctx: Context,
    index: int,
    lo: int,
    hi: int,
    key_files: list[str],
    starts: np.ndarray,
    method: str,
) -> tuple[dict, partition.Border, dict[int, int], int]:
    """Neighbour search and resolution of one partition (pixels ``[lo, hi)``).

    Returns
    -------
    (dict, Border, dict, int)
        Statistics of the partition's own groups, its border, piece -> row group of its
        decisions file, number of core objects.
    """
    core, margin = _partition_keys(key_files, lo, hi)
    if not len(core):
        return (
            {},
            partition.Border(
                pd.DataFrame(), np.empty((0, 2), np.int64), np.empty((0, 3), np.int64)
            ),
            {},
            0,
        )
    both_ra = (
        np.concatenate([core["ra"].to_numpy(np.float64), margin["ra"].to_numpy(np.float64)])
        if len(margin)
        else core["ra"].to_numpy(np.float64)
    )
    both_dec = (
        np.concatenate([core["dec"].to_numpy(np.float64), margin["dec"].to_numpy(np.float64)])
        if len(margin)
        else core["dec"].to_numpy(np.float64)
    )
    settings = ctx.settings
    if method == "lsdb-catalog":
        candidates, _ = graph._pairs_lsdb_catalog(
            both_ra, both_dec, ctx.radius_arcsec, settings["n_neighbors"], max(len(both_ra), 1)
        )
        dist = None
    else:
        xyz = graph._xyz(both_ra, both_dec)
        n_core = len(core)
        found = graph._match_partition(
            xyz, np.arange(n_core), np.arange(len(both_ra)), graph._chord(ctx.radius_arcsec)
        )
        pairs = np.sort(found[:, :2].astype(np.int64), axis=1)
        candidates, first = np.unique(pairs, axis=0, return_index=True)
        dist = found[first, 2]
        keep = candidates[:, 0] != candidates[:, 1]
        candidates, dist = candidates[keep], dist[keep]
    if not len(margin):
        margin = core.iloc[:0]
    decisions, stats, border = partition.resolve_partition(core, margin, candidates, dist, settings)
    where = _split_by_piece(
        decisions, starts, Path(ctx.scratch) / "decisions" / f"part-{index:05d}.parquet"
    )
    return stats, border, where, len(core)


def write_border(ctx: Context, decisions: pd.DataFrame, starts: np.ndarray) -> dict[int, int]:
    """Write the border groups' decisions (one row group per piece)."""
    return _split_by_piece(decisions, starts, Path(ctx.scratch) / "decisions" / "border.parquet")


# --------------------------------------------------------------------------- output


def finish_piece(
    ctx: Context,
    index: int,
    facts: PieceFacts,
    decision_parts: list[tuple[str, int]],
    need_widths: bool,
) -> dict[str, Any]:
    """Join a piece's decisions back to its rows, drop removed rows, write its output rows.

    HATS output: the rows are written sorted by ``_healpix_29`` with their pixel counts
    (:func:`pipelines.combine.hats_out.write_sorted`).

    Returns
    -------
    dict
        ``rows``, ``non_empty`` (column -> bool), ``widths`` (text column -> UTF-8 bytes),
        ``dtypes`` (column -> dtype), ``path``, ``hist`` (HATS: order-8 counts, else None).
    """
    frame = _read_rows(facts.prep)
    if ctx.duplicates != "no":
        parts = [_read(path, [g]) for path, g in decision_parts]
        dec = pd.concat(parts, ignore_index=True) if parts else partition.empty_decisions()
        dec = dec.sort_values("CRD_ID", kind="stable").reset_index(drop=True)
        if not np.array_equal(dec["CRD_ID"].to_numpy(np.int64), frame["CRD_ID"].to_numpy(np.int64)):
            raise PipelineError(
                "partition-lost",
                f"the decisions of rows {facts.first_crd}.."
                f"{facts.end_crd - 1} are incomplete; run again",
            )
        frame["tie_result"] = dec["tie_result"].to_numpy(np.int8)
        frame["group_id"] = dec["group_id"].to_numpy(np.int64)
        frame["compared_to"] = dec["compared_to"].astype("string").array
        if ctx.duplicates == "remove":
            allowed = (1, 2) if ctx.keep_hard_ties else (1,)
            frame = frame.loc[np.isin(frame["tie_result"].to_numpy(), allowed)].reset_index(
                drop=True
            )
    import pyarrow.compute as pc

    non_empty = {c: bool(frame[c].notna().any()) for c in frame.columns}
    widths: dict[str, int] = {}
    if need_widths:
        for c in frame.columns:
            if writers.is_text(frame[c].dtype) and len(frame):
                longest = pc.max(pc.binary_length(pa.array(frame[c], type=pa.string()))).as_py()
                widths[c] = int(longest or 1)
    path = Path(ctx.scratch) / "final" / Path(facts.prep).name
    hist = None
    if ctx.output_format == "hats":
        path = path.with_suffix(".parquet")
        hist = hats_out.write_sorted(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        _write_rows(frame, path)
    return {
        "hist": hist,
        "rows": len(frame),
        "non_empty": non_empty,
        "widths": widths,
        "dtypes": {c: frame[c].dtype for c in frame.columns},
        "path": str(path),
        "input_index": facts.input_index,
    }


def without_hist(finished: dict[str, Any]) -> dict[str, Any]:
    """A finish task's facts without its pixel counts (those are summed on the workers)."""
    return {k: v for k, v in finished.items() if k != "hist"}


def write_single(
    out_dir: str,
    name: str,
    fmt: str,
    final_paths: list[str],
    dtypes: dict[str, object],
    widths: dict[str, int],
    n_rows: int,
) -> str:
    """Stream every piece's output rows, in CRD_ID order, into the one output file (one writer)."""
    columns = list(dtypes)
    if fmt == "parquet":

        def tables():
            for path in final_paths:
                with pa.memory_map(str(path), "r") as source:
                    yield pa.ipc.open_file(source).read_all().select(columns)

        return str(writers.write_parquet_tables(Path(out_dir), name, tables(), dtypes))

    def frames():
        # memory-mapped pieces, converted to pandas one block at a time: the writer holds one
        # block of rows (writers.CHUNK_ROWS), never a whole piece, whatever the format
        for path in final_paths:
            with pa.memory_map(str(path), "r") as source:
                table = pa.ipc.open_file(source).read_all().select(columns)
                for start in range(0, table.num_rows, writers.CHUNK_ROWS):
                    yield table.slice(start, writers.CHUNK_ROWS).to_pandas()

    return str(writers.write_output(Path(out_dir), name, fmt, frames(), dtypes, widths, n_rows))


def write_dataset_file(
    folder: str, index: int, slices: list[tuple[str, int, int]], dtypes: dict[str, object]
) -> int:
    """Write file ``index`` of a Parquet dataset output from slices of the pieces' output rows.

    ``slices`` are (final rows file, first row, end row) in CRD_ID order; the file's row groups
    are ``writers.CHUNK_ROWS`` rows from its own first row, so its bytes depend only on the
    output rows it holds. Returns its rows.
    """

    def tables():
        for path, start, stop in slices:
            with pa.memory_map(str(path), "r") as source:
                table = pa.ipc.open_file(source).read_all().select(list(dtypes))
                yield table.slice(start, stop - start)

    path = writers.write_parquet_tables(
        Path(folder), f"part-{index:05d}", tables(), dtypes, atomic=False
    )
    return pq.ParquetFile(path).metadata.num_rows

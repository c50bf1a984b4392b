"""The inputs of a run and how their tables are read.

A :class:`CombineInput` is what the pipeline knows of one redshift catalog: its name, version,
files, format and column association. Integration code converts manifests into it.
:func:`iter_input` is the one place that reads an input's table (through :mod:`pzcat.tables`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.combine.errors import PipelineError
from pzcat import vocab
from pzcat.errors import PzcatError

#: Roles of the column association, in output order (from the one vocabulary, pzcat.vocab).
ROLES = vocab.PIPELINE_ROLES
REQUIRED_ROLES = vocab.PIPELINE_REQUIRED_ROLES
FORMATS = vocab.TABLE_FORMATS
#: Bookkeeping columns of the files themselves, never data.
HIDDEN = ("__index_level_0__", "_healpix_29", "Norder", "Dir", "Npix")


@dataclass(frozen=True)
class CombineInput:
    """One input catalog of a run.

    Attributes
    ----------
    internal_name : str
        The product's internal name; becomes the ``source`` column.
    version : int
        The product's version (recorded in provenance).
    path : Path
        The table file (or HATS catalog directory).
    format : str
        One of ``parquet``, ``csv``, ``fits``, ``hdf5``, ``hats``.
    columns : dict
        Role -> column name (or None): ``id, ra, dec, z, z_flag, z_err, survey,
        instrument_type``.
    files_sha256 : dict
        File name -> sha256 of the input's files (recorded in provenance).
    """

    internal_name: str
    version: int
    path: Path
    format: str
    columns: dict[str, str | None] = field(default_factory=dict)
    files_sha256: dict[str, str] = field(default_factory=dict)

    def column(self, role: str) -> str | None:
        """Return the column associated with ``role`` (None when not associated)."""
        return self.columns.get(role) or None

    def to_dict(self) -> dict[str, Any]:
        """Return the input as plain data for provenance."""
        return {
            "internal_name": self.internal_name,
            "version": self.version,
            "path": str(self.path),
            "format": self.format,
            "columns": dict(self.columns),
            "files_sha256": dict(self.files_sha256),
        }


def _unreadable(inp: CombineInput, what: str, why: object) -> PipelineError:
    """The one ``input-unreadable`` error: which input, what of it could not be read, and why."""
    return PipelineError(
        "input-unreadable",
        f"input {inp.internal_name}: cannot read {what}: {why}",
        input=inp.internal_name,
    )


def _wrap(inp: CombineInput, exc: PzcatError) -> PipelineError:
    return _unreadable(inp, f"{inp.path} as {inp.format}", f"[{exc.code}] {exc.message}")


def iter_input(
    inp: CombineInput, batch_rows: int, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield an input's rows in batches of at most ``batch_rows``, in file order.

    Reading goes through :func:`pzcat.tables.iter_batches` (HATS: leaves in pixel order).

    Raises
    ------
    PipelineError
        ``input-unreadable`` naming the input.
    """
    from pzcat.tables import iter_batches

    try:
        for batch in iter_batches(
            Path(inp.path), inp.format.lower(), columns=columns, batch_rows=batch_rows
        ):
            yield batch.drop(columns=[c for c in HIDDEN if c in batch.columns])
    except PzcatError as exc:
        raise _wrap(inp, exc) from exc


@dataclass(frozen=True)
class Piece:
    """One unit of reading, done by one task on a worker: paths and row groups, not rows.

    Attributes
    ----------
    input_index : int
        Position of the input in the run (CRD_ID order).
    path : str
        The file the task reads: a Parquet file, a HATS leaf, or a whole table of another
        format (then ``row_groups`` is None and the task streams the table in batches).
    row_groups : tuple of int or None
    first_row : int
        Row of the input where the piece starts (0-based).
    first_crd : int
        CRD_ID of the piece's first row.
    n_rows : int
    """

    input_index: int
    path: str
    row_groups: tuple[int, ...] | None
    first_row: int
    first_crd: int
    n_rows: int


def _parquet_files(inp: CombineInput) -> list[Path]:
    if inp.format.lower() == "hats":
        from pzcat.readers.parquet import HatsReader

        return HatsReader(Path(inp.path))._leaves()
    return [Path(inp.path)]


def plan_pieces(inputs: list[CombineInput], n_rows: list[int], piece_rows: int) -> list[Piece]:
    """Cut every input into pieces of about ``piece_rows`` rows, in CRD_ID order.

    Parquet files and HATS leaves are cut at row-group boundaries (from their footers only);
    the other formats are one piece each, streamed in batches by its task.

    Raises
    ------
    PipelineError
        ``input-unreadable`` when a footer cannot be read, ``input-changed`` when an input
        no longer has the rows the plan counted.
    """
    import pyarrow.parquet as pq

    from pzcat.errors import TableError

    out: list[Piece] = []
    next_crd = 1
    for k, (inp, expected) in enumerate(zip(inputs, n_rows, strict=True)):
        first_row = 0
        if inp.format.lower() in ("parquet", "hats"):
            try:
                files = _parquet_files(inp)
                for path in files:
                    meta = pq.ParquetFile(path).metadata
                    group: list[int] = []
                    size = 0
                    for g in range(meta.num_row_groups):
                        rows = meta.row_group(g).num_rows
                        if group and size + rows > piece_rows:
                            out.append(
                                Piece(
                                    k,
                                    str(path),
                                    tuple(group),
                                    first_row,
                                    next_crd + first_row,
                                    size,
                                )
                            )
                            first_row += size
                            group, size = [], 0
                        group.append(g)
                        size += rows
                    if group:
                        out.append(
                            Piece(k, str(path), tuple(group), first_row, next_crd + first_row, size)
                        )
                        first_row += size
            except (OSError, ValueError) as exc:
                raise _unreadable(inp, str(inp.path), exc) from exc
            except TableError as exc:
                raise _wrap(inp, exc) from exc
            if first_row != expected:
                raise PipelineError(
                    "input-changed",
                    f"input {inp.internal_name} has {first_row} "
                    f"rows, the plan counted {expected}: it changed during the run",
                    input=inp.internal_name,
                )
        else:
            out.append(Piece(k, str(inp.path), None, 0, next_crd, expected))
            first_row = expected
        next_crd += first_row
    return out


def read_piece(inp: CombineInput, piece: Piece, batch_rows: int) -> Iterator[pd.DataFrame]:
    """Yield the raw rows of a piece (one frame for row groups, batches for a streamed table).

    Raises
    ------
    PipelineError
        ``input-unreadable`` naming the input and the file.
    """
    if piece.row_groups is None:
        yield from iter_input(inp, batch_rows)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(piece.path).read_row_groups(list(piece.row_groups))
        try:
            frame = table.to_pandas()
        except (ValueError, KeyError, TypeError):  # damaged pandas metadata: only a hint
            frame = table.to_pandas(ignore_metadata=True)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(inp, f"row groups {list(piece.row_groups)} of {piece.path}", exc) from exc
    if len(frame) != piece.n_rows:
        raise PipelineError(
            "input-changed",
            f"input {inp.internal_name}: {piece.path} changed during the run",
            input=inp.internal_name,
        )
    yield frame.drop(columns=[c for c in HIDDEN if c in frame.columns])


def load_input(inp: CombineInput, columns: list[str] | None = None) -> pd.DataFrame:
    """Read an input's whole table (small inputs, tests)."""
    parts = list(iter_input(inp, 1_000_000, columns))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    return pd.concat(parts, ignore_index=True)


def input_rows(inp: CombineInput) -> int:
    """Rows of an input without reading them: Parquet footers (HATS: every leaf's footer); the
    other formats' readers count them (FITS, HDF5: headers; CSV: one pass over one column).

    Raises
    ------
    PipelineError
        ``input-unreadable`` naming the input.
    """
    from pzcat.tables import open_table

    try:
        return int(open_table(Path(inp.path), inp.format.lower()).n_rows())
    except PzcatError as exc:
        raise _wrap(inp, exc) from exc
    except (OSError, ValueError) as exc:
        raise _unreadable(inp, str(inp.path), exc) from exc


def input_columns(inp: CombineInput) -> list[str]:
    """Column names of an input, without reading its rows."""
    from pzcat.tables import open_table

    if inp.format.lower() not in FORMATS:
        raise PipelineError(
            "input-format",
            f"input {inp.internal_name}: unknown format {inp.format!r}; use one "
            f"of {', '.join(FORMATS)}",
            input=inp.internal_name,
        )
    try:
        names = open_table(Path(inp.path), inp.format.lower()).column_names()
    except PzcatError as exc:
        raise _wrap(inp, exc) from exc
    return [n for n in names if n not in HIDDEN]

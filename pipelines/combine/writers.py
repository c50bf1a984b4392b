"""Output files of a run: deterministic bytes whatever the partitioning.

Columns, in this order (those entirely empty are dropped)::

    CRD_ID int64 | id string | ra dec z z_flag z_err float64 | survey string |
    [instrument_type string] | source string | z_flag_homogenized int8 |
    type_homogenized string | is_in_DP1_fields int8 | [extra priority columns float64] |
    tie_result int8 | group_id int64 | compared_to string        (last three: mark/remove)

Rows are sorted by CRD_ID. Every writer receives the rows as an iterator of frames in CRD_ID
order and re-chunks them into blocks of ``CHUNK_ROWS`` rows, so file layout (Parquet row
groups, HDF5/FITS writes) never depends on the number of partitions or workers. Files are
written to a temporary name in the target folder and renamed when complete.

Format details
--------------
parquet
    pyarrow, zstd, no pandas metadata, fixed row groups.
csv
    header line, ``\\n`` line ends, shortest round-trip floats, empty field for null.
fits
    one BINTABLE HDU (text as fixed-width ASCII/UTF-8 bytes, width = longest value), written
    with a header computed up front and rows streamed; no DATE keyword.
hdf5
    h5py, one compound dataset ``/data`` (the name tables_io, the pzserver client's reader,
    reads as one table; text as fixed-width UTF-8 bytes), created with ``track_times=False``;
    null text is empty, null numbers NaN.
hats
    a HATS collection folder written by the workers, one task per HATS pixel
    (:mod:`pipelines.combine.hats_out`): rows of a pixel sorted by ``_healpix_29`` then CRD_ID;
    the properties' ``hats_creation_date`` is pinned to 1970-01-01 so that the bytes are
    reproducible.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.combine.errors import PipelineError
from pzcat.files import atomic_path, atomic_write_text

CHUNK_ROWS = 262_144
TEXT_KINDS = ("string", "str", "object")
EXTENSIONS = {"parquet": "parquet", "csv": "csv", "fits": "fits", "hdf5": "hdf5", "hats": "hats"}


def is_text(dtype: object) -> bool:
    """True for text columns."""
    return pd.api.types.is_string_dtype(dtype) or str(dtype) in TEXT_KINDS


def rechunk(frames: Iterable[pd.DataFrame], rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield the concatenated rows of ``frames`` in blocks of exactly ``rows`` (last shorter)."""
    pending: list[pd.DataFrame] = []
    size = 0
    for frame in frames:
        if len(frame) == 0:
            continue
        pending.append(frame)
        size += len(frame)
        while size >= rows:
            block = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            yield block.iloc[:rows].reset_index(drop=True)
            rest = block.iloc[rows:]
            pending, size = ([rest] if len(rest) else []), len(rest)
    if size:
        block = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        yield block.reset_index(drop=True)


def arrow_schema(dtypes: dict[str, object]) -> pa.Schema:
    """The Parquet schema of the output columns (no metadata)."""
    fields = []
    for name, dtype in dtypes.items():
        if is_text(dtype):
            fields.append(pa.field(name, pa.string()))
        else:
            fields.append(pa.field(name, pa.from_numpy_dtype(np.dtype(dtype))))
    return pa.schema(fields)


def _write_parquet(path: Path, frames: Iterable[pd.DataFrame], dtypes: dict[str, object]) -> None:
    schema = arrow_schema(dtypes)
    with pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True) as writer:
        for block in rechunk(frames):
            table = pa.Table.from_pandas(block, schema=schema, preserve_index=False)
            writer.write_table(table.replace_schema_metadata(None), row_group_size=CHUNK_ROWS)


def rechunk_tables(tables: Iterable[pa.Table], rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """:func:`rechunk` for Arrow tables: blocks of exactly ``rows`` rows, each one contiguous."""
    pending: list[pa.Table] = []
    size = 0
    for table in tables:
        if table.num_rows == 0:
            continue
        pending.append(table)
        size += table.num_rows
        while size >= rows:
            block = pa.concat_tables(pending) if len(pending) > 1 else pending[0]
            yield block.slice(0, rows).combine_chunks()
            rest = block.slice(rows)
            pending, size = ([rest] if rest.num_rows else []), rest.num_rows
    if size:
        block = pa.concat_tables(pending) if len(pending) > 1 else pending[0]
        yield block.combine_chunks()


def write_parquet_tables(
    directory: Path,
    name: str,
    tables: Iterable[pa.Table],
    dtypes: dict[str, object],
    atomic: bool = True,
) -> Path:
    """Write Arrow tables of the output rows (CRD_ID order) as the one Parquet output, atomically.

    The same bytes as :func:`write_output` with ``parquet`` for the same rows, without a round
    trip through pandas. ``atomic=False``: straight to the target (a file of a dataset folder
    that is itself renamed into place when complete).
    """
    schema = arrow_schema(dtypes)
    target = Path(directory) / f"{name}.{EXTENSIONS['parquet']}"
    with contextlib.ExitStack() as stack:
        # atomic=False: a file of a dataset folder that is itself published whole
        tmp = stack.enter_context(atomic_path(target)) if atomic else target
        with pq.ParquetWriter(tmp, schema, compression="zstd", write_statistics=True) as writer:
            for block in rechunk_tables(t.select(list(dtypes)).cast(schema) for t in tables):
                writer.write_table(block.replace_schema_metadata(None), row_group_size=CHUNK_ROWS)
    return target


def _write_csv(path: Path, frames: Iterable[pd.DataFrame], dtypes: dict[str, object]) -> None:
    with open(path, "x", encoding="utf-8", newline="") as fh:  # the temporary of write_output
        fh.write(",".join(dtypes) + "\n")
        for block in rechunk(frames):
            block.to_csv(fh, header=False, index=False, lineterminator="\n")


def _record_dtype(dtypes: dict[str, object], widths: dict[str, int], big_endian: bool) -> np.dtype:
    order = ">" if big_endian else "<"
    out = []
    for name, dtype in dtypes.items():
        if is_text(dtype):
            out.append((name, f"S{max(widths.get(name, 1), 1)}"))
        elif np.dtype(dtype) == np.int8 and big_endian:
            out.append((name, np.dtype("u1")))  # FITS has no signed byte; our int8 are >= 0
        else:
            dt = np.dtype(dtype)
            out.append((name, dt.newbyteorder(order) if dt.itemsize > 1 else dt))
    return np.dtype(out)


def _records(block: pd.DataFrame, rec: np.dtype) -> np.ndarray:
    arr = np.zeros(len(block), dtype=rec)
    for name in rec.names:
        col = block[name]
        if rec[name].kind == "S":
            arr[name] = col.fillna("").astype(str).str.encode("utf-8").to_numpy(dtype=object)
        else:
            arr[name] = col.to_numpy(dtype=rec[name].newbyteorder("="))
    return arr


def _write_hdf5(
    path: Path,
    frames: Iterable[pd.DataFrame],
    dtypes: dict[str, object],
    widths: dict[str, int],
    n_rows: int,
) -> None:
    import h5py

    rec = _record_dtype(dtypes, widths, big_endian=False)
    with h5py.File(path, "w", libver="earliest", track_order=False) as fh:
        # "data": the one name tables_io (the pzserver client) reads as a single table
        ds = fh.create_dataset("data", shape=(n_rows,), dtype=rec, track_times=False)
        start = 0
        for block in rechunk(frames):
            ds[start : start + len(block)] = _records(block, rec)
            start += len(block)
        if start != n_rows:
            raise PipelineError("output-size", f"wrote {start} rows, expected {n_rows}")


def _write_fits(
    path: Path,
    frames: Iterable[pd.DataFrame],
    dtypes: dict[str, object],
    widths: dict[str, int],
    n_rows: int,
) -> None:
    from astropy.io import fits

    rec = _record_dtype(dtypes, widths, big_endian=True)
    header = fits.BinTableHDU(data=np.zeros(0, dtype=rec), name="CATALOG").header
    header["NAXIS2"] = n_rows
    primary = fits.PrimaryHDU().header
    written = 0
    with open(path, "xb") as fh:  # the temporary of write_output
        fh.write(primary.tostring().encode("ascii"))
        fh.write(header.tostring().encode("ascii"))
        for block in rechunk(frames):
            fh.write(_records(block, rec).tobytes())
            written += len(block)
        size = written * rec.itemsize
        fh.write(b"\0" * ((2880 - size % 2880) % 2880))
    if written != n_rows:
        raise PipelineError("output-size", f"wrote {written} rows, expected {n_rows}")


HATS_DATE = "1970-01-01T00:00UTC"


def pin_hats_dates(path: Path) -> None:
    """Pin ``hats_creation_date`` so that HATS output is byte-reproducible.

    The run's real start and end times are in the manifest's provenance.
    """
    for props in sorted(Path(path).rglob("*properties")):
        lines = props.read_text(encoding="utf-8").splitlines(keepends=True)
        pinned = [
            f"hats_creation_date={HATS_DATE}\n" if ln.startswith("hats_creation_date=") else ln
            for ln in lines
        ]
        atomic_write_text(props, "".join(pinned), durable=False)  # the folder is fsynced whole


def write_output(
    directory: Path,
    name: str,
    fmt: str,
    frames: Iterable[pd.DataFrame],
    dtypes: dict[str, object],
    widths: dict[str, int],
    n_rows: int,
) -> Path:
    """Write the output file (or HATS folder) atomically.

    Parameters
    ----------
    directory : Path
        Existing target folder.
    name : str
        File stem.
    fmt : str
        parquet, csv, fits or hdf5 (HATS: :mod:`pipelines.combine.hats_out`).
    frames : iterable of pandas.DataFrame
        Output rows in CRD_ID order, columns as ``dtypes``.
    dtypes : dict
        Column -> dtype, in output order.
    widths : dict
        Longest UTF-8 length of each text column (FITS, HDF5).
    n_rows : int
        Total rows (FITS, HDF5 headers are written first).

    Returns
    -------
    Path
        The written file or folder.
    """
    target = Path(directory) / f"{name}.{EXTENSIONS[fmt]}"
    writers = {
        "parquet": lambda tmp: _write_parquet(tmp, frames, dtypes),
        "csv": lambda tmp: _write_csv(tmp, frames, dtypes),
        "hdf5": lambda tmp: _write_hdf5(tmp, frames, dtypes, widths, n_rows),
        "fits": lambda tmp: _write_fits(tmp, frames, dtypes, widths, n_rows),
    }
    if fmt not in writers:
        raise PipelineError("invalid-config", f"unknown output format {fmt!r}")
    with atomic_path(target) as tmp:
        writers[fmt](tmp)
    return target

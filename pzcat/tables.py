"""Table readers for CSV, FITS, HDF5, Parquet and HATS, read in batches.

Every reader streams: memory stays flat whatever the size of the file. Every failure to read is a
:class:`~pzcat.errors.TableError` with a stable code (``truncated-parquet``, ``corrupt-fits``,
``hdf5-no-table``, ``ragged-csv``, ``unreadable-table``, ``empty-table``).

Examples
--------
>>> from pzcat.tables import open_table
>>> reader = open_table("products/1_x/x.parquet", "parquet")   # doctest: +SKIP
>>> for batch in reader.batches(columns=["ra", "dec"]):           # doctest: +SKIP
...     print(len(batch))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pzcat.errors import TableError
from pzcat.manifest import ColumnInfo
from pzcat.readers.base import BATCH_ROWS, TableReader
from pzcat.readers.delimited import CsvReader
from pzcat.readers.fits import FitsReader
from pzcat.readers.hdf5 import Hdf5Reader
from pzcat.readers.parquet import HatsReader, ParquetReader

__all__ = [
    "BATCH_ROWS",
    "READERS",
    "CsvReader",
    "FitsReader",
    "HatsReader",
    "Hdf5Reader",
    "ParquetReader",
    "TableReader",
    "count_rows",
    "guess_format",
    "iter_batches",
    "open_table",
    "read_table",
    "table_schema",
]

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".dat": "csv",
    ".fits": "fits",
    ".fit": "fits",
    ".fits.gz": "fits",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".hdf": "hdf5",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def guess_format(path: Path) -> str:
    """Format from a file name or folder layout (``other`` when not a table)."""
    path = Path(path)
    if path.is_dir():
        if (
            (path / "collection.properties").exists()
            or (path / "hats.properties").exists()
            or (path / "properties").exists()
        ):
            return "hats"
        return "other"
    name = path.name.lower()
    for suffix, fmt in sorted(SUFFIX_FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    return "other"


READERS: dict[str, type[TableReader]] = {
    "parquet": ParquetReader,
    "csv": CsvReader,
    "fits": FitsReader,
    "hdf5": Hdf5Reader,
    "hats": HatsReader,
}


def open_table(path: Path, fmt: str) -> TableReader:
    """Open ``path`` as a table of format ``fmt``.

    Raises
    ------
    TableError
        ``unreadable-table`` when ``fmt`` is not a table format or the file does not exist.
    """
    path = Path(path)
    if fmt not in READERS:
        raise TableError(
            "unreadable-table", f"format {fmt!r} is not a table format", file=str(path)
        )
    if not path.exists():
        raise TableError("unreadable-table", f"{path} does not exist", file=str(path))
    return READERS[fmt](path)


def iter_batches(
    path: Path, fmt: str, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[pd.DataFrame]:
    """Yield a table in batches (see :class:`TableReader`)."""
    return open_table(path, fmt).batches(columns=columns, batch_rows=batch_rows)


def read_table(path: Path, fmt: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole table into memory (for small tables, previews and tests)."""
    parts = list(iter_batches(path, fmt, columns=columns))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    return (
        pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    )


def table_schema(path: Path, fmt: str) -> list[ColumnInfo]:
    """Columns of a table with dtypes and units."""
    return open_table(path, fmt).schema()


def count_rows(path: Path, fmt: str) -> int:
    """Number of rows of a table."""
    return open_table(path, fmt).n_rows()

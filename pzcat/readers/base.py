"""What every table reader offers: batches, schema, units, row count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pzcat.errors import TableError
from pzcat.manifest import ColumnInfo

BATCH_ROWS = 500_000


def _dtype_name(dtype: object) -> str:
    name = str(dtype)
    return {"object": "string", "str": "string", "large_string": "string"}.get(name, name)


class TableReader:
    """A table file opened for reading in batches."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def batches(self, columns: list[str] | None = None,
                batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
        """Yield the table as DataFrames of at most ``batch_rows`` rows."""
        raise NotImplementedError

    def column_names(self) -> list[str]:
        """Names of the columns."""
        return [c.name for c in self.schema()]

    def schema(self) -> list[ColumnInfo]:
        """Columns with dtypes (and units where the file stores them)."""
        first = next(self.batches(batch_rows=1000), None)
        if first is None:
            raise TableError("empty-table", f"{self.path.name}: no rows", file=str(self.path))
        dupes = sorted({str(c) for c in first.columns if list(first.columns).count(c) > 1})
        if dupes:
            raise TableError("unreadable-table", f"{self.path.name}: duplicate column names "
                             f"{dupes}; every column needs its own name", file=str(self.path))
        units = self.units()
        return [ColumnInfo(name=str(c), dtype=_dtype_name(first[c].dtype), unit=units.get(str(c)))
                for c in first.columns]

    def units(self) -> dict[str, str]:
        """Units stored in the file, by column."""
        return {}

    def n_rows(self) -> int:
        """Number of rows (a full pass unless the format stores it)."""
        return sum(len(b) for b in self.batches())

"""What every table reader offers: batches, schema, units, row count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from pzcat.errors import TableError
from pzcat.manifest import ColumnInfo

BATCH_ROWS = 500_000

#: Most columns a table may have: SQLite's SQLITE_MAX_COLUMN (2,000) less the ``_healpix_order10``
#: column the previews add. The validator and the builders share this limit.
MAX_COLUMNS = 1_999
#: Longest column name (characters).
MAX_NAME_CHARS = 1_000
#: Most a compressed (or sparsely declared) input may expand: decompressed or declared bytes over
#: stored bytes. Real tables compress 1.5-10x; bombs do 1,000x.
MAX_EXPANSION = 100
#: Expansion below this many bytes is never refused (tiny files compress well).
EXPANSION_FLOOR = 64 * 1024 * 1024
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f]")


def check_column_names(names: list[str], path: Path) -> None:
    """Refuse column names no builder can store (linear in the number of columns).

    Raises
    ------
    TableError
        ``too-many-columns`` (over :data:`MAX_COLUMNS`), ``bad-column-name`` (control characters
        such as NUL, or over :data:`MAX_NAME_CHARS`), ``unreadable-table`` (duplicate names).
    """
    where = Path(path).name
    if len(names) > MAX_COLUMNS:
        raise TableError(
            "too-many-columns",
            f"{where}: {len(names):,} columns, over the limit of "
            f"{MAX_COLUMNS:,} (SQLite's, used by the previews)",
            file=str(path),
        )
    for name in names:
        if len(name) > MAX_NAME_CHARS or _BAD_NAME.search(name):
            shown = repr(name[:40]) + ("..." if len(name) > 40 else "")
            raise TableError(
                "bad-column-name",
                f"{where}: column name {shown} holds control "
                f"characters (NUL, tab, newline...) or is over {MAX_NAME_CHARS} "
                "characters",
                file=str(path),
                column=name[:100],
            )
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise TableError(
            "unreadable-table",
            f"{where}: duplicate column names {dupes[:10]}; every column needs its own name",
            file=str(path),
        )


def check_expansion(expanded: int, stored: int, path: Path, what: str) -> None:
    """Refuse an input whose ``expanded`` bytes are over :data:`MAX_EXPANSION` x ``stored``.

    Raises
    ------
    TableError
        ``decompression-bomb``.
    """
    if expanded > max(EXPANSION_FLOOR, MAX_EXPANSION * max(stored, 1)):
        raise TableError(
            "decompression-bomb",
            f"{Path(path).name}: {what} expands to more than "
            f"{expanded:,} bytes from {stored:,} stored (more than {MAX_EXPANSION}x); "
            "store the table uncompressed or as Parquet",
            file=str(path),
        )


def _dtype_name(dtype: object) -> str:
    name = str(dtype)
    return {"object": "string", "str": "string", "large_string": "string"}.get(name, name)


class TableReader:
    """A table file opened for reading in batches."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def batches(
        self, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS
    ) -> Iterator[pd.DataFrame]:
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
        check_column_names([str(c) for c in first.columns], self.path)
        units = self.units()
        return [
            ColumnInfo(name=str(c), dtype=_dtype_name(first[c].dtype), unit=units.get(str(c)))
            for c in first.columns
        ]

    def units(self) -> dict[str, str]:
        """Units stored in the file, by column."""
        return {}

    def n_rows(self) -> int:
        """Number of rows (a full pass unless the format stores it)."""
        return sum(len(b) for b in self.batches())

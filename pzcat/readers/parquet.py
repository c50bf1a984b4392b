"""Parquet files (row groups via pyarrow) and HATS catalogs (their leaf Parquet files)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pzcat.errors import TableError
from pzcat.paths import is_within
from pzcat.readers.base import BATCH_ROWS, MAX_COLUMNS, TableReader, check_column_names

# -- Parquet ---------------------------------------------------------------------------------------


class ParquetReader(TableReader):
    """Parquet through pyarrow, row group by row group."""

    def _file(self) -> pq.ParquetFile:
        try:
            pf = pq.ParquetFile(self.path)
        except _PARQUET_ERRORS as exc:
            raise TableError(
                "truncated-parquet",
                f"{self.path.name}: not a readable Parquet file ({exc})",
                file=str(self.path),
            ) from None
        if pf.metadata.num_columns > MAX_COLUMNS:  # before any row is read
            check_column_names(pf.schema_arrow.names, self.path)
        return pf

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        pf = self._file()
        try:
            for rb in pf.iter_batches(batch_size=batch_rows, columns=columns):
                try:
                    df = rb.to_pandas()
                except (ValueError, KeyError, TypeError):  # damaged pandas metadata: only a hint
                    df = rb.to_pandas(ignore_metadata=True)
                yield df
        except _PARQUET_ERRORS as exc:
            raise TableError(
                "truncated-parquet", f"{self.path.name}: corrupt data ({exc})", file=str(self.path)
            ) from None

    def units(self):
        out = {}
        for field in self._file().schema_arrow:
            meta = field.metadata or {}
            if b"unit" in meta:
                out[field.name] = meta[b"unit"].decode("utf-8", "replace")
        return out

    def n_rows(self) -> int:
        return self._file().metadata.num_rows


#: What pyarrow raises on damaged Parquet files.
_PARQUET_ERRORS = (pa.ArrowException, OSError, ValueError)


# -- HATS ------------------------------------------------------------------------------------------


class HatsReader(TableReader):
    """A HATS catalog (or collection) folder: its leaf Parquet files in pixel order."""

    def _catalog_dir(self) -> Path:
        path = self.path
        props = path / "collection.properties"
        if props.exists():
            text = props.read_text(encoding="utf-8")
            match = re.search(r"^hats_primary_table_url\s*=\s*(\S+)", text, re.M)
            sub = match.group(1) if match else None
            candidates = [path / sub] if sub else [p for p in sorted(path.iterdir()) if p.is_dir()]
            for c in candidates:
                if (c / "dataset").is_dir():
                    return c
        if (path / "dataset").is_dir():
            return path
        raise TableError(
            "unreadable-table",
            f"{path.name}: not a HATS catalog (no dataset/ folder)",
            file=str(path),
        )

    def _leaves(self) -> list[Path]:
        def key(p: Path) -> tuple[int, int]:
            order = int(re.search(r"Norder=(\d+)", str(p)).group(1))
            pix = int(re.search(r"Npix=(\d+)", p.name).group(1))
            return (order, pix)

        leaves = [p for p in (self._catalog_dir() / "dataset").rglob("Npix=*") if p.is_file()]
        outside = [p for p in leaves if not is_within(p, self.path)]
        if outside:  # never read (nor publish) rows from outside the catalog's folder
            raise TableError(
                "symlink-escape",
                f"{self.path.name}: {outside[0].relative_to(self.path)} "
                "is a link to a file outside the HATS folder",
                file=str(outside[0]),
            )
        if not leaves:
            raise TableError(
                "empty-table",
                f"{self.path.name}: HATS catalog without partitions",
                file=str(self.path),
            )
        return sorted(leaves, key=key)

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        for leaf in self._leaves():
            yield from ParquetReader(leaf).batches(columns=columns, batch_rows=batch_rows)

    def n_rows(self) -> int:
        return sum(ParquetReader(p).n_rows() for p in self._leaves())

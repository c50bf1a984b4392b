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

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pzcat.errors import TableError
from pzcat.manifest import ColumnInfo

BATCH_ROWS = 500_000
SUFFIX_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".dat": "csv",
    ".fits": "fits", ".fit": "fits", ".fits.gz": "fits",
    ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5",
    ".parquet": "parquet", ".pq": "parquet",
}


def guess_format(path: Path) -> str:
    """Format from a file name or folder layout (``other`` when not a table)."""
    path = Path(path)
    if path.is_dir():
        if (path / "collection.properties").exists() or (path / "hats.properties").exists() \
                or (path / "properties").exists():
            return "hats"
        return "other"
    name = path.name.lower()
    for suffix, fmt in sorted(SUFFIX_FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    return "other"


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
        units = self.units()
        return [ColumnInfo(name=str(c), dtype=_dtype_name(first[c].dtype), unit=units.get(str(c)))
                for c in first.columns]

    def units(self) -> dict[str, str]:
        """Units stored in the file, by column."""
        return {}

    def n_rows(self) -> int:
        """Number of rows (a full pass unless the format stores it)."""
        return sum(len(b) for b in self.batches())


# -- Parquet ---------------------------------------------------------------------------------------

class ParquetReader(TableReader):
    """Parquet through pyarrow, row group by row group."""

    def _file(self) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError("truncated-parquet", f"{self.path.name}: not a readable Parquet file ({exc})",
                             file=str(self.path)) from None

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        pf = self._file()
        try:
            for rb in pf.iter_batches(batch_size=batch_rows, columns=columns):
                yield rb.to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError("truncated-parquet", f"{self.path.name}: corrupt data ({exc})",
                             file=str(self.path)) from None

    def units(self):
        out = {}
        for field in self._file().schema_arrow:
            meta = field.metadata or {}
            if b"unit" in meta:
                out[field.name] = meta[b"unit"].decode()
        return out

    def n_rows(self) -> int:
        return self._file().metadata.num_rows


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
        raise TableError("unreadable-table", f"{path.name}: not a HATS catalog (no dataset/ folder)",
                         file=str(path))

    def _leaves(self) -> list[Path]:
        def key(p: Path) -> tuple[int, int]:
            order = int(re.search(r"Norder=(\d+)", str(p)).group(1))
            pix = int(re.search(r"Npix=(\d+)", p.name).group(1))
            return (order, pix)

        leaves = [p for p in (self._catalog_dir() / "dataset").rglob("Npix=*") if p.is_file()]
        if not leaves:
            raise TableError("empty-table", f"{self.path.name}: HATS catalog without partitions",
                             file=str(self.path))
        return sorted(leaves, key=key)

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        for leaf in self._leaves():
            yield from ParquetReader(leaf).batches(columns=columns, batch_rows=batch_rows)

    def n_rows(self) -> int:
        return sum(ParquetReader(p).n_rows() for p in self._leaves())


# -- CSV -------------------------------------------------------------------------------------------

class CsvReader(TableReader):
    """CSV with delimiter and header detection, streamed with pyarrow."""

    SAMPLE = 64 * 1024

    def dialect(self) -> tuple[str, bool]:
        """Detected delimiter and whether the first line is a header."""
        with open(self.path, "rb") as fh:
            raw = fh.read(self.SAMPLE)
        if not raw.strip():
            raise TableError("empty-table", f"{self.path.name}: empty file", file=str(self.path))
        try:
            sample = raw.decode("utf-8")
        except UnicodeDecodeError:
            sample = raw.decode("latin-1")
        if len(raw) == self.SAMPLE and "\n" in sample:
            sample = sample[: sample.rfind("\n") + 1]
        lines = [ln for ln in sample.splitlines() if ln.strip() and not ln.startswith("#")]
        sniffer = csv.Sniffer()
        try:
            delimiter = sniffer.sniff("\n".join(lines[:50]), delimiters=",;\t| ").delimiter
        except csv.Error:
            delimiter = ","
        try:
            header = sniffer.has_header("\n".join(lines[:50]))
        except csv.Error:
            header = True
        # a first line made only of non-numbers is a header whatever the sniffer thinks
        first = lines[0].split(delimiter)
        if all(not _is_number(tok) for tok in first if tok.strip()):
            header = True
        return delimiter, header

    def _reader(self, column_types: dict[str, pa.DataType], block: int):
        delimiter, header = self.dialect()
        read_opts = pacsv.ReadOptions(block_size=block, autogenerate_column_names=not header)
        parse_opts = pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=True)
        convert = pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=True)
        return pacsv.open_csv(self.path, read_options=read_opts, parse_options=parse_opts,
                              convert_options=convert)

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        column_types: dict[str, pa.DataType] = {}
        block = 8 * 1024 * 1024
        for _attempt in range(64):
            emitted = 0
            try:
                reader = self._reader(column_types, block)
                for rb in reader:
                    df = rb.to_pandas()
                    if columns is not None:
                        df = df[[c for c in columns if c in df.columns]]
                    if emitted == 0:
                        pass
                    for start in range(0, len(df), batch_rows):
                        yield df.iloc[start:start + batch_rows]
                    emitted += len(df)
                return
            except pa.ArrowInvalid as exc:
                msg = str(exc)
                if "Expected" in msg and "columns" in msg:
                    row = re.search(r"[Rr]ow #(\d+)", msg)
                    rows = [int(row.group(1))] if row else None
                    raise TableError("ragged-csv", f"{self.path.name}: {msg.splitlines()[0]}",
                                     file=str(self.path), rows=rows) from None
                conv = re.search(r"In CSV column #(\d+): CSV conversion error to (\w+)", msg)
                if conv and emitted == 0:
                    name = self._names()[int(conv.group(1))]
                    column_types[name] = pa.float64() if conv.group(2).startswith("int") \
                        else pa.string()
                    continue
                if conv:
                    raise TableError("unreadable-table",
                                     f"{self.path.name}: column types change after {emitted} rows; "
                                     f"({msg.splitlines()[0]})", file=str(self.path)) from None
                raise TableError("unreadable-table", f"{self.path.name}: {msg.splitlines()[0]}",
                                 file=str(self.path)) from None
        raise TableError("unreadable-table", f"{self.path.name}: cannot settle column types",
                         file=str(self.path))

    def _names(self) -> list[str]:
        reader = self._reader({}, 64 * 1024)
        return reader.schema.names


def _is_number(token: str) -> bool:
    try:
        float(token.strip().strip('"'))
    except ValueError:
        return False
    return True


# -- FITS ------------------------------------------------------------------------------------------

class FitsReader(TableReader):
    """FITS binary or ASCII table (the first table HDU), memory-mapped and sliced."""

    def _open(self):
        from astropy.io import fits

        try:
            hdul = fits.open(self.path, memmap=True, lazy_load_hdus=True)
            for hdu in hdul:
                if isinstance(hdu, fits.BinTableHDU | fits.TableHDU):
                    return hdul, hdu
        except (OSError, ValueError, TypeError, IndexError, KeyError) as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: not a readable FITS file ({exc})",
                             file=str(self.path)) from None
        hdul.close()
        raise TableError("corrupt-fits", f"{self.path.name}: no table HDU", file=str(self.path))

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        hdul, hdu = self._open()
        try:
            n = hdu.header.get("NAXIS2", 0)
            names = [c.name for c in hdu.columns]
            wanted = [c for c in (columns or names) if c in names]
            data = hdu.data
            for start in range(0, n, batch_rows):
                stop = min(start + batch_rows, n)
                out = {}
                for name in wanted:
                    arr = np.asarray(data.field(name)[start:stop])
                    if arr.ndim > 1:
                        continue
                    if arr.dtype.kind == "S":
                        out[name] = pd.array([v.decode("utf-8", "replace").strip() for v in arr],
                                             dtype="str")
                        continue
                    if arr.dtype.byteorder not in ("=", "|"):
                        arr = arr.astype(arr.dtype.newbyteorder("="))
                    out[name] = arr
                yield pd.DataFrame(out)
        except (OSError, ValueError, TypeError, IndexError) as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: corrupt table data ({exc})",
                             file=str(self.path)) from None
        finally:
            hdul.close()

    def units(self):
        hdul, hdu = self._open()
        try:
            return {c.name: str(c.unit) for c in hdu.columns if c.unit}
        finally:
            hdul.close()

    def n_rows(self) -> int:
        hdul, hdu = self._open()
        try:
            return int(hdu.header.get("NAXIS2", 0))
        finally:
            hdul.close()


# -- HDF5 ------------------------------------------------------------------------------------------

class Hdf5Reader(TableReader):
    """HDF5: a pandas table (HDFStore), a compound dataset, or a group of equal-length 1-D datasets."""

    def _layout(self):
        import h5py

        try:
            fh = h5py.File(self.path, "r")
        except (OSError, ValueError) as exc:
            raise TableError("unreadable-table", f"{self.path.name}: not a readable HDF5 file ({exc})",
                             file=str(self.path)) from None
        try:
            found = []

            def visit(name, obj):
                if isinstance(obj, h5py.Group) and obj.attrs.get("pandas_type") is not None:
                    found.append(("pandas", name))
                elif isinstance(obj, h5py.Dataset) and obj.dtype.names and obj.ndim == 1 \
                        and not name.split("/")[-1].startswith("_i_") and "pandas_type" not in \
                        obj.parent.attrs:
                    found.append(("compound", name))

            fh.visititems(visit)
            if not found:
                groups = [fh] + [o for o in _walk_groups(fh)]
                for g in groups:
                    dsets = [k for k, v in g.items() if isinstance(v, h5py.Dataset) and v.ndim == 1]
                    lengths = {g[k].shape[0] for k in dsets}
                    if dsets and len(lengths) == 1:
                        found.append(("columns", g.name))
                        break
        finally:
            fh.close()
        if not found:
            raise TableError("hdf5-no-table", f"{self.path.name}: no table found (no pandas table, "
                             "compound dataset or group of equal-length columns)", file=str(self.path))
        return found[0]

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        import h5py

        kind, name = self._layout()
        if kind == "pandas":
            yield from self._pandas_batches(name, columns, batch_rows)
            return
        with h5py.File(self.path, "r") as fh:
            if kind == "compound":
                ds = fh[name]
                wanted = [c for c in (columns or ds.dtype.names) if c in ds.dtype.names]
                for start in range(0, ds.shape[0], batch_rows):
                    chunk = ds[start:start + batch_rows]
                    yield pd.DataFrame({c: _native(chunk[c]) for c in wanted})
            else:
                g = fh[name]
                names = [k for k, v in g.items() if isinstance(v, h5py.Dataset) and v.ndim == 1]
                wanted = [c for c in (columns or names) if c in names]
                n = g[names[0]].shape[0]
                for start in range(0, n, batch_rows):
                    yield pd.DataFrame({c: _native(g[c][start:start + batch_rows]) for c in wanted})

    def _pandas_batches(self, key, columns, batch_rows):
        try:
            with pd.HDFStore(self.path, mode="r") as store:
                storer = store.get_storer(key)
                if getattr(storer, "is_table", False):
                    nrows = storer.nrows
                    for start in range(0, nrows, batch_rows):
                        df = store.select(key, start=start, stop=start + batch_rows, columns=columns)
                        yield df.reset_index(drop=True)
                else:
                    df = store.get(key)
                    if columns is not None:
                        df = df[[c for c in columns if c in df.columns]]
                    for start in range(0, len(df), batch_rows):
                        yield df.iloc[start:start + batch_rows].reset_index(drop=True)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise TableError("hdf5-no-table", f"{self.path.name}: cannot read pandas table {key!r} "
                             f"({exc})", file=str(self.path)) from None


def _walk_groups(group):
    import h5py

    for v in group.values():
        if isinstance(v, h5py.Group):
            yield v
            yield from _walk_groups(v)


def _native(arr: np.ndarray):
    if arr.dtype.kind == "S":
        return pd.array([v.decode("utf-8", "replace") for v in arr], dtype="str")
    if arr.dtype.kind == "O":
        return pd.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in arr],
                        dtype="str")
    if arr.dtype.byteorder not in ("=", "|"):
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


READERS: dict[str, type[TableReader]] = {
    "parquet": ParquetReader, "csv": CsvReader, "fits": FitsReader, "hdf5": Hdf5Reader,
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
        raise TableError("unreadable-table", f"format {fmt!r} is not a table format", file=str(path))
    if not path.exists():
        raise TableError("unreadable-table", f"{path} does not exist", file=str(path))
    return READERS[fmt](path)


def iter_batches(path: Path, fmt: str, columns: list[str] | None = None,
                 batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """Yield a table in batches (see :class:`TableReader`)."""
    return open_table(path, fmt).batches(columns=columns, batch_rows=batch_rows)


def read_table(path: Path, fmt: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole table into memory (for small tables, previews and tests)."""
    parts = list(iter_batches(path, fmt, columns=columns))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def table_schema(path: Path, fmt: str) -> list[ColumnInfo]:
    """Columns of a table with dtypes and units."""
    return open_table(path, fmt).schema()


def count_rows(path: Path, fmt: str) -> int:
    """Number of rows of a table."""
    return open_table(path, fmt).n_rows()

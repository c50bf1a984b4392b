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

import contextlib
import csv
import pickletools
import re
import struct
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


# -- Parquet ---------------------------------------------------------------------------------------

class ParquetReader(TableReader):
    """Parquet through pyarrow, row group by row group."""

    def _file(self) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(self.path)
        except _PARQUET_ERRORS as exc:
            raise TableError("truncated-parquet", f"{self.path.name}: not a readable Parquet file ({exc})",
                             file=str(self.path)) from None

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
            raise TableError("truncated-parquet", f"{self.path.name}: corrupt data ({exc})",
                             file=str(self.path)) from None

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
        if not lines:
            raise TableError("empty-table", f"{self.path.name}: no header or rows (only comments "
                             "or blank lines)", file=str(self.path))
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

    #: Bytes parsed at a time. pyarrow's own streaming reader (``open_csv``) reads ahead without
    #: bound (the whole file ends up in memory), so the file is cut at line ends here and each
    #: piece parsed on its own; like pyarrow's default, values may not hold newlines.
    CHUNK = 16 * 1024 * 1024

    def _pieces(self, first: int) -> Iterator[bytes]:
        """The file in pieces that end at a line end (the first one about ``first`` bytes)."""
        with open(self.path, "rb") as fh:
            carry = b""
            size = first
            while block := fh.read(size):
                size = self.CHUNK
                data = carry + block if carry else block
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1:]
                yield data[:cut + 1]
            if carry.strip():
                yield carry

    def _parse(self, data: bytes, names: list[str] | None, header: bool, delimiter: str,
               include: list[str] | None, line_base: int) -> pa.Table:
        """Parse one piece; ragged rows raise ``ragged-csv`` with their 0-based row numbers."""
        bad: list[tuple[int | None, int, int]] = []

        def on_invalid(row) -> str:
            bad.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

        def parse(threads: bool, handler) -> pa.Table:
            read_opts = pacsv.ReadOptions(use_threads=threads, block_size=4 * 1024 * 1024,
                                          column_names=names, encoding=self._encoding(),
                                          autogenerate_column_names=names is None and not header)
            parse_opts = pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=True,
                                            invalid_row_handler=handler)
            convert = pacsv.ConvertOptions(include_columns=include, strings_can_be_null=True)
            return pacsv.read_csv(pa.BufferReader(data), read_options=read_opts,
                                  parse_options=parse_opts, convert_options=convert)

        try:
            table = parse(True, None)
        except pa.ArrowException as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not re.search(r"Expected \d+ columns?, got \d+", first):
                raise TableError("unreadable-table", f"{self.path.name}: {first}",
                                 file=str(self.path)) from None
            # again, serially, collecting the ragged rows with their line numbers
            with contextlib.suppress(pa.ArrowException):
                parse(False, on_invalid)
            if not bad:
                raise TableError("ragged-csv", f"{self.path.name}: {first}",
                                 file=str(self.path)) from None
        if bad:
            skip = 1 if names is None and header else 0
            rows = [line_base + n - 1 - skip for n, _, _ in bad[:5] if n is not None]
            n, expected, actual = bad[0]
            raise TableError("ragged-csv", f"{self.path.name}: {len(bad)} rows with a wrong number "
                             f"of fields (e.g. {actual} instead of {expected})",
                             file=str(self.path), rows=rows or None, count=len(bad))
        return table

    def _encoding(self) -> str:
        """``utf8``, or ``latin-1`` when the start of the file is not UTF-8 (names must decode)."""
        if not hasattr(self, "_enc"):
            with open(self.path, "rb") as fh:
                raw = fh.read(self.SAMPLE)
            if len(raw) == self.SAMPLE and b"\n" in raw:
                raw = raw[: raw.rfind(b"\n") + 1]
            try:
                raw.decode("utf-8")
                self._enc = "utf8"
            except UnicodeDecodeError:
                self._enc = "latin-1"
        return self._enc

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        delimiter, header = self.dialect()
        names: list[str] | None = None
        types: dict[str, pa.DataType] = {}
        line_base = 0
        # a small first piece: schema() only needs a few rows
        first = min(self.CHUNK, max(64 * 1024, batch_rows * 512))
        for data in self._pieces(first):
            include = None if names is None or columns is None else \
                [c for c in columns if c in names]
            table = self._parse(data, names, header, delimiter, include, line_base)
            if names is None:
                names = table.column_names
                if columns is not None:
                    table = table.select([c for c in columns if c in names])
            # each piece infers its own types: a column empty in this piece but typed before
            # keeps its type (numbers stay numbers across pieces)
            for i, field in enumerate(table.schema):
                known = types.get(field.name)
                if pa.types.is_null(field.type) and known is not None:
                    table = table.set_column(i, field.name, table.column(i).cast(known))
                elif not pa.types.is_null(field.type):
                    types.setdefault(field.name, field.type)
            line_base += data.count(b"\n") - (1 if line_base == 0 and header else 0)
            for rb in table.to_batches(max_chunksize=batch_rows):
                yield rb.to_pandas()

    def n_rows(self) -> int:
        first = self.column_names()[:1]
        return sum(len(b) for b in self.batches(columns=first))


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
        except _fits_errors() as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: not a readable FITS file ({exc})",
                             file=str(self.path)) from None
        hdul.close()
        raise TableError("corrupt-fits", f"{self.path.name}: no table HDU", file=str(self.path))

    #: Raw bytes read at a time by the plain-table path.
    CHUNK = 32 * 1024 * 1024

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        hdul, hdu = self._open()
        try:
            n = hdu.header.get("NAXIS2", 0)
            names = [c.name for c in hdu.columns]
            wanted = [c for c in (columns or names) if c in names]
            plan = self._raw_plan(hdu, wanted)
            if plan is not None:
                yield from self._raw_batches(plan, n, batch_rows)
                return
            data = hdu.data
            for start in range(0, n, batch_rows):
                stop = min(start + batch_rows, n)
                # slice first: FITS_rec.field() converts the whole column of what it is given
                part = data[start:stop]
                out = {}
                for name in wanted:
                    arr = np.asarray(part.field(name))
                    if arr.ndim > 1:
                        continue
                    out[name] = _fits_column(arr)
                yield pd.DataFrame(out)
        except _fits_errors() as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: corrupt table data ({exc})",
                             file=str(self.path)) from None
        finally:
            hdul.close()

    def _raw_plan(self, hdu, wanted: list[str]):
        """How to read ``wanted`` with plain file reads, or None when astropy must convert.

        A binary table whose wanted columns are plain numbers or strings (no scaling, no logical,
        bit or variable-length columns) in an uncompressed file is read row range by row range:
        memory stays at one chunk, where a memory map would keep every touched page resident.
        """
        from astropy.io import fits

        info = hdu.fileinfo() or {}
        if not isinstance(hdu, fits.BinTableHDU) or getattr(info.get("file"), "compression", None) \
                or "datLoc" not in info:
            return None
        row = hdu.columns.dtype
        if row.itemsize != hdu.header.get("NAXIS1") or hdu.header.get("NAXIS2", 0) < 0:
            return None
        fields: dict[str, tuple[np.dtype, int]] = {}
        by_name = {col.name: col for col in hdu.columns}
        for col in (by_name[name] for name in wanted):  # in the order asked for
            if col.format.format in "LXPQ" or col.bscale not in (None, 1) \
                    or col.bzero not in (None, 0):
                return None
            dtype, offset = row.fields[col.name][:2]
            if dtype.shape:
                continue  # vector columns are left out, as in the astropy path
            fields[col.name] = (dtype.newbyteorder(">") if dtype.kind in "iufc" else dtype, offset)
        dtype = np.dtype({"names": list(fields), "formats": [f[0] for f in fields.values()],
                          "offsets": [f[1] for f in fields.values()], "itemsize": row.itemsize})
        return dtype, int(info["datLoc"])

    def _raw_batches(self, plan, n: int, batch_rows: int):
        dtype, start_byte = plan
        width = dtype.itemsize
        step = max(1, min(batch_rows, self.CHUNK // max(width, 1)))
        with open(self.path, "rb") as fh:
            fh.seek(start_byte)
            for start in range(0, n, step):
                count = min(step, n - start)
                buf = fh.read(count * width)
                if len(buf) < count * width:
                    raise TableError("corrupt-fits", f"{self.path.name}: truncated: NAXIS2 says {n:,} "
                                     f"rows, the file holds {start + len(buf) // width:,}",
                                     file=str(self.path))
                arr = np.frombuffer(buf, dtype=dtype)
                yield pd.DataFrame({name: _fits_column(arr[name]) for name in dtype.names})

    def units(self):
        hdul, hdu = self._open()
        try:
            return {c.name: str(c.unit) for c in hdu.columns if c.unit}
        except _fits_errors() as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: unreadable column definitions "
                             f"({exc})", file=str(self.path)) from None
        finally:
            hdul.close()

    def n_rows(self) -> int:
        hdul, hdu = self._open()
        try:
            return int(hdu.header.get("NAXIS2", 0))
        except _fits_errors() as exc:
            raise TableError("corrupt-fits", f"{self.path.name}: bad NAXIS2 ({exc})",
                             file=str(self.path)) from None
        finally:
            hdul.close()


def _fits_errors() -> tuple[type[Exception], ...]:
    """What astropy raises on damaged FITS files."""
    from astropy.io.fits.verify import VerifyError

    return (OSError, ValueError, TypeError, IndexError, KeyError, VerifyError)


def _fits_column(arr: np.ndarray):
    """A FITS column as native numbers, or stripped text."""
    if arr.dtype.kind == "S":
        return pd.array([v.decode("utf-8", "replace").strip() for v in arr], dtype="str")
    if arr.dtype.byteorder not in ("=", "|"):
        return arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


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
            if found and found[0][0] == "pandas" and not getattr(self, "_pickles_checked", False):
                _refuse_unsafe_pickles(fh, self.path)  # PyTables unpickles attributes and objects
                self._pickles_checked = True
            if not found:
                groups = [fh] + [o for o in _walk_groups(fh)]
                for g in groups:
                    dsets = [k for k, v in g.items() if isinstance(v, h5py.Dataset) and v.ndim == 1]
                    lengths = {g[k].shape[0] for k in dsets}
                    if dsets and len(lengths) == 1:
                        found.append(("columns", g.name))
                        break
        except _H5_ERRORS as exc:  # a damaged file: h5py raises these from deep inside
            raise TableError("unreadable-table", f"{self.path.name}: damaged HDF5 file ({exc})",
                             file=str(self.path)) from None
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
        try:
            with h5py.File(self.path, "r") as fh:
                if kind == "compound":
                    ds = fh[name]
                    wanted = [c for c in (columns or ds.dtype.names) if c in ds.dtype.names]
                    width = sum(ds.dtype.fields[c][0].itemsize for c in wanted) or 1
                    step = max(1, min(batch_rows, self.CHUNK // width))
                    for start in range(0, ds.shape[0], step):
                        # read only the wanted fields
                        chunk = ds.fields(wanted)[start:start + step] if wanted else \
                            np.empty(min(step, ds.shape[0] - start), dtype=[])
                        if len(wanted) == 1:
                            yield pd.DataFrame({wanted[0]: _native(chunk)})
                        else:
                            yield pd.DataFrame({c: _native(chunk[c]) for c in wanted})
                else:
                    g = fh[name]
                    names = [k for k, v in g.items() if isinstance(v, h5py.Dataset) and v.ndim == 1]
                    wanted = [c for c in (columns or names) if c in names]
                    n = g[names[0]].shape[0]
                    for start in range(0, n, batch_rows):
                        yield pd.DataFrame({c: _native(g[c][start:start + batch_rows])
                                            for c in wanted})
        except _H5_ERRORS as exc:
            raise TableError("unreadable-table", f"{self.path.name}: damaged HDF5 file ({exc})",
                             file=str(self.path)) from None

    #: Bytes of row data read at a time from a pandas table.
    CHUNK = 32 * 1024 * 1024

    def _pandas_batches(self, key, columns, batch_rows):
        import tables

        try:
            with pd.HDFStore(self.path, mode="r") as store:
                storer = store.get_storer(key)
                if getattr(storer, "is_table", False):
                    plan = _pandas_table_plan(storer, columns)
                    if plan is not None:
                        yield from self._plan_batches(storer, *plan, batch_rows)
                        return
                    nrows = storer.nrows
                    for start in range(0, nrows, batch_rows):
                        df = store.select(key, start=start, stop=start + batch_rows, columns=columns)
                        yield df.reset_index(drop=True)
                    return
                # fixed format: numeric blocks can be sliced by rows, pickled object blocks cannot
                node = store.get_node(key)
                nrows = getattr(storer, "nrows", None) or 0
                pickled = any(isinstance(n, tables.VLArray) for n in node._f_walknodes("Leaf"))
                if pickled or not nrows:
                    df = store.get(key)
                    if columns is not None:
                        df = df[[c for c in columns if c in df.columns]]
                    for start in range(0, len(df), batch_rows):
                        yield df.iloc[start:start + batch_rows].reset_index(drop=True)
                    return
                for start in range(0, nrows, batch_rows):
                    df = store.select(key, start=start, stop=start + batch_rows)
                    if columns is not None:
                        df = df[[c for c in columns if c in df.columns]]
                    yield df.reset_index(drop=True)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, SystemError,
                tables.HDF5ExtError) as exc:  # PyTables/pandas on damaged files
            raise TableError("hdf5-no-table", f"{self.path.name}: cannot read pandas table {key!r} "
                             f"({exc})", file=str(self.path)) from None

    def _plan_batches(self, storer, order, plan, batch_rows):
        """Read only the blocks that hold the wanted columns, a few MB of rows at a time."""
        table = storer.table
        width = sum(table.coldtypes[cname].itemsize for cname in plan) or 1
        step = max(1, min(batch_rows, self.CHUNK // width))
        for start in range(0, storer.nrows, step):
            stop = min(start + step, storer.nrows)
            out = {}
            for cname, picks in plan.items():
                block = table.read(start, stop, field=cname)
                if block.ndim == 1:
                    block = block[:, None]
                for name, j in picks:
                    out[name] = np.ascontiguousarray(block[:, j])
            yield pd.DataFrame({name: out[name] for name in order})


def _pandas_table_plan(storer, columns) -> tuple[list[str], dict[str, list[tuple[str, int]]]] | None:
    """For a pandas table, the wanted columns in order, and their blocks (PyTables fields) and
    positions in them.

    None when a wanted column is not a plain number column (strings, dates, categories): pandas
    then converts it.
    """
    if type(storer).__name__ != "AppendableFrameTable":
        return None
    storer.infer_axes()
    plan: dict[str, list[tuple[str, int]]] = {}
    found: dict[str, tuple[str, int, str, object]] = {}
    for axis in storer.values_axes:
        names = list(axis.values) if axis.values is not None else []
        for j, name in enumerate(names):
            found[str(name)] = (axis.cname, j, axis.kind, axis.meta)
    axes = getattr(storer, "non_index_axes", None) or [(1, list(found))]
    order = [str(c) for c in axes[0][1] if str(c) in found]  # the frame's own column order
    wanted = order if columns is None else [c for c in columns if c in found]
    for name in wanted:
        cname, j, kind, meta = found[name]
        if kind not in ("float", "integer") or meta is not None:
            return None
        plan.setdefault(cname, []).append((name, j))
    return (wanted, plan) if plan else None


#: Callables a pickle in a pandas HDF5 file may name: numpy arrays, pandas offsets, datetimes.
_SAFE_GLOBALS = {("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
                 ("numpy", "ndarray"), ("numpy", "dtype"), ("datetime", "timezone"),
                 ("datetime", "timedelta"), ("datetime", "datetime"), ("datetime", "date"),
                 ("_codecs", "encode")}
_SAFE_MODULES = {"pandas._libs.tslibs.offsets"}


def _pickle_globals(data: bytes) -> list[str]:
    """Callables a pickle would import that are not known to be safe (read statically, never run).

    ``STACK_GLOBAL`` takes its names from the stack: only names pushed as literals (or fetched
    from the memo) are understood; anything else counts as unsafe.
    """
    bad: list[str] = []
    memo: dict[int, object] = {}
    recent: list[object] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                if (module, attr) not in _SAFE_GLOBALS and module not in _SAFE_MODULES:
                    bad.append(f"{module}.{attr}")
                recent.append(None)
            elif name == "STACK_GLOBAL":
                module, attr = (recent[-2:] + [None, None])[:2] if len(recent) >= 2 else (None, None)
                if not (isinstance(module, str) and isinstance(attr, str)) or (
                        (module, attr) not in _SAFE_GLOBALS and module not in _SAFE_MODULES):
                    bad.append(f"{module}.{attr}")
                recent.append(None)
            elif name in ("EXT1", "EXT2", "EXT4", "OBJ", "PERSID", "BINPERSID"):
                bad.append(name)
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = recent[-1] if recent else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                recent.append(memo.get(arg))
            elif "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
                recent.append(arg if isinstance(arg, str) else None)
            elif name not in ("PROTO", "FRAME"):
                recent.append(None)
            del recent[:-4]
    except (ValueError, IndexError, struct.error):
        pass  # pickle.loads would stop here too; what came before is judged
    return bad


def _refuse_unsafe_pickles(fh, path: Path) -> None:
    """Refuse a pandas HDF5 file whose pickled attributes or object columns would call unknown code.

    PyTables (under pandas) unpickles attribute values that look like pickles and the rows of
    object arrays; a crafted file would run code when read. Checked with h5py, before PyTables.
    """
    import h5py

    def check(data: bytes, where: str) -> None:
        bad = _pickle_globals(data)
        if bad:
            raise TableError("unreadable-table", f"{path.name}: {where} holds a Python pickle that "
                             f"would call {sorted(set(bad))[:3]}; pzcat does not load it (it could "
                             "run code). Re-export the table (pandas to_hdf format='table', or "
                             "Parquet).", file=str(path))

    def visit(name, obj):
        for key, value in obj.attrs.items():
            if isinstance(value, bytes | np.bytes_) and bytes(value).endswith(b"."):
                check(bytes(value), f"attribute {key!r} of /{name}")
        if isinstance(obj, h5py.Dataset) and obj.attrs.get("PSEUDOATOM") in (b"object", "object"):
            for i in range(obj.shape[0] if obj.shape else 0):
                check(np.asarray(obj[i]).tobytes(), f"/{name}")

    visit("", fh)
    fh.visititems(visit)


#: What h5py raises on damaged files (beyond "not HDF5 at all").
_H5_ERRORS = (RuntimeError, OSError, KeyError, ValueError, TypeError)


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

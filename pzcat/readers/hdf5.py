"""HDF5: pandas tables (with unsafe pickles refused), compound datasets, groups of columns."""

from __future__ import annotations

import pickletools
import struct
from pathlib import Path

import numpy as np
import pandas as pd

from pzcat.errors import TableError
from pzcat.readers.base import BATCH_ROWS, TableReader, check_expansion

# -- HDF5 ------------------------------------------------------------------------------------------


class Hdf5Reader(TableReader):
    """HDF5: a pandas table (HDFStore), a compound dataset, or a group of equal-length 1-D datasets."""

    def _layout(self):
        import h5py

        try:
            fh = h5py.File(self.path, "r")
        except (OSError, ValueError) as exc:
            raise TableError(
                "unreadable-table",
                f"{self.path.name}: not a readable HDF5 file ({exc})",
                file=str(self.path),
            ) from None
        try:
            _check_declared_sizes(fh, self.path)
            found = []

            def visit(name, obj):
                if isinstance(obj, h5py.Group) and obj.attrs.get("pandas_type") is not None:
                    found.append(("pandas", name))
                elif (
                    isinstance(obj, h5py.Dataset)
                    and obj.dtype.names
                    and obj.ndim == 1
                    and not name.split("/")[-1].startswith("_i_")
                    and "pandas_type" not in obj.parent.attrs
                ):
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
            raise TableError(
                "unreadable-table",
                f"{self.path.name}: damaged HDF5 file ({exc})",
                file=str(self.path),
            ) from None
        finally:
            fh.close()
        if not found:
            raise TableError(
                "hdf5-no-table",
                f"{self.path.name}: no table found (no pandas table, "
                "compound dataset or group of equal-length columns)",
                file=str(self.path),
            )
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
                        chunk = (
                            ds.fields(wanted)[start : start + step]
                            if wanted
                            else np.empty(min(step, ds.shape[0] - start), dtype=[])
                        )
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
                        yield pd.DataFrame(
                            {c: _native(g[c][start : start + batch_rows]) for c in wanted}
                        )
        except _H5_ERRORS as exc:
            raise TableError(
                "unreadable-table",
                f"{self.path.name}: damaged HDF5 file ({exc})",
                file=str(self.path),
            ) from None

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
                        df = store.select(
                            key, start=start, stop=start + batch_rows, columns=columns
                        )
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
                        yield df.iloc[start : start + batch_rows].reset_index(drop=True)
                    return
                for start in range(0, nrows, batch_rows):
                    df = store.select(key, start=start, stop=start + batch_rows)
                    if columns is not None:
                        df = df[[c for c in columns if c in df.columns]]
                    yield df.reset_index(drop=True)
        except (
            OSError,
            ValueError,
            tables.HDF5ExtError,
            tables.NoSuchNodeError,
        ) as exc:  # PyTables/pandas on damaged files
            raise TableError(
                "hdf5-no-table",
                f"{self.path.name}: cannot read pandas table {key!r} ({exc})",
                file=str(self.path),
            ) from None

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


def _pandas_table_plan(
    storer, columns
) -> tuple[list[str], dict[str, list[tuple[str, int]]]] | None:
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
_SAFE_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("_codecs", "encode"),
}
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
                module, attr = (
                    (recent[-2:] + [None, None])[:2] if len(recent) >= 2 else (None, None)
                )
                if not (isinstance(module, str) and isinstance(attr, str)) or (
                    (module, attr) not in _SAFE_GLOBALS and module not in _SAFE_MODULES
                ):
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
            raise TableError(
                "unreadable-table",
                f"{path.name}: {where} holds a Python pickle that "
                f"would call {sorted(set(bad))[:3]}; pzcat does not load it (it could "
                "run code). Re-export the table (pandas to_hdf format='table', or "
                "Parquet).",
                file=str(path),
            )

    def visit(name, obj):
        for key, value in obj.attrs.items():
            if isinstance(value, bytes | np.bytes_) and bytes(value).endswith(b"."):
                check(bytes(value), f"attribute {key!r} of /{name}")
        if isinstance(obj, h5py.Dataset) and obj.attrs.get("PSEUDOATOM") in (b"object", "object"):
            for i in range(obj.shape[0] if obj.shape else 0):
                check(np.asarray(obj[i]).tobytes(), f"/{name}")

    visit("", fh)
    fh.visititems(visit)


def _check_declared_sizes(fh, path: Path) -> None:
    """Refuse datasets that declare far more bytes than the file stores, before reading any.

    A 2 KB file may declare a chunked dataset of 10**11 rows whose chunks were never written:
    reading it yields fill values for ever. Declared bytes (shape x item size) are compared with
    the bytes allocated on disk (:func:`~pzcat.readers.base.check_expansion`).
    """
    import h5py

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.shape:
            declared = int(np.prod(obj.shape, dtype=object)) * obj.dtype.itemsize
            check_expansion(declared, obj.id.get_storage_size(), path, f"dataset /{name}")

    fh.visititems(visit)


#: What h5py raises on damaged files (beyond "not HDF5 at all").
#: What h5py raises on damaged files (never TypeError, AttributeError or KeyError: pzcat bugs).
_H5_ERRORS = (RuntimeError, OSError, ValueError)


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
        return pd.array(
            [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in arr], dtype="str"
        )
    if arr.dtype.byteorder not in ("=", "|"):
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


# -- pandas 2 compatibility ------------------------------------------------------------------------

#: The format version pandas < 3 writes in every HDFStore group (``pandas_version``); pandas 3
#: omits it, and pandas 2 (the pzserver client, tables_io) then misreads the table's block names.
PANDAS_FORMAT_VERSION = "0.15.2"


def groups_needing_pandas3(path: Path) -> list[str]:
    """The pandas table groups of an HDF5 file that only pandas 3 reads (no ``pandas_version``)."""
    import h5py

    found: list[str] = []
    try:
        with h5py.File(path, "r") as fh:

            def visit(name, obj):
                if (
                    isinstance(obj, h5py.Group)
                    and obj.attrs.get("pandas_type") is not None
                    and obj.attrs.get("pandas_version") is None
                ):
                    found.append(name)

            fh.visititems(visit)
    except _H5_ERRORS:
        return []
    return found


def make_pandas2_readable(path: Path) -> list[str]:
    """Add the ``pandas_version`` attribute pandas 3 leaves out, so pandas 2 reads the file too.

    Writes the attribute in place (the data are not touched) and returns the groups fixed. Use it
    right after ``DataFrame.to_hdf`` when the file is for others (the demo's training set).
    """
    import tables

    groups = groups_needing_pandas3(path)
    if groups:
        with tables.open_file(str(path), "a") as fh:
            for name in groups:
                fh.get_node("/" + name)._v_attrs.pandas_version = PANDAS_FORMAT_VERSION
    return groups


# -- tables_io (the pzserver client's reader) -------------------------------------------------------

#: tables_io picks its HDF5 reader by the file's suffix (``tables_io.types.FILE_FORMAT_SUFFIXS``).
TABLES_IO_SUFFIXES = {".hdf5": "h5py", ".h5": "pandas", ".hf5": "astropy", ".hd5": "pyarrow"}

#: The keys tables_io unwraps when a file holds one of them only (one table, not a dict of tables).
TABLES_IO_SINGLE_KEYS = ("data", "__astropy_table__")


def tables_io_problem(path: Path) -> str | None:
    """Why ``tables_io.read(path, "astropyTable")`` would not give one table, or None.

    tables_io (what the pzserver client reads every non-CSV product with) chooses its reader from
    the suffix: ``.hdf5`` is read with h5py, one array per item at the file's root, so the table
    must be equal-length 1-D column datasets at the root (what ``tables_io.write(table,
    "x.hdf5")`` writes), or one group or compound dataset named ``data``; ``.h5`` is a pandas
    HDFStore, one table only under the key ``data``; ``.hf5`` is astropy's layout. Any other
    suffix is not read at all. Checked with h5py, without tables_io; unreadable files are left to
    the reader's own errors (None).
    """
    import h5py

    suffix = path.suffix.lower()
    kind = TABLES_IO_SUFFIXES.get(suffix)
    if kind is None:
        return f"tables_io does not read the suffix {suffix or '(none)'!r} (.hdf5 or .h5 only)"
    if kind == "pyarrow":
        return None  # rare; tables_io's pyarrow layout is not checked
    try:
        with h5py.File(path, "r") as fh:
            items = list(fh.items())
            return _tables_io_layout_problem(kind, fh, items)
    except _H5_ERRORS:
        return None


def _columns(items) -> bool:
    """Equal-length 1-D plain datasets (a numpy dict of columns, for tables_io)."""
    import h5py

    lengths = set()
    for _, obj in items:
        if not isinstance(obj, h5py.Dataset) or obj.ndim != 1 or obj.dtype.names:
            return False
        lengths.add(obj.shape[0])
    return len(lengths) == 1


def _tables_io_layout_problem(kind: str, fh, items) -> str | None:
    import h5py

    names = [name for name, _ in items]
    pandas = "pandas_type" in fh.attrs or any(
        isinstance(obj, h5py.Group) and "pandas_type" in obj.attrs for _, obj in items
    )
    only = items[0] if len(items) == 1 else None
    if kind == "h5py":
        if items and _columns(items):
            return None
        if only and only[0] in TABLES_IO_SINGLE_KEYS:
            obj = only[1]
            if isinstance(obj, h5py.Dataset) and obj.ndim == 1 and len(obj.dtype.names or ()) > 1:
                return None
            if (
                isinstance(obj, h5py.Group)
                and "pandas_type" not in obj.attrs
                and _columns(list(obj.items()))
            ):
                return None
        if pandas:
            return (
                "a pandas table (HDFStore) in a .hdf5 file: tables_io reads .hdf5 files with h5py "
                "as column arrays, and gets the table's internal blocks"
            )
        return (
            f"its root holds {names[:4]}: tables_io reads a .hdf5 file as one table only when "
            "the root holds equal-length 1-D column datasets (or one group or compound dataset "
            "named 'data')"
        )
    if kind == "pandas":
        if only and only[0] == "data" and "pandas_type" in only[1].attrs:
            return None
        if not pandas:
            return "not a pandas table: tables_io reads .h5 files with pandas (HDFStore)"
        return (
            f"its root holds {names[:4]}: tables_io reads a .h5 file as one table only when it "
            "holds one pandas table, under the key 'data'"
        )
    if only and only[0] in TABLES_IO_SINGLE_KEYS and isinstance(only[1], h5py.Dataset):
        return None  # astropy's layout: one compound dataset
    return (
        f"its root holds {names[:4]}: tables_io reads a .hf5 file as one table only when it holds "
        "one astropy table (path '__astropy_table__' or 'data')"
    )


def write_columns(path: Path, frame: pd.DataFrame) -> None:
    """Write a table as tables_io does for ``.hdf5``: one 1-D dataset per column at the root.

    The columns keep their order (the file tracks creation order) and no time stamps are stored,
    so the same table gives the same bytes. Text columns are stored as UTF-8 variable-length
    strings. Readable by tables_io (pandas 2 or 3), h5py, pzcat, and pandas through
    ``pd.DataFrame({k: f[k][()] for k in f})``; not by ``pandas.read_hdf`` (PyTables' layout).
    """
    import h5py

    with h5py.File(path, "w", track_order=True) as fh:
        for name in frame.columns:
            values = frame[name].to_numpy()
            if values.dtype.kind in "OUT":
                values = np.array([str(v) for v in values], dtype=h5py.string_dtype())
            fh.create_dataset(str(name), data=values, track_times=False)

"""FITS binary and ASCII tables (the first table HDU), sliced before conversion."""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from pzcat.errors import TableError
from pzcat.readers.base import BATCH_ROWS, TableReader
from pzcat.readers.compressed import compression_of, decompressed_copy

# -- FITS ------------------------------------------------------------------------------------------


class FitsReader(TableReader):
    """FITS binary or ASCII table (the first table HDU), memory-mapped and sliced."""

    def _source(self) -> Path:
        """The path astropy opens: the file, or a plain copy of a compressed one (ratio-capped)."""
        if not hasattr(self, "_plain"):
            kind = compression_of(self.path)
            self._plain = self.path
            if kind is not None:
                self._plain = decompressed_copy(self.path, kind)
                weakref.finalize(self, self._plain.unlink, missing_ok=True)
        return self._plain

    def _open(self):
        from astropy.io import fits

        try:
            hdul = fits.open(self._source(), memmap=True, lazy_load_hdus=True)
            for hdu in hdul:
                if isinstance(hdu, fits.BinTableHDU | fits.TableHDU):
                    return hdul, hdu
        except _fits_errors() as exc:
            raise TableError(
                "corrupt-fits",
                f"{self.path.name}: not a readable FITS file ({exc})",
                file=str(self.path),
            ) from None
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
            raise TableError(
                "corrupt-fits", f"{self.path.name}: corrupt table data ({exc})", file=str(self.path)
            ) from None
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
        if (
            not isinstance(hdu, fits.BinTableHDU)
            or getattr(info.get("file"), "compression", None)
            or "datLoc" not in info
        ):
            return None
        row = hdu.columns.dtype
        if row.itemsize != hdu.header.get("NAXIS1") or hdu.header.get("NAXIS2", 0) < 0:
            return None
        fields: dict[str, tuple[np.dtype, int]] = {}
        by_name = {col.name: col for col in hdu.columns}
        for col in (by_name[name] for name in wanted):  # in the order asked for
            if (
                col.format.format in "LXPQ"
                or col.bscale not in (None, 1)
                or col.bzero not in (None, 0)
            ):
                return None
            dtype, offset = row.fields[col.name][:2]
            if dtype.shape:
                continue  # vector columns are left out, as in the astropy path
            fields[col.name] = (dtype.newbyteorder(">") if dtype.kind in "iufc" else dtype, offset)
        dtype = np.dtype(
            {
                "names": list(fields),
                "formats": [f[0] for f in fields.values()],
                "offsets": [f[1] for f in fields.values()],
                "itemsize": row.itemsize,
            }
        )
        return dtype, int(info["datLoc"])

    def _raw_batches(self, plan, n: int, batch_rows: int):
        dtype, start_byte = plan
        width = dtype.itemsize
        step = max(1, min(batch_rows, self.CHUNK // max(width, 1)))
        with open(self._source(), "rb") as fh:
            fh.seek(start_byte)
            for start in range(0, n, step):
                count = min(step, n - start)
                buf = fh.read(count * width)
                if len(buf) < count * width:
                    raise TableError(
                        "corrupt-fits",
                        f"{self.path.name}: truncated: NAXIS2 says {n:,} "
                        f"rows, the file holds {start + len(buf) // width:,}",
                        file=str(self.path),
                    )
                arr = np.frombuffer(buf, dtype=dtype)
                yield pd.DataFrame({name: _fits_column(arr[name]) for name in dtype.names})

    def units(self):
        hdul, hdu = self._open()
        try:
            return {c.name: str(c.unit) for c in hdu.columns if c.unit}
        except _fits_errors() as exc:
            raise TableError(
                "corrupt-fits",
                f"{self.path.name}: unreadable column definitions ({exc})",
                file=str(self.path),
            ) from None
        finally:
            hdul.close()

    def n_rows(self) -> int:
        hdul, hdu = self._open()
        try:
            return int(hdu.header.get("NAXIS2", 0))
        except _fits_errors() as exc:
            raise TableError(
                "corrupt-fits", f"{self.path.name}: bad NAXIS2 ({exc})", file=str(self.path)
            ) from None
        finally:
            hdul.close()


def _fits_errors() -> tuple[type[Exception], ...]:
    """What astropy raises on damaged FITS files (never TypeError, AttributeError or KeyError:
    those are bugs of pzcat, not damaged files)."""
    from astropy.io.fits.verify import VerifyError

    return (OSError, ValueError, IndexError, VerifyError)


def _fits_column(arr: np.ndarray):
    """A FITS column as native numbers, or stripped text."""
    if arr.dtype.kind == "S":
        return pd.array([v.decode("utf-8", "replace").strip() for v in arr], dtype="str")
    if arr.dtype.byteorder not in ("=", "|"):
        return arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)

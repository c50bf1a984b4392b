"""Compressed inputs (gzip, bzip2, xz, one-member zip), expanded as a stream with a ratio cap.

Readers that would otherwise let a library decompress a whole file into memory (astropy opens
``.fits.gz`` that way) read a plain temporary copy instead, written chunk by chunk and refused
(``decompression-bomb``) as soon as it grows past :data:`~pzcat.readers.base.MAX_EXPANSION` times
the stored size. Memory stays at one chunk; the disk holds at most the cap.
"""

from __future__ import annotations

import bz2
import lzma
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

from pzcat.errors import TableError
from pzcat.readers.base import check_expansion

CHUNK = 1024 * 1024
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"PK\x03\x04", "zip"))


def compression_of(path: Path) -> str | None:
    """``gzip``, ``bzip2``, ``xz`` or ``zip`` from the file's first bytes; None when plain."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def _chunks(path: Path, kind: str):
    if kind == "zip":
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()]
            if len(members) != 1:
                raise TableError(
                    "unreadable-table",
                    f"{path.name}: a zip file must hold exactly one table",
                    file=str(path),
                )
            with zf.open(members[0]) as fh:
                while block := fh.read(CHUNK):
                    yield block
        return
    with open(path, "rb") as fh:
        if kind == "gzip":
            gz = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while not gz.eof and (data := fh.read(64 * 1024)):
                while data:  # max_length bounds each step's output: 64 KB may hold 64 MB
                    yield gz.decompress(data, CHUNK)
                    data = gz.unconsumed_tail
            yield gz.flush()
            return
        dec = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
        while not dec.eof and (data := fh.read(64 * 1024)):
            yield dec.decompress(data, CHUNK)
            while not dec.needs_input and not dec.eof:
                yield dec.decompress(b"", CHUNK)


def decompressed_copy(path: Path, kind: str) -> Path:
    """Expand ``path`` into a temporary file (the caller removes it) with the ratio cap.

    Raises
    ------
    TableError
        ``decompression-bomb`` past the cap, ``unreadable-table`` on damaged data.
    """
    path = Path(path)
    stored = path.stat().st_size
    fd, tmp = tempfile.mkstemp(prefix=".pzcat-expand-", suffix=path.suffix)
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for block in _chunks(path, kind):
                total += len(block)
                check_expansion(total, stored, path, f"{kind} data")
                out.write(block)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, ValueError) as exc:
        os.unlink(tmp)
        raise TableError(
            "unreadable-table", f"{path.name}: damaged {kind} data ({exc})", file=str(path)
        ) from None
    except TableError:
        os.unlink(tmp)
        raise
    return Path(tmp)

"""CSV and other delimited text: delimiter and header detection, bounded-memory pieces.

Lines starting with ``#`` are comments and are skipped wherever they are (the original upload
form ignored them); :attr:`CsvReader.comment_lines` counts them after a full pass. Text is UTF-8,
with or without a byte-order mark; UTF-16 and UTF-32 (a BOM, or NUL bytes) are refused with
``csv-encoding``; other 8-bit text is read as Latin-1 (:attr:`CsvReader.latin1` is then True).
Row numbers in errors start at 1 (the first data row; header and comments not counted).
"""

from __future__ import annotations

import contextlib
import csv
import re
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from pzcat.errors import TableError
from pzcat.readers.base import BATCH_ROWS, MAX_COLUMNS, TableReader
from pzcat.vocab import ROW_BASE

UTF8_BOM = b"\xef\xbb\xbf"
WIDE_BOMS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def _strip_comments(data: bytes) -> tuple[bytes, int]:
    """``data`` without its ``#`` comment lines, and how many there were."""
    if not (data.startswith(b"#") or b"\n#" in data):
        return data, 0
    lines = data.splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith(b"#")]
    return b"".join(kept), len(lines) - len(kept)


# -- CSV -------------------------------------------------------------------------------------------


class CsvReader(TableReader):
    """CSV with delimiter and header detection, streamed with pyarrow."""

    SAMPLE = 64 * 1024

    def __init__(self, path) -> None:
        super().__init__(path)
        #: Comment lines skipped by the last full pass of :meth:`batches`.
        self.comment_lines = 0

    def _check_encoding(self, raw: bytes) -> None:
        """Refuse UTF-16 / UTF-32 (by BOM, or NUL bytes in a quarter of the sample) with ``csv-encoding``."""
        for bom, name in WIDE_BOMS.items():
            if raw.startswith(bom):
                raise TableError(
                    "csv-encoding",
                    f"{self.path.name}: the file is {name} text; "
                    "pzcat reads CSV as UTF-8 (with or without BOM)",
                    file=str(self.path),
                )
        if raw.count(b"\x00") * 4 > len(raw):  # UTF-16/32 without BOM: every other byte NUL
            raise TableError(
                "csv-encoding",
                f"{self.path.name}: the file is mostly NUL bytes "
                "(UTF-16/UTF-32 text or binary data), not UTF-8 text",
                file=str(self.path),
            )

    @property
    def latin1(self) -> bool:
        """Whether the file is not UTF-8 and is read as Latin-1."""
        return self._encoding() == "latin-1"

    def dialect(self) -> tuple[str, bool]:
        """Detected delimiter and whether the first line is a header."""
        with open(self.path, "rb") as fh:
            raw = fh.read(self.SAMPLE)
        self._check_encoding(raw)
        raw = raw.removeprefix(UTF8_BOM)
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
            raise TableError(
                "empty-table",
                f"{self.path.name}: no header or rows (only comments or blank lines)",
                file=str(self.path),
            )
        quick = _unambiguous_delimiter(lines)
        if quick and all(not _is_number(tok) for tok in lines[0].split(quick) if tok.strip()):
            return quick, True  # the sniffer costs ~5 ms a file: skip it when nothing is in doubt
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
            head = fh.read(len(UTF8_BOM))
            if head != UTF8_BOM:
                carry = head
            while block := fh.read(size):
                size = self.CHUNK
                data = carry + block if carry else block
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                yield data[: cut + 1]
            if carry.strip():
                yield carry

    def _parse(
        self,
        data: bytes,
        names: list[str] | None,
        header: bool,
        delimiter: str,
        include: list[str] | None,
        line_base: int,
    ) -> pa.Table:
        """Parse one piece; ragged rows raise ``ragged-csv`` with their 0-based row numbers."""
        bad: list[tuple[int | None, int, int]] = []

        def on_invalid(row) -> str:
            bad.append((row.number, row.expected_columns, row.actual_columns))
            return "skip"

        def parse(threads: bool, handler) -> pa.Table:
            read_opts = pacsv.ReadOptions(
                use_threads=threads,
                block_size=4 * 1024 * 1024,
                column_names=names,
                encoding=self._encoding(),
                autogenerate_column_names=names is None and not header,
            )
            parse_opts = pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=True, invalid_row_handler=handler
            )
            convert = pacsv.ConvertOptions(include_columns=include, strings_can_be_null=True)
            return pacsv.read_csv(
                pa.BufferReader(data),
                read_options=read_opts,
                parse_options=parse_opts,
                convert_options=convert,
            )

        try:
            table = parse(True, None)
        except pa.ArrowException as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if not re.search(r"Expected \d+ columns?, got \d+", first):
                raise TableError(
                    "unreadable-table", f"{self.path.name}: {first}", file=str(self.path)
                ) from None
            # again, serially, collecting the ragged rows with their line numbers
            with contextlib.suppress(pa.ArrowException):
                parse(False, on_invalid)
            if not bad:
                raise TableError(
                    "ragged-csv", f"{self.path.name}: {first}", file=str(self.path)
                ) from None
        if bad:
            skip = 1 if names is None and header else 0
            rows = [line_base + n - 1 - skip + ROW_BASE for n, _, _ in bad[:5] if n is not None]
            n, expected, actual = bad[0]
            raise TableError(
                "ragged-csv",
                f"{self.path.name}: {len(bad)} rows with a wrong number "
                f"of fields (e.g. {actual} instead of {expected})",
                file=str(self.path),
                rows=rows or None,
                count=len(bad),
            )
        return table

    def _encoding(self) -> str:
        """``utf8``, or ``latin-1`` when the start of the file is not UTF-8 (names must decode)."""
        if not hasattr(self, "_enc"):
            with open(self.path, "rb") as fh:
                raw = fh.read(self.SAMPLE).removeprefix(UTF8_BOM)
            if len(raw) == self.SAMPLE and b"\n" in raw:
                raw = raw[: raw.rfind(b"\n") + 1]
            try:
                raw.decode("utf-8")
                self._enc = "utf8"
            except UnicodeDecodeError:
                self._enc = "latin-1"
        return self._enc

    def check_width(self, delimiter: str) -> None:
        """Refuse a header over :data:`MAX_COLUMNS` fields before pyarrow parses anything.

        Reads the first line that is neither blank nor a comment, at most ~2 MB of it.
        """
        cap = MAX_COLUMNS * 1024
        with open(self.path, "rb") as fh:
            while line := fh.readline(cap + 1):
                if line.strip() and not line.startswith(b"#"):
                    break
        if len(line) > cap and not line.endswith(b"\n"):
            raise TableError(
                "too-many-columns",
                f"{self.path.name}: the first line is over "
                f"{cap:,} bytes: more columns than the limit of {MAX_COLUMNS:,}",
                file=str(self.path),
            )
        if line.count(delimiter.encode()) + 1 > MAX_COLUMNS:
            text = line.decode(self._encoding().replace("utf8", "utf-8"), "replace")
            fields = next(csv.reader([text], delimiter=delimiter), [])
            if len(fields) > MAX_COLUMNS:
                raise TableError(
                    "too-many-columns",
                    f"{self.path.name}: {len(fields):,} columns, "
                    f"over the limit of {MAX_COLUMNS:,} (SQLite's, used by the "
                    "previews)",
                    file=str(self.path),
                )

    def batches(self, columns=None, batch_rows=BATCH_ROWS):
        delimiter, header = self.dialect()
        self.check_width(delimiter)
        names: list[str] | None = None
        types: dict[str, pa.DataType] = {}
        line_base = 0
        comments = 0
        # a small first piece: schema() only needs a few rows
        first = min(self.CHUNK, max(64 * 1024, batch_rows * 512))
        for data in self._pieces(first):
            data, skipped = _strip_comments(data)
            comments += skipped
            if not data.strip():
                continue
            include = (
                None if names is None or columns is None else [c for c in columns if c in names]
            )
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
        self.comment_lines = comments

    def n_rows(self) -> int:
        first = self.column_names()[:1]
        return sum(len(b) for b in self.batches(columns=first))


def _unambiguous_delimiter(lines: list[str]) -> str | None:
    """The delimiter when the first two lines hold the same number (>= 1) of exactly one candidate
    and no quotes; None when the sniffer must decide."""
    if len(lines) < 2 or '"' in lines[0]:
        return None
    found = [d for d in ",;\t|" if d in lines[0]]
    if len(found) == 1 and lines[0].count(found[0]) == lines[1].count(found[0]) > 0:
        return found[0]
    return None


def _is_number(token: str) -> bool:
    try:
        float(token.strip().strip('"'))
    except ValueError:
        return False
    return True

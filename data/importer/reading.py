"""Reading exports in batches: CSV, gzipped CSV, TSV, Parquet and Excel.

Every reader yields ``RawBatch``es: a frame of the source's columns (text for text files,
native types for Parquet and Excel) with ``_line``, the line (or row) the record starts
on, plus the records it could not split into fields, each with a rule and a message. No
record is dropped: a record is either in the frame or among the malformed ones.

Text files are read in blocks of whole records. A block is first checked with NumPy
(record boundaries outside quotes, fields per record, blank lines) and parsed by Polars
in one call; only when something in it is irregular (a stray quote, a truncated line,
bytes that are not UTF-8) do its irregular records go through Python's csv module one by
one, which says exactly what is wrong and where. Clean files never take the slow path.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Union

import numpy as np
import polars as pl

from data.importer.errors import ImportFailed

if TYPE_CHECKING:
    from data.importer.mapping import Source

BLOCK_BYTES = 32 * 1024 * 1024
# A record longer than this without a line end stops the import: a file with no line ends
# (or not a text file at all) would otherwise be gathered in memory whole.
MAX_LINE_BYTES = 8 * 1024 * 1024
PARQUET_BATCH_ROWS = 500_000
# A quoted field may span lines; an opening quote not closed within this many lines is
# taken as a stray quote on its own line rather than swallowing what follows.
MAX_LINES_PER_RECORD = 50
MALFORMED_SCHEMA = {
    "_line": pl.Int64(),
    "rule": pl.String(),
    "action": pl.String(),
    "message": pl.String(),
    "raw_row": pl.String(),
}
CANDIDATE_DELIMITERS = (",", "\t", ";", "|")
ProgressCallback = Callable[[int], object]  # called with the number of bytes just read


@dataclass
class RawBatch:
    """Records read from one block of the file."""

    frame: pl.DataFrame  # source columns + _line
    malformed: pl.DataFrame  # MALFORMED_SCHEMA: records not split into fields


def detect_format(path: Path, declared: str | None) -> str:
    """csv, tsv, parquet or excel: the mapping's choice, else from the file name."""
    if declared:
        return declared
    name = path.name.lower()
    for suffix in (".gz", ".gzip"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    if name.endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")):
        return "excel"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    return "csv"


class _HashingReader:
    """Reads a file's bytes, hashing and counting them (for the checksum and the progress bar)."""

    def __init__(self, handle: BinaryIO, on_bytes: ProgressCallback | None) -> None:
        self._handle = handle
        self._on_bytes = on_bytes
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.digest.update(data)
        if self._on_bytes:
            self._on_bytes(len(data))
        return data

    def peek(self, size: int) -> bytes:
        position = self._handle.tell()
        data = self._handle.read(size)
        self._handle.seek(position)
        return data


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def normalise(frame: pl.DataFrame, columns: list[str], *, trim: bool, null_values: tuple[str, ...]) -> pl.DataFrame:
    """Text ``columns``: surrounding blanks removed, empty texts and the null markers as NULL."""
    expressions = []
    for name in columns:
        if frame.schema[name] != pl.String:
            continue
        value = pl.col(name).str.strip_chars() if trim else pl.col(name)
        missing = value.str.len_bytes() == 0
        if null_values:
            missing = missing | value.is_in(list(null_values))
        expressions.append(pl.when(missing).then(None).otherwise(value).alias(name))
    return frame.with_columns(expressions) if expressions else frame


def _unique_header(names: list[str], path: Path) -> list[str]:
    header = [name.strip() or f"column_{i + 1}" for i, name in enumerate(names)]
    seen: set[str] = set()
    twice = [n for n in header if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if twice:
        raise ImportFailed(f"{path.name}: the header names {', '.join(sorted(set(twice)))} more than once; rename them")
    return header


class DelimitedReader:
    """CSV or TSV, plain or gzipped (detected from the bytes), in blocks of whole records."""

    line_label = "line"

    def __init__(
        self,
        path: Path,
        *,
        delimiter: str,
        quote: str | None,
        encoding: str,
        skip_lines: int = 0,
        block_bytes: int = BLOCK_BYTES,
        on_bytes: ProgressCallback | None = None,
    ) -> None:
        self.path = path
        self.delimiter = delimiter
        self.quote = quote
        self.encoding = encoding
        self.block_bytes = block_bytes
        self._utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
        self._raw = open(path, "rb")  # noqa: SIM115 - closed when the batches are done (or by close())
        self._hashing = _HashingReader(self._raw, on_bytes)
        gzipped = self._hashing.peek(2) == b"\x1f\x8b"
        self._stream = gzip.GzipFile(fileobj=self._hashing, mode="rb") if gzipped else self._hashing  # type: ignore[arg-type]
        self._pending = b""
        self._cr_only: bool | None = None  # line ends are a lone CR (Excel for Mac); None: not seen yet
        self.header_line_number = skip_lines + 1
        self.raw_header = self._read_header(skip_lines)
        self.header = _unique_header(self.raw_header, path)

    @property
    def total_bytes(self) -> int:
        return self.path.stat().st_size

    def checksum(self) -> str:
        """SHA-256 of the file's bytes (complete once every batch has been read)."""
        return self._hashing.digest.hexdigest()

    def close(self) -> None:
        self._raw.close()

    def _read(self, size: int) -> bytes:
        try:
            data = self._stream.read(size)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise ImportFailed(f"{self.path.name}: cannot read the file ({error}); is it a complete, uncorrupted file?") from None
        if self._cr_only is None and data:
            # Decided by the first line end seen: LF (or CR LF) everywhere, else CR alone.
            if b"\n" in data:
                self._cr_only = False
            elif b"\r" in data.rstrip(b"\r"):
                self._cr_only = True
        if self._cr_only:
            data = data.replace(b"\r", b"\n")
        return data

    def _too_long(self, line: int) -> ImportFailed:
        return ImportFailed(
            f"{self.path.name}: line {line:,} runs past {MAX_LINE_BYTES // (1024 * 1024)} MB without a line end; "
            "this is not a CSV or TSV file of one record per line (was it saved as text, with line ends?)"
        )

    def _read_header(self, skip_lines: int) -> list[str]:
        while self._pending.count(b"\n") < skip_lines + 1:
            chunk = self._read(1024 * 1024)
            if not chunk:
                break
            self._pending += chunk
            if len(self._pending) - self._pending.rfind(b"\n") > MAX_LINE_BYTES:
                raise self._too_long(self._pending.count(b"\n") + 1)
        lines = self._pending.split(b"\n", skip_lines + 1)
        if len(lines) <= skip_lines or not lines[skip_lines].strip(b"\r\n\t ,;"):
            raise ImportFailed(f"{self.path.name} is empty: there is no header line with the column names")
        raw = lines[skip_lines].rstrip(b"\r")
        self._pending = lines[skip_lines + 1] if len(lines) > skip_lines + 1 else b""
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the byte-order mark Excel writes at the start of a UTF-8 file
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as error:
            raise ImportFailed(
                f"{self.path.name}: the header is not valid {self.encoding} (byte 0x{raw[error.start]:02x} at "
                f"position {error.start + 1}); if the file was saved in another encoding, set encoding = "
                "'cp1252' (or the file's encoding) in the mapping's [source]"
            ) from None
        if "\x00" in text:
            raise ImportFailed(
                f"{self.path.name}: the header contains NUL bytes; the file looks like UTF-16 or binary "
                "(save it as UTF-8 CSV)"
            )
        return next(csv.reader([text], delimiter=self.delimiter, quotechar=self.quote or '"',
                               quoting=csv.QUOTE_MINIMAL if self.quote else csv.QUOTE_NONE))

    def batches(self) -> Iterator[RawBatch]:
        """Every record after the header, in file order, one block at a time."""
        buffer = self._pending
        self._pending = b""
        line = self.header_line_number + 1
        eof = False
        while not eof:
            chunk = self._read(self.block_bytes)
            eof = not chunk
            buffer += chunk
            if eof:
                block, buffer = buffer, b""
                if block and not block.endswith(b"\n"):
                    block += b"\n"
            else:
                cut = self._cut(buffer)
                if cut < 0:
                    if len(buffer) > MAX_LINE_BYTES:
                        raise self._too_long(line)
                    continue  # no complete record yet: read on
                block, buffer = buffer[: cut + 1], buffer[cut + 1 :]
            if block:
                yield self._parse_block(block, line)
                line += block.count(b"\n")
        self.close()

    def _cut(self, buffer: bytes) -> int:
        """The last newline that ends a record (outside quotes, when that can be found)."""
        cut = buffer.rfind(b"\n")
        if cut < 0 or not self.quote:
            return cut
        quote = self.quote.encode()
        if buffer.count(quote, 0, cut) % 2 == 0:
            return cut
        candidate = cut
        for _ in range(MAX_LINES_PER_RECORD):  # a quoted field spanning the cut: step back
            candidate = buffer.rfind(b"\n", 0, candidate)
            if candidate < 0:
                break
            if buffer.count(quote, 0, candidate) % 2 == 0:
                return candidate
        return cut  # a stray quote: cut anyway; the slow path sorts the records out

    def _to_utf8(self, block: bytes) -> bytes | None:
        if self._utf8:
            return block
        try:
            return block.decode(self.encoding).encode("utf-8")
        except UnicodeDecodeError:
            return None

    def _parse_block(self, block: bytes, first_line: int) -> RawBatch:
        utf8 = self._to_utf8(block)
        layout = _scan(utf8, ord(self.delimiter), ord(self.quote) if self.quote else None) if utf8 is not None else None
        if layout is None:
            return self._slow(block.split(b"\n")[:-1], first_line)
        starts, ends, fields, line_offsets, blank, spans = layout
        # A record spanning lines is checked one by one: a stray quote makes one of those.
        ok = (fields == len(self.header)) & ~blank & (spans == 1)
        frames: list[pl.DataFrame] = []
        malformed: list[pl.DataFrame] = []
        if ok.any():
            arr = np.frombuffer(utf8, dtype=np.uint8)
            good = utf8 if ok.all() else arr[np.repeat(ok, ends - starts + 1)].tobytes()
            frame = self._fast(good)
            if frame is None or frame.height != int(ok.sum()):
                return self._slow(block.split(b"\n")[:-1], first_line)
            frames.append(frame.with_columns(_line=pl.Series(first_line + line_offsets[ok], dtype=pl.Int64)))
        for index in np.flatnonzero(~ok):
            record = utf8[starts[index] : ends[index]]
            slow = self._slow(record.split(b"\n"), first_line + int(line_offsets[index]), already_utf8=True)
            frames.append(slow.frame)
            malformed.append(slow.malformed)
        frame = pl.concat(frames, how="vertical") if frames else self._empty()
        if len(frames) > 1:
            frame = frame.sort("_line")
        bad = pl.concat(malformed) if malformed else pl.DataFrame(schema=MALFORMED_SCHEMA)
        return RawBatch(frame, bad)

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema={**{name: pl.String() for name in self.header}, "_line": pl.Int64()})

    def _fast(self, data: bytes) -> pl.DataFrame | None:
        try:
            return pl.read_csv(
                data,
                has_header=False,
                schema={name: pl.String() for name in self.header},
                separator=self.delimiter,
                quote_char=self.quote,
                encoding="utf8",
                missing_utf8_is_empty_string=False,
                raise_if_empty=False,
                truncate_ragged_lines=False,
                rechunk=False,
            )
        except Exception:  # noqa: BLE001 - any refusal sends the block to the slow path
            return None

    def _slow(self, lines: list[bytes], first_line: int, *, already_utf8: bool = False) -> RawBatch:
        """Records one at a time with Python's csv module, each problem named and placed."""
        encoding = "utf-8" if already_utf8 else self.encoding
        quote = self.quote.encode() if self.quote else None
        width = len(self.header)
        rows: list[list[str]] = []
        row_lines: list[int] = []
        bad: list[tuple[int, str, str, str, str]] = []
        index = 0
        while index < len(lines):
            number = first_line + index
            record = lines[index]
            end = index
            if quote and record.count(quote) % 2:
                while end + 1 < len(lines) and record.count(quote) % 2 and end - index < MAX_LINES_PER_RECORD:
                    end += 1
                    record += b"\n" + lines[end]
            parsed = self._parse_record(record, encoding, width)
            if isinstance(parsed, list) and end > index and any(
                self._is_record(line, encoding, width) for line in lines[index + 1 : end + 1]
            ):
                # A line the join would swallow is a whole record by itself: the quote that
                # opened the join is stray, not the start of a field spanning lines.
                parsed = ("unbalanced_quote", "")
            if isinstance(parsed, list):
                rows.append(parsed)
                row_lines.append(number)
                index = end + 1
                continue
            if end > index:
                # Joining lines did not give a good record: the quote was stray. Take the
                # first line alone (a quote inside a value is kept as it is) or report it,
                # and read on from the next line.
                record = lines[index]
                parsed = self._parse_record(record, encoding, width)
                if isinstance(parsed, list):
                    rows.append(parsed)
                    row_lines.append(number)
                    index += 1
                    continue
                rule, message = "unbalanced_quote", "an opening quote is never closed on this line"
            else:
                rule, message = parsed
            text = record.rstrip(b"\r").decode(encoding, errors="backslashreplace")
            action = "excluded" if rule == "blank_line" else "quarantined"
            bad.append((number, rule, action, message, text))
            index += 1
        frame = (
            pl.DataFrame(rows, schema={name: pl.String() for name in self.header}, orient="row").with_columns(
                _line=pl.Series(row_lines, dtype=pl.Int64)
            )
            if rows
            else self._empty()
        )
        malformed = pl.DataFrame(bad, schema=MALFORMED_SCHEMA, orient="row")
        return RawBatch(frame, malformed)

    def _parse_record(self, record: bytes, encoding: str, width: int) -> list[str] | tuple[str, str]:
        record = record.rstrip(b"\r")
        if not record.strip():
            return ("blank_line", "the line is blank")
        try:
            text = record.decode(encoding)
        except UnicodeDecodeError as error:
            return (
                "bad_encoding",
                f"byte 0x{record[error.start]:02x} at position {error.start + 1} is not valid {encoding}",
            )
        try:
            parsed = list(
                csv.reader(
                    io.StringIO(text, newline=""),
                    delimiter=self.delimiter,
                    quotechar=self.quote or '"',
                    quoting=csv.QUOTE_MINIMAL if self.quote else csv.QUOTE_NONE,
                    strict=True,
                )
            )
        except csv.Error as error:
            return ("malformed_quoting", f"the quoting is malformed ({error})")
        if len(parsed) != 1:  # the text holds several records (or none): not one row
            return ("malformed_quoting", "the quoting does not make one record of these lines")
        fields = parsed[0]
        if len(fields) != width:
            return ("wrong_field_count", f"{len(fields)} fields where the header has {width}")
        return fields

    def _is_record(self, line: bytes, encoding: str, width: int) -> bool:
        """Whether one line is a complete, well-formed record on its own."""
        quote = self.quote.encode() if self.quote else None
        if quote and line.count(quote) % 2:
            return False
        return isinstance(self._parse_record(line, encoding, width), list)


def _scan(block: bytes, delimiter: int, quote: int | None) -> tuple[np.ndarray, ...] | None:
    """Record boundaries of a block (which ends with a newline), with NumPy.

    Returns (starts, ends, fields, line_offsets, blank, spans) per record, or None when the
    block's quotes do not pair up (then only the slow path can tell what is what).
    """
    arr = np.frombuffer(block, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    delimiters = np.flatnonzero(arr == delimiter)
    quotes = np.flatnonzero(arr == quote) if quote is not None else np.empty(0, dtype=np.int64)
    if quotes.size:
        if quotes.size % 2:
            return None
        # A newline or delimiter is inside quotes when an odd number of quotes precede it.
        ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
        delimiters = delimiters[np.searchsorted(quotes, delimiters) % 2 == 0]
    else:
        ends = newlines
    starts = np.concatenate(([0], ends[:-1] + 1))
    fields = np.diff(np.concatenate(([0], np.searchsorted(delimiters, ends)))) + 1
    line_offsets = np.searchsorted(newlines, starts)
    spans = np.searchsorted(newlines, ends) - line_offsets + 1  # physical lines per record
    lengths = ends - starts
    last = arr[np.maximum(ends - 1, 0)]
    blank = (lengths == 0) | ((lengths == 1) & (last == 13))
    return starts, ends, fields, line_offsets, blank, spans


class _TypedFileReader:
    """What a Parquet and an Excel reader share: records counted by row, and the whole
    file's size and checksum (read apart from the records)."""

    line_label = "row"
    path: Path

    @property
    def total_bytes(self) -> int:
        return self.path.stat().st_size

    def checksum(self) -> str:
        return file_checksum(self.path)


class ParquetReader(_TypedFileReader):
    """A Parquet file in row groups' batches; columns keep their types."""

    def __init__(self, path: Path, *, on_bytes: ProgressCallback | None = None) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self._on_bytes = on_bytes
        try:
            self._file = pq.ParquetFile(path)
        except Exception as error:  # noqa: BLE001 - pyarrow's errors vary
            raise ImportFailed(f"{path.name} is not a Parquet file ({str(error).splitlines()[0]})") from None
        self.header = _unique_header(list(self._file.schema_arrow.names), path)
        self.raw_header = self.header

    def batches(self) -> Iterator[RawBatch]:
        row = 1
        total_rows = max(self._file.metadata.num_rows, 1)
        for batch in self._file.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            frame = pl.from_arrow(batch)
            if not isinstance(frame, pl.DataFrame):
                raise ImportFailed(f"{self.path.name}: a Parquet batch was not read as a table; is it a Parquet file of rows?")
            frame = frame.with_columns(_line=pl.int_range(row, row + frame.height, dtype=pl.Int64))
            row += frame.height
            if self._on_bytes:
                self._on_bytes(int(self.total_bytes * frame.height / total_rows))
            yield RawBatch(frame, pl.DataFrame(schema=MALFORMED_SCHEMA))


class ExcelReader(_TypedFileReader):
    """One sheet of a workbook. Dates and times keep their type; everything else is text,
    as the sheet shows it (so an id 101001240734 stays that, not 1.01e11)."""

    def __init__(self, path: Path, *, sheet: str | int, skip_lines: int = 0,
                 on_bytes: ProgressCallback | None = None) -> None:
        import fastexcel

        self.path = path
        self._on_bytes = on_bytes
        try:
            reader = fastexcel.read_excel(path)
        except Exception as error:  # noqa: BLE001 - fastexcel's errors vary
            raise ImportFailed(f"{path.name} is not an Excel workbook ({str(error).splitlines()[0]})") from None
        if isinstance(sheet, str) and sheet not in reader.sheet_names:
            raise ImportFailed(f"{path.name} has no sheet {sheet!r}; its sheets: {', '.join(reader.sheet_names)}")
        if isinstance(sheet, int) and not 0 <= sheet < len(reader.sheet_names):
            raise ImportFailed(f"{path.name} has {len(reader.sheet_names)} sheet(s); sheet = {sheet} is out of range")
        probe = reader.load_sheet(sheet, header_row=skip_lines, n_rows=1000)
        dtypes = {
            column.name: (column.dtype if column.dtype in ("datetime", "date", "duration") else "string")
            for column in probe.available_columns()
        }
        self._sheet = reader.load_sheet(sheet, header_row=skip_lines, dtypes=dtypes)
        self.header = _unique_header([c.name for c in self._sheet.available_columns()], path)
        self.raw_header = self.header
        self._first_row = skip_lines + 2  # the sheet's row number of the first record

    def batches(self) -> Iterator[RawBatch]:
        frame = self._sheet.to_polars()
        frame.columns = self.header
        frame = frame.with_columns(_line=pl.int_range(self._first_row, self._first_row + frame.height, dtype=pl.Int64))
        if self._on_bytes:
            self._on_bytes(self.total_bytes)
        for start in range(0, max(frame.height, 1), PARQUET_BATCH_ROWS):
            part = frame.slice(start, PARQUET_BATCH_ROWS)
            yield RawBatch(part, pl.DataFrame(schema=MALFORMED_SCHEMA))


Reader = Union["DelimitedReader", "ParquetReader", "ExcelReader"]


def open_reader(path: Path, *, fmt: str, source: Source, on_bytes: ProgressCallback | None = None,
                block_bytes: int = BLOCK_BYTES) -> Reader:
    """The reader for ``path`` in format ``fmt`` with the mapping's [source] options."""
    if not path.is_file():
        raise ImportFailed(f"no file {path}")
    if fmt == "parquet":
        return ParquetReader(path, on_bytes=on_bytes)
    if fmt == "excel":
        return ExcelReader(path, sheet=source.sheet, skip_lines=source.skip_lines, on_bytes=on_bytes)
    delimiter = source.delimiter or ("\t" if fmt == "tsv" else ",")
    return DelimitedReader(
        path,
        delimiter=delimiter,
        quote=source.quote,
        encoding=source.encoding,
        skip_lines=source.skip_lines,
        block_bytes=block_bytes,
        on_bytes=on_bytes,
    )


def guess_delimiter(raw_header: list[str], delimiter: str) -> str | None:
    """Another delimiter the header splits on, when it looks like the wrong one was used."""
    if len(raw_header) > 1:
        return None
    line = raw_header[0] if raw_header else ""
    counts = {d: line.count(d) for d in CANDIDATE_DELIMITERS if d != delimiter}
    best = max(counts, key=lambda d: counts[d]) if counts else None
    return best if best and counts[best] > 0 else None

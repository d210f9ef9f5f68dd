"""Streams a daily file as Arrow record batches of the known raw columns.

CSV columns are read as raw bytes (UTF-8 decoding and validation happen per row in
``parsing``, so one bad byte rejects one row); Parquet columns keep their stored types.
Only the known columns of the data kind are read (``features.REQUIRED_RAW_COLUMNS`` and
``features.OPTIONAL_RAW_COLUMNS`` for events, ``features.REQUIRED_COUNT_COLUMNS`` for
hourly counts); other columns are ignored. A file that cannot be read at all (empty, no required
column, truncated or corrupt compression, a Parquet timestamp without a time zone)
raises ``InputFileError`` naming the file and why.

Two row faults of a CSV are found while reading and become rejects of one row each (a
``RowFault``), never a failed file: a row with another number of fields than the header
(``wrong_field_count``), and a last line that does not end with a line break
(``truncated_row``: the file was cut, e.g. by an interrupted copy, so its last row may
hold a cut value -- ``28.4`` read as ``2`` -- and is never used). Rows are numbered
1, 2, ... from the first line after the header, blank lines not counted, faulty rows
included.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import os
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen import accounting
from transforms import features

CSV = "csv"
PARQUET = "parquet"


@dataclasses.dataclass(frozen=True)
class DailyFile:
    """One local day of observations."""

    path: str
    day: datetime.date
    file_format: str  # CSV or PARQUET
    gzipped: bool = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


CSV_BLOCK_BYTES = 4 << 20
PARQUET_BATCH_ROWS = 1 << 16


@dataclasses.dataclass(frozen=True)
class RawColumns:
    """The columns of one data kind: required, optional, and the one holding the time."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    time: str

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


RAW_COLUMNS = {
    features.DATA_KIND_EVENTS: RawColumns(
        features.REQUIRED_RAW_COLUMNS, features.OPTIONAL_RAW_COLUMNS, features.RAW_TIMESTAMP
    ),
    features.DATA_KIND_COUNTS: RawColumns(
        features.REQUIRED_COUNT_COLUMNS, (), features.RAW_HOUR_START
    ),
}


class InputFileError(ValueError):
    """A daily file that cannot be read at all; the message names the file and why."""


# Errors Arrow / gzip / Beam file systems raise on unreadable bytes.
_READ_ERRORS = (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError)


@contextlib.contextmanager
def _open(daily: DailyFile) -> Iterator[pa.NativeFile]:
    """The file as an Arrow stream (GZIP decompressed by Arrow), local or remote."""
    raw = FileSystems.open(daily.path, compression_type=CompressionTypes.UNCOMPRESSED)
    stream = pa.PythonFile(raw, mode="r")
    try:
        yield pa.CompressedInputStream(stream, "gzip") if daily.gzipped else stream
    finally:
        stream.close()
        raw.close()


def _head(daily: DailyFile) -> tuple[list[str], bool, pa.Schema | None]:
    """(column names, has at least one data row, Parquet schema) of a daily file."""
    with _open(daily) as stream:
        if daily.file_format == PARQUET:
            parquet = pq.ParquetFile(stream)
            schema = parquet.schema_arrow
            return list(schema.names), parquet.metadata.num_rows > 0, schema
        head = b""
        while head.count(b"\n") < 2:
            block = stream.read(1 << 16)
            if not block:
                break
            head += block
    lines = head.split(b"\n", 2)
    header = lines[0].decode("utf-8-sig").strip("\r")
    has_rows = len(lines) > 1 and bool(lines[1].strip(b"\r"))
    return next(csv.reader([header]), []), has_rows, None


def read_columns(daily: DailyFile) -> list[str]:
    """The column names of a daily file (CSV header or Parquet schema)."""
    try:
        return _head(daily)[0]
    except _READ_ERRORS as e:
        raise InputFileError(f"{daily.path}: cannot read: {type(e).__name__}: {e}") from e


def check_file(daily: DailyFile, data_kind: str = features.DATA_KIND_EVENTS) -> bool:
    """Checks a daily file can be read; returns whether it holds any data row.

    Raises InputFileError (naming the file) for an empty (0-byte) file, a missing
    required column, unreadable compression, or a Parquet timestamp column without a
    time zone (CSV timestamps need a UTC offset too: both formats mean the same).
    """
    try:
        if FileSystems.match([daily.path])[0].metadata_list[0].size_in_bytes == 0:
            raise InputFileError(f"{daily.path}: empty file (0 bytes, not even a header line)")
        columns, has_rows, schema = _head(daily)
    except _READ_ERRORS as e:
        raise InputFileError(f"{daily.path}: cannot read: {type(e).__name__}: {e}") from e
    check_required_columns(daily, columns, data_kind)
    if schema is not None:
        time_column = RAW_COLUMNS[data_kind].time
        kind = schema.field(time_column).type
        if pa.types.is_timestamp(kind) and kind.tz is None:
            raise InputFileError(
                f"{daily.path}: column {time_column!r} is a timestamp without a "
                "time zone; write it as UTC (e.g. pandas tz_localize('UTC')), as CSV "
                "timestamps need a UTC offset"
            )
    return has_rows


def check_required_columns(
    daily: DailyFile, columns: list[str], data_kind: str = features.DATA_KIND_EVENTS
) -> None:
    """Raises InputFileError naming the file and the first missing required column."""
    if not [c for c in columns if c]:
        raise InputFileError(f"{daily.path}: no header line (the file has no columns)")
    for column in RAW_COLUMNS[data_kind].required:
        if column not in columns:
            raise InputFileError(
                f"{daily.path}: required column {column!r} is missing (columns: {columns})"
            )


# A rejected row's raw text is cut to this many characters in its reject.
MAX_ROW_TEXT = 200


@dataclasses.dataclass(frozen=True)
class RowFault:
    """A CSV row rejected while reading (``accounting.ROW_FAULTS``), with its raw text."""

    row: int  # 1-based data row
    reason: str
    text: str


@dataclasses.dataclass
class NumberedBatch:
    """A record batch, the file's row number of each of its rows, and the rows rejected
    while reading that are reported with it."""

    batch: pa.RecordBatch
    rows: np.ndarray  # int64, 1-based data row numbers, ascending
    faults: list[RowFault]

    @property
    def rows_read(self) -> int:
        """Rows this batch accounts for: its own and its faulty ones."""
        return self.batch.num_rows + len(self.faults)


class _TailTracker:
    """A read-only stream that remembers the bytes after the last line break it read."""

    closed = False

    def __init__(self, stream) -> None:
        self._stream = stream
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            tail = data[cut + 1 :] if cut >= 0 else self.tail + data
            self.tail = tail[: 4 * MAX_ROW_TEXT]
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _row_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    return text if len(text) <= MAX_ROW_TEXT else text[:MAX_ROW_TEXT] + "..."


def _numbered(faults: list[RowFault], valid_before: int, n: int) -> np.ndarray:
    """Row numbers of the ``n`` parsed rows after the first ``valid_before`` parsed rows,
    skipping the rows of ``faults`` (ascending)."""
    parsed = np.arange(valid_before, valid_before + n, dtype=np.int64)
    faulty = np.asarray([f.row for f in faults], dtype=np.int64)
    parsed_before_fault = faulty - np.arange(1, len(faulty) + 1)
    return parsed + 1 + np.searchsorted(parsed_before_fault, parsed, side="right")


def _empty_batch(columns: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({c: pa.array([], pa.binary()) for c in columns})


def _numbered_csv_batches(handle: pa.NativeFile, present: list[str]) -> Iterator[NumberedBatch]:
    """The CSV's batches, numbered, with its wrong-field-count and truncated rows."""
    faults: list[RowFault] = []  # in row order, as the reader meets them

    def on_invalid_row(row) -> str:
        if row.number is None or row.number < 2:
            return "error"  # cannot number it: the file fails as malformed, naming it
        faults.append(
            RowFault(
                row.number - 1,  # the reader counts the header as row 1
                accounting.WRONG_FIELD_COUNT,
                _row_text(
                    f"{row.actual_columns} fields, the header has {row.expected_columns}: "
                    f"{row.text}"
                ),
            )
        )
        return "skip"

    tracker = _TailTracker(handle)
    reader = pa_csv.open_csv(
        pa.PythonFile(tracker, mode="r"),
        read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid_row),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.binary() for c in present},
            include_columns=present,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    held: NumberedBatch | None = None  # the last batch waits: it may end with a cut row
    sent = 0  # faults already reported
    parsed = 0  # rows parsed into batches so far
    for batch in reader:
        if not batch.num_rows:
            continue
        rows = _numbered(faults, parsed, batch.num_rows)
        parsed += batch.num_rows
        if held is not None:
            before = sum(1 for f in faults[sent:] if f.row < rows[0])
            held.faults = faults[sent : sent + before]
            sent += before
            yield held
        held = NumberedBatch(batch, rows, [])
    rest = faults[sent:]
    if tracker.tail:  # the last line has no line break: the file was cut in that row
        last_row = parsed + len(faults)
        if faults and faults[-1].row == last_row:
            rest[-1] = dataclasses.replace(rest[-1], reason=accounting.TRUNCATED_ROW)
        elif held is not None:
            n = held.batch.num_rows - 1
            rest.append(
                RowFault(int(held.rows[n]), accounting.TRUNCATED_ROW, _row_text(tracker.tail))
            )
            held = NumberedBatch(held.batch.slice(0, n), held.rows[:n], [])
    if held is None and rest:
        held = NumberedBatch(_empty_batch(present), np.zeros(0, np.int64), [])
    if held is not None:
        held.faults = rest
        yield held


def iter_record_batches(
    daily: DailyFile, data_kind: str = features.DATA_KIND_EVENTS
) -> Iterator[NumberedBatch]:
    """Yields the file's known columns in numbered record batches, streaming, in row
    order, with the row faults met while reading (CSV only).

    Raises InputFileError naming the file if it cannot be read to its end.
    """
    columns = read_columns(daily)
    check_required_columns(daily, columns, data_kind)
    present = [c for c in RAW_COLUMNS[data_kind].known if c in columns]
    try:
        with _open(daily) as handle:
            if daily.file_format == PARQUET:
                parquet = pq.ParquetFile(handle)  # keep a reference while iterating
                first = 1
                for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present):
                    rows = np.arange(first, first + batch.num_rows, dtype=np.int64)
                    first += batch.num_rows
                    yield NumberedBatch(batch, rows, [])
                return
            yield from _numbered_csv_batches(handle, present)
    except _READ_ERRORS as e:
        what = "malformed CSV" if isinstance(e, pa.ArrowInvalid) else "cannot read"
        raise InputFileError(f"{daily.path}: {what}: {type(e).__name__}: {e}") from e


def raise_file_errors(errors: list[str]) -> None:
    """Raises one InputFileError for the files a pipeline could not read (if any)."""
    if errors:
        more = f" (and {len(errors) - 1} more file(s))" if len(errors) > 1 else ""
        raise InputFileError(f"{errors[0]}{more}")

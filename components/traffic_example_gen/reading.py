"""Streams a daily file as Arrow record batches of the known raw columns.

CSV columns are read as raw bytes (UTF-8 decoding and validation happen per row in
``parsing``, so one bad byte rejects one row); Parquet columns keep their stored types.
Only the known columns of the data kind are read (``features.REQUIRED_RAW_COLUMNS`` and
``features.OPTIONAL_RAW_COLUMNS`` for events, ``features.REQUIRED_COUNT_COLUMNS`` for
hourly counts); other columns are ignored. A file that cannot be read at all (empty, no required
column, truncated or corrupt compression, a Parquet timestamp without a time zone)
raises ``InputFileError`` naming the file and why.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import os
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

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


def iter_record_batches(
    daily: DailyFile, data_kind: str = features.DATA_KIND_EVENTS
) -> Iterator[pa.RecordBatch]:
    """Yields the file's known columns in record batches, streaming, in row order.

    Raises InputFileError naming the file if it cannot be read to its end.
    """
    columns = read_columns(daily)
    check_required_columns(daily, columns, data_kind)
    present = [c for c in RAW_COLUMNS[data_kind].known if c in columns]
    try:
        with _open(daily) as handle:
            if daily.file_format == PARQUET:
                parquet = pq.ParquetFile(handle)  # keep a reference while iterating
                yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present)
                return
            reader = pa_csv.open_csv(
                handle,
                read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.binary() for c in present},
                    include_columns=present,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            yield from reader
    except _READ_ERRORS as e:
        what = "malformed CSV" if isinstance(e, pa.ArrowInvalid) else "cannot read"
        raise InputFileError(f"{daily.path}: {what}: {type(e).__name__}: {e}") from e


def raise_file_errors(errors: list[str]) -> None:
    """Raises one InputFileError for the files a pipeline could not read (if any)."""
    if errors:
        more = f" (and {len(errors) - 1} more file(s))" if len(errors) > 1 else ""
        raise InputFileError(f"{errors[0]}{more}")

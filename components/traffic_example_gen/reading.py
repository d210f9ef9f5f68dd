"""Streams a daily file as Arrow record batches of the known raw columns.

CSV columns are read as strings (validation happens in ``parsing``); Parquet columns
keep their stored types. Only ``features.REQUIRED_RAW_COLUMNS`` and
``features.OPTIONAL_RAW_COLUMNS`` are read; other columns are ignored.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen.spans import PARQUET, DailyFile
from transforms import features

CSV_BLOCK_BYTES = 4 << 20
PARQUET_BATCH_ROWS = 1 << 16
KNOWN_COLUMNS = features.REQUIRED_RAW_COLUMNS + features.OPTIONAL_RAW_COLUMNS


class InputFileError(ValueError):
    """A daily file that cannot be read at all (missing column, malformed CSV)."""


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


def _first_line(stream: pa.NativeFile) -> bytes:
    data = b""
    while b"\n" not in data:
        block = stream.read(1 << 16)
        if not block:
            break
        data += block
    return data.split(b"\n", 1)[0]


def read_columns(daily: DailyFile) -> list[str]:
    """The column names of a daily file (CSV header or Parquet schema)."""
    with _open(daily) as stream:
        if daily.file_format == PARQUET:
            return list(pq.ParquetFile(stream).schema_arrow.names)
        header = _first_line(stream).decode("utf-8-sig").strip("\r")
    return next(csv.reader([header]), [])


def check_required_columns(daily: DailyFile, columns: list[str]) -> None:
    """Raises InputFileError naming the file and the first missing required column."""
    for column in features.REQUIRED_RAW_COLUMNS:
        if column not in columns:
            raise InputFileError(
                f"{daily.path}: required column {column!r} is missing (columns: {columns})"
            )


def iter_record_batches(daily: DailyFile) -> Iterator[pa.RecordBatch]:
    """Yields the file's known columns in record batches, streaming, in row order."""
    columns = read_columns(daily)
    check_required_columns(daily, columns)
    present = [c for c in KNOWN_COLUMNS if c in columns]
    with _open(daily) as handle:
        if daily.file_format == PARQUET:
            parquet = pq.ParquetFile(handle)  # keep a reference while iterating
            yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present)
            return
        try:
            reader = pa_csv.open_csv(
                handle,
                read_options=pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={c: pa.string() for c in present},
                    include_columns=present,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            yield from reader
        except pa.ArrowInvalid as e:
            raise InputFileError(f"{daily.path}: malformed CSV: {e}") from e

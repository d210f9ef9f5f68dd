"""Hourly counts as daily files (``data.kind: counts``): the generator's writer, and the file
writer ``deploy/datasets/importers`` shares.

One file per LOCAL date, ``YYYY-MM-DD.csv`` | ``.csv.gz`` | ``.parquet``, columns
``features.REQUIRED_COUNT_COLUMNS``: hour_start (the local hour's start, ISO-8601 with its
UTC offset, e.g. ``2026-10-25T01:00:00+01:00``), intersection_id, direction, vehicle_type,
count (int). Rows are sorted by hour, then intersection, direction and vehicle type. The
generator writes a row (possibly 0) for every real local hour of every approach and type:
the spring-forward hour has none, the autumn hour two (one per offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from deploy.datasets.synthetic.formats import text_table, write_csv_bytes
from deploy.datasets.synthetic.sampling import HourCells, Layout
from transforms import features

COUNT_COLUMNS = features.REQUIRED_COUNT_COLUMNS


@dataclass(frozen=True)
class CountsTable:
    """The rows of one daily counts file, dictionary-encoded: a string column is its distinct
    values plus one index per row (directions and types index ``features``' tuples)."""

    hours: tuple[str, ...]  # hour_start texts
    hour: np.ndarray
    intersections: tuple[str, ...]
    intersection: np.ndarray
    direction: np.ndarray  # index into features.DIRECTIONS
    vehicle_type: np.ndarray  # index into features.VEHICLE_TYPES
    count: np.ndarray  # int64 >= 0

    def __len__(self) -> int:
        return int(self.count.size)


def hour_start_text(local_hour: datetime) -> str:
    """``2026-10-25T01:00:00+01:00``: an aware local datetime on the hour, as written."""
    return local_hour.isoformat(timespec="seconds")


def write_counts_file(path: Path, table: CountsTable, file_format: str) -> None:
    """Writes ``table`` as one CSV / CSV.gz / Parquet counts file."""
    if file_format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        def strings(values, index):
            return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64()))

        arrow = pa.table(
            {
                features.RAW_HOUR_START: strings(table.hours, table.hour),
                features.RAW_INTERSECTION: strings(table.intersections, table.intersection),
                features.RAW_DIRECTION: strings(features.DIRECTIONS, table.direction),
                features.RAW_VEHICLE_TYPE: strings(features.VEHICLE_TYPES, table.vehicle_type),
                features.RAW_COUNT: pa.array(table.count, pa.int64()),
            }
        )
        pq.write_table(arrow, path, compression="snappy")
        return
    write_csv_bytes(path, _csv_bytes(table), file_format)


def _csv_bytes(table: CountsTable) -> bytes:
    """CSV as a numpy byte matrix (no per-row Python); NUL padding is dropped at the end."""
    header = (",".join(COUNT_COLUMNS) + "\n").encode()
    if not len(table):
        return header
    parts = [
        text_table(table.hours)[table.hour],
        text_table(table.intersections)[table.intersection],
        text_table(features.DIRECTIONS)[table.direction],
        text_table(features.VEHICLE_TYPES)[table.vehicle_type],
        _digits(table.count),
    ]
    width = sum(part.shape[1] for part in parts) + len(parts)
    matrix = np.empty((len(table), width), dtype=np.uint8)
    col = 0
    for part in parts:
        matrix[:, col : col + part.shape[1]] = part
        col += part.shape[1]
        matrix[:, col] = ord(",")
        col += 1
    matrix[:, -1] = ord("\n")
    flat = matrix.ravel()
    return header + flat[flat != 0].tobytes()


def _digits(values: np.ndarray) -> np.ndarray:
    """Non-negative integers as decimal ASCII, right-aligned, NUL-padded on the left."""
    width = len(str(int(values.max())))
    out = np.zeros((values.size, width), dtype=np.uint8)
    for k in range(width):
        place = 10 ** (width - 1 - k)
        digit = 48 + values // place % 10
        out[:, k] = np.where((values >= place) | (k == width - 1), digit, 0)
    return out


def write_count_days(
    directory: Path,
    counts: np.ndarray,
    cells: HourCells,
    layout: Layout,
    start: date,
    days: int,
    file_format: str,
) -> dict[str, int]:
    """Writes one counts file per local date; ``counts`` is (cells, I, D, V) from
    ``sampling.hourly_counts``. Returns rows per file name."""
    hours = tuple(
        hour_start_text(
            datetime.fromtimestamp(utc_ms / 1000, timezone(timedelta(milliseconds=int(off_ms))))
        )
        for utc_ms, off_ms in zip(
            cells.utc_start_ms.tolist(), cells.offset_ms.tolist(), strict=True
        )
    )
    _, n_inter, n_dir, n_type = counts.shape
    per_cell = n_inter * n_dir * n_type
    rows_per_file: dict[str, int] = {}
    for k in range(days):
        lo, hi = (int(i) for i in np.searchsorted(cells.date_index, [k, k + 1]))
        row = np.arange((hi - lo) * per_cell, dtype=np.int64)
        table = CountsTable(
            hours=hours,
            hour=lo + row // per_cell,
            intersections=layout.ids,
            intersection=row // (n_dir * n_type) % n_inter,
            direction=row // n_type % n_dir,
            vehicle_type=row % n_type,
            count=counts[lo:hi].reshape(-1).astype(np.int64),
        )
        name = f"{(start + timedelta(days=k)).isoformat()}.{file_format}"
        write_counts_file(directory / name, table, file_format)
        rows_per_file[name] = len(table)
    return rows_per_file

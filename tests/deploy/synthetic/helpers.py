"""Independent readers for generator output (csv module, gzip, pyarrow; no generator code)."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from deploy.datasets.output import MARKER_FILE
from transforms import features


def read_rows(path: Path) -> list[dict[str, str]]:
    """All rows of one daily file as dicts of strings (numbers formatted as in the CSV)."""
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pylist()
        return [
            {
                **row,
                features.RAW_LANE: str(row[features.RAW_LANE]),
                features.RAW_SPEED: f"{row[features.RAW_SPEED]:.1f}",
            }
            for row in table
        ]
    raw = path.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("ascii"))))


def data_files(out_dir: Path) -> list[Path]:
    """The daily files (not ground_truth.json, not the marker of what the tool wrote)."""
    return sorted(p for p in out_dir.iterdir() if p.name not in ("ground_truth.json", MARKER_FILE))


def all_rows(out_dir: Path) -> list[dict[str, str]]:
    return [row for path in data_files(out_dir) for row in read_rows(path)]


def local_cell(timestamp: str) -> tuple[int, int]:
    """(local day_of_week, local hour) of an ISO timestamp, from its wall-clock part."""
    wall = datetime.fromisoformat(timestamp[:19])
    return wall.weekday(), wall.hour


def cell_counts(rows: list[dict[str, str]]) -> Counter:
    """Observed vehicles per (vehicle type, day_of_week, hour)."""
    return Counter(
        (row[features.RAW_VEHICLE_TYPE], *local_cell(row[features.RAW_TIMESTAMP])) for row in rows
    )


def local_hour_occurrences(tz_name: str, start: date, days: int) -> Counter:
    """How often each (local date, hour) occurs in the run: 0, 1 or 2 (DST), via zoneinfo."""
    zone = ZoneInfo(tz_name)
    end = start + timedelta(days=days)
    instant = datetime(start.year, start.month, start.day, tzinfo=timezone.utc) - timedelta(days=1)
    occurrences: Counter = Counter()
    while instant < datetime(end.year, end.month, end.day, tzinfo=timezone.utc) + timedelta(days=1):
        local = instant.astimezone(zone)
        if start <= local.date() < end:
            occurrences[(local.date(), local.hour)] += 1
        instant += timedelta(hours=1)
    return occurrences


COUNT_COLUMNS = [
    features.RAW_HOUR_START,
    features.RAW_INTERSECTION,
    features.RAW_DIRECTION,
    features.RAW_VEHICLE_TYPE,
    features.RAW_COUNT,
]


def read_counts(path: Path) -> list[dict]:
    """All rows of one daily hourly-counts file (generated or imported), checked for the
    counts schema: exactly its columns, string fields, and ``count`` an int >= 0 (as int).

    Reads with the csv module or pyarrow only; no generator or importer code.
    """
    if path.name.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        assert table.column_names == COUNT_COLUMNS, (path, table.column_names)
        for name in COUNT_COLUMNS[:-1]:
            assert table.schema.field(name).type == pa.string(), (path, name)
        assert table.schema.field(features.RAW_COUNT).type == pa.int64(), path
        rows = table.to_pylist()
    else:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
        rows = list(reader)
        assert reader.fieldnames == COUNT_COLUMNS, (path, reader.fieldnames)
        for row in rows:
            assert row[features.RAW_COUNT].isdigit(), (path, row)
            row[features.RAW_COUNT] = int(row[features.RAW_COUNT])
    for row in rows:
        assert row[features.RAW_COUNT] >= 0, (path, row)
        assert row[features.RAW_DIRECTION] in features.DIRECTIONS, (path, row)
        assert row[features.RAW_VEHICLE_TYPE] in features.VEHICLE_TYPES, (path, row)
        stamp = datetime.fromisoformat(row[features.RAW_HOUR_START])
        assert stamp.utcoffset() is not None and stamp.minute == stamp.second == 0, (path, row)
    return rows

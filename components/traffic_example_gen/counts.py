"""Hourly counts (``data.kind: counts``): validate, parse, de-duplicate and encode.

Each row is valid or rejected with exactly one reason, the first failing check in the
order of ``accounting.COUNT_REASONS``: a row fault found while reading (a cut last row, a
wrong number of fields), invalid UTF-8, missing field, unparsable
``hour_start``, not the start of a local hour in the city's time zone (minute, second
or microsecond not 0, e.g. a ``+05:30`` offset in London), date outside the file's
day, unknown direction, unknown vehicle type, invalid count (missing, unparsable,
negative or not an integer). Parsing is vectorised with the helpers of ``parsing``.

A daily file is one local day, so duplicates (a second row for the same hour
instant, intersection, direction and vehicle type) are found per file: the first row
is kept, later ones are rejected. In the autumn DST change the repeated local hour is
two different instants, so two examples. Valid rows become tf.Examples encoded by
tfx_bsl's ``RecordBatchToExamplesEncoder`` and framed with ``example_wire``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from components.traffic_example_gen import accounting, reading
from components.traffic_example_gen.chunks import MICROS_PER_SECOND
from components.traffic_example_gen.parsing import (
    INT_PATTERN,
    Rejects,
    apply_checks,
    as_strings,
    codes,
    decode_columns,
    is_present,
    local_calendar,
    matches,
    parse_timestamps,
)
from components.traffic_example_gen.splits import yyyymmdd
from transforms import features

# Example keys in the order they are encoded.
EXAMPLE_KEYS = (
    features.TIMESTAMP_UTC,
    features.DAY_OF_WEEK,
    features.HOUR,
    features.INTERSECTION,
    features.DIRECTION,
    features.VEHICLE_TYPE,
    features.VEHICLE_COUNT,
)
_DIRECTIONS = np.array([d.encode() for d in features.DIRECTIONS], dtype=object)
_VEHICLE_TYPES = np.array([v.encode() for v in features.VEHICLE_TYPES], dtype=object)


@dataclasses.dataclass
class CountRows:
    """Valid hourly-count rows (columns aligned)."""

    ts_us: np.ndarray  # int64 UTC epoch microseconds of the hour's start
    day_of_week: np.ndarray  # int8, local, 0 = Monday
    hour: np.ndarray  # int8, local
    yyyymmdd: np.ndarray  # int32 local date
    intersection: np.ndarray  # object array of str
    direction: np.ndarray  # int8 index into features.DIRECTIONS
    vehicle_type: np.ndarray  # int8 index into features.VEHICLE_TYPES
    count: np.ndarray  # int64 >= 0
    row: np.ndarray  # int64, 1-based row in the file

    def __len__(self) -> int:
        return len(self.ts_us)

    def take(self, index) -> CountRows:
        """The rows selected by a mask, slice or index array."""
        return CountRows(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})

    @staticmethod
    def concat(parts: list[CountRows]) -> CountRows:
        """The rows of ``parts``, in order (at least one part)."""
        return CountRows(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in dataclasses.fields(CountRows)
            }
        )


def parse_counts(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Counts (0 where not ok) and an ok-mask: present integers >= 0.

    CSV cells must be written as integers (``12``; ``2.5`` and ``2.0`` are not);
    Parquet integer columns are used as they are, float columns where the value is a
    whole number.
    """
    n = len(array)
    values = np.zeros(n, dtype=np.int64)
    present = is_present(array)
    if pa.types.is_integer(array.type):
        values[present] = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy()[present]
        ok = present
    elif pa.types.is_floating(array.type):
        floats = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy()
        ok = present & np.isfinite(floats) & (np.round(floats) == floats) & (np.abs(floats) < 2**62)
        values[ok] = floats[ok].astype(np.int64)
    else:
        strings = as_strings(array)
        ok = present & matches(strings, INT_PATTERN)
        if ok.any():
            values[ok] = pc.cast(strings.filter(pa.array(ok)), pa.int64()).to_numpy()
    ok = ok & (values >= 0)
    return np.where(ok, values, 0), ok


def _on_local_hour(ts_us: np.ndarray, timezone: str) -> np.ndarray:
    """Mask of instants whose local minute, second and microsecond are all 0."""
    local = pa.array(ts_us, pa.timestamp("us", tz=timezone))
    minute = pc.minute(local).to_numpy()
    second = pc.second(local).to_numpy()
    return (minute == 0) & (second == 0) & (ts_us % MICROS_PER_SECOND == 0)


def parse_counts_batch(
    batch: pa.RecordBatch, *, rows: np.ndarray, timezone: str, file_yyyymmdd: int
) -> tuple[CountRows, Rejects]:
    """Validates ``batch`` (its rows are the file's data rows ``rows``; the file is of local
    day ``file_yyyymmdd``); returns its valid rows with local calendar fields, and its
    rejects."""
    field_names = list(features.REQUIRED_COUNT_COLUMNS)
    columns, checks = decode_columns(batch, field_names)
    for name in field_names:
        if name != features.RAW_COUNT:  # a missing count is an invalid count
            checks.append((~is_present(columns[name]), name, accounting.MISSING_FIELD))
    ts_us, ts_ok = parse_timestamps(columns[features.RAW_HOUR_START])
    checks.append((~ts_ok, features.RAW_HOUR_START, accounting.UNPARSABLE_TIMESTAMP))
    ts_us = np.where(ts_ok, ts_us, 0)
    on_hour = _on_local_hour(ts_us, timezone)
    checks.append((ts_ok & ~on_hour, features.RAW_HOUR_START, accounting.NOT_HOUR_START))
    calendar = local_calendar(ts_us, timezone)
    outside = ts_ok & (calendar.yyyymmdd != file_yyyymmdd)
    checks.append((outside, features.RAW_HOUR_START, accounting.DATE_OUTSIDE_FILE))
    direction = codes(columns[features.RAW_DIRECTION], features.DIRECTIONS)
    checks.append((direction < 0, features.RAW_DIRECTION, accounting.UNKNOWN_DIRECTION))
    vehicle_type = codes(columns[features.RAW_VEHICLE_TYPE], features.VEHICLE_TYPES)
    checks.append((vehicle_type < 0, features.RAW_VEHICLE_TYPE, accounting.UNKNOWN_VEHICLE_TYPE))
    count, count_ok = parse_counts(columns[features.RAW_COUNT])
    checks.append((~count_ok, features.RAW_COUNT, accounting.INVALID_COUNT))

    rejects, good, rows = apply_checks(checks, columns, field_names, accounting.COUNT_REASONS, rows)
    intersection = as_strings(columns[features.RAW_INTERSECTION]).filter(pa.array(good))
    valid = CountRows(
        ts_us=ts_us[good],
        day_of_week=calendar.day_of_week[good],
        hour=calendar.hour[good],
        yyyymmdd=calendar.yyyymmdd[good],
        intersection=intersection.to_numpy(zero_copy_only=False).astype(object),
        direction=direction[good],
        vehicle_type=vehicle_type[good],
        count=count[good],
        row=rows[good],
    )
    return valid, rejects


def dedup(rows: CountRows) -> tuple[CountRows, Rejects]:
    """Keeps the first row of each (hour instant, intersection, direction, vehicle type)
    of one file; the later rows are rejected as duplicates naming the kept row."""
    if not len(rows):
        return rows, Rejects(np.zeros(0, np.int64), [], [], [])
    keys = pd.DataFrame(
        {"t": rows.ts_us, "i": rows.intersection, "d": rows.direction, "v": rows.vehicle_type}
    )
    group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    duplicate = keys.duplicated(keep="first").to_numpy()
    _, first = np.unique(group, return_index=True)  # group ids are 0..G-1
    kept = first[group[duplicate]]
    values = []
    for c, kept_row, kept_count in zip(
        rows.count[duplicate], rows.row[kept], rows.count[kept], strict=True
    ):
        same = "same count" if c == kept_count else f"count {c} differs from the kept {kept_count}"
        values.append(f"same hour, approach and vehicle type as row {kept_row} (kept); {same}")
    rejects = Rejects(
        rows=rows.row[duplicate],
        fields=["*"] * len(values),
        reasons=[accounting.DUPLICATE] * len(values),
        values=values,
    )
    return rows.take(~duplicate), rejects


def _singletons(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values, arrow_type))


def to_record_batch(rows: CountRows) -> pa.RecordBatch:
    """The examples of ``rows`` as a RecordBatch of one-value lists (``EXAMPLE_KEYS``)."""
    columns = [
        _singletons(rows.ts_us // MICROS_PER_SECOND, pa.int64()),
        _singletons(rows.day_of_week.astype(np.int64), pa.int64()),
        _singletons(rows.hour.astype(np.int64), pa.int64()),
        _singletons(np.array([i.encode() for i in rows.intersection], dtype=object), pa.binary()),
        _singletons(_DIRECTIONS[rows.direction], pa.binary()),
        _singletons(_VEHICLE_TYPES[rows.vehicle_type], pa.binary()),
        _singletons(rows.count, pa.int64()),
    ]
    return pa.RecordBatch.from_arrays(columns, list(EXAMPLE_KEYS))


def direction_names(rows: CountRows) -> np.ndarray:
    """The rows' directions as strings (what the split rule hashes)."""
    return np.asarray(features.DIRECTIONS, dtype=object)[rows.direction]


def parse_counts_file(
    daily: reading.DailyFile, timezone: str
) -> Iterator[tuple[int, CountRows, Rejects]]:
    """(rows read, valid rows, rejects) of each record batch of one daily counts file, as
    ExampleGen reads it (the rows rejected while reading are among the rejects)."""
    for numbered in reading.iter_record_batches(daily, features.DATA_KIND_COUNTS):
        valid, rejects = parse_counts_batch(
            numbered.batch,
            rows=numbered.rows,
            timezone=timezone,
            file_yyyymmdd=yyyymmdd(daily.day),
        )
        if numbered.faults:
            rejects = Rejects.of_faults(numbered.faults) + rejects
        yield numbered.rows_read, valid, rejects

"""Validates and parses one raw record batch, vectorised (Arrow compute + numpy).

Each row is either valid (becomes part of a ``Chunk``) or rejected with exactly one
reason: a row fault found while reading (``reading.RowFault``: a cut last row, a wrong
number of fields), else the first failing check in the order invalid UTF-8, missing
field, unparsable timestamp, date outside the file's day (the local date in the city's
time zone is not the day in the file name), unknown direction, unknown vehicle type,
unparsable number (lane / speed).

Local day and hour come from the UTC instant in the city's IANA time zone
(``local_calendar``, vectorised, DST-correct; ``predict`` uses it too).
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.traffic_example_gen import accounting, reading
from components.traffic_example_gen.chunks import MICROS_PER_SECOND, NO_LANE, Chunk
from components.traffic_example_gen.splits import SplitRule, yyyymmdd
from transforms import features


@dataclasses.dataclass
class LocalCalendar:
    """Local calendar fields of a batch of instants."""

    day_of_week: np.ndarray  # int8, 0 = Monday
    hour: np.ndarray  # int8, 0-23
    yyyymmdd: np.ndarray  # int32 local date, e.g. 20260329


def check_timezone(timezone: str) -> None:
    """Raises ValueError unless ``timezone`` is a known IANA zone name."""
    try:
        zoneinfo.ZoneInfo(timezone)
        pc.hour(pa.array([0], pa.timestamp("us", tz=timezone)))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pa.ArrowException) as e:
        raise ValueError(f"timezone={timezone!r} is not a known IANA time zone") from e


def local_calendar(ts_us: np.ndarray, timezone: str) -> LocalCalendar:
    """Local day of week, hour and date of UTC epoch-microsecond instants."""
    local = pa.array(np.asarray(ts_us, dtype=np.int64), pa.timestamp("us", tz=timezone))
    ymd = (
        pc.year(local).to_numpy().astype(np.int32) * 10_000
        + pc.month(local).to_numpy().astype(np.int32) * 100
        + pc.day(local).to_numpy().astype(np.int32)
    )
    return LocalCalendar(
        day_of_week=pc.day_of_week(local).to_numpy().astype(np.int8),
        hour=pc.hour(local).to_numpy().astype(np.int8),
        yyyymmdd=ymd,
    )


ISO_PATTERN = (
    r"^\d{4}-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d:[0-6]\d(\.\d{1,9})?"
    r"(Z|z|[+-][0-2]\d(:?[0-5]\d)?)$"
)
EPOCH_PATTERN = r"^[+-]?\d{1,12}(\.\d{1,9})?$"
INT_PATTERN = r"^[+-]?\d{1,18}$"
FLOAT_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$"
# Instants outside [1900, 2200) are rejected (catches epoch milliseconds).
MIN_TS_US = -2_208_988_800 * MICROS_PER_SECOND
MAX_TS_US = 7_258_118_400 * MICROS_PER_SECOND


@dataclasses.dataclass
class Rejects:
    """Rejected rows of a batch: 1-based row numbers, field, reason and raw value."""

    rows: np.ndarray
    fields: list[str]
    reasons: list[str]
    values: list[str]

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def of_faults(cls, faults: list[reading.RowFault]) -> Rejects:
        """The rows rejected while reading (every field: ``*``; value: the raw row)."""
        return cls(
            rows=np.asarray([f.row for f in faults], dtype=np.int64),
            fields=["*"] * len(faults),
            reasons=[f.reason for f in faults],
            values=[f.text for f in faults],
        )

    def __add__(self, other: Rejects) -> Rejects:
        return Rejects(
            rows=np.concatenate([self.rows, other.rows]).astype(np.int64),
            fields=self.fields + other.fields,
            reasons=self.reasons + other.reasons,
            values=self.values + other.values,
        )

    def records(self, file_name: str) -> list[dict]:
        """One JSON-able dict per rejected row."""
        return [
            {"file": file_name, "row": int(r), "field": f, "reason": why, "value": v}
            for r, f, why, v in zip(self.rows, self.fields, self.reasons, self.values, strict=True)
        ]


@dataclasses.dataclass
class ParsedBatch:
    """The valid rows of a batch (with their keys) and the rejected ones."""

    intersection: np.ndarray  # object array of str, aligned with chunk
    direction: np.ndarray  # object array of str, aligned with chunk
    chunk: Chunk
    rejects: Rejects


def matches(array: pa.Array, pattern: str) -> np.ndarray:
    """Mask of string values that match the regex ``pattern`` (null: False)."""
    return pc.fill_null(pc.match_substring_regex(array, pattern), False).to_numpy(
        zero_copy_only=False
    )


def as_strings(array: pa.Array) -> pa.Array:
    """The array cast to Arrow strings (unchanged if it already is)."""
    return array if pa.types.is_string(array.type) else pc.cast(array, pa.string())


def is_present(array: pa.Array) -> np.ndarray:
    """Non-null and, for strings, non-empty."""
    present = array.is_valid()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        present = pc.and_(present, pc.fill_null(pc.not_equal(array, ""), False))
    return present.to_numpy(zero_copy_only=False)


def _iso_to_us(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Casts ISO-8601-with-offset strings; falls back per value if one is not a date."""
    try:
        ns = pc.cast(strings, pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy()
        return ns // 1000, np.ones(len(strings), dtype=bool)
    except pa.ArrowInvalid:
        us = np.zeros(len(strings), dtype=np.int64)
        ok = np.zeros(len(strings), dtype=bool)
        for i in range(len(strings)):
            try:
                ns = pc.cast(strings[i : i + 1], pa.timestamp("ns", tz="UTC"))
                us[i] = ns.cast(pa.int64())[0].as_py() // 1000
                ok[i] = True
            except pa.ArrowInvalid:
                pass
        return us, ok


def parse_timestamps(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch microseconds and an ok-mask for ISO-with-offset / epoch-second values.

    Arrow timestamp columns need a time zone (one without is as ambiguous as a CSV
    timestamp without an offset, and is rejected the same way); numeric columns are
    epoch seconds.
    """
    n = len(array)
    us = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    kind = array.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            return us, ok
        ok = array.is_valid().to_numpy(zero_copy_only=False)
        values = pc.cast(array, pa.timestamp("us", tz=kind.tz)).cast(pa.int64())
        us = pc.fill_null(values, 0).to_numpy()
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        seconds = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy()
        ok = np.isfinite(seconds)
        us[ok] = np.round(seconds[ok] * MICROS_PER_SECOND).astype(np.int64)
    else:
        strings = as_strings(array)
        iso = matches(strings, ISO_PATTERN)
        if iso.any():
            us[iso], ok[iso] = _iso_to_us(strings.filter(pa.array(iso)))
        epoch = matches(strings, EPOCH_PATTERN)
        if epoch.any():
            seconds = pc.cast(strings.filter(pa.array(epoch)), pa.float64()).to_numpy()
            us[epoch] = np.round(seconds * MICROS_PER_SECOND).astype(np.int64)
            ok[epoch] = True
    ok &= (us >= MIN_TS_US) & (us < MAX_TS_US)
    return us, ok


def parse_lanes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Lane numbers (NO_LANE where absent) and a mask of present-but-unparsable values."""
    present = is_present(array)
    lanes = np.full(len(array), NO_LANE, dtype=np.int64)
    if pa.types.is_integer(array.type):
        lanes[present] = pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy()[present]
        return lanes, np.zeros(len(array), dtype=bool)
    if pa.types.is_floating(array.type):
        values = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy()
        good = present & np.isfinite(values) & (np.round(values) == values)
        lanes[good] = values[good].astype(np.int64)
        return lanes, present & ~good
    strings = as_strings(array)
    good = present & matches(strings, INT_PATTERN)
    if good.any():
        lanes[good] = pc.cast(strings.filter(pa.array(good)), pa.int64()).to_numpy()
    return lanes, present & ~good


def parse_speeds(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Finite speeds (NaN where absent) and a mask of present-but-unparsable values."""
    present = is_present(array)
    speeds = np.full(len(array), np.nan)
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        values = pc.fill_null(pc.cast(array, pa.float64()), np.nan).to_numpy()
        good = present & np.isfinite(values)
        speeds[good] = values[good]
        return speeds, present & ~good
    strings = as_strings(array)
    good = present & matches(strings, FLOAT_PATTERN)
    if good.any():
        speeds[good] = pc.cast(strings.filter(pa.array(good)), pa.float64()).to_numpy()
    good &= np.isfinite(speeds)
    return speeds, present & ~good


def codes(array: pa.Array, values: tuple[str, ...]) -> np.ndarray:
    """Index of each value in ``values``; -1 if unknown or null."""
    index = pc.index_in(as_strings(array), value_set=pa.array(values))
    return pc.fill_null(index, -1).to_numpy().astype(np.int8)


def null_column(n: int) -> pa.Array:
    """An all-null string column (stands in for an absent optional column)."""
    return pa.nulls(n, pa.string())


def decode_utf8(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Binary (raw CSV) cells as strings, and a mask of cells that are not valid UTF-8.

    An invalid cell keeps its bytes, escaped (``\\xff``), so a reject can show it.
    Other column types pass through unchanged.
    """
    n = len(array)
    if not (pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)):
        return array, np.zeros(n, dtype=bool)
    try:
        return pc.cast(array, pa.string()), np.zeros(n, dtype=bool)
    except pa.ArrowInvalid:  # rare: find the bad cells one by one
        bad = np.zeros(n, dtype=bool)
        values = []
        for i, raw in enumerate(array.to_pylist()):
            try:
                values.append(None if raw is None else raw.decode("utf-8"))
            except UnicodeDecodeError:
                bad[i] = True
                values.append(raw.decode("utf-8", "backslashreplace"))
        return pa.array(values, pa.string()), bad


Check = tuple[np.ndarray, str, str]  # (rows failing it, field, reject reason)


def decode_columns(
    batch: pa.RecordBatch, field_names: list[str]
) -> tuple[dict[str, pa.Array], list[Check]]:
    """The UTF-8 string columns ``field_names`` of ``batch`` (absent ones all null) and
    their ``invalid_utf8`` checks."""
    names = batch.schema.names
    columns: dict[str, pa.Array] = {}
    checks: list[Check] = []
    for name in field_names:
        columns[name], bad_utf8 = decode_utf8(
            batch.column(names.index(name)) if name in names else null_column(batch.num_rows)
        )
        checks.append((bad_utf8, name, accounting.INVALID_UTF8))
    return columns, checks


def apply_checks(
    checks: list[Check],
    columns: dict[str, pa.Array],
    field_names: list[str],
    reasons: tuple[str, ...],
    rows: np.ndarray,
) -> tuple[Rejects, np.ndarray, np.ndarray]:
    """(rejects, mask of good rows, file row numbers): each bad row is rejected for the
    first check it fails, naming that check's field and the raw value."""
    n = len(next(iter(columns.values())))
    reason = np.full(n, -1, dtype=np.int16)
    field = np.full(n, -1, dtype=np.int16)
    for failed, name, why in reversed(checks):  # the first failing check wins
        reason[failed] = reasons.index(why)
        field[failed] = field_names.index(name)
    rows = np.asarray(rows, dtype=np.int64)
    bad = np.flatnonzero(reason >= 0)
    rejects = Rejects(
        rows=rows[bad],
        fields=[field_names[field[i]] for i in bad],
        reasons=[reasons[reason[i]] for i in bad],
        values=[raw_value(columns[field_names[field[i]]], int(i)) for i in bad],
    )
    return rejects, reason < 0, rows


def parse_batch(
    batch: pa.RecordBatch,
    *,
    file_index: int,
    rows: np.ndarray,
    timezone: str,
    split_rule: SplitRule,
    file_yyyymmdd: int,
) -> ParsedBatch:
    """Validates ``batch`` (its rows are the file's data rows ``rows``, 1-based; the file
    is of local day ``file_yyyymmdd``) and derives local calendar fields."""
    field_names = list(features.REQUIRED_RAW_COLUMNS + features.OPTIONAL_RAW_COLUMNS)
    columns, checks = decode_columns(batch, field_names)

    def column(name: str) -> pa.Array:
        return columns[name]

    for name in features.REQUIRED_RAW_COLUMNS:
        checks.append((~is_present(column(name)), name, accounting.MISSING_FIELD))
    ts_us, ts_ok = parse_timestamps(column(features.RAW_TIMESTAMP))
    checks.append((~ts_ok, features.RAW_TIMESTAMP, accounting.UNPARSABLE_TIMESTAMP))
    calendar = local_calendar(np.where(ts_ok, ts_us, 0), timezone)
    outside = ts_ok & (calendar.yyyymmdd != file_yyyymmdd)
    checks.append((outside, features.RAW_TIMESTAMP, accounting.DATE_OUTSIDE_FILE))
    direction_code = codes(column(features.RAW_DIRECTION), features.DIRECTIONS)
    checks.append((direction_code < 0, features.RAW_DIRECTION, accounting.UNKNOWN_DIRECTION))
    vehicle_code = codes(column(features.RAW_VEHICLE_TYPE), features.VEHICLE_TYPES)
    checks.append((vehicle_code < 0, features.RAW_VEHICLE_TYPE, accounting.UNKNOWN_VEHICLE_TYPE))
    lanes, bad_lane = parse_lanes(column(features.RAW_LANE))
    checks.append((bad_lane, features.RAW_LANE, accounting.UNPARSABLE_NUMBER))
    speeds, bad_speed = parse_speeds(column(features.RAW_SPEED))
    checks.append((bad_speed, features.RAW_SPEED, accounting.UNPARSABLE_NUMBER))
    rejects, good, rows = apply_checks(checks, columns, field_names, accounting.REASONS, rows)
    ts_good = ts_us[good]
    intersection = as_strings(column(features.RAW_INTERSECTION)).filter(pa.array(good))
    intersection = intersection.to_numpy(zero_copy_only=False)
    direction = np.asarray(features.DIRECTIONS, dtype=object)[direction_code[good]]
    chunk = Chunk(
        ts_us=ts_good,
        vehicle_type=vehicle_code[good],
        lane=lanes[good],
        speed=speeds[good],
        day_of_week=calendar.day_of_week[good],
        hour=calendar.hour[good],
        is_eval=split_rule.eval_mask(intersection, direction, ts_good, calendar.yyyymmdd[good]),
        file_index=np.full(len(ts_good), file_index, dtype=np.int32),
        row=rows[good],
    )
    return ParsedBatch(intersection=intersection, direction=direction, chunk=chunk, rejects=rejects)


def raw_value(array: pa.Array, i: int) -> str:
    """Value ``i`` as a reject shows it ('' for null)."""
    value = array[i].as_py()
    return "" if value is None else str(value)


def parse_daily_file(
    daily: reading.DailyFile, *, file_index: int, timezone: str, split_rule: SplitRule
) -> Iterator[tuple[int, ParsedBatch]]:
    """(rows read, parse) of each record batch of one daily events file, rows numbered
    from 1 across batches, as ExampleGen reads it; the rows rejected while reading (a cut
    last row, a wrong number of fields) are among the parse's rejects."""
    for numbered in reading.iter_record_batches(daily):
        parsed = parse_batch(
            numbered.batch,
            file_index=file_index,
            rows=numbered.rows,
            timezone=timezone,
            split_rule=split_rule,
            file_yyyymmdd=yyyymmdd(daily.day),
        )
        if numbered.faults:
            parsed.rejects = Rejects.of_faults(numbered.faults) + parsed.rejects
        yield numbered.rows_read, parsed

"""Wide tables to count records: one time column, one count column per direction.

Both sources are wide (a Seattle counter export, any ``wide-csv``); they differ only in
how they read the file and name the columns. Each row is checked in this order: the
intersection and vehicle type (flags or columns), the time (parsed, then resolved by
:class:`LocalHours`), then each count cell (blank = missing, no row). A row-level problem
rejects all the row's count values with one reason; a bad cell rejects that value only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from deploy.datasets.importers.records import (
    CountRecord,
    ImportStats,
    LocalHours,
    RowRejected,
    parse_count,
)
from deploy.datasets.importers.writer import check_intersection_id
from deploy.exit_codes import UsageError
from transforms import features

# A data row (1-based number) and its cells by column name, or why it cannot be read.
SourceRow = tuple[int, Mapping[str, object] | RowRejected]


@dataclass(frozen=True)
class WideSpec:
    """How to read one wide table."""

    time_column: str
    parse_time: Callable[[str], datetime]  # raises ValueError / TypeError
    directions: Mapping[str, int]  # count column -> index into features.DIRECTIONS
    zone: ZoneInfo
    intersection: str | None = None  # fixed id, or:
    intersection_column: str | None = None
    vehicle_type: int | None = None  # fixed index into features.VEHICLE_TYPES, or:
    type_column: str | None = None
    total_column: str | None = None  # when set, rows whose total disagrees are rejected

    def required_columns(self) -> list[str]:
        optional = (self.intersection_column, self.type_column, self.total_column)
        return [self.time_column, *self.directions, *(c for c in optional if c)]


def parse_direction(text: str) -> int:
    """``N``/``E``/``S``/``W`` (any case) as an index into features.DIRECTIONS."""
    value = text.strip().upper()
    if value not in features.DIRECTIONS:
        raise UsageError(f"direction {text!r} not in {', '.join(features.DIRECTIONS)}")
    return features.DIRECTIONS.index(value)


def check_columns(spec: WideSpec, columns: Iterable[str], file_name: str) -> None:
    """:class:`UsageError` naming the file and the first column it lacks."""
    present = set(columns)
    for column in spec.required_columns():
        if column not in present:
            raise UsageError(
                f"{file_name}: no column {column!r} (columns: {', '.join(sorted(present))})"
            )


def convert(rows: Iterable[SourceRow], spec: WideSpec, stats: ImportStats) -> list[CountRecord]:
    """Count records of ``rows``; rejects and missing values are counted in ``stats``."""
    hours = LocalHours(spec.zone)
    records: list[CountRecord] = []
    n_values = len(spec.directions)
    for row_number, row in rows:
        stats.rows += 1
        stats.values += n_values
        try:
            if isinstance(row, RowRejected):
                raise row
            records.extend(_row_records(row_number, row, spec, hours, stats))
        except RowRejected as err:
            stats.reject(row_number, err, n_values)
    stats.written = len(records)
    return records


def _row_records(
    row_number: int,
    row: Mapping[str, object],
    spec: WideSpec,
    hours: LocalHours,
    stats: ImportStats,
) -> list[CountRecord]:
    site = spec.intersection if spec.intersection is not None else _site(row, spec)
    vehicle_type = spec.vehicle_type if spec.vehicle_type is not None else _type(row, spec)
    local = hours.resolve(_time(row, spec), (site, vehicle_type), row_number, spec.time_column)
    values: dict[int, int] = {}
    bad: list[RowRejected] = []
    missing = 0
    for column, direction in spec.directions.items():
        try:
            count = parse_count(row.get(column), column)
        except RowRejected as err:
            bad.append(err)
            continue
        if count is None:
            missing += 1
        else:
            values[direction] = count
    if spec.total_column and not bad and not missing:
        total = parse_count(row.get(spec.total_column), spec.total_column)
        if total is not None and total != sum(values.values()):
            raise RowRejected(
                spec.total_column,
                f"total {total} != {sum(values.values())}, the sum of {', '.join(spec.directions)}",
            )
    for err in bad:
        stats.reject(row_number, err)
    stats.missing += missing
    utc_seconds = int(local.timestamp())
    return [
        CountRecord(utc_seconds, local, site, direction, vehicle_type, count)
        for direction, count in values.items()
    ]


def _cell_text(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    text = "" if value is None else str(value).strip()
    if not text:
        raise RowRejected(column, "blank")
    return text


def _site(row: Mapping[str, object], spec: WideSpec) -> str:
    site = _cell_text(row, spec.intersection_column)
    problem = check_intersection_id(site)
    if problem:
        raise RowRejected(spec.intersection_column, problem)
    return site


def _type(row: Mapping[str, object], spec: WideSpec) -> int:
    text = _cell_text(row, spec.type_column)
    if text not in features.VEHICLE_TYPES:
        raise RowRejected(
            spec.type_column,
            f"vehicle type {text!r} not in {', '.join(features.VEHICLE_TYPES)}",
        )
    return features.VEHICLE_TYPES.index(text)


def _time(row: Mapping[str, object], spec: WideSpec) -> datetime:
    text = _cell_text(row, spec.time_column)
    try:
        return spec.parse_time(text)
    except (ValueError, TypeError) as err:
        raise RowRejected(spec.time_column, f"cannot parse time {text!r}: {err}") from None


@dataclass(frozen=True)
class ImportOptions:
    """The ``import`` flags a source reads (None: not given)."""

    timezone: str | None = None
    directions: tuple[str, ...] = ()  # "COLUMN=DIR"
    intersection: str | None = None
    intersection_column: str | None = None
    vehicle_type: str | None = None
    type_column: str | None = None
    time_column: str | None = None
    time_format: str | None = None
    check_total: bool = False


def explicit_directions(options: ImportOptions) -> dict[str, int]:
    """``--direction COLUMN=DIR`` flags as column -> direction index."""
    mapping: dict[str, int] = {}
    for flag in options.directions:
        column, sep, direction = flag.rpartition("=")
        if not sep or not column.strip():
            raise UsageError(f"--direction {flag!r}: expected COLUMN=DIR, e.g. 'Fremont NB=N'")
        mapping[column.strip()] = parse_direction(direction)
    check_distinct(mapping, "--direction")
    return mapping


def check_distinct(mapping: Mapping[str, int], where: str) -> None:
    by_direction: dict[int, str] = {}
    for column, direction in mapping.items():
        if direction in by_direction:
            raise UsageError(
                f"{where}: columns {by_direction[direction]!r} and {column!r} both map to "
                f"{features.DIRECTIONS[direction]}; map one of them explicitly with "
                "--direction COLUMN=DIR"
            )
        by_direction[direction] = column


def fixed_intersection(path: Path, options: ImportOptions) -> str | None:
    """``--intersection``, else the file's stem unless ``--intersection-column`` is given."""
    if options.intersection is not None and options.intersection_column is not None:
        raise UsageError("pass --intersection or --intersection-column, not both")
    if options.intersection_column is not None:
        return None
    if options.intersection is not None:
        site, flag = options.intersection, "--intersection"
    else:
        name = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
        site, flag = name.rsplit(".", 1)[0] if "." in name else name, "the file's stem"
    problem = check_intersection_id(site)
    if problem:
        raise UsageError(f"{flag}: {problem}; pass --intersection ID")
    return site


def fixed_vehicle_type(options: ImportOptions, default: str | None) -> int | None:
    """``--vehicle-type`` (else ``default``) as an index, or None with ``--type-column``."""
    if options.vehicle_type is not None and options.type_column is not None:
        raise UsageError("pass --vehicle-type or --type-column, not both")
    if options.type_column is not None:
        return None
    vehicle_type = options.vehicle_type or default
    if vehicle_type is None:
        raise UsageError("pass --vehicle-type TYPE or --type-column COLUMN")
    if vehicle_type not in features.VEHICLE_TYPES:
        raise UsageError(
            f"--vehicle-type {vehicle_type!r} not in {', '.join(features.VEHICLE_TYPES)}"
        )
    return features.VEHICLE_TYPES.index(vehicle_type)

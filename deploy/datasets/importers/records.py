"""What every importer shares: count records, rejects and their accounting, local hours.

A source reads its file into rows; each row becomes :class:`CountRecord` s or is rejected
(:class:`Reject`: file, 1-based data row, field, reason). :class:`LocalHours` turns a local
wall-clock hour into an instant: the autumn hour that occurs twice gets the earlier UTC
instant (fold 0) the first time it appears in the file and the later one (fold 1) the
second time; an hour in the spring-forward gap, a time not on the hour or a third
occurrence is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deploy.exit_codes import UsageError


class CountRecord(NamedTuple):
    """One output row: vehicles of one type on one approach in one local hour."""

    utc_seconds: int  # the hour's start, epoch seconds
    hour_start: datetime  # aware, in the source's zone (fold set)
    intersection: str
    direction: int  # index into features.DIRECTIONS
    vehicle_type: int  # index into features.VEHICLE_TYPES
    count: int

    @property
    def local_date(self) -> date:
        return self.hour_start.date()


class RowRejected(ValueError):
    """A value or row that cannot be imported; ``field`` names the column."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class Reject:
    file: str
    row: int  # 1-based data row (the header is not a row)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.reason}"


@dataclass
class ImportStats:
    """Accounting in values (one per row and count column): read = written + rejected + missing."""

    file: str
    rows: int = 0
    values: int = 0
    written: int = 0
    rejected: int = 0
    missing: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def reject(self, row: int, err: RowRejected, values: int = 1) -> None:
        """Counts ``values`` rejected values of data row ``row`` with one reason."""
        self.rejected += values
        self.rejects.append(Reject(self.file, row, err.field, err.reason))

    @property
    def reject_fraction(self) -> float:
        return self.rejected / self.values if self.values else 0.0

    def summary(self) -> str:
        return (
            f"read {self.rows} rows ({self.values} values): {self.written} written, "
            f"{self.rejected} rejected, {self.missing} missing"
        )


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`UsageError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise UsageError(f"--timezone {name!r} is not an IANA time zone") from err


class LocalHours:
    """Resolves local wall-clock hours of one file to instants (DST-aware, in file order)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._seen: dict[tuple, list[int]] = {}

    def resolve(self, stamp: datetime, series: tuple, row: int, field_name: str) -> datetime:
        """The aware start of the hour ``stamp`` (naive = local wall clock; aware = an
        instant) for ``series`` (e.g. intersection and type); raises :class:`RowRejected`."""
        if stamp.minute or stamp.second or stamp.microsecond:
            raise RowRejected(field_name, f"{stamp.isoformat()} is not on the hour")
        if stamp.tzinfo is not None:
            local = stamp.astimezone(self.zone)
            key, ambiguous = (series, local.astimezone(timezone.utc)), False
        else:
            local = stamp.replace(tzinfo=self.zone, fold=0)
            back = local.astimezone(timezone.utc).astimezone(self.zone).replace(tzinfo=None)
            if back != stamp:
                raise RowRejected(
                    field_name,
                    f"{stamp.isoformat()} does not exist in {self.zone.key} (spring-forward gap)",
                )
            ambiguous = local.utcoffset() != local.replace(fold=1).utcoffset()
            key = (series, stamp)
        seen = self._seen.setdefault(key, [])
        if seen and not (ambiguous and len(seen) == 1):
            raise RowRejected(field_name, f"duplicate hour {stamp.isoformat()} (row {seen[0]})")
        if seen:  # the repeated autumn hour, second time: the later offset
            local = local.replace(fold=1)
        seen.append(row)
        return local


def parse_count(value: object, field_name: str) -> int | None:
    """A count cell: None if blank (missing), else an int >= 0; raises :class:`RowRejected`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RowRejected(field_name, f"count {value!r} is not a non-negative integer")
    if isinstance(value, int):
        if value < 0:
            raise RowRejected(field_name, f"count {value} is negative")
        return value
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if text.startswith("-") and text[1:].isascii() and text[1:].isdigit():
        raise RowRejected(field_name, f"count {text!r} is negative")
    raise RowRejected(field_name, f"count {text!r} is not a non-negative integer")

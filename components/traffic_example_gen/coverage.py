"""Likely truncated days: a daily file whose vehicles stop hours before midnight while the
files of its neighbouring days do not (e.g. a copy interrupted at 14:31 that still ends
with a complete line).

For each daily file with valid vehicles, ``hours_before_midnight`` is the time from its
last vehicle to the end of its local day. A file is a *likely truncated day* when the
median of the same figure over up to ``NEIGHBOUR_DAYS`` files on each side is at most
``NEIGHBOURS_MAX_HOURS`` (its neighbours run until about midnight: sparse data, where
any day may end early, is never judged, nor is a day with no neighbour) and the day ends
at least ``LIKELY_TRUNCATED_HOURS`` earlier than that median (so a quiet night every day
has is not reported). ExampleGen records the likely truncated days on its artifacts
(``LIKELY_TRUNCATED_DAYS``, shown in the run summary) and labels no vehicle across the
end of one (``labels.with_cuts_as_gaps``: it counts as ``unlabeled_before_gap``); the
config's ``data.max_missing_hours`` (``None``: report only) fails a run with a day missing
more hours than that -- the local CLI checks it before running, ExampleGen again.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import statistics
import zoneinfo

from components.traffic_example_gen import reading
from components.traffic_example_gen.chunks import MICROS_PER_SECOND
from components.traffic_example_gen.parsing import parse_daily_file
from components.traffic_example_gen.splits import SplitRule

LIKELY_TRUNCATED_HOURS = 3.0
NEIGHBOURS_MAX_HOURS = 2.0
NEIGHBOUR_DAYS = 3
# The string custom property of the Examples artifact: a JSON list of ShortDay dicts.
LIKELY_TRUNCATED_DAYS = "likely_truncated_days"
# counts.json key of a file's last valid vehicle (epoch microseconds; one file, one value).
_LAST_VEHICLE_PREFIX = "file_last_vehicle_us:"
_MICROS_PER_HOUR = 3600 * MICROS_PER_SECOND


@dataclasses.dataclass(frozen=True)
class ShortDay:
    """A likely truncated day."""

    file: str
    last_vehicle: str  # local time of its last vehicle, ISO-8601 with offset
    hours_before_midnight: float
    neighbours_hours_before_midnight: float  # the median over its neighbouring days
    missing_hours: float  # the difference

    def describe(self) -> str:
        return (
            f"{self.file}: last vehicle at {self.last_vehicle}, "
            f"{self.hours_before_midnight:.1f} h before midnight while its neighbouring days' "
            f"last vehicles are {self.neighbours_hours_before_midnight:.1f} h before"
        )


def last_vehicle_key(path: str) -> str:
    """The counts key of the last valid vehicle of the file at ``path``."""
    return f"{_LAST_VEHICLE_PREFIX}{path}"


def last_vehicles_of(counts: dict[str, int]) -> dict[str, int]:
    """{file: last valid vehicle, epoch microseconds} from ExampleGen's summed counts."""
    n = len(_LAST_VEHICLE_PREFIX)
    return {k[n:]: v for k, v in counts.items() if k.startswith(_LAST_VEHICLE_PREFIX)}


def scan_last_vehicles(
    files: list[reading.DailyFile], timezone: str, split_rule: SplitRule
) -> dict[str, int]:
    """{file: last valid vehicle} of daily events files, parsed as ExampleGen parses them."""
    last: dict[str, int] = {}
    for index, daily in enumerate(files):
        for _, parsed in parse_daily_file(
            daily, file_index=index, timezone=timezone, split_rule=split_rule
        ):
            if len(parsed.chunk):
                last[daily.path] = max(last.get(daily.path, 0), int(parsed.chunk.ts_us.max()))
    return last


def likely_truncated_days(
    files: list[reading.DailyFile], last_vehicles: dict[str, int], timezone: str
) -> list[ShortDay]:
    """The likely truncated days among ``files`` (day order), given each file's last
    valid vehicle (files without one are left out)."""
    zone = zoneinfo.ZoneInfo(timezone)
    days = [f for f in files if f.path in last_vehicles]
    before = []
    for daily in days:
        midnight = datetime.datetime.combine(
            daily.day + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone
        )
        end_us = int(midnight.timestamp()) * MICROS_PER_SECOND
        before.append((end_us - last_vehicles[daily.path]) / _MICROS_PER_HOUR)
    short = []
    for i, daily in enumerate(days):
        neighbours = before[max(0, i - NEIGHBOUR_DAYS) : i] + before[i + 1 : i + 1 + NEIGHBOUR_DAYS]
        if not neighbours:
            continue
        typical = statistics.median(neighbours)
        if typical > NEIGHBOURS_MAX_HOURS or before[i] - typical < LIKELY_TRUNCATED_HOURS:
            continue
        last = datetime.datetime.fromtimestamp(last_vehicles[daily.path] / MICROS_PER_SECOND, zone)
        short.append(
            ShortDay(
                file=daily.path,
                last_vehicle=last.isoformat(timespec="minutes"),
                hours_before_midnight=round(before[i], 2),
                neighbours_hours_before_midnight=round(typical, 2),
                missing_hours=round(before[i] - typical, 2),
            )
        )
    return short


def cut_file_indices(
    files: list[reading.DailyFile], last_by_index: dict[int, int], timezone: str
) -> list[int]:
    """Indices in ``files`` of the likely truncated days, given {file index: last
    vehicle} (what ExampleGen's labelling stages get as a side input)."""
    last = {files[i].path: v for i, v in last_by_index.items()}
    cut = {d.file for d in likely_truncated_days(files, last, timezone)}
    return [i for i, f in enumerate(files) if f.path in cut]


def to_json(days: list[ShortDay]) -> str:
    return json.dumps([dataclasses.asdict(d) for d in days], sort_keys=True)


def from_json(text: str) -> list[ShortDay]:
    return [ShortDay(**d) for d in json.loads(text or "[]")]


def check_missing_hours(days: list[ShortDay], max_missing_hours: float | None) -> None:
    """Raises ValueError naming the first day missing more than ``max_missing_hours``."""
    if max_missing_hours is None:
        return
    for day in days:
        if day.missing_hours > max_missing_hours:
            raise ValueError(
                f"{day.describe()}: {day.missing_hours:.1f} missing hours, more than "
                f"data.max_missing_hours={max_missing_hours:g}; the file looks cut "
                "(truncated): restore it, or raise data.max_missing_hours"
            )

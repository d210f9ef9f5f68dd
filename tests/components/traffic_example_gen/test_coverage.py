"""Likely truncated days: a day whose vehicles stop hours before its neighbours' do."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from components.traffic_example_gen import coverage
from components.traffic_example_gen.reading import CSV, DailyFile

LONDON = "Europe/London"


def _days(last_local: dict[str, str]) -> tuple[list[DailyFile], dict[str, int]]:
    """Daily files and their last vehicles, from {day: local time of its last vehicle}."""
    zone = zoneinfo.ZoneInfo(LONDON)
    files, last = [], {}
    for day, time in last_local.items():
        path = f"/in/{day}.csv"
        files.append(DailyFile(path, datetime.date.fromisoformat(day), CSV))
        stamp = datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)
        last[path] = int(stamp.timestamp()) * 1_000_000
    return files, last


def test_a_day_cut_in_the_afternoon_is_named_and_its_neighbours_are_not():
    files, last = _days(
        {
            "2026-03-16": "23:58",
            "2026-03-17": "14:31",
            "2026-03-18": "23:48",
            "2026-03-19": "23:56",
        }
    )
    (short,) = coverage.likely_truncated_days(files, last, LONDON)
    assert short.file == "/in/2026-03-17.csv"
    assert short.last_vehicle == "2026-03-17T14:31+00:00"
    assert short.missing_hours == pytest.approx(9.5 - 0.07, abs=0.05)
    assert coverage.from_json(coverage.to_json([short])) == [short]
    coverage.check_missing_hours([short], None)  # report only
    coverage.check_missing_hours([short], 10)
    with pytest.raises(
        ValueError, match=r"2026-03-17\.csv: last vehicle at .* data\.max_missing_hours=2"
    ):
        coverage.check_missing_hours([short], 2)


def test_quiet_nights_sparse_data_and_a_lone_day_are_not_reported():
    files, last = _days({"2026-03-16": "23:00", "2026-03-17": "22:30", "2026-03-18": "23:10"})
    assert coverage.likely_truncated_days(files, last, LONDON) == []
    # Sparse: the neighbours themselves end hours before midnight, so nothing is judged.
    files, last = _days({"2026-03-16": "23:00", "2026-03-17": "10:00", "2026-03-18": "12:00"})
    assert coverage.likely_truncated_days(files, last, LONDON) == []
    files, last = _days({"2026-03-16": "08:00"})
    assert coverage.likely_truncated_days(files, last, LONDON) == []


def test_midnight_is_local_across_the_spring_change():
    # 2026-03-29 has 23 hours in London: its midnight is 23:00 UTC.
    files, last = _days({"2026-03-28": "23:55", "2026-03-29": "23:55", "2026-03-30": "23:55"})
    assert coverage.likely_truncated_days(files, last, LONDON) == []

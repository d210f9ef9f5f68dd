"""Local day/hour derivation across London's 2026 DST changes."""

from __future__ import annotations

import datetime
import zoneinfo

import numpy as np
import pytest

from components.traffic_example_gen.parsing import check_timezone, local_calendar

UTC = datetime.timezone.utc


def _us(*args) -> int:
    return int(datetime.datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


def test_spring_forward_skips_local_hour_1():
    cal = local_calendar(
        np.array([_us(2026, 3, 29, 0, 59, 59), _us(2026, 3, 29, 1, 0, 0)]), "Europe/London"
    )
    assert cal.hour.tolist() == [0, 2]  # 00:59 GMT, then 02:00 BST
    assert cal.day_of_week.tolist() == [6, 6]  # Sunday
    assert cal.yyyymmdd.tolist() == [20260329, 20260329]


def test_fall_back_repeats_local_hour_1():
    instants = [_us(2026, 10, 24, 23, 30), _us(2026, 10, 25, 0, 30), _us(2026, 10, 25, 1, 30)]
    cal = local_calendar(np.array(instants), "Europe/London")
    assert cal.hour.tolist() == [0, 1, 1]  # 00:30 BST, 01:30 BST, 01:30 GMT
    assert cal.day_of_week.tolist() == [6, 6, 6]
    assert cal.yyyymmdd.tolist() == [20261025] * 3


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney"])
def test_matches_zoneinfo_every_7_minutes_around_dst_days(zone):
    start = _us(2026, 3, 27)
    step = 7 * 60 * 1_000_000
    ts = np.concatenate(
        [
            np.arange(start, start + 4 * 86_400_000_000, step),
            np.arange(_us(2026, 10, 23), _us(2026, 10, 27), step),
            np.arange(_us(2026, 4, 3), _us(2026, 4, 7), step),
        ]
    )
    cal = local_calendar(ts, zone)
    tz = zoneinfo.ZoneInfo(zone)
    expected = [datetime.datetime.fromtimestamp(t / 1e6, tz) for t in ts.tolist()]
    assert cal.hour.tolist() == [e.hour for e in expected]
    assert cal.day_of_week.tolist() == [e.weekday() for e in expected]
    assert cal.yyyymmdd.tolist() == [e.year * 10000 + e.month * 100 + e.day for e in expected]


def test_unknown_timezone_is_rejected():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        check_timezone("Mars/Olympus")

"""Local hours (gap, repeated hour, duplicates, offsets) and count cells, against zoneinfo."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from deploy.datasets.importers.records import LocalHours, RowRejected, parse_count

SEATTLE = ZoneInfo("America/Los_Angeles")


def test_repeated_autumn_hour_first_earlier_offset_then_later():
    hours = LocalHours(SEATTLE)
    wall = datetime(2019, 11, 3, 1)
    first = hours.resolve(wall, ("site", 3), 1, "Date")
    other_series = hours.resolve(wall, ("other", 3), 2, "Date")
    second = hours.resolve(wall, ("site", 3), 3, "Date")
    assert first.isoformat() == other_series.isoformat() == "2019-11-03T01:00:00-07:00"
    assert second.isoformat() == "2019-11-03T01:00:00-08:00"
    assert second.timestamp() - first.timestamp() == 3600
    assert first.astimezone(timezone.utc) == datetime(2019, 11, 3, 8, tzinfo=timezone.utc)
    with pytest.raises(RowRejected, match=r"duplicate hour 2019-11-03T01:00:00 \(row 1\)"):
        hours.resolve(wall, ("site", 3), 4, "Date")


def test_gap_not_on_the_hour_and_plain_duplicates_are_rejected():
    hours = LocalHours(SEATTLE)
    with pytest.raises(RowRejected, match="does not exist in America/Los_Angeles") as err:
        hours.resolve(datetime(2019, 3, 10, 2), (), 1, "Date")
    assert err.value.field == "Date"
    with pytest.raises(RowRejected, match="not on the hour"):
        hours.resolve(datetime(2019, 3, 10, 3, 30), (), 2, "Date")
    assert hours.resolve(datetime(2019, 3, 10, 3), (), 3, "Date").isoformat() == (
        "2019-03-10T03:00:00-07:00"
    )
    with pytest.raises(RowRejected, match=r"duplicate hour .*\(row 3\)"):
        hours.resolve(datetime(2019, 3, 10, 3), (), 4, "Date")


def test_every_hour_of_a_year_matches_zoneinfo():
    """Walking UTC hours through 2019 in file order gives back each instant exactly."""
    hours = LocalHours(SEATTLE)
    instant = datetime(2019, 1, 1, 8, tzinfo=timezone.utc)
    for row in range(1, 365 * 24 + 1):
        local = instant.astimezone(SEATTLE)
        got = hours.resolve(local.replace(tzinfo=None, fold=0), (), row, "Date")
        assert got.astimezone(timezone.utc) == instant
        assert got.isoformat() == local.isoformat()
        instant += timedelta(hours=1)


def test_aware_times_are_instants():
    hours = LocalHours(ZoneInfo("Europe/London"))
    got = hours.resolve(datetime.fromisoformat("2026-10-25T01:00:00+00:00"), (), 1, "t")
    assert got.isoformat() == "2026-10-25T01:00:00+00:00"
    got = hours.resolve(datetime.fromisoformat("2026-10-25T00:00:00+00:00"), (), 2, "t")
    assert got.isoformat() == "2026-10-25T01:00:00+01:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), (" 17 ", 17), (5, 5), ("", None), ("  ", None), (None, None)],
)
def test_counts(value, expected):
    assert parse_count(value, "c") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "count '-1' is negative"),
        (-2, "count -2 is negative"),
        ("1.5", "count '1.5' is not a non-negative integer"),
        ("1e3", "count '1e3' is not a non-negative integer"),
        (2.0, "count 2.0 is not a non-negative integer"),
        (True, "count True is not a non-negative integer"),
        ("١٢", "count '١٢' is not a non-negative integer"),
    ],
)
def test_bad_counts(value, reason):
    with pytest.raises(RowRejected) as err:
        parse_count(value, "col")
    assert (err.value.field, err.value.reason) == ("col", reason)

"""The rolling window's resolution: days present, missing, as-of, DST days, the clock."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from components.traffic_example_gen import fingerprints, inputs, window
from components.traffic_example_gen.window import WindowError, resolve_window

UTC = datetime.timezone.utc
LONDON = "Europe/London"


def day(s: str) -> datetime.date:
    return datetime.date.fromisoformat(s)


def days(first: str, n: int, skip: tuple[str, ...] = ()) -> list[datetime.date]:
    start = day(first)
    out = [start + datetime.timedelta(days=i) for i in range(n)]
    return [d for d in out if d.isoformat() not in skip]


def at(s: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(s).replace(tzinfo=UTC)


def test_newest_complete_days_and_the_summary_form():
    w = resolve_window(days("2026-03-10", 40), 28, LONDON, at("2026-06-01T12:00"))
    assert (w.first, w.last) == (day("2026-03-22"), day("2026-04-18"))
    assert len(w.present) == 28 and w.missing == ()
    line = window.summary_line(w.first.isoformat(), w.last.isoformat(), w.n_days, 28, 0)
    assert line == "window: 2026-03-22..2026-04-18 (28 days), ingested 28, reused 0"


def test_today_and_future_files_are_not_complete():
    # 2026-04-12 is still running in London at 22:30 UTC (23:30 BST); its file is ignored.
    present = days("2026-03-01", 50)
    w = resolve_window(present, 7, LONDON, at("2026-04-12T22:30"))
    assert w.last == day("2026-04-11")
    # At 23:00 UTC (midnight BST) it has ended.
    assert resolve_window(present, 7, LONDON, at("2026-04-12T23:00")).last == day("2026-04-12")


def test_missing_days_are_listed_and_checked():
    present = days("2026-03-16", 28, skip=("2026-03-20", "2026-04-01"))
    w = resolve_window(present, 28, LONDON, at("2026-05-01T00:00"))
    assert w.missing == (day("2026-03-20"), day("2026-04-01"))
    assert len(w.present) == 26
    window.check_missing(w, 2)
    with pytest.raises(WindowError, match=r"2 day\(s\) missing \(2026-03-20, 2026-04-01\)"):
        window.check_missing(w, 1)


def test_a_missing_newest_day_ends_the_window_earlier():
    # The newest file is 04-10: the window ends there (04-11 is not counted missing).
    present = days("2026-03-01", 41)
    w = resolve_window(present, 5, LONDON, at("2026-04-13T00:00"))
    assert (w.last, w.missing) == (day("2026-04-10"), ())


def test_as_of_selects_the_days_ending_there_and_ignores_later_files():
    present = days("2026-03-01", 60)
    w = resolve_window(present, 10, LONDON, at("2026-06-01T00:00"), as_of=day("2026-03-20"))
    assert (w.first, w.last, w.missing) == (day("2026-03-11"), day("2026-03-20"), ())
    # as_of beyond the last file: the days without a file are missing.
    w = resolve_window(present, 10, LONDON, at("2026-06-01T00:00"), as_of=day("2026-05-02"))
    assert w.missing == (day("2026-04-30"), day("2026-05-01"), day("2026-05-02"))


def test_as_of_must_have_ended():
    with pytest.raises(WindowError, match="as_of 2026-04-12 has not ended yet in Europe/London"):
        resolve_window(days("2026-03-01", 50), 7, LONDON, at("2026-04-12T12:00"), day("2026-04-12"))


@pytest.mark.parametrize(
    ("timezone", "dst_day", "hours"),
    [
        ("Europe/London", "2026-03-29", 23),  # spring forward at 01:00
        ("Europe/London", "2026-10-25", 25),  # fall back at 02:00
        ("America/Santiago", "2026-09-06", 23),  # spring forward at 24:00: no midnight
    ],
)
def test_dst_days_end_at_the_next_local_midnight(timezone, dst_day, hours):
    d = day(dst_day)
    start = window.day_end_utc(d - datetime.timedelta(days=1), timezone)
    end = window.day_end_utc(d, timezone)
    assert (end - start) == datetime.timedelta(hours=hours)
    present = days(dst_day, 1)
    assert not window.is_complete(d, timezone, end - datetime.timedelta(seconds=1))
    w = resolve_window(present + days("2026-01-01", 3), 3, timezone, end)
    assert (w.last, w.n_days) == (d, 3)


def test_no_complete_day_and_bad_arguments():
    with pytest.raises(WindowError, match="no complete local day"):
        resolve_window([day("2026-04-12")], 7, LONDON, at("2026-04-12T10:00"))
    with pytest.raises(WindowError, match="window_days must be >= 1"):
        resolve_window([day("2026-04-12")], 0, LONDON, at("2026-05-01T00:00"))
    with pytest.raises(WindowError, match="as_of='12/04/2026'"):
        window.parse_as_of("12/04/2026")


def test_select_window_reads_the_data_root_and_fingerprints_content(tmp_path):
    header = "timestamp,intersection_id,direction,vehicle_type\n"
    for d in days("2026-03-01", 6, skip=("2026-03-03",)):
        (tmp_path / f"{d.isoformat()}.csv").write_text(header)
    (tmp_path / "notes.txt").write_text("ignored")
    files, w = inputs.select_window(
        str(tmp_path), 4, LONDON, at("2026-04-01T00:00"), max_missing_days=1
    )
    assert [f.day.isoformat() for f in files] == ["2026-03-04", "2026-03-05", "2026-03-06"]
    assert w.missing == (day("2026-03-03"),)
    with pytest.raises(ValueError, match=r"missing \(2026-03-03\)"):
        inputs.select_window(str(tmp_path), 4, LONDON, at("2026-04-01T00:00"))

    before = json.loads(fingerprints.fingerprints_json(files))
    assert before["2026-03-04"]["size"] == len(header)
    # A rewritten day with the same size and mtime still gets a new fingerprint.
    path = tmp_path / "2026-03-05.csv"
    stat = path.stat()
    path.write_text(header.replace("timestamp", "timestampX")[: len(header)])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = json.loads(fingerprints.fingerprints_json(files))
    assert after["2026-03-05"]["size"] == before["2026-03-05"]["size"]
    assert after["2026-03-05"]["sha256"] != before["2026-03-05"]["sha256"]
    assert after["2026-03-04"] == before["2026-03-04"]

"""Missing input days: no headway is ever measured across a day that has no file.

Real Beam runs of the executor on daily files for 2026-04-01, 02, 04, 05 and 06
(London, BST = UTC+1): 2026-04-03 has no file. A file that exists but has no row of
an approach is a quiet day for it, and headways across it are real.
"""

from __future__ import annotations

import datetime

import pytest

from components.traffic_example_gen import accounting as acc
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    run_executor,
    write_csv,
)
from transforms import features as f

DAYS = {
    "2026-04-01.csv": [
        ("2026-04-01T08:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-01T23:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-01T09:00:00+01:00", "B", "E", "bus", 1, 30),
        ("2026-04-01T10:00:00+01:00", "C", "S", "car", 1, 30),
    ],
    "2026-04-02.csv": [
        ("2026-04-02T00:30:00+01:00", "A", "N", "car", 1, 30),  # UTC day 04-01
        ("2026-04-02T23:30:00+01:00", "A", "N", "truck", 1, 30),  # before the gap
        ("2026-04-02T09:00:00+01:00", "B", "E", "car", 1, 30),  # before the gap
    ],
    # no 2026-04-03
    "2026-04-04.csv": [
        ("2026-04-04T00:30:00+01:00", "A", "N", "car", 1, 30),  # UTC day 04-03
        ("2026-04-04T09:00:00+01:00", "B", "E", "car", 1, 30),
        ("2026-04-04T10:00:00+01:00", "C", "S", "car", 1, 30),
    ],
    "2026-04-05.csv": [("2026-04-05T12:00:00+01:00", "A", "N", "car", 1, 30)],  # no B/E
    "2026-04-06.csv": [
        ("2026-04-06T12:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-06T08:00:00+01:00", "B", "E", "car", 1, 30),
    ],
}
ROWS = sum(len(rows) for rows in DAYS.values())
HOUR = 3600
DAY = 24 * HOUR


def _epoch(iso: str) -> int:
    return int(datetime.datetime.fromisoformat(iso).timestamp())


def _run(tmp_path, days: dict) -> tuple[dict, dict]:
    """{(intersection, direction): [(local ISO time, label), ...]} and the int properties."""
    data = tmp_path / "in"
    data.mkdir()
    for name, rows in days.items():
        write_csv(data / name, rows)
    examples, rejects = run_executor(data, tmp_path / "out")
    props = int_properties(examples)
    assert props == int_properties(rejects)
    by_approach: dict[tuple, list] = {}
    for row in read_examples(examples, "train") + read_examples(examples, "eval"):
        by_approach.setdefault((row[f.INTERSECTION], row[f.DIRECTION]), []).append(
            (row[f.TIMESTAMP_UTC], row[f.SECONDS_TO_NEXT_VEHICLE])
        )
    return {k: sorted(v) for k, v in by_approach.items()}, props


def test_no_label_spans_a_missing_day(tmp_path):
    got, props = _run(tmp_path, DAYS)
    assert got[("A", "N")] == [
        (_epoch("2026-04-01T08:00:00+01:00"), 15 * HOUR),
        (_epoch("2026-04-01T23:00:00+01:00"), 1.5 * HOUR),  # day 1's last: into day 2
        (_epoch("2026-04-02T00:30:00+01:00"), 23 * HOUR),
        # 2026-04-02T23:30 is the last vehicle before the missing day: no example
        (_epoch("2026-04-04T00:30:00+01:00"), DAY + 11.5 * HOUR),
        (_epoch("2026-04-05T12:00:00+01:00"), DAY),
    ]
    assert got[("B", "E")] == [
        (_epoch("2026-04-01T09:00:00+01:00"), DAY),
        # 2026-04-02T09:00: before the missing day; 04-04 -> 04-06 across the quiet 04-05
        (_epoch("2026-04-04T09:00:00+01:00"), 2 * DAY - HOUR),
    ]
    # C/S on 04-01 is next seen on 04-04: across the quiet 04-02 and the missing 04-03
    assert ("C", "S") not in got
    assert props[acc.UNLABELED_BEFORE_GAP] == 3  # A/N and B/E on 04-02, C/S on 04-01
    assert props[acc.UNLABELED_LAST_VEHICLES] == 3  # one per approach
    assert props[acc.ROWS_READ] == ROWS == 13
    assert (
        props[acc.EXAMPLES_TRAIN]
        + props[acc.EXAMPLES_EVAL]
        + props[acc.REJECTED_TOTAL]
        + props[acc.UNLABELED_LAST_VEHICLES]
        + props[acc.UNLABELED_BEFORE_GAP]
    ) == props[acc.ROWS_READ]
    assert props[acc.EXAMPLES_TRAIN] + props[acc.EXAMPLES_EVAL] == 7


@pytest.mark.parametrize("quiet_day", [[], [("2026-04-03T12:00:00+01:00", "Z", "W", "car", 1, 30)]])
def test_a_day_whose_file_exists_is_crossed(tmp_path, quiet_day):
    """With a file for 2026-04-03 (header only, or rows of another approach) every
    vehicle but each approach's last is labelled, across it."""
    got, props = _run(tmp_path, {**DAYS, "2026-04-03.csv": quiet_day})
    a_north = dict(got[("A", "N")])
    assert a_north[_epoch("2026-04-02T23:30:00+01:00")] == DAY + HOUR
    assert dict(got[("B", "E")])[_epoch("2026-04-02T09:00:00+01:00")] == 2 * DAY
    assert got[("C", "S")] == [(_epoch("2026-04-01T10:00:00+01:00"), 3 * DAY)]
    assert props[acc.UNLABELED_BEFORE_GAP] == 0
    assert props[acc.UNLABELED_LAST_VEHICLES] == 3 + len(quiet_day)
    assert props[acc.EXAMPLES_TRAIN] + props[acc.EXAMPLES_EVAL] == 10


CUT = {  # 2026-04-02 stops at 14:10 while its neighbours run until about midnight
    "2026-04-01.csv": [
        ("2026-04-01T08:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-01T23:30:00+01:00", "A", "N", "car", 1, 30),
    ],
    "2026-04-02.csv": [
        ("2026-04-02T08:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-02T14:00:00+01:00", "A", "N", "car", 1, 30),  # next: 04-03, UTC day 04-03
        ("2026-04-02T14:10:00+01:00", "B", "E", "car", 1, 30),  # next: 04-03, UTC day 04-02
    ],
    "2026-04-03.csv": [
        ("2026-04-03T00:30:00+01:00", "B", "E", "car", 1, 30),
        ("2026-04-03T08:00:00+01:00", "A", "N", "car", 1, 30),
        ("2026-04-03T23:40:00+01:00", "A", "N", "car", 1, 30),
    ],
    "2026-04-04.csv": [("2026-04-04T23:50:00+01:00", "A", "N", "car", 1, 30)],
}


def test_no_label_spans_the_end_of_a_likely_truncated_day(tmp_path):
    got, props = _run(tmp_path, CUT)
    assert got[("A", "N")] == [
        (_epoch("2026-04-01T08:00:00+01:00"), 15.5 * HOUR),
        (_epoch("2026-04-01T23:30:00+01:00"), 8.5 * HOUR),  # into the cut day: fine
        (_epoch("2026-04-02T08:00:00+01:00"), 6 * HOUR),
        # 2026-04-02T14:00: the cut afternoon may have held its next vehicle
        (_epoch("2026-04-03T08:00:00+01:00"), 15 * HOUR + 40 * 60),
        (_epoch("2026-04-03T23:40:00+01:00"), DAY + 10 * 60),
    ]
    assert ("B", "E") not in got  # 14:10 -> 00:30 spans the cut; 00:30 is B/E's last
    assert props[acc.UNLABELED_BEFORE_GAP] == 2
    assert props[acc.UNLABELED_LAST_VEHICLES] == 2
    assert props[acc.EXAMPLES_TRAIN] + props[acc.EXAMPLES_EVAL] == 5

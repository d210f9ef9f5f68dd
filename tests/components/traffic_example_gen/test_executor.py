"""TrafficExampleGen executor end to end: real Beam pipelines on tiny daily files."""

from __future__ import annotations

import datetime
import itertools
import json
import shutil

import pytest

from components.traffic_example_gen import accounting as acc
from components.traffic_example_gen import executor
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
    write_csv,
    write_parquet,
)
from transforms import features as f

MULTI_PROCESSING = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def _epoch(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


# Spring forward: London goes from 00:59:59 GMT to 02:00 BST at 01:00 UTC on 2026-03-29.
SPRING = {
    "2026-03-28.csv": [
        ("2026-03-28T10:00:00+00:00", "A", "N", "car", 1, 30.5),
        ("2026-03-28T23:59:59.500+00:00", "A", "N", "truck", 2, 41),
        ("2026-03-28T12:00:00+00:00", "B", "E", "bus", "", ""),
    ],
    "2026-03-29.csv": [
        ("2026-03-29T00:00:00.250+00:00", "A", "N", "bus", 1, 20),
        ("2026-03-29T00:59:59.250+00:00", "A", "N", "bicycle", 1, 15.5),
        ("2026-03-29T02:00:00+01:00", "A", "N", "car", 1, 33),
        ("1774785600", "A", "N", "car", 2, 50),  # epoch seconds, 2026-03-29T12:00Z
        ("2026-03-29T13:00:00+01:00", "A", "S", "car", 1, 30),
        ("2026-03-29T12:30:00+00:00", "B", "E", "car", 3, 31),
    ],
}


def _write_days(directory, days, writer=write_csv):
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in days.items():
        writer(directory / name, rows)
    return directory


def test_spring_forward_headways_across_midnight_and_files(tmp_path):
    examples, rejects = run_executor(_write_days(tmp_path / "in", SPRING), tmp_path / "out")
    train, ev = read_examples(examples, "train"), read_examples(examples, "eval")
    a_north = [r for r in train + ev if (r[f.INTERSECTION], r[f.DIRECTION]) == ("A", "N")]
    stamps = [
        "2026-03-28T10:00:00+00:00",
        "2026-03-28T23:59:59.500+00:00",
        "2026-03-29T00:00:00.250+00:00",
        "2026-03-29T00:59:59.250+00:00",
        "2026-03-29T01:00:00+00:00",
        "2026-03-29T12:00:00+00:00",
    ]
    expected_labels = [_epoch(b) - _epoch(a) for a, b in itertools.pairwise(stamps)]
    # the last A/N vehicle has no next vehicle: it is not an example
    assert [r[f.TIMESTAMP_UTC] for r in a_north] == [int(_epoch(s)) for s in stamps[:-1]]
    assert [r[f.SECONDS_TO_NEXT_VEHICLE] for r in a_north] == pytest.approx(expected_labels)
    assert expected_labels[1] == 0.75  # 23:59:59.5 -> 00:00:00.25, across midnight and files
    assert [r[f.HOUR] for r in a_north] == [10, 23, 0, 0, 2]  # 01:xx local does not exist
    assert [r[f.DAY_OF_WEEK] for r in a_north] == [5, 5, 6, 6, 6]
    assert [r[f.VEHICLE_TYPE] for r in a_north] == ["car", "truck", "bus", "bicycle", "car"]
    assert a_north[0][f.LANE] == 1 and a_north[0][f.SPEED] == pytest.approx(30.5)
    # B/E: day 1 -> day 2 across the file boundary; the lone A/S row is unlabeled
    b_east = [r for r in train + ev if r[f.INTERSECTION] == "B"]
    assert [r[f.SECONDS_TO_NEXT_VEHICLE] for r in b_east] == [86_400 + 1800]
    assert b_east[0][f.LANE] is None and b_east[0][f.SPEED] is None
    # time split: the last local day (2026-03-29) is eval
    assert {r[f.TIMESTAMP_UTC] < _epoch("2026-03-29T00:00:00+00:00") for r in train} == {True}
    assert len(ev) == 3
    props = int_properties(examples)
    assert props[acc.ROWS_READ] == 9
    assert props[acc.UNLABELED_LAST_VEHICLES] == 3  # A/N, A/S, B/E
    assert (props[acc.EXAMPLES_TRAIN], props[acc.EXAMPLES_EVAL], props[acc.REJECTED_TOTAL]) == (
        3,
        3,
        0,
    )
    assert read_rejects(rejects) == []


def test_fall_back_hours_and_utc_day_groups_spanning_two_files(tmp_path):
    days = {
        "2026-10-24.csv": [("2026-10-24T22:59:00+01:00", "C", "W", "car", 1, 30)],
        "2026-10-25.csv": [
            ("2026-10-25T00:30:00+01:00", "C", "W", "car", 1, 30),  # UTC day 10-24
            ("2026-10-25T01:30:00+01:00", "C", "W", "bus", 1, 30),
            ("2026-10-25T01:30:00+00:00", "C", "W", "car", 1, 30),  # the repeated hour
            ("2026-10-25T02:10:00+00:00", "C", "W", "truck", 1, 30),
        ],
    }
    examples, _ = run_executor(_write_days(tmp_path / "in", days), tmp_path / "out")
    rows = read_examples(examples, "train") + read_examples(examples, "eval")
    assert [r[f.HOUR] for r in rows] == [22, 0, 1, 1]
    assert [r[f.DAY_OF_WEEK] for r in rows] == [5, 6, 6, 6]
    assert [r[f.SECONDS_TO_NEXT_VEHICLE] for r in rows] == [5460, 3600, 3600, 2400]
    assert int_properties(examples)[acc.UNLABELED_LAST_VEHICLES] == 1


REJECTS_DAY = [
    ("2026-03-29T08:00:00Z", "A", "N", "car", 1, 30),  # row 1 ok
    ("", "A", "N", "car", 1, 30),  # 2 missing timestamp
    ("2026-03-29T08:00:01Z", "", "N", "car", 1, 30),  # 3 missing intersection
    ("29/03/2026 08:00", "A", "N", "car", 1, 30),  # 4 unparsable timestamp
    ("2026-03-29T08:00:02Z", "A", "NE", "car", 1, 30),  # 5 unknown direction
    ("2026-03-29T08:00:03Z", "A", "N", "tram", 1, 30),  # 6 unknown vehicle type
    ("2026-03-29T08:00:04Z", "A", "N", "car", "two", 30),  # 7 unparsable lane
    ("2026-03-29T08:00:00Z", "A", "N", "car", 1, 30),  # 8 duplicate of row 1
    ("2026-03-29T08:00:05Z", "A", "N", "bus", 1, 30),  # 9 ok
    ("2025-03-18T08:00:06Z", "A", "N", "car", 1, 30),  # 10 a year before the file's day
]
# Row 11: one byte that is not UTF-8, in the intersection.
NON_UTF8_ROW = b"2026-03-29T08:00:07Z,A\xff,N,car,1,30\n"


def test_each_reject_reason_is_recorded_and_accounted(tmp_path):
    days = {
        "2026-03-28.csv": [("2026-03-28T08:00:00Z", "A", "N", "car", 1, 30)],
        "2026-03-29.csv": REJECTS_DAY,
    }
    input_dir = _write_days(tmp_path / "in", days)
    with (input_dir / "2026-03-29.csv").open("ab") as handle:
        handle.write(NON_UTF8_ROW)
        handle.write(b"2026-03-29T08:00:08Z,A,N\n")  # 3 of 6 fields
        handle.write(b"2026-03-29T08:00:09Z,A,N,car,1,28.4\n"[:-3])  # cut: 28.4 -> "28"
    examples, rejects = run_executor(input_dir, tmp_path / "out", max_reject_fraction=1.0)
    path = str(tmp_path / "in" / "2026-03-29.csv")
    got = [(r["file"], r["row"], r["field"], r["reason"]) for r in read_rejects(rejects)]
    assert got == [
        (path, 2, f.RAW_TIMESTAMP, acc.MISSING_FIELD),
        (path, 3, f.RAW_INTERSECTION, acc.MISSING_FIELD),
        (path, 4, f.RAW_TIMESTAMP, acc.UNPARSABLE_TIMESTAMP),
        (path, 5, f.RAW_DIRECTION, acc.UNKNOWN_DIRECTION),
        (path, 6, f.RAW_VEHICLE_TYPE, acc.UNKNOWN_VEHICLE_TYPE),
        (path, 7, f.RAW_LANE, acc.UNPARSABLE_NUMBER),
        (path, 8, "*", acc.DUPLICATE),
        (path, 10, f.RAW_TIMESTAMP, acc.DATE_OUTSIDE_FILE),
        (path, 11, f.RAW_INTERSECTION, acc.INVALID_UTF8),
        (path, 12, "*", acc.WRONG_FIELD_COUNT),
        (path, 13, "*", acc.TRUNCATED_ROW),
    ]
    values = [r["value"] for r in read_rejects(rejects)]
    assert values[2:6] == ["29/03/2026 08:00", "NE", "tram", "two"]
    assert values[6] == f"identical to {path} row 1"
    assert values[7:11] == [
        "2025-03-18T08:00:06Z",
        "A\\xff",
        "3 fields, the header has 6: 2026-03-29T08:00:08Z,A,N",
        "2026-03-29T08:00:09Z,A,N,car,1,28",
    ]
    props = int_properties(examples)
    assert props == int_properties(rejects)
    for reason in acc.REASONS:
        expected = 2 if reason == acc.MISSING_FIELD else 1
        assert props[acc.rejected_key(reason)] == expected, reason
    assert props[acc.REJECTED_TOTAL] == 11 and props[acc.ROWS_READ] == 14
    assert (
        props[acc.EXAMPLES_TRAIN]
        + props[acc.EXAMPLES_EVAL]
        + props[acc.REJECTED_TOTAL]
        + props[acc.UNLABELED_LAST_VEHICLES]
    ) == props[acc.ROWS_READ]
    assert props[acc.EXAMPLES_TRAIN] + props[acc.EXAMPLES_EVAL] == 2


def test_reject_threshold_names_worst_file_and_reason(tmp_path):
    good = [(f"2026-03-28T08:00:{s:02d}Z", "A", "N", "car", 1, 30) for s in range(40)]
    bad = [(f"2026-03-29T08:00:{s:02d}Z", "A", "N", "lorry", 1, 30) for s in range(3)]
    days = {"2026-03-28.csv": good, "2026-03-29.csv": [*bad, ("1774771200", "A", "N", "car", 1, 3)]}
    with pytest.raises(
        ValueError,
        match=r"3 of 44 rows rejected.*Worst file: .*2026-03-29\.csv"
        r" with 3 rejects, most often 'unknown_vehicle_type'",
    ):
        run_executor(_write_days(tmp_path / "in", days), tmp_path / "out")
    # the same input passes with a looser threshold
    run_executor(tmp_path / "in", tmp_path / "out2", max_reject_fraction=0.1)


def test_csv_csv_gz_and_parquet_give_identical_examples(tmp_path):
    runs = []
    for kind, writer, suffix in (
        ("csv", write_csv, ".csv"),
        ("gz", write_csv, ".csv.gz"),
        ("parquet", write_parquet, ".parquet"),
    ):
        days = {name.replace(".csv", suffix): rows for name, rows in SPRING.items()}
        input_dir = _write_days(tmp_path / kind, days, writer)
        examples, _ = run_executor(input_dir, tmp_path / f"out_{kind}")
        runs.append(
            (
                read_examples(examples, "train"),
                read_examples(examples, "eval"),
                int_properties(examples),
            )
        )
    assert runs[0][0] and runs[0][1]
    assert runs[0] == runs[1] == runs[2]


def test_span_selects_days_and_is_recorded(tmp_path):
    days = dict(SPRING)
    days["2026-03-30.csv"] = [("2026-03-30T08:00:00Z", "A", "N", "car", 1, 30)]
    examples, _ = run_executor(
        _write_days(tmp_path / "in", days),
        tmp_path / "out",
        span_begin="2026-03-28",
        span_end="2026-03-29",
    )
    props = examples.mlmd_artifact.custom_properties
    assert props[executor.SPAN_BEGIN_KEY].string_value == "2026-03-28"
    assert props[executor.SPAN_END_KEY].string_value == "2026-03-29"
    assert props["last_day"].string_value == "2026-03-29"
    assert int_properties(examples)[acc.ROWS_READ] == 9
    assert props["payload_format"].string_value == "FORMAT_TF_EXAMPLE"


def test_hash_split(tmp_path):
    rows = [(f"2026-03-29T08:{m:02d}:00Z", "A", "NESW"[m % 4], "car", 1, 30) for m in range(60)]
    split = json.dumps({"kind": "hash", "eval_fraction": 0.3})
    examples, _ = run_executor(
        _write_days(tmp_path / "in", {"2026-03-29.csv": rows}), tmp_path / "out", split_config=split
    )
    props = int_properties(examples)
    assert props[acc.EXAMPLES_EVAL] > 5 and props[acc.EXAMPLES_TRAIN] > 20
    again, _ = run_executor(tmp_path / "in", tmp_path / "out2", split_config=split)
    assert read_examples(again, "eval") == read_examples(examples, "eval")


def test_no_matching_file_and_empty_input_fail_clearly(tmp_path):
    _write_days(tmp_path / "in", SPRING)
    with pytest.raises(ValueError, match=r"no daily input file.*in'.*2026-04-01 \.\. 2026-04-30"):
        run_executor(
            tmp_path / "in", tmp_path / "out", span_begin="2026-04-01", span_end="2026-04-30"
        )
    empty = _write_days(tmp_path / "empty", {"2026-03-28.csv": [], "2026-03-29.csv": []})
    with pytest.raises(ValueError, match=r"no data rows in the 2 input file\(s\) of input_base="):
        run_executor(empty, tmp_path / "out_empty")


def test_missing_required_column_names_file_and_column(tmp_path):
    _write_days(tmp_path / "in", SPRING)
    columns = (f.RAW_TIMESTAMP, f.RAW_INTERSECTION, f.RAW_VEHICLE_TYPE)
    write_csv(tmp_path / "in" / "2026-03-29.csv", [("2026-03-29T08:00:00Z", "A", "car")], columns)
    message = r"2026-03-29\.csv: required column 'direction' is missing"
    with pytest.raises(ValueError, match=message):
        run_executor(tmp_path / "in", tmp_path / "out")


@pytest.mark.slow
def test_multi_processing_gives_identical_examples_and_accounting(tmp_path):
    days = dict(SPRING)
    spring_29 = SPRING["2026-03-29.csv"]
    days["2026-03-29.csv"] = spring_29 + REJECTS_DAY + spring_29  # 6 rows twice
    _write_days(tmp_path / "in", days)
    shutil.copy(tmp_path / "in" / "2026-03-29.csv", tmp_path / "in" / "2026-03-30.csv")
    single, single_rejects = run_executor(tmp_path / "in", tmp_path / "a", max_reject_fraction=1.0)
    multi, multi_rejects = run_executor(
        tmp_path / "in", tmp_path / "b", MULTI_PROCESSING, max_reject_fraction=1.0
    )
    assert int_properties(multi) == int_properties(single)
    # 2026-03-29: one duplicate in REJECTS_DAY plus the 6 repeated rows.
    assert int_properties(multi)[acc.rejected_key(acc.DUPLICATE)] == 7
    # Its copy 2026-03-30: every row with a parsable timestamp (22 - 2 missing - 1
    # unparsable), plus the row of 2025 in 2026-03-29.
    assert int_properties(multi)[acc.rejected_key(acc.DATE_OUTSIDE_FILE)] == 20
    for split in ("train", "eval"):
        assert read_examples(multi, split) == read_examples(single, split)
    assert read_rejects(multi_rejects) == read_rejects(single_rejects)


def test_rows_after_a_short_row_keep_their_numbers(tmp_path):
    _write_days(tmp_path / "in", SPRING)
    path = tmp_path / "in" / "2026-03-29.csv"
    header, first, rest = path.read_text().split("\n", 2)
    path.write_text(
        f"{header}\n{first}\n2026-03-29T14:00:00Z,A,N\n{rest}2026-03-29T08:00:00Z,A,N,tram,1,3\n"
    )
    _, rejects = run_executor(tmp_path / "in", tmp_path / "out", max_reject_fraction=1.0)
    got = [(r["row"], r["field"], r["reason"]) for r in read_rejects(rejects)]
    last = len(path.read_text().splitlines()) - 1
    assert got == [
        (2, "*", acc.WRONG_FIELD_COUNT),
        (last, f.RAW_VEHICLE_TYPE, acc.UNKNOWN_VEHICLE_TYPE),
    ]

"""Vectorised parsing and validation of raw record batches."""

from __future__ import annotations

import datetime

import numpy as np
import pyarrow as pa

from components.traffic_example_gen import accounting
from components.traffic_example_gen.chunks import NO_LANE
from components.traffic_example_gen.parsing import (
    parse_batch,
    parse_lanes,
    parse_speeds,
    parse_timestamps,
)
from components.traffic_example_gen.splits import SplitRule
from transforms import features


def _us(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text).timestamp() * 1_000_000)


def test_timestamps_iso_with_offsets_and_epoch_seconds():
    values = [
        "2026-03-29T00:59:59.250+00:00",
        "2026-03-29T02:00:00+01:00",
        "2026-03-29 01:00:00.5Z",
        "1774746000.25",
        "1774746000",
    ]
    us, ok = parse_timestamps(pa.array(values))
    assert ok.all()
    assert us.tolist() == [
        _us("2026-03-29T00:59:59.250+00:00"),
        _us("2026-03-29T01:00:00+00:00"),
        _us("2026-03-29T01:00:00.500+00:00"),
        1774746000250000,
        1774746000000000,
    ]


def test_bad_timestamps_are_flagged_without_losing_good_ones():
    values = [
        "2026-02-30T00:00:00Z",
        "2026-03-29T01:00:00",
        "yesterday",
        "1774746000000",
        None,
        "2026-03-01T00:00:00+00:00",
    ]
    us, ok = parse_timestamps(pa.array(values))
    assert ok.tolist() == [False, False, False, False, False, True]  # naive ISO, epoch-ms too
    assert us[-1] == _us("2026-03-01T00:00:00+00:00")


def test_typed_parquet_timestamps():
    ts = pa.array([1774746000250000], pa.timestamp("us", tz="+01:00"))
    us, ok = parse_timestamps(ts)
    assert ok.all() and us.tolist() == [1774746000250000]
    us, ok = parse_timestamps(pa.array([1774746000.5]))
    assert ok.all() and us.tolist() == [1774746000500000]


def test_lanes_and_speeds():
    lanes, bad = parse_lanes(pa.array(["1", "", "x", "-2", "1.5"]))
    assert lanes.tolist()[:2] == [1, NO_LANE] and lanes[3] == -2
    assert bad.tolist() == [False, False, True, False, True]
    speeds, bad = parse_speeds(pa.array(["30.5", "", "nan", "1e2", "fast"]))
    assert speeds[0] == 30.5 and np.isnan(speeds[1]) and speeds[3] == 100.0
    assert bad.tolist() == [False, False, True, False, True]


def test_parse_batch_assigns_one_reason_per_row_in_check_order():
    rows = {
        features.RAW_TIMESTAMP: [
            "2026-03-29T01:00:00Z",
            "",
            "bad",
            "bad",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:00:00Z",
        ],
        features.RAW_INTERSECTION: ["A", "A", "A", "A", "A", "A", ""],
        features.RAW_DIRECTION: ["N", "N", "N", "Q", "Q", "S", "S"],
        features.RAW_VEHICLE_TYPE: ["car", "car", "car", "car", "tram", "tram", "bus"],
        features.RAW_LANE: ["1", "1", "1", "1", "1", "one", "1"],
    }
    batch = pa.RecordBatch.from_pydict({k: pa.array(v) for k, v in rows.items()})
    parsed = parse_batch(
        batch,
        file_index=0,
        rows=np.arange(11, 18),
        timezone="Europe/London",
        split_rule=SplitRule(kind="time", eval_from_yyyymmdd=20260329),
        file_yyyymmdd=20260329,
    )
    got = list(
        zip(
            parsed.rejects.rows.tolist(),
            parsed.rejects.fields,
            parsed.rejects.reasons,
            parsed.rejects.values,
            strict=True,
        )
    )
    assert got == [
        (12, features.RAW_TIMESTAMP, accounting.MISSING_FIELD, ""),
        (13, features.RAW_TIMESTAMP, accounting.UNPARSABLE_TIMESTAMP, "bad"),
        (14, features.RAW_TIMESTAMP, accounting.UNPARSABLE_TIMESTAMP, "bad"),
        (15, features.RAW_DIRECTION, accounting.UNKNOWN_DIRECTION, "Q"),
        (16, features.RAW_VEHICLE_TYPE, accounting.UNKNOWN_VEHICLE_TYPE, "tram"),
        (17, features.RAW_INTERSECTION, accounting.MISSING_FIELD, ""),
    ]
    assert parsed.chunk.row.tolist() == [11]
    assert parsed.intersection.tolist() == ["A"] and parsed.direction.tolist() == ["N"]
    assert parsed.chunk.hour.tolist() == [2] and parsed.chunk.is_eval.tolist() == [True]
    assert np.isnan(parsed.chunk.speed[0])  # optional column absent from the batch

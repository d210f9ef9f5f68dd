"""Headways inside day groups, duplicates, and day-tail resolution."""

from __future__ import annotations

import numpy as np

from components.traffic_example_gen.chunks import NO_LANE, Chunk
from components.traffic_example_gen.labels import (
    headways_seconds,
)
from tests.components.traffic_example_gen.reference_labels import (
    DayTail,
    resolve_tails,
    sort_and_dedup,
)


def _chunk(ts_us, vehicle_type=None, lane=None, speed=None, file_index=None, row=None) -> Chunk:
    n = len(ts_us)
    return Chunk(
        ts_us=np.asarray(ts_us, dtype=np.int64),
        vehicle_type=np.asarray(vehicle_type or [0] * n, dtype=np.int8),
        lane=np.asarray(lane or [NO_LANE] * n, dtype=np.int64),
        speed=np.asarray(speed or [np.nan] * n, dtype=np.float64),
        day_of_week=np.zeros(n, dtype=np.int8),
        hour=np.zeros(n, dtype=np.int8),
        is_eval=np.zeros(n, dtype=bool),
        file_index=np.asarray(file_index or [0] * n, dtype=np.int32),
        row=np.asarray(row or list(range(1, n + 1)), dtype=np.int64),
    )


def test_sort_and_dedup_keeps_first_copy_and_distinct_simultaneous_vehicles():
    chunk = _chunk(
        ts_us=[5_000_000, 1_000_000, 5_000_000, 5_000_000, 3_000_000],
        vehicle_type=[0, 0, 0, 1, 0],
        speed=[10.0, 1.0, 10.0, 10.0, np.nan],
        file_index=[1, 0, 0, 0, 0],
        row=[2, 1, 9, 3, 4],
    )
    kept, duplicates, originals = sort_and_dedup(chunk)
    assert kept.ts_us.tolist() == [1_000_000, 3_000_000, 5_000_000, 5_000_000]
    assert kept.vehicle_type.tolist() == [0, 0, 0, 1]
    assert (kept.file_index[2], kept.row[2]) == (0, 9)  # first copy by file, then row
    assert list(zip(duplicates.file_index, duplicates.row, strict=True)) == [(1, 2)]
    assert list(zip(originals.file_index, originals.row, strict=True)) == [(0, 9)]


def test_nan_speeds_count_as_identical():
    kept, duplicates, _ = sort_and_dedup(_chunk([7, 7]))
    assert len(kept) == 1 and duplicates.row.tolist() == [2]


def test_headways_have_sub_second_precision():
    assert headways_seconds(np.array([0, 250_000, 1_250_001])).tolist() == [0.25, 1.000001]


def test_resolve_tails_uses_next_non_empty_day_and_leaves_last_unlabeled():
    tails = [
        DayTail(utc_day=20540, first_ts_us=20540 * 86_400_000_000 + 5, tail=_chunk([100])),
        DayTail(utc_day=20537, first_ts_us=0, tail=_chunk([10])),
        DayTail(utc_day=20538, first_ts_us=50_000_000, tail=_chunk([60_000_000])),
    ]
    labeled, labels, unlabeled = resolve_tails(tails)
    assert labeled.ts_us.tolist() == [10, 60_000_000]
    assert labels.tolist() == [(50_000_000 - 10) / 1e6, (20540 * 86_400_000_000 + 5 - 60e6) / 1e6]
    assert unlabeled == 1


def test_single_day_tail_is_unlabeled():
    labeled, labels, unlabeled = resolve_tails([DayTail(1, 0, _chunk([0]))])
    assert labeled is None and len(labels) == 0 and unlabeled == 1

"""Headways inside day groups, duplicates, and day-tail resolution, on hand-made rows."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from components.traffic_example_gen.accounting import DUPLICATES_EXACT as EXACT
from components.traffic_example_gen.accounting import DUPLICATES_KEEP as KEEP
from components.traffic_example_gen.chunks import NO_LANE, Chunk, Slab
from components.traffic_example_gen.labels import (
    DayTails,
    headways_seconds,
    missing_days_before,
    resolve_slab_tails,
    same_second_vehicles,
    sort_and_dedup_slab,
)


def _slab(ts_us, vehicle_type=None, lane=None, speed=None, file_index=None, row=None) -> Slab:
    """Rows of one approach (intersection A, direction 0)."""
    n = len(ts_us)
    chunk = Chunk(
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
    return Slab.from_strings(np.array(["A"] * n, dtype=object), np.zeros(n, np.int8), chunk)


def test_sort_and_dedup_keeps_first_copy_and_distinct_simultaneous_vehicles():
    slab = _slab(
        ts_us=[5_000_000, 1_000_000, 5_000_000, 5_000_000, 3_000_000],
        vehicle_type=[0, 0, 0, 1, 0],
        speed=[10.0, 1.0, 10.0, 10.0, np.nan],
        file_index=[1, 0, 0, 0, 0],
        row=[2, 1, 9, 3, 4],
    )
    kept, duplicates, originals = (s.chunk for s in sort_and_dedup_slab(slab, duplicates=EXACT))
    assert kept.ts_us.tolist() == [1_000_000, 3_000_000, 5_000_000, 5_000_000]
    assert kept.vehicle_type.tolist() == [0, 0, 0, 1]
    assert (kept.file_index[2], kept.row[2]) == (0, 9)  # first copy by file, then row
    assert list(zip(duplicates.file_index, duplicates.row, strict=True)) == [(1, 2)]
    assert list(zip(originals.file_index, originals.row, strict=True)) == [(0, 9)]


def test_nan_speeds_count_as_identical():
    kept, duplicates, _ = sort_and_dedup_slab(_slab([7, 7]), duplicates=EXACT)
    assert len(kept) == 1 and duplicates.chunk.row.tolist() == [2]


def test_keep_rule_keeps_exact_copies_and_they_count_as_same_second():
    kept, duplicates, originals = sort_and_dedup_slab(_slab([7, 7, 3]), duplicates=KEEP)
    assert kept.chunk.ts_us.tolist() == [3, 7, 7] and kept.chunk.row.tolist() == [3, 1, 2]
    assert len(duplicates) == len(originals) == 0
    assert same_second_vehicles(kept) == 2  # all three in second 0 of the epoch


def test_same_second_counts_whole_seconds_per_approach():
    # 10.0 s, 10.9 s (same second), 11.0 s (next second), 11.0 s of another type.
    kept, _, _ = sort_and_dedup_slab(
        _slab([10_000_000, 10_900_000, 11_000_000, 11_000_000], vehicle_type=[0, 0, 0, 2]),
        duplicates=EXACT,
    )
    assert len(kept) == 4 and same_second_vehicles(kept) == 2
    assert same_second_vehicles(kept.take(slice(0, 1))) == 0


def test_unknown_duplicate_rule_fails():
    with pytest.raises(ValueError, match=r"duplicates: 'fuzzy' not in \('exact', 'keep'\)"):
        sort_and_dedup_slab(_slab([1]), duplicates="fuzzy")


def test_headways_have_sub_second_precision():
    assert headways_seconds(np.array([0, 250_000, 1_250_001])).tolist() == [0.25, 1.000001]


def _tail(utc_day: int, first_ts_us: int, last_ts_us: int, file_index: int = 0) -> DayTails:
    """One approach's tail of a day group whose first and last vehicle are in one file."""
    return DayTails(
        np.array([utc_day]),
        np.array([first_ts_us]),
        np.array([file_index], dtype=np.int32),
        _slab([last_ts_us], file_index=[file_index]),
    )


# Files of 2026-03-28 .. 2026-03-31 (UTC days 20540 .. 20543), all present.
FOUR_DAYS = [datetime.date(2026, 3, d) for d in (28, 29, 30, 31)]


def test_missing_days_before_counts_days_without_a_file():
    days = [datetime.date(2026, 3, d) for d in (1, 2, 4, 5, 9)]
    assert missing_days_before(days).tolist() == [0, 0, 1, 1, 4]
    assert missing_days_before(FOUR_DAYS).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="not strictly increasing"):
        missing_days_before([days[1], days[0]])


def test_resolve_tails_uses_next_non_empty_day_and_leaves_last_unlabeled():
    day = 86_400_000_000
    tails = [
        _tail(20543, first_ts_us=20543 * day + 5, last_ts_us=20543 * day + 100, file_index=3),
        _tail(20540, first_ts_us=20540 * day, last_ts_us=20540 * day + 10),
        _tail(20541, first_ts_us=20541 * day + 50, last_ts_us=20541 * day + 60, file_index=1),
    ]
    resolved = resolve_slab_tails(tails, missing_days_before(FOUR_DAYS))
    assert resolved.labeled.chunk.ts_us.tolist() == [20540 * day + 10, 20541 * day + 60]
    # day 2 -> day 3, and day 3 -> day 5 across the quiet day 4 (its file has no rows)
    assert resolved.labels.tolist() == [(day + 40) / 1e6, (2 * day - 55) / 1e6]
    assert (resolved.last_vehicles, resolved.before_gap) == (1, 0)


def test_resolve_tails_leaves_the_tail_before_a_missing_day_unlabeled():
    day = 86_400_000_000
    tails = [
        _tail(20540, first_ts_us=20540 * day, last_ts_us=20540 * day + 10),
        _tail(20541, first_ts_us=20541 * day + 50, last_ts_us=20541 * day + 60, file_index=1),
        _tail(20543, first_ts_us=20543 * day + 5, last_ts_us=20543 * day + 100, file_index=2),
    ]
    # 2026-03-30 has no file: the last vehicle of the 29th has no known next vehicle
    files = [datetime.date(2026, 3, d) for d in (28, 29, 31)]
    resolved = resolve_slab_tails(tails, missing_days_before(files))
    assert resolved.labeled.chunk.ts_us.tolist() == [20540 * day + 10]
    assert resolved.labels.tolist() == [(day + 40) / 1e6]
    assert (resolved.last_vehicles, resolved.before_gap) == (1, 1)


def test_single_day_tail_is_unlabeled():
    resolved = resolve_slab_tails([_tail(1, 0, 0)], missing_days_before(FOUR_DAYS[:1]))
    assert len(resolved.labeled) == 0 and len(resolved.labels) == 0
    assert (resolved.last_vehicles, resolved.before_gap) == (1, 0)

"""The Trainer's pass over the train split on plain columns: which rows validate, which
train and in what order, in memory and streamed from disk (``training_rows.collect``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms import approach_table, features, row_order, training_rows
from transforms.row_store import HASH_FIELD, IN_MEMORY, STREAMING
from transforms.training_rows import RowBatch

INPUTS = (
    features.APPROACH_XF,
    features.DAY_HOUR_CELL_XF,
    features.DAY_HOUR_CROSS_XF,
    features.INTERSECTION_XF,
    features.DIRECTION_XF,
)


def _columns(rows: int, kind: str, seed: int = 0) -> RowBatch:
    """``rows`` random transformed rows of ``kind`` (events or counts labels)."""
    rng = np.random.default_rng(seed)
    inputs = {name: rng.integers(0, 50, rows) for name in INPUTS}
    inputs[features.DAY_HOUR_CELL_XF] = rng.integers(0, features.DAY_HOUR_CELLS, rows)
    types = rng.integers(0, len(features.VEHICLE_TYPES), rows)
    if kind == features.DATA_KIND_COUNTS:
        counts = rng.poisson(20.0, rows)
        labels = {
            features.VEHICLES_PER_HOUR_OUTPUT: np.stack([counts, types], 1).astype(np.float32)
        }
    else:
        labels = {
            features.HEADWAY_OUTPUT: rng.exponential(10.0, rows).astype(np.float32),
            features.VEHICLE_TYPE_OUTPUT: types,
        }
    timestamps = 1_773_619_200 + rng.integers(0, 86_400 * 21, rows)
    return RowBatch(inputs, labels, timestamps)


def _batches(data: RowBatch, batch_size: int, order: np.ndarray | None = None):
    order = np.arange(data.rows) if order is None else order
    for start in range(0, data.rows, batch_size):
        index = order[start : start + batch_size]
        yield RowBatch(
            {k: v[index] for k, v in data.inputs.items()},
            {k: v[index] for k, v in data.labels.items()},
            data.timestamps[index],
        )


def _collect(data, tmp_path, *, batch_size=4096, budget=1 << 30, seed=7, order=None, **kw):
    spill = tmp_path / f"spill-{batch_size}-{budget}-{seed}"
    spill.mkdir()
    return training_rows.collect(
        _batches(data, batch_size, order),
        data_kind=kw.get("kind", features.DATA_KIND_EVENTS),
        seed=seed,
        validation_fraction=kw.get("fraction", 0.1),
        validation_split=kw.get("split", row_order.VALIDATION_BY_ROW),
        max_validation_rows=kw.get("max_validation_rows", 1000),
        budget_bytes=budget,
        spill_dir=str(spill),
    )


def _keys(inputs: dict, labels: dict, rows: int) -> set[tuple]:
    """Each row's columns as a tuple (the random columns make every row distinct)."""
    columns = [inputs[k] for k in sorted(inputs)] + [labels[k] for k in sorted(labels)]
    flat = np.concatenate([np.asarray(c, np.float64).reshape(rows, -1) for c in columns], 1)
    return set(map(tuple, flat.tolist()))


def _train_keys(rows: training_rows.TrainingRows) -> set[tuple]:
    records = np.concatenate([rows.store.bucket(b) for b in range(row_order.BUCKETS)])
    return _keys(*rows.store.layout.columns(records), len(records))


def _validation_keys(rows: training_rows.TrainingRows) -> set[tuple]:
    return _keys(rows.validation.inputs, rows.validation.labels, rows.validation.rows)


def test_a_seeded_fraction_is_held_out_whatever_the_row_order(tmp_path):
    data = _columns(20_000, features.DATA_KIND_EVENTS)
    rows = _collect(data, tmp_path, max_validation_rows=10**6)
    assert rows.rows == 20_000 and rows.store.rows + rows.held_out_rows == 20_000
    assert 0.09 < rows.held_out_rows / rows.rows < 0.11
    assert rows.validation.rows == rows.held_out_rows
    train, validation = _train_keys(rows), _validation_keys(rows)
    assert len(train) == rows.store.rows and not train & validation
    assert train | validation == _keys(data.inputs, data.labels, data.rows)

    shuffled = np.random.default_rng(3).permutation(data.rows)
    again = _collect(data, tmp_path, batch_size=999, order=shuffled, max_validation_rows=10**6)
    assert _validation_keys(again) == validation and _train_keys(again) == train
    other = _collect(data, tmp_path, seed=8, max_validation_rows=10**6)
    assert _validation_keys(other) != validation


def test_the_validation_sample_is_bounded_and_the_same_in_any_batching(tmp_path):
    data = _columns(20_000, features.DATA_KIND_EVENTS)
    rows = _collect(data, tmp_path, batch_size=1000, max_validation_rows=500)
    assert rows.held_out_rows > 1500 and rows.validation.rows == 500
    everything = _collect(data, tmp_path, batch_size=20_000, max_validation_rows=10**6)
    assert _validation_keys(rows) < _validation_keys(everything)
    single = _collect(data, tmp_path, batch_size=1, budget=1 << 31, max_validation_rows=500)
    assert _validation_keys(single) == _validation_keys(rows)


def _hourly_counts(days: int, zone: str, start: str = "2026-03-16") -> RowBatch:
    """Counts rows of 2 approaches for every local hour of ``days`` days from ``start``
    (a Monday) in ``zone``: UTC times and day-hour cells as the Transform gives them."""
    hours = pd.date_range(start, periods=days * 24, freq="h", tz=zone)
    cells = np.tile(hours.dayofweek * 24 + hours.hour, 2)
    rows = len(cells)
    rng = np.random.default_rng(0)
    inputs = {name: np.zeros(rows, np.int64) for name in INPUTS}
    inputs[features.APPROACH_XF] = np.repeat([11, 12], len(hours))
    inputs[features.DAY_HOUR_CELL_XF] = cells.astype(np.int64)
    inputs[features.DAY_HOUR_CROSS_XF] = np.arange(rows)  # every row distinct
    counts = rng.poisson(20.0, rows)
    labels = {features.VEHICLES_PER_HOUR_OUTPUT: np.stack([counts, np.zeros(rows)], 1)}
    utc = np.tile(hours.tz_convert("UTC").asi8 // 10**9, 2)
    return RowBatch(inputs, labels, utc.astype(np.int64))


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/London", "Asia/Kolkata"])
def test_whole_local_days_are_held_out_one_of_each_week(zone, tmp_path):
    data = _hourly_counts(21, zone)  # 3 Monday-Sunday weeks, over a DST change in two zones
    kw = {"kind": features.DATA_KIND_COUNTS, "split": row_order.VALIDATION_BY_DAY}
    rows = _collect(data, tmp_path, max_validation_rows=10**6, **kw)
    cells = data.inputs[features.DAY_HOUR_CELL_XF]
    local = pd.to_datetime(data.timestamps, unit="s", utc=True).tz_convert(zone)
    np.testing.assert_array_equal(local.dayofweek * 24 + local.hour, cells)  # as made
    epoch_days = (local.tz_localize(None).normalize() - pd.Timestamp("1970-01-01")).days
    np.testing.assert_array_equal(row_order.local_day(data.timestamps, cells), epoch_days)
    held = row_order.held_out_days(data.timestamps, cells, 7, 0.1)
    held_days = np.unique(np.asarray(local.date)[held])
    assert len(held_days) == 3  # ceil(0.1 * 7) = 1 day of each week
    assert sorted(pd.Timestamp(d).isocalendar().week for d in held_days) == [12, 13, 14]
    assert len({pd.Timestamp(d).dayofweek for d in held_days}) == 3  # one weekday each
    assert np.array_equal(held, np.isin(np.asarray(local.date), held_days))  # whole days
    assert rows.held_out_rows == held.sum() and rows.store.rows == data.rows - held.sum()
    validation = _validation_keys(rows)
    held_keys = _keys(
        {k: v[held] for k, v in data.inputs.items()},
        {k: v[held] for k, v in data.labels.items()},
        int(held.sum()),
    )
    assert validation == held_keys and not validation & _train_keys(rows)

    shuffled = np.random.default_rng(3).permutation(data.rows)
    again = _collect(
        data, tmp_path, batch_size=101, order=shuffled, max_validation_rows=10**6, **kw
    )
    assert _validation_keys(again) == validation
    dates = np.asarray(local.date)
    others = {
        tuple(np.unique(dates[row_order.held_out_days(data.timestamps, cells, s, 0.1)]))
        for s in range(8)
    }
    assert len(others) > 1  # the seed chooses the days
    two = row_order.held_out_days(data.timestamps, cells, 7, 0.2)
    assert len(np.unique(dates[two])) == 6


@pytest.mark.parametrize("rows", [1, 2])
def test_a_tiny_split_keeps_rows_on_both_sides(rows, tmp_path):
    seen = set()
    for seed in range(40):
        got = _collect(_columns(rows, features.DATA_KIND_EVENTS, seed), tmp_path, seed=seed)
        assert got.store.rows >= 1 and got.validation.rows >= 1
        seen.add(got.held_out_rows)
    assert 0 in seen and (rows == 2 or 1 in seen)  # both fallbacks ran


@pytest.mark.parametrize("kind", [features.DATA_KIND_EVENTS, features.DATA_KIND_COUNTS])
def test_streaming_gives_the_same_rows_batches_and_sums_as_in_memory(kind, tmp_path):
    data = _columns(30_000, kind)
    memory = _collect(data, tmp_path, kind=kind)
    budget = memory.store.bytes // 10
    shuffled = np.random.default_rng(5).permutation(data.rows)
    streamed = _collect(data, tmp_path, kind=kind, batch_size=700, budget=budget, order=shuffled)
    assert (memory.store.path, streamed.store.path) == (IN_MEMORY, STREAMING)
    assert sorted(tmp_path.glob("spill-700-*/bucket-*.rows"))  # rows really went to disk

    for pass_index in range(3):
        a = list(memory.store.pass_chunks(64, 7, pass_index))
        b = list(streamed.store.pass_chunks(64, 7, pass_index))
        assert all(len(c) % 64 == 0 for c in a + b)
        a, b = np.concatenate(a), np.concatenate(b)
        np.testing.assert_array_equal(a, b)  # same rows in the same order
        assert memory.store.rows - 64 < len(a) <= memory.store.rows
    first, second = (
        np.concatenate(list(memory.store.pass_chunks(64, 7, p)))[HASH_FIELD] for p in (0, 1)
    )
    assert not np.array_equal(first, second)  # every pass has its own order

    for part in ("inputs", "labels"):
        want, got = getattr(memory.validation, part), getattr(streamed.validation, part)
        for name in want:
            np.testing.assert_array_equal(want[name], got[name])
    a, b = memory.approach_init, streamed.approach_init
    for x, y in ((a.ids, b.ids), (a.log_rate, b.log_rate), (a.table, b.table)):
        np.testing.assert_array_equal(x, y)
    assert a.rows == b.rows == data.rows
    assert memory.vehicle_types == streamed.vehicle_types

    # Memory: the in-memory store held every training row; the streaming one at most the
    # budget's worth plus a batch (when it spilled), then a chunk: the store's own counter.
    assert memory.store.peak_rows == memory.store.rows
    budget_rows = budget // streamed.store.layout.dtype.itemsize
    assert streamed.store.peak_rows <= budget_rows + 700 < memory.store.rows / 5


def test_the_sums_are_those_of_all_rows_at_once(tmp_path):
    data = _columns(30_000, features.DATA_KIND_EVENTS)
    streamed = _collect(data, tmp_path, batch_size=777, budget=10_000)
    ids, index = np.unique(data.inputs[features.APPROACH_XF], return_inverse=True)
    cells = data.inputs[features.DAY_HOUR_CELL_XF]
    types = data.labels[features.VEHICLE_TYPE_OUTPUT]
    vehicles = approach_table.observed_sums(index, cells, types, np.ones(data.rows), len(ids))
    hours = approach_table.event_exposure_hours(cells, data.timestamps)
    table = approach_table.fit_approach_average(vehicles, hours)
    np.testing.assert_array_equal(streamed.approach_init.ids, ids)
    np.testing.assert_array_equal(streamed.approach_init.table, table.rates)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Auckland"])
def test_every_rows_sums_are_also_kept_per_local_monday_to_sunday_week(zone, tmp_path):
    data = _hourly_counts(17, zone, start="2026-03-25")  # Wednesday: 3 partial or whole weeks
    kw = {"kind": features.DATA_KIND_COUNTS, "max_validation_rows": 10**6}
    rows = _collect(data, tmp_path, batch_size=50, **kw)
    local = pd.to_datetime(data.timestamps, unit="s", utc=True).tz_convert(zone)
    monday = local.tz_localize(None).normalize() - pd.to_timedelta(local.dayofweek, unit="D")
    week = (monday - pd.Timestamp("1969-12-29")).days // 7
    cells = data.inputs[features.DAY_HOUR_CELL_XF]
    np.testing.assert_array_equal(row_order.local_week(data.timestamps, cells), week)
    counts = rows.counts
    assert sorted(counts.weeks) == sorted(np.unique(week).tolist())
    cars = data.labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 0]
    for w, of_week in counts.weeks.items():
        assert of_week.vehicles.sum() == cars[week == w].sum()
        assert of_week.count_rows.sum() == (week == w).sum()
        assert of_week.weeks is None  # one level
    assert sum(c.vehicles.sum() for c in counts.weeks.values()) == counts.vehicles.sum()
    assert rows.fit_counts.weeks is None and rows.held_out_counts.weeks is None
    # the same per-week sums in one batch
    whole = _collect(data, tmp_path, batch_size=10**6, **kw).counts.weeks
    for w, of_week in counts.weeks.items():
        np.testing.assert_array_equal(of_week.on(counts.ids)[0], whole[w].on(counts.ids)[0])

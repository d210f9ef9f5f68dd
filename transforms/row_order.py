"""Where each training row goes, from its content alone (pure numpy, no TensorFlow).

A seeded hash of every column a row carries (``row_hash``) decides, whatever order or
sharding the files came in:

- whether the row is held out to validate on (``held_out``: its low ``HOLD_OUT_BITS``),
  unless whole local days are held out (``held_out_days``: days of each week in a
  seeded rotation of the weekdays, from the row's time and day-hour cell alone);
- which of the ``BUCKETS`` buckets it is stored in (``bucket_of``: the next bits);
- which held-out rows validate when there are more than needed (``validation_rank``);
- its place in every training pass (``pass_bucket_order``, then ``pass_row_order``
  within its bucket).

A pass visits the buckets in a seeded order and each bucket's rows in a seeded order
of their hashes. Every bucket is a uniform random subset of the rows, so every batch
is too, as with one global permutation; but a pass needs only one bucket at a time,
so the Trainer gives the same batches, and the same model, whether it holds the rows
in memory or streams them from local disk (``transforms.row_store``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from transforms.features import DAYS_PER_WEEK, HOURS_PER_DAY

# What is held out to validate on: rows by their hash, or whole local days.
VALIDATION_BY_ROW, VALIDATION_BY_DAY = "rows", "days"
VALIDATION_SPLITS = (VALIDATION_BY_DAY, VALIDATION_BY_ROW)
_THURSDAY = 3  # weekday (Monday 0) of 1970-01-01, day 0 of the epoch
BUCKETS = 256  # fixed, never sized to the memory budget: the row order must not depend on it
HOLD_OUT_BITS = 20
_BUCKET_BITS = int(BUCKETS).bit_length() - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 (a stateless, well-spread hash)."""
    x = np.asarray(x).astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _bits64(column: np.ndarray) -> np.ndarray:
    """The exact bits of a numeric column as uint64 (floats by their bit pattern)."""
    column = np.ascontiguousarray(column)
    if column.dtype.kind == "f":
        column = column.view(np.dtype(f"i{column.dtype.itemsize}"))
    return column.astype(np.int64).view(np.uint64)


def row_hash(columns: Iterable[np.ndarray], rows: int, seed: int) -> np.ndarray:
    """A seeded uint64 hash of each row over ``columns`` (each (rows, ...), fixed order)."""
    h = mix64(np.full(rows, seed, np.uint64))
    for column in columns:
        flat = np.asarray(column).reshape(rows, -1)
        for j in range(flat.shape[1]):
            h = mix64(h ^ _bits64(flat[:, j]))
    return h


def held_out(h: np.ndarray, fraction: float) -> np.ndarray:
    """Rows to validate on: about ``fraction`` of them, by their hash."""
    low = (h & np.uint64((1 << HOLD_OUT_BITS) - 1)).astype(np.float64)
    return low < fraction * (1 << HOLD_OUT_BITS)


def local_day(timestamps: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Each row's local date as days since 1970-01-01 (int64), from its UTC time (epoch
    seconds) and its local day-hour cell (``day_of_week * 24 + hour``, Monday 0): the
    local hour minus the UTC hour gives the zone's offset (mod 24 h), the cell's day of
    week the date."""
    utc_hour = np.asarray(timestamps, np.int64) // 3600
    cells = np.asarray(cells, np.int64)
    offset = (cells % HOURS_PER_DAY - utc_hour % HOURS_PER_DAY) % HOURS_PER_DAY
    day = (utc_hour + offset) // HOURS_PER_DAY  # the local date, or the day after it
    weekday = cells // HOURS_PER_DAY
    return day - (day + _THURSDAY - weekday) % DAYS_PER_WEEK  # 1970-01-01 was a Thursday


def local_week(timestamps: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Each row's local Monday-Sunday week, counted from the week of 1970-01-01 (int64),
    from its UTC time and local day-hour cell (``local_day``)."""
    return (local_day(timestamps, cells) + _THURSDAY) // DAYS_PER_WEEK


def held_out_days(
    timestamps: np.ndarray, cells: np.ndarray, seed: int, fraction: float
) -> np.ndarray:
    """Rows to validate on: those of whole local days, ``n = ceil(fraction * 7)`` days of
    each Monday-Sunday week. The weekdays rotate from week to week (week ``w`` holds out
    weekdays ``s + n w .. s + n w + n - 1`` mod 7, ``s`` from the seed), so a few weeks
    validate on every weekday, and a single week of data on ``n`` seeded days."""
    day = local_day(timestamps, cells)
    week, weekday = np.divmod(day + _THURSDAY, DAYS_PER_WEEK)  # weeks from Mon 1969-12-29
    days_held = math.ceil(fraction * DAYS_PER_WEEK)
    start = int(mix64(np.uint64(seed)) % np.uint64(DAYS_PER_WEEK))
    return (weekday - start - days_held * week) % DAYS_PER_WEEK < days_held


def bucket_of(h: np.ndarray) -> np.ndarray:
    """Each row's bucket in ``[0, BUCKETS)`` (int64), from bits independent of ``held_out``."""
    return ((h >> np.uint64(HOLD_OUT_BITS)) & np.uint64(BUCKETS - 1)).astype(np.int64)


def validation_rank(h: np.ndarray) -> np.ndarray:
    """Held-out rows validate in this order (smallest first) when there are too many."""
    return h >> np.uint64(HOLD_OUT_BITS + _BUCKET_BITS)


def pass_bucket_order(seed: int, pass_index: int) -> np.ndarray:
    """The order in which pass ``pass_index`` visits the buckets (seeded)."""
    return np.random.default_rng([seed, pass_index]).permutation(BUCKETS)


def pass_row_order(h: np.ndarray, pass_index: int) -> np.ndarray:
    """Indices that put one bucket's rows in pass ``pass_index``'s order.

    Sorted by a hash of (row hash, pass), so the order does not depend on the order the
    rows were stored in; rows with equal hashes are equal in every column.
    """
    with np.errstate(over="ignore"):
        salt = mix64(np.uint64(pass_index + 1) * _GOLDEN)
    return np.argsort(mix64(h ^ salt), kind="stable")

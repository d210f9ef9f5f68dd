"""Test oracle: the per-approach label functions the slab code is checked against.

One chunk per (intersection, direction, UTC day); straightforward and slow, so it
lives with the tests, not in the component.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from components.traffic_example_gen.chunks import MICROS_PER_DAY, MICROS_PER_SECOND, Chunk
from components.traffic_example_gen.parsing import ParsedBatch

DayKey = tuple[str, str, int]  # (intersection, direction, UTC day number)


def group_by_day(parsed: ParsedBatch) -> Iterator[tuple[DayKey, Chunk]]:
    """Splits a parsed batch into one chunk per (intersection, direction, UTC day)."""
    if not len(parsed.chunk):
        return
    utc_day = parsed.chunk.ts_us // MICROS_PER_DAY
    frame = pd.DataFrame({"i": parsed.intersection, "d": parsed.direction, "u": utc_day})
    for (intersection, direction, day), index in frame.groupby(
        ["i", "d", "u"], sort=False
    ).indices.items():
        yield (str(intersection), str(direction), int(day)), parsed.chunk.take(index)


def sort_and_dedup(chunk: Chunk) -> tuple[Chunk, Chunk, Chunk]:
    """(unique rows sorted by time, duplicate rows, the kept first copy of each duplicate).

    Rows are identical when instant, vehicle type, lane and speed all match (the
    intersection and direction are the group's). The first copy, by file then row,
    is kept.
    """
    order = np.lexsort(
        (chunk.row, chunk.file_index, chunk.speed, chunk.lane, chunk.vehicle_type, chunk.ts_us)
    )
    ordered = chunk.take(order)
    speed = ordered.speed
    same_speed = (speed[1:] == speed[:-1]) | (np.isnan(speed[1:]) & np.isnan(speed[:-1]))
    duplicate = np.concatenate(
        [
            [False],
            (ordered.ts_us[1:] == ordered.ts_us[:-1])
            & (ordered.vehicle_type[1:] == ordered.vehicle_type[:-1])
            & (ordered.lane[1:] == ordered.lane[:-1])
            & same_speed,
        ]
    )
    position = np.arange(len(ordered))
    first_copy = np.maximum.accumulate(np.where(duplicate, 0, position))
    return ordered.take(~duplicate), ordered.take(duplicate), ordered.take(first_copy[duplicate])


@dataclasses.dataclass
class DayTail:
    """What the tail resolution needs from one day group."""

    utc_day: int
    first_ts_us: int
    tail: Chunk  # the group's last vehicle (one row)


def resolve_tails(tails: list[DayTail]) -> tuple[Chunk | None, np.ndarray, int]:
    """Labels each day's last vehicle with the next non-empty day's first vehicle.

    Returns (labeled tail rows, their labels in seconds, number of unlabeled tails).
    Only the last day of an (intersection, direction) has no next vehicle.
    """
    tails = sorted(tails, key=lambda t: t.utc_day)
    if len(tails) < 2:
        return None, np.zeros(0), len(tails)
    labeled = Chunk.concat([t.tail for t in tails[:-1]])
    next_first = np.array([t.first_ts_us for t in tails[1:]], dtype=np.int64)
    labels = (next_first - labeled.ts_us).astype(np.float64) / MICROS_PER_SECOND
    return labeled, labels, 1

"""Per-vehicle headway labels, computed on columnar day groups.

A slab holds the valid observations of one UTC day and approach shard, for many
approaches (intersection, direction) at once. Inside an approach's day the label of
each vehicle but the last is the time to the next one; each day's last vehicle (its
*tail*) is resolved against the first vehicle of the approach's next non-empty day
by ``resolve_slab_tails``.

A label is valid only if every local day from the vehicle's file's day to its next
vehicle's file's day has an input file: a missing day (a gap in the export) may have
held the real next vehicle. The end of a likely truncated day (``coverage``: its
vehicles stop hours before its neighbours') counts as such a gap too: the vehicles that
were cut off may have been the next ones. Such vehicles are counted
(``unlabeled_before_gap``), never labelled. Empty days that have a file are real quiet
days and are crossed.
"""

from __future__ import annotations

import dataclasses
import datetime
import zlib
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from components.traffic_example_gen import accounting
from components.traffic_example_gen.chunks import MICROS_PER_SECOND, Slab
from components.traffic_example_gen.parsing import ParsedBatch
from transforms import features


def headways_seconds(ts_us: np.ndarray) -> np.ndarray:
    """Seconds from each instant to the next (len - 1 values; input sorted)."""
    return np.diff(ts_us).astype(np.float64) / MICROS_PER_SECOND


def missing_days_before(days: Sequence[datetime.date]) -> np.ndarray:
    """Per file of the day-sorted file list: calendar days without a file before its day.

    Counted from the first file's day, so two files have a file for every day between
    them exactly when their values are equal (the values never decrease).
    """
    ordinal = np.array([d.toordinal() for d in days], dtype=np.int64)
    if (np.diff(ordinal) <= 0).any():
        raise ValueError(f"file days are not strictly increasing: {list(days)}")
    steps = np.arange(len(ordinal), dtype=np.int64)
    return ordinal - (ordinal[0] if len(ordinal) else 0) - steps


def with_cuts_as_gaps(gaps: np.ndarray, cut_files: Sequence[int]) -> np.ndarray:
    """``gaps`` (``missing_days_before``) with a missing day after each file of
    ``cut_files`` (indices of likely truncated days)."""
    after_cut = np.zeros(len(gaps), dtype=np.int64)
    for index in cut_files:
        after_cut[index + 1 :] += 1
    return gaps + after_cut


def _no_missing_day(
    gaps: np.ndarray, file_index: np.ndarray, next_file_index: np.ndarray
) -> np.ndarray:
    """True where every day between the two files' days has a file (``gaps`` from
    ``missing_days_before``)."""
    return gaps[file_index] == gaps[next_file_index]


# --- Slabs: many approaches per group (what the Beam stages use) -------------


def slab_of(parsed: ParsedBatch) -> Slab:
    """The valid rows of a parsed batch as a ``Slab``."""
    direction_code = pd.Index(features.DIRECTIONS).get_indexer(parsed.direction)
    return Slab.from_strings(parsed.intersection, direction_code, parsed.chunk)


def approach_shards(slab: Slab, shards: int) -> np.ndarray:
    """A stable shard in [0, shards) per row, from its intersection id and direction."""
    if shards == 1:
        return np.zeros(len(slab), dtype=np.int64)
    by_id = np.array([zlib.crc32(str(i).encode()) for i in slab.intersections], dtype=np.int64)
    return (by_id[slab.intersection] + slab.direction) % shards


def split_by_key(keys: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(key, row indices in order) for each distinct key, ascending."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    for begin, end in zip(starts, np.append(starts[1:], len(keys)), strict=True):
        yield int(ordered[begin]), order[begin:end]


def sort_and_dedup_slab(slab: Slab, *, duplicates: str) -> tuple[Slab, Slab, Slab]:
    """Sorts a slab by (approach, time) and takes out duplicates: (kept, duplicates, originals).

    ``duplicates`` is the rule (``accounting.DUPLICATE_RULES``). ``exact``: rows are
    duplicates when every column matches -- approach, instant to the microsecond,
    vehicle type, lane and speed; the first copy by file then row is kept. ``keep``:
    no row is a duplicate (two vehicles may share every column).
    """
    accounting.check_duplicates_rule(duplicates)
    chunk = slab.chunk
    approach = slab.approach()
    order = np.lexsort(
        (
            chunk.row,
            chunk.file_index,
            chunk.speed,
            chunk.lane,
            chunk.vehicle_type,
            chunk.ts_us,
            approach,
        )
    )
    ordered = slab.take(order)
    if duplicates == accounting.DUPLICATES_KEEP:
        none = np.zeros(len(ordered), dtype=bool)
        return ordered, ordered.take(none), ordered.take(none)
    approach = approach[order]
    rows = ordered.chunk
    speed = rows.speed
    same_speed = (speed[1:] == speed[:-1]) | (np.isnan(speed[1:]) & np.isnan(speed[:-1]))
    duplicate = np.concatenate(
        [
            [False],
            (approach[1:] == approach[:-1])
            & (rows.ts_us[1:] == rows.ts_us[:-1])
            & (rows.vehicle_type[1:] == rows.vehicle_type[:-1])
            & (rows.lane[1:] == rows.lane[:-1])
            & same_speed,
        ]
    )
    position = np.arange(len(ordered))
    first_copy = np.maximum.accumulate(np.where(duplicate, 0, position))
    return ordered.take(~duplicate), ordered.take(duplicate), ordered.take(first_copy[duplicate])


def same_second_vehicles(kept: Slab) -> int:
    """Vehicles of a sorted slab in the same whole UTC second as the previous one of
    their approach (their headway is under a second)."""
    if len(kept) < 2:
        return 0
    approach = kept.approach()
    second = kept.chunk.ts_us // MICROS_PER_SECOND
    return int(((approach[1:] == approach[:-1]) & (second[1:] == second[:-1])).sum())


@dataclasses.dataclass
class DayTails:
    """The first instant and last vehicle of each approach in one UTC day group."""

    utc_day: np.ndarray  # int64 per row
    first_ts_us: np.ndarray  # int64 per row
    first_file_index: np.ndarray  # int32 per row: the file of that first vehicle
    rows: Slab  # one row per approach: its last vehicle of the day

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, index: np.ndarray) -> DayTails:
        """The tails at ``index``."""
        return DayTails(
            self.utc_day[index],
            self.first_ts_us[index],
            self.first_file_index[index],
            self.rows.take(index),
        )


@dataclasses.dataclass
class DayLabels:
    """What ``label_day_slab`` makes of one day group."""

    labeled: Slab  # vehicles labelled with the next vehicle of their approach in the group
    labels: np.ndarray  # their labels in seconds
    tails: DayTails  # each approach's last vehicle of the group, resolved later
    before_gap: int  # vehicles whose next vehicle lies beyond a day without a file


def label_day_slab(kept: Slab, utc_day: int, gaps: np.ndarray) -> DayLabels:
    """Labels every vehicle of a sorted, deduplicated day group but each approach's last.

    ``gaps`` is ``missing_days_before`` of the run's files: a vehicle whose next
    vehicle (in the group) is in a file beyond a day with no file is not labelled.
    """
    approach = kept.approach()
    file_index = kept.chunk.file_index
    n = len(kept)
    has_next = np.zeros(n, dtype=bool)
    has_next[:-1] = approach[1:] == approach[:-1]
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = ~has_next[:-1]
    valid = has_next.copy()
    valid[:-1] &= _no_missing_day(gaps, file_index[:-1], file_index[1:])
    labels = headways_seconds(kept.chunk.ts_us)[valid[:-1]] if n > 1 else np.zeros(0)
    last = ~has_next
    tails = DayTails(
        utc_day=np.full(int(last.sum()), utc_day, dtype=np.int64),
        first_ts_us=kept.chunk.ts_us[is_first],
        first_file_index=file_index[is_first],
        rows=kept.take(last),
    )
    return DayLabels(kept.take(valid), labels, tails, int((has_next & ~valid).sum()))


@dataclasses.dataclass
class ResolvedTails:
    """What ``resolve_slab_tails`` makes of an approach shard's day tails."""

    labeled: Slab | None  # tails labelled across a day boundary (None: no tails)
    labels: np.ndarray  # their labels in seconds
    last_vehicles: int  # tails with no later vehicle of their approach
    before_gap: int  # tails whose next vehicle lies beyond a day without a file


def resolve_slab_tails(parts: list[DayTails], gaps: np.ndarray) -> ResolvedTails:
    """Labels each approach's day tails with the first vehicle of its next non-empty day.

    Only the last day of each approach has no next vehicle; a tail whose next vehicle
    is in a file beyond a day with no file (``gaps``: ``missing_days_before``) is not
    labelled either.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return ResolvedTails(None, np.zeros(0), 0, 0)
    rows = Slab.concat([p.rows for p in parts])
    utc_day = np.concatenate([p.utc_day for p in parts])
    first_ts_us = np.concatenate([p.first_ts_us for p in parts])
    first_file = np.concatenate([p.first_file_index for p in parts])
    approach = rows.approach()
    order = np.lexsort((utc_day, approach))
    rows, approach = rows.take(order), approach[order]
    first_ts_us, first_file = first_ts_us[order], first_file[order]
    has_next = np.zeros(len(rows), dtype=bool)
    has_next[:-1] = approach[1:] == approach[:-1]
    valid = has_next.copy()
    valid[:-1] &= _no_missing_day(gaps, rows.chunk.file_index[:-1], first_file[1:])
    labeled = rows.take(valid)
    next_first = first_ts_us[1:][valid[:-1]]
    labels = (next_first - labeled.chunk.ts_us).astype(np.float64) / MICROS_PER_SECOND
    return ResolvedTails(labeled, labels, int((~has_next).sum()), int((has_next & ~valid).sum()))

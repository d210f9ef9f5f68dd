"""Test oracle for labels and duplicates, written from the rules with pandas on raw rows.

It shares no code with ``labels`` (no day groups, no tails, no lexsort): the whole
input is one table, and the rules are stated directly:

* rule ``exact``: rows are duplicates when intersection, direction, instant, vehicle
  type, lane and speed all match (absent speeds match); the first copy by (file, row)
  is kept. Rule ``keep``: no row is a duplicate;
* the kept rows of an approach (intersection, direction) in time order (ties by
  vehicle type, lane, speed, file, row) are labelled with the seconds to the next
  one, across days; the approach's last vehicle has no label (NaN);
* but a vehicle whose next vehicle is in a file of another day, with some calendar
  day between the two files' days that has no input file, has no label either (NaN,
  ``before_gap``): the missing day may have held its real next vehicle. A day whose
  file exists is never a gap, however few rows it has;
* a kept vehicle is a same-second vehicle when the previous kept vehicle of its
  approach is in the same whole UTC second.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

import numpy as np
import pandas as pd

from components.traffic_example_gen.chunks import MICROS_PER_SECOND, Slab

APPROACH = ["intersection", "direction"]
IDENTITY = [*APPROACH, "ts_us", "vehicle_type", "lane", "speed"]
ORDER = [*IDENTITY, "file_index", "row"]
SOURCE = ["file_index", "row"]


def frame_of(slab: Slab) -> pd.DataFrame:
    """The slab's rows as a plain table of strings and numbers (one row per input row)."""
    chunk = slab.chunk
    return pd.DataFrame(
        {
            "intersection": slab.intersections[slab.intersection].astype(str),
            "direction": slab.direction.astype(int),
            "ts_us": chunk.ts_us,
            "vehicle_type": chunk.vehicle_type.astype(int),
            "lane": chunk.lane,
            "speed": chunk.speed,
            "file_index": chunk.file_index.astype(int),
            "row": chunk.row,
        }
    )


@dataclasses.dataclass
class Expected:
    """What the rules say about a table of rows."""

    # ORDER columns + "label" (NaN: the approach's last vehicle, or before a gap) +
    # "before_gap" (True: a next vehicle exists but lies beyond a day with no file)
    kept: pd.DataFrame
    duplicates: pd.DataFrame  # ORDER columns + "original_file_index", "original_row"


def _missing_day_between(day: datetime.date, other: datetime.date, present: set) -> bool:
    """Whether some calendar day strictly between ``day`` and ``other`` is not ``present``."""
    low, high = sorted((day, other))
    between = (low + datetime.timedelta(days=k) for k in range(1, (high - low).days))
    return any(d not in present for d in between)


def expected(
    rows: pd.DataFrame, *, file_days: Sequence[datetime.date], duplicates: str = "exact"
) -> Expected:
    """Applies the rules of the module docstring to ``rows`` (columns of ``frame_of``);
    ``file_days[i]`` is the local day of input file ``i`` (every file of the run)."""
    by_source = rows.sort_values(SOURCE, kind="stable")
    if duplicates == "keep":
        duplicate = pd.Series(False, index=by_source.index)
    else:
        duplicate = by_source.duplicated(IDENTITY, keep="first")
    kept = by_source[~duplicate].sort_values(ORDER, kind="stable").reset_index(drop=True)
    following = kept.groupby(APPROACH, sort=False)[["ts_us", "file_index"]].shift(-1)
    present = set(file_days)
    kept["before_gap"] = [
        not np.isnan(next_file)
        and _missing_day_between(file_days[this_file], file_days[int(next_file)], present)
        for this_file, next_file in zip(kept["file_index"], following["file_index"], strict=True)
    ]
    label = (following["ts_us"] - kept["ts_us"]) / MICROS_PER_SECOND
    kept["label"] = label.where(~kept["before_gap"])
    originals = by_source[~duplicate][IDENTITY + SOURCE].rename(
        columns={"file_index": "original_file_index", "row": "original_row"}
    )
    duplicates = by_source[duplicate].merge(originals, on=IDENTITY, how="left")
    assert not duplicates["original_row"].isna().any()
    return Expected(kept, duplicates)


def same_second_vehicles(kept: pd.DataFrame) -> int:
    """Kept vehicles in the same whole second as the previous one of their approach."""
    second = kept["ts_us"] // MICROS_PER_SECOND
    previous = second.groupby([kept[c] for c in APPROACH], sort=False).shift(1)
    return int((second == previous).sum())


def keyed_labels(kept: pd.DataFrame) -> dict[tuple, float]:
    """{(intersection, direction, ts_us, file, row): label} of the labelled rows."""
    labelled = kept[~np.isnan(kept["label"])]
    keys = labelled[[*APPROACH, "ts_us", *SOURCE]].itertuples(index=False, name=None)
    return dict(zip(keys, labelled["label"].tolist(), strict=True))


def unlabeled(kept: pd.DataFrame) -> tuple[int, int]:
    """(last vehicles of their approach, vehicles before a gap) among the kept rows."""
    before_gap = int(kept["before_gap"].sum())
    return int(np.isnan(kept["label"]).sum()) - before_gap, before_gap

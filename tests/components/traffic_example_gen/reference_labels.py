"""Test oracle for labels and duplicates, written from the rules with pandas on raw rows.

It shares no code with ``labels`` (no day groups, no tails, no lexsort): the whole
input is one table, and the rules are stated directly:

* rule ``exact``: rows are duplicates when intersection, direction, instant, vehicle
  type, lane and speed all match (absent speeds match); the first copy by (file, row)
  is kept. Rule ``keep``: no row is a duplicate;
* the kept rows of an approach (intersection, direction) in time order (ties by
  vehicle type, lane, speed, file, row) are labelled with the seconds to the next
  one, across days; the approach's last vehicle has no label (NaN);
* a kept vehicle is a same-second vehicle when the previous kept vehicle of its
  approach is in the same whole UTC second.
"""

from __future__ import annotations

import dataclasses

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

    kept: pd.DataFrame  # ORDER columns + "label" (NaN: the approach's last vehicle)
    duplicates: pd.DataFrame  # ORDER columns + "original_file_index", "original_row"


def expected(rows: pd.DataFrame, duplicates: str = "exact") -> Expected:
    """Applies the rules of the module docstring to ``rows`` (columns of ``frame_of``)."""
    by_source = rows.sort_values(SOURCE, kind="stable")
    if duplicates == "keep":
        duplicate = pd.Series(False, index=by_source.index)
    else:
        duplicate = by_source.duplicated(IDENTITY, keep="first")
    kept = by_source[~duplicate].sort_values(ORDER, kind="stable").reset_index(drop=True)
    next_ts = kept.groupby(APPROACH, sort=False)["ts_us"].shift(-1)
    kept["label"] = (next_ts - kept["ts_us"]) / MICROS_PER_SECOND
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

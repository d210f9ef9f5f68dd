"""The recent-days check: this window's newest days against the baseline run's older days.

A nightly schedule moves a 28-day window by one day a night, and its baseline (the last
blessed run, normally last night's) overlaps it by 27 days: a break that enters one day
a night moves the whole-window statistics by about 1/28 of its size a night, below the
week-to-week noise, so the whole-window comparison never sees it (docs/drift.md). This
check compares data that do not overlap:

- **recent**: the newest ``recent_days`` local days of this run (ending at its last
  day), from this run's day cells;
- **reference**: the days of the *baseline* run's data before the first recent day
  (the newest whole weeks of them, when there are 7 or more: a recent week is then
  compared with the same days of the week), from the day cells the baseline's DriftGate
  kept next to its statistics (``DAY_CELLS_FILE``). The baseline is the same
  city-scoped resolver's as the whole-window check: nothing new is resolved, on any
  runner.

Both sides are vehicle shares (day cells summed, weighted by vehicles) of
``RECENT_FEATURES``, compared by the same TFDV comparators and thresholds as the
whole-window check, recorded with the split name ``recent``. A break is caught once it
fills enough of the recent days, whatever the window's length. Under ``block`` a
blocked run is not blessed, so the baseline, and its reference days, stay from before
the break: every later night is blocked too until someone acts. Under ``warn`` each
drifted night is still blessed and becomes the next baseline; the break is recorded
until it has entered enough of the reference days (about ``window_days -
recent_days`` nights), then it is the new normal.

The reference must hold at least ``recent_days`` days (not fewer days than the
sample it is compared with); otherwise the check is recorded as not compared.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import replace

import pandas as pd
import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.drift_gate import checks, comparison, derived
from transforms import features

WEEK = 7
RECENT = "recent"  # the split name of the check's measurements
DAY_CELLS_FILE = "DayCells.parquet"  # at the root of the drift_statistics artifact
# The checks computed from day cells (vehicle shares); the labels are not among them.
RECENT_FEATURES = (
    features.INTERSECTION,
    features.DIRECTION,
    checks.APPROACH,
    features.VEHICLE_TYPE,
    checks.APPROACH_HOUR,
)


def write_day_cells(path: str, cells: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    cells.to_parquet(buffer, index=False)
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(buffer.getvalue())


def read_day_cells(path: str) -> pd.DataFrame | None:
    """The day cells at ``path``; None when there are none (a baseline from before them)."""
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "rb") as handle:
        return pd.read_parquet(io.BytesIO(handle.read()))


def mix_statistics(day_cells: pd.DataFrame):
    """TFDV statistics of ``RECENT_FEATURES`` as vehicle shares of ``day_cells``."""
    keys = [features.INTERSECTION, features.DIRECTION, features.HOUR, features.VEHICLE_TYPE]
    cells = day_cells.groupby(keys)[derived.WEIGHT].sum().reset_index()
    approaches = [
        derived.approach_key(i, d)
        for i, d in zip(cells[features.INTERSECTION], cells[features.DIRECTION], strict=True)
    ]
    frame = pd.DataFrame(
        {
            features.INTERSECTION: cells[features.INTERSECTION],
            features.DIRECTION: cells[features.DIRECTION],
            checks.APPROACH: approaches,
            features.VEHICLE_TYPE: cells[features.VEHICLE_TYPE],
            checks.APPROACH_HOUR: [
                derived.approach_hour_key(i, d, int(h))
                for i, d, h in zip(*(cells[k] for k in keys[:3]), strict=True)
            ],
            derived.WEIGHT: cells[derived.WEIGHT].astype(float),
        }
    )
    return derived.weighted_statistics(frame)


def _span(days: pd.Series) -> tuple[str, str, int]:
    unique = sorted(days.unique())
    return (unique[0], unique[-1], len(unique)) if unique else ("", "", 0)


def compare_recent(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    last_day: datetime.date,
    recent_days: int,
    thresholds: dict[str, float],
) -> tuple[list[checks.Measurement], anomalies_pb2.Anomalies, checks.RecentParts]:
    """The newest ``recent_days`` days of ``current`` (ending ``last_day``) against the
    days of ``baseline`` before them (see the module docstring)."""
    first = (last_day - datetime.timedelta(days=recent_days - 1)).isoformat()
    recent = current[
        (current[derived.DAY] >= first) & (current[derived.DAY] <= last_day.isoformat())
    ]
    before = sorted(baseline.loc[baseline[derived.DAY] < first, derived.DAY].unique())
    if len(before) >= WEEK:  # whole weeks: the same days of the week as a recent week
        before = before[len(before) % WEEK :]
    reference = baseline[baseline[derived.DAY].isin(before)]
    ref_first, ref_last, ref_days = _span(reference[derived.DAY])
    parts = checks.RecentParts(
        first, last_day.isoformat(), recent_days, ref_first, ref_last, ref_days
    )
    checked = {name: t for name, t in thresholds.items() if name in RECENT_FEATURES}
    if ref_days < recent_days or recent.empty or not checked:
        return [], anomalies_pb2.Anomalies(), parts
    measured, anomalies = comparison.compare(
        mix_statistics(recent), mix_statistics(reference), checked, RECENT
    )
    return measured, anomalies, replace(parts, compared=True)

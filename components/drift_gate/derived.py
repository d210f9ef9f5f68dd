"""The derived drift features, counted from the window's Examples, as TFDV statistics.

``approach`` = ``intersection_id/direction`` and ``approach_hour`` =
``intersection_id/direction/HH`` (``HH`` the local hour, the Examples' ``hour``). Each
cell's weight is its number of vehicles: one per example of events data, the example's
``vehicle_count`` for counts data. TFDV turns the cells into statistics with the weights
as ``weight_feature``; its drift comparators use the weighted histograms, so the
compared distributions are vehicle shares.

One pass over the Examples (``count_day_cells``) reads five (or six) columns of every
example and counts vehicles per *day cell*: (local day, intersection, direction, hour,
vehicle type). The window's derived statistics sum those cells over days and types; the
recent-days check (``recent.py``) compares day ranges of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx_bsl.coders import example_coder

from components.drift_gate.checks import APPROACH, APPROACH_HOUR
from transforms import features

BATCH_SIZE = 65536
WEIGHT = "vehicles"  # the weight column of the derived statistics (never compared)
DAY = "day"  # the day cells' local day, YYYY-MM-DD
CELL_KEYS = [DAY, features.INTERSECTION, features.DIRECTION, features.HOUR, features.VEHICLE_TYPE]


def approach_key(intersection: str, direction: str) -> str:
    return f"{intersection}{features.APPROACH_SEPARATOR}{direction}"


def approach_hour_key(intersection: str, direction: str, hour: int) -> str:
    return f"{approach_key(intersection, direction)}{features.APPROACH_SEPARATOR}{hour:02d}"


def _column(records, name: str) -> np.ndarray:
    index = records.schema.get_field_index(name)
    if index < 0:
        raise ValueError(f"drift gate: the Examples have no {name!r} feature")
    values = records.column(index).flatten()
    if len(values) != records.num_rows:
        raise ValueError(f"drift gate: {name!r} needs exactly one value per example")
    return values.to_numpy(zero_copy_only=False, writable=True)  # pandas writes into it


def count_day_cells(files: list[str], data_kind: str, timezone: str) -> pd.DataFrame:
    """Vehicles per (local day, intersection, direction, hour, vehicle type) over the
    gzipped tf.Example files: columns ``CELL_KEYS`` and ``WEIGHT``. The day is the local
    date (in ``timezone``) of each example's ``timestamp_utc``."""
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    weighted = data_kind == features.DATA_KIND_COUNTS
    parts = []
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(BATCH_SIZE):
        records = decoder.DecodeBatch(batch.numpy().tolist())
        utc = pd.to_datetime(_column(records, features.TIMESTAMP_UTC), unit="s", utc=True)
        frame = pd.DataFrame(
            {
                DAY: utc.tz_convert(timezone).tz_localize(None).normalize(),
                features.INTERSECTION: _column(records, features.INTERSECTION),
                features.DIRECTION: _column(records, features.DIRECTION),
                features.HOUR: _column(records, features.HOUR),
                features.VEHICLE_TYPE: _column(records, features.VEHICLE_TYPE),
                WEIGHT: _column(records, features.VEHICLE_COUNT) if weighted else 1,
            }
        )
        parts.append(frame.groupby(CELL_KEYS, sort=False)[WEIGHT].sum().reset_index())
    if not parts:
        return pd.DataFrame({name: [] for name in [*CELL_KEYS, WEIGHT]})
    cells = pd.concat(parts).groupby(CELL_KEYS)[WEIGHT].sum().reset_index()
    cells[DAY] = cells[DAY].dt.strftime("%Y-%m-%d")
    for name in (features.INTERSECTION, features.DIRECTION, features.VEHICLE_TYPE):
        cells[name] = cells[name].map(bytes.decode)
    cells[features.HOUR] = cells[features.HOUR].astype(np.int64)
    cells[WEIGHT] = cells[WEIGHT].astype(np.int64)
    return cells


def merge_day_cells(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The day cells of several parts (e.g. splits) summed into one table."""
    cells = pd.concat(parts, ignore_index=True)
    return cells.groupby(CELL_KEYS)[WEIGHT].sum().reset_index()


def approach_hour_cells(day_cells: pd.DataFrame) -> Counter:
    """{(intersection, direction, hour): vehicles}: the day cells summed over days and
    vehicle types."""
    keys = [features.INTERSECTION, features.DIRECTION, features.HOUR]
    summed = day_cells.groupby(keys)[WEIGHT].sum()
    return Counter({(i, d, int(h)): int(n) for (i, d, h), n in summed.items()})


def cell_statistics(cells: Mapping) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of ``approach`` and ``approach_hour``, weighted by vehicles, from
    {(intersection, direction, hour): vehicles}."""
    frame = pd.DataFrame(
        {
            APPROACH: [approach_key(i, d) for i, d, _ in cells],
            APPROACH_HOUR: [approach_hour_key(i, d, h) for i, d, h in cells],
            WEIGHT: [float(n) for n in cells.values()],
        }
    )
    return weighted_statistics(frame)


def weighted_statistics(frame: pd.DataFrame) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of ``frame``'s categorical columns weighted by its ``WEIGHT``,
    every category in the histograms (the default keeps 1000 ranks, 20 top values)."""
    categories = max([frame[c].nunique() for c in frame.columns if c != WEIGHT] + [1])
    options = tfdv.StatsOptions(
        weight_feature=WEIGHT,
        num_top_values=categories,
        num_rank_histogram_buckets=categories,
    )
    return tfdv.generate_statistics_from_dataframe(frame, stats_options=options)

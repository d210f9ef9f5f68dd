"""The derived drift features, counted from the window's Examples, as TFDV statistics.

``approach`` = ``intersection_id/direction`` and ``approach_hour`` =
``intersection_id/direction/HH`` (``HH`` the local hour, the Examples' ``hour``). Each
cell's weight is its number of vehicles: one per example of events data, the example's
``vehicle_count`` for counts data. TFDV turns the cells into statistics with the weights
as ``weight_feature``; its drift comparators use the weighted histograms, so the
compared distributions are vehicle shares. Reads three (or four) columns of every
example once; nothing else of the Examples.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx_bsl.coders import example_coder

from components.drift_gate.checks import APPROACH, APPROACH_HOUR
from transforms import features

BATCH_SIZE = 8192
WEIGHT = "vehicles"  # the weight column of the derived statistics (never compared)


def approach_key(intersection: str, direction: str) -> str:
    return f"{intersection}{features.APPROACH_SEPARATOR}{direction}"


def approach_hour_key(intersection: str, direction: str, hour: int) -> str:
    return f"{approach_key(intersection, direction)}{features.APPROACH_SEPARATOR}{hour:02d}"


def count_cells(files: list[str], data_kind: str) -> Counter:
    """{(intersection, direction, hour): vehicles} over the gzipped tf.Example files."""
    cells: Counter = Counter()
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    weighted = data_kind == features.DATA_KIND_COUNTS
    columns = [features.INTERSECTION, features.DIRECTION, features.HOUR]
    if weighted:
        columns.append(features.VEHICLE_COUNT)
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(BATCH_SIZE):
        records = decoder.DecodeBatch(batch.numpy().tolist())
        values = [
            records.column(records.schema.get_field_index(name)).flatten().to_pylist()
            for name in columns
        ]
        if any(len(v) != records.num_rows for v in values):
            raise ValueError(f"drift gate: {columns} need exactly one value per example")
        if weighted:
            for inter, direction, hour, count in zip(*values, strict=True):
                cells[(inter.decode(), direction.decode(), int(hour))] += int(count)
        else:
            for inter, direction, hour in zip(*values, strict=True):
                cells[(inter.decode(), direction.decode(), int(hour))] += 1
    return cells


def cell_statistics(cells: Counter) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of ``approach`` and ``approach_hour``, weighted by vehicles."""
    frame = pd.DataFrame(
        {
            APPROACH: [approach_key(i, d) for i, d, _ in cells],
            APPROACH_HOUR: [approach_hour_key(i, d, h) for i, d, h in cells],
            WEIGHT: [float(n) for n in cells.values()],
        }
    )
    # Every cell in the histograms (the default keeps 1000 ranks, 20 top values).
    options = tfdv.StatsOptions(
        weight_feature=WEIGHT,
        num_top_values=max(len(cells), 1),
        num_rank_histogram_buckets=max(len(cells), 1),
    )
    return tfdv.generate_statistics_from_dataframe(frame, stats_options=options)

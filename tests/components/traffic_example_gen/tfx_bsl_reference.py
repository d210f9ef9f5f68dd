"""Test oracle: encodes labeled chunks as tf.Examples with tfx_bsl's C++ encoder.

The pipeline frames its examples with ``example_wire`` (faster, and no TFX import in
Beam workers); this encoder is the reference it is tested against.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

from components.traffic_example_gen.chunks import MICROS_PER_SECOND, NO_LANE, Chunk
from components.traffic_example_gen.splits import EVAL, TRAIN
from transforms import features

_VEHICLE_TYPE_BYTES = np.array([v.encode() for v in features.VEHICLE_TYPES], dtype=object)
_ENCODER = RecordBatchToExamplesEncoder()


def _singletons(values: np.ndarray, arrow_type: pa.DataType, present: np.ndarray | None = None):
    """A list<arrow_type> array with one value per row (null lists where not present)."""
    n = len(values)
    if present is None:
        offsets = pa.array(np.arange(n + 1, dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array(values, arrow_type))
    ends = np.concatenate([[0], np.cumsum(present, dtype=np.int32)])
    offsets = pa.array(ends, mask=np.concatenate([~present, [False]]))
    return pa.ListArray.from_arrays(offsets, pa.array(values[present], arrow_type))


def _utf8(strings: np.ndarray) -> np.ndarray:
    return np.array([s.encode() for s in strings], dtype=object)


def to_record_batch(
    intersection: str | np.ndarray,
    direction: str | np.ndarray,
    chunk: Chunk,
    label_seconds: np.ndarray,
) -> pa.RecordBatch:
    """The Examples columns (features.* keys) of ``chunk`` as a RecordBatch of lists;
    ``intersection`` and ``direction`` are one string for every row or one per row."""
    n = len(chunk)
    intersection = np.broadcast_to(np.asarray(intersection, dtype=object), (n,))
    direction = np.broadcast_to(np.asarray(direction, dtype=object), (n,))
    columns = {
        features.TIMESTAMP_UTC: _singletons(chunk.ts_us // MICROS_PER_SECOND, pa.int64()),
        features.DAY_OF_WEEK: _singletons(chunk.day_of_week.astype(np.int64), pa.int64()),
        features.HOUR: _singletons(chunk.hour.astype(np.int64), pa.int64()),
        features.INTERSECTION: _singletons(_utf8(intersection), pa.binary()),
        features.DIRECTION: _singletons(_utf8(direction), pa.binary()),
        features.VEHICLE_TYPE: _singletons(_VEHICLE_TYPE_BYTES[chunk.vehicle_type], pa.binary()),
        features.LANE: _singletons(chunk.lane, pa.int64(), chunk.lane != NO_LANE),
        features.SPEED: _singletons(
            chunk.speed.astype(np.float32), pa.float32(), ~np.isnan(chunk.speed)
        ),
        features.SECONDS_TO_NEXT_VEHICLE: _singletons(
            label_seconds.astype(np.float32), pa.float32()
        ),
    }
    return pa.RecordBatch.from_arrays(list(columns.values()), list(columns))


def encode_by_split(
    intersection: str, direction: str, chunk: Chunk, label_seconds: np.ndarray
) -> dict[str, list[bytes]]:
    """Serialized tf.Examples of ``chunk``, keyed by split name (empty splits omitted)."""
    out = {}
    for split, mask in ((TRAIN, ~chunk.is_eval), (EVAL, chunk.is_eval)):
        if mask.any():
            batch = to_record_batch(intersection, direction, chunk.take(mask), label_seconds[mask])
            out[split] = _ENCODER.encode(batch)
    return out

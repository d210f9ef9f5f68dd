"""TFT ``preprocessing_fn``: the day x hour cross, location ids and the labels.

Events (``data_kind`` events): the headway and the vehicle-type index. Hourly counts
(``data_kind`` counts): ``features.COUNT_LABEL_XF`` = (vehicle_count, vehicle-type
index) and the vehicle-type index. The model inputs are the same for both kinds.

The day x hour cross exists only in this graph: ``day_hour_bucket`` builds the key
``features.day_hour_key(day, hour)`` with ``tf.strings`` and hashes it with FarmHash64.
The collision report (``transforms.collisions``) calls the same function, so the
graph and the report cannot drift apart.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from transforms import features
from transforms.hparams import HParams

# Headways below this are clipped: two vehicles never pass 0 s apart, and the
# exponential likelihood needs t > 0.
MIN_HEADWAY_SECONDS = 0.05
UNKNOWN_VEHICLE_TYPE = -1  # rejected by the Trainer's input check, never trained on
MISSING_COUNT = -1  # a counts example without vehicle_count; rejected by the Trainer too

TensorLike = tf.Tensor | tf.SparseTensor | tf.RaggedTensor


def day_hour_bucket(day_of_week: tf.Tensor, hour: tf.Tensor, cross_buckets: int) -> tf.Tensor:
    """Hashes int day/hour tensors to cross bucket ids (int64), as in the TFT graph."""
    key = tf.strings.join(
        [tf.strings.as_string(day_of_week), tf.strings.as_string(hour)],
        separator=features.CROSS_SEPARATOR,
    )
    return tf.strings.to_hash_bucket_fast(key, cross_buckets)


def location_bucket(intersection_id: tf.Tensor, location_buckets: int) -> tf.Tensor:
    """Hashes intersection ids (bytes) into ``location_buckets`` (copes with unseen ones)."""
    return tf.strings.to_hash_bucket_fast(intersection_id, location_buckets)


def approach_id(intersection_id: tf.Tensor, direction: tf.Tensor) -> tf.Tensor:
    """The approach's int64 id: FarmHash64 of ``intersection/direction`` (see features)."""
    key = tf.strings.join([intersection_id, direction], separator=features.APPROACH_SEPARATOR)
    return tf.strings.to_hash_bucket_fast(key, features.APPROACH_HASH_RANGE)


def day_hour_cell(day_of_week: tf.Tensor, hour: tf.Tensor) -> tf.Tensor:
    """``day_of_week * 24 + hour`` (int64), clipped into [0, 168) for malformed input."""
    cell = tf.cast(day_of_week, tf.int64) * features.HOURS_PER_DAY + tf.cast(hour, tf.int64)
    return tf.clip_by_value(cell, 0, features.DAY_HOUR_CELLS - 1)


def _index_in(values: tf.Tensor, vocabulary: tuple[str, ...], default: int) -> tf.Tensor:
    """Position of each value in a small fixed ``vocabulary`` (int64), else ``default``.

    A broadcast comparison instead of a lookup table: no table to (re)initialise in the
    TFT graph, and exact for vocabularies of a handful of entries.
    """
    matches = tf.equal(tf.expand_dims(values, -1), tf.constant(vocabulary))
    index = tf.argmax(tf.cast(matches, tf.int64), axis=-1, output_type=tf.int64)
    return tf.where(tf.reduce_any(matches, axis=-1), index, tf.constant(default, tf.int64))


def direction_index(direction: tf.Tensor) -> tf.Tensor:
    """Index into ``features.DIRECTIONS``; anything else maps to ``len(DIRECTIONS)`` (OOV)."""
    return _index_in(direction, features.DIRECTIONS, len(features.DIRECTIONS))


def vehicle_type_index(vehicle_type: tf.Tensor) -> tf.Tensor:
    """Index into ``features.VEHICLE_TYPES``; unknown types map to ``UNKNOWN_VEHICLE_TYPE``."""
    return _index_in(vehicle_type, features.VEHICLE_TYPES, UNKNOWN_VEHICLE_TYPE)


def _dense_1d(x: TensorLike, default: Any) -> tf.Tensor:
    """A [batch] dense tensor from a [batch], [batch, 1] or sparse/ragged single-value feature."""
    if isinstance(x, tf.SparseTensor):
        x = tf.sparse.to_dense(x, default_value=default)
        x = tf.pad(x, [[0, 0], [0, 1]], constant_values=default)  # rows with no value
    elif isinstance(x, tf.RaggedTensor):
        x = x.to_tensor(default_value=default, shape=[None, 1])
    if x.shape.rank == 2:
        x = x[:, 0]
    return x


def _config_int(custom_config: dict[str, Any] | None, key: str, default: int) -> int:
    value = (custom_config or {}).get(key)
    return default if value is None else int(value)


def data_kind_of(custom_config: dict[str, Any] | None) -> str:
    """``custom_config["data_kind"]`` (default: ``HParams``'), validated."""
    kind = (custom_config or {}).get("data_kind") or HParams.data_kind
    if kind not in features.DATA_KINDS:
        raise ValueError(f"custom_config data_kind: {kind!r} not in {features.DATA_KINDS}")
    return kind


def preprocessing_fn(
    inputs: dict[str, TensorLike], custom_config: dict[str, Any] | None = None
) -> dict[str, tf.Tensor]:
    """TFT entry point. ``custom_config`` may set ``cross_buckets``, ``location_buckets``
    and ``data_kind``."""
    data_kind = data_kind_of(custom_config)
    cross_buckets = _config_int(custom_config, "cross_buckets", features.DEFAULT_CROSS_BUCKETS)
    location_buckets = _config_int(
        custom_config, "location_buckets", features.DEFAULT_LOCATION_BUCKETS
    )
    day = _dense_1d(inputs[features.DAY_OF_WEEK], tf.constant(0, tf.int64))
    hour = _dense_1d(inputs[features.HOUR], tf.constant(0, tf.int64))
    intersection = _dense_1d(inputs[features.INTERSECTION], b"")
    direction = _dense_1d(inputs[features.DIRECTION], b"")
    vehicle_type = vehicle_type_index(_dense_1d(inputs[features.VEHICLE_TYPE], b""))
    outputs = {
        features.DAY_HOUR_CROSS_XF: day_hour_bucket(day, hour, cross_buckets),
        features.INTERSECTION_XF: location_bucket(intersection, location_buckets),
        features.DIRECTION_XF: direction_index(direction),
        features.APPROACH_XF: approach_id(intersection, direction),
        features.DAY_HOUR_CELL_XF: day_hour_cell(day, hour),
        features.VEHICLE_TYPE_LABEL_XF: vehicle_type,
    }
    if data_kind == features.DATA_KIND_COUNTS:
        missing = tf.constant(MISSING_COUNT, tf.int64)
        count = tf.cast(_dense_1d(inputs[features.VEHICLE_COUNT], missing), tf.float32)
        outputs[features.COUNT_LABEL_XF] = tf.stack(
            [count, tf.cast(vehicle_type, tf.float32)], axis=1
        )
        return outputs
    headway = tf.cast(_dense_1d(inputs[features.SECONDS_TO_NEXT_VEHICLE], 0.0), tf.float32)
    headway = tf.maximum(headway, MIN_HEADWAY_SECONDS)
    outputs[features.HEADWAY_LABEL_XF] = headway
    outputs[features.EVENT_LABEL_XF] = tf.stack(
        [headway, tf.cast(vehicle_type, tf.float32)], axis=1
    )
    return outputs

"""preprocessing_fn through a real TFT analyze-and-transform pass, and eagerly."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.transforms.conftest import raw_example, read_transformed, run_tft
from transforms import features
from transforms.preprocessing import MIN_HEADWAY_SECONDS, preprocessing_fn

# (day, hour, intersection, direction, vehicle type, headway) -> expected labels/ids
ROWS = [
    (1, 8, "X001", "W", "bus", 12.5),
    (0, 0, "X002", "N", "car", 0.0),
    (5, 17, "X003", "Q", "bicycle", 0.01),
    (6, 23, "X001", "E", "truck", 3600.0),
]
CONFIG = {"cross_buckets": 2058, "location_buckets": 64}


def _expected_cross(day: int, hour: int, buckets: int) -> int:
    # Independent of the graph: the literal key string, hashed directly.
    return int(tf.strings.to_hash_bucket_fast([f"{day}_{hour}"], buckets).numpy()[0])


def test_pinned_bucket_ids_of_known_cells():
    # Literal FarmHash64 values: a change of hashing would silently remap embeddings.
    assert _expected_cross(1, 8, 2058) == 1443
    assert _expected_cross(0, 0, 2058) == 1311


def test_analyze_and_transform_gives_exact_ids_and_labels(tmp_path):
    rows = [raw_example(d, h, i, r, v, t) for d, h, i, r, v, t in ROWS]
    run = run_tft(tmp_path, rows, rows[:1], CONFIG)
    out = read_transformed(run, "train")

    got = sorted(
        zip(
            out[features.DAY_HOUR_CROSS_XF].tolist(),
            out[features.INTERSECTION_XF].tolist(),
            out[features.DIRECTION_XF].tolist(),
            out[features.VEHICLE_TYPE_LABEL_XF].tolist(),
            np.round(out[features.HEADWAY_LABEL_XF].astype(np.float64), 4).tolist(),
            strict=True,
        )
    )
    location = {
        i: int(tf.strings.to_hash_bucket_fast([i], 64).numpy()[0]) for i in ("X001", "X002", "X003")
    }
    expected = sorted(
        [
            (1443, location["X001"], 3, 2, 12.5),
            (1311, location["X002"], 0, 0, MIN_HEADWAY_SECONDS),
            (_expected_cross(5, 17, 2058), location["X003"], 4, 3, MIN_HEADWAY_SECONDS),
            (_expected_cross(6, 23, 2058), location["X001"], 1, 1, 3600.0),
        ]
    )
    assert got == expected
    assert out[features.HEADWAY_LABEL_XF].dtype == np.float32
    assert read_transformed(run, "eval")[features.DAY_HOUR_CROSS_XF].tolist() == [1443]


def _batch(rows, shape: str) -> dict:
    """Raw feature tensors as [batch], [batch, 1] or sparse [batch, 1]."""
    columns = {
        features.DAY_OF_WEEK: tf.constant([r[0] for r in rows], tf.int64),
        features.HOUR: tf.constant([r[1] for r in rows], tf.int64),
        features.INTERSECTION: tf.constant([r[2] for r in rows]),
        features.DIRECTION: tf.constant([r[3] for r in rows]),
        features.VEHICLE_TYPE: tf.constant([r[4] for r in rows]),
        features.SECONDS_TO_NEXT_VEHICLE: tf.constant([r[5] for r in rows], tf.float32),
    }
    if shape == "rank2":
        return {k: v[:, None] for k, v in columns.items()}
    if shape == "sparse":
        return {k: tf.sparse.from_dense(v[:, None]) for k, v in columns.items()}
    return columns


def test_preprocessing_fn_accepts_rank2_and_sparse_inputs():
    reference = preprocessing_fn(_batch(ROWS, "rank1"), CONFIG)
    for shape in ("rank2", "sparse"):
        got = preprocessing_fn(_batch(ROWS, shape), CONFIG)
        for key, value in reference.items():
            np.testing.assert_array_equal(got[key].numpy(), value.numpy(), err_msg=key)
    assert reference[features.DAY_HOUR_CROSS_XF].shape == (len(ROWS),)


def test_custom_config_sets_cross_buckets_and_defaults_apply():
    small = preprocessing_fn(_batch(ROWS[:1], "rank1"), {"cross_buckets": 168})
    assert small[features.DAY_HOUR_CROSS_XF].numpy().tolist() == [_expected_cross(1, 8, 168)]
    default = preprocessing_fn(_batch(ROWS[:1], "rank1"), None)
    assert default[features.DAY_HOUR_CROSS_XF].numpy().tolist() == [
        _expected_cross(1, 8, features.DEFAULT_CROSS_BUCKETS)
    ]


def test_unknown_vehicle_type_is_marked_not_mapped_to_a_real_type():
    rows = [(1, 8, "X001", "N", "tram", 5.0)]
    out = preprocessing_fn(_batch(rows, "rank1"), CONFIG)
    assert out[features.VEHICLE_TYPE_LABEL_XF].numpy().tolist() == [-1]

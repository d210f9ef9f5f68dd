"""predict on a real trained model: serving_default with raw tf.Examples, local times, DST."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from deploy.insights import model_files, predictions
from deploy.insights.model_files import ModelError
from tests.transforms.conftest import LOCATION_BUCKETS
from transforms import features
from transforms.preprocessing import (
    approach_id,
    day_hour_bucket,
    direction_index,
    location_bucket,
)

TYPES = list(features.VEHICLE_TYPES)


def _in_memory(model, rows: list[tuple[str, str, int, int]]) -> dict[str, np.ndarray]:
    """The in-memory Keras model on (intersection, direction, day, hour), features by hand."""
    inputs = {
        features.DAY_HOUR_CROSS_XF: day_hour_bucket(
            tf.constant([r[2] for r in rows], tf.int64),
            tf.constant([r[3] for r in rows], tf.int64),
            features.DEFAULT_CROSS_BUCKETS,
        ),
        features.INTERSECTION_XF: location_bucket(
            tf.constant([r[0].encode() for r in rows]), LOCATION_BUCKETS
        ),
        features.DIRECTION_XF: direction_index(tf.constant([r[1].encode() for r in rows])),
        features.APPROACH_XF: approach_id(
            tf.constant([r[0].encode() for r in rows]), tf.constant([r[1].encode() for r in rows])
        ),
        features.DAY_HOUR_CELL_XF: tf.constant([r[2] * 24 + r[3] for r in rows], tf.int64),
    }
    return {k: v.numpy() for k, v in model(inputs).items()}


def test_week_for_all_approaches_matches_the_in_memory_model(cold_model, model_dir):
    frame = predictions.predict(model=model_dir, week=True)
    with open(os.path.join(model_dir, features.APPROACHES_FILE)) as f:
        recorded = json.load(f)
    assert list(frame.columns) == [
        "intersection_id",
        "direction",
        "day_of_week",
        "hour",
        "seconds_to_next_vehicle",
        "car",
        "truck",
        "bus",
        "bicycle",
        "total",
    ]
    assert len(frame) == 168 * len(recorded) and len(recorded) == 48
    rows = list(
        frame[["intersection_id", "direction", "day_of_week", "hour"]].itertuples(
            index=False, name=None
        )
    )
    expected = _in_memory(cold_model.model, rows)
    np.testing.assert_allclose(
        frame[TYPES].to_numpy(), expected[features.VEHICLES_PER_HOUR_OUTPUT], rtol=1e-5
    )
    np.testing.assert_allclose(
        frame["seconds_to_next_vehicle"], expected[features.HEADWAY_OUTPUT], rtol=1e-5
    )
    np.testing.assert_allclose(frame["total"], frame[TYPES].sum(axis=1), rtol=1e-9)


def test_local_times_cross_the_spring_forward_gap_like_example_gen(model_dir):
    # Europe/London, 29 March 2026: 01:00 local does not exist (clocks go 01:00 -> 02:00).
    frame = predictions.predict(
        model=model_dir, intersection="X003", direction="S", at="2026-03-29T00:30", hours=3
    )
    assert frame["local_time"].tolist() == [
        "2026-03-29T00:30+00:00",
        "2026-03-29T02:30+01:00",
        "2026-03-29T03:30+01:00",
    ]
    week = predictions.predict(model=model_dir, intersection="X003", direction="S", week=True)
    sunday = week[week["day_of_week"] == 6].set_index("hour")
    np.testing.assert_allclose(frame["car"], sunday.loc[[0, 2, 3], "car"], rtol=1e-6)

    utc = predictions.predict(
        model=model_dir, intersection="X003", direction="S", at="2026-03-31T07:00Z"
    )
    assert utc["local_time"].tolist() == ["2026-03-31T08:00+01:00"]  # Tuesday 08:00 BST
    tuesday_8 = week[(week["day_of_week"] == 1) & (week["hour"] == 8)]
    # float32 sums over batches of 1 and 168 rows differ in the 7th digit
    np.testing.assert_allclose(utc["total"], tuesday_8["total"], rtol=1e-5)


def test_a_local_time_in_the_dst_gap_and_a_malformed_time_are_input_errors(model_dir):
    with pytest.raises(ModelError, match="does not exist in Europe/London"):
        predictions.predict(
            model=model_dir, intersection="X001", direction="N", at="2026-03-29T01:30"
        )
    with pytest.raises(ModelError, match="not an ISO-8601 time"):
        predictions.predict(model=model_dir, intersection="X001", direction="N", at="tuesday 8am")


def test_unknown_intersection_is_an_error_unless_allowed_then_marked(model_dir, capsys):
    with pytest.raises(ModelError, match=r"'NEW-1' was not seen in training.*--allow-unseen"):
        predictions.predict(model=model_dir, intersection="NEW-1", direction="all", week=True)
    frame = predictions.predict(
        model=model_dir, intersection="NEW-1", direction="all", week=True, allow_unseen=True
    )
    err = capsys.readouterr().err
    assert "NEW-1" in err and "unseen-location bucket" in err
    assert sorted(set(frame["direction"])) == sorted(features.DIRECTIONS)
    assert not frame[predictions.SEEN_COLUMN].any()
    with pytest.raises(ModelError, match="--direction 'Q'"):
        predictions.predict(model=model_dir, intersection="X001", direction="Q", week=True)


def test_serving_default_asks_only_for_the_features_the_model_uses(model_dir):
    _loaded, serve = model_files.serving_function(model_dir)
    assert model_files.required_features(serve) == sorted(features.MODEL_RAW_FEATURES)


def test_required_features_are_read_from_an_older_models_parser(tmp_path):
    """A model exported before this change also parsed timestamp_utc; predict sends it."""
    spec = {
        features.TIMESTAMP_UTC: tf.io.FixedLenFeature([], tf.int64),
        features.HOUR: tf.io.FixedLenFeature([], tf.int64),
        features.SPEED: tf.io.VarLenFeature(tf.float32),
    }

    class Old(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            parsed = tf.io.parse_example(examples, spec)
            return {"hour": parsed[features.HOUR]}

    module = Old()
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(str(tmp_path))
    required = model_files.required_features(loaded.signatures["serving_default"])
    assert required == sorted([features.TIMESTAMP_UTC, features.HOUR])

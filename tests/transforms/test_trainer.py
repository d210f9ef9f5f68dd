"""run_fn's real path: DataAccessor input, training, SavedModel export and reload."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from tests.transforms.conftest import (
    LOCATION_BUCKETS,
    TEST_CONFIG,
    make_fn_args,
    raw_example,
    serialize,
)
from transforms import features
from transforms.collisions import cell_buckets
from transforms.model import HParams, day_hour_table
from transforms.preprocessing import (
    approach_id,
    day_hour_bucket,
    direction_index,
    location_bucket,
)
from transforms.row_store import IN_MEMORY
from transforms.trainer import TRAINING_INPUT_FILE


def _in_memory_inputs(rows: list[dict]) -> dict[str, tf.Tensor]:
    """Model inputs computed from raw rows with the graph's helpers, outside any TFT layer."""
    return {
        features.DAY_HOUR_CROSS_XF: day_hour_bucket(
            tf.constant([r[features.DAY_OF_WEEK] for r in rows], tf.int64),
            tf.constant([r[features.HOUR] for r in rows], tf.int64),
            features.DEFAULT_CROSS_BUCKETS,
        ),
        features.INTERSECTION_XF: location_bucket(
            tf.constant([r[features.INTERSECTION] for r in rows]), LOCATION_BUCKETS
        ),
        features.DIRECTION_XF: direction_index(tf.constant([r[features.DIRECTION] for r in rows])),
        features.APPROACH_XF: approach_id(
            tf.constant([r[features.INTERSECTION] for r in rows]),
            tf.constant([r[features.DIRECTION] for r in rows]),
        ),
        features.DAY_HOUR_CELL_XF: tf.constant(
            [r[features.DAY_OF_WEEK] * 24 + r[features.HOUR] for r in rows], tf.int64
        ),
    }


def test_reloaded_serving_default_matches_in_memory_model(cold_model):
    rows = [
        raw_example(1, 8, "X001", "W"),
        raw_example(6, 3, "X005", "N"),
        raw_example(2, 17, "UNSEEN-INTERSECTION", "Q"),
    ]
    loaded = tf.saved_model.load(cold_model.fn_args.serving_model_dir)
    serving = loaded.signatures["serving_default"]
    # A client sends only the features the model uses (no timestamp, lane, speed, labels).
    unused = tuple(k for k in rows[0] if k not in features.MODEL_RAW_FEATURES)
    assert features.TIMESTAMP_UTC in unused
    examples = tf.constant([serialize(r, drop=unused) for r in rows])
    served = serving(examples=examples)
    expected = cold_model.model(_in_memory_inputs(rows))
    for name in (
        features.HEADWAY_OUTPUT,
        features.VEHICLE_TYPE_OUTPUT,
        features.VEHICLES_PER_HOUR_OUTPUT,
        features.APPROACH_COMPARISON_OUTPUT,
    ):
        np.testing.assert_allclose(
            served[name].numpy(), expected[name].numpy(), rtol=1e-6, atol=1e-6, err_msg=name
        )
    assert served[features.VEHICLES_PER_HOUR_OUTPUT].shape == (3, len(features.VEHICLE_TYPES))


def test_transform_features_signature_returns_transformed_labels(cold_model):
    loaded = tf.saved_model.load(cold_model.fn_args.serving_model_dir)
    rows = [raw_example(1, 8, vehicle_type="bus", headway=0.0), raw_example(0, 0, headway=7.5)]
    out = loaded.signatures["transform_features"](
        examples=tf.constant([serialize(r) for r in rows])
    )
    assert out[features.VEHICLE_TYPE_LABEL_XF].numpy().tolist() == [2, 0]
    np.testing.assert_allclose(out[features.HEADWAY_LABEL_XF].numpy(), [0.05, 7.5], rtol=1e-6)
    buckets = cell_buckets(features.DEFAULT_CROSS_BUCKETS)  # all_day_hours() order
    assert out[features.DAY_HOUR_CROSS_XF].numpy().tolist() == [buckets[24 + 8], buckets[0]]


def test_day_hour_table_is_under_the_stable_checkpoint_key(cold_model):
    prefix = os.path.join(cold_model.fn_args.serving_model_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    table = reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)
    np.testing.assert_array_equal(table, day_hour_table(cold_model.model))
    assert table.shape == (features.DEFAULT_CROSS_BUCKETS, features.DEFAULT_EMBEDDING_DIM)
    # Saved once, under the stable key only: no positional Keras key holds a copy (the
    # other tables of this shape are Adam's two slots, as in any Keras export).
    shapes = reader.get_variable_to_shape_map()
    same_shape = [k for k, shape in shapes.items() if tuple(shape) == table.shape]
    assert [k for k in same_shape if "optimizer/" not in k] == [features.EMBEDDING_CHECKPOINT_KEY]
    assert len(same_shape) == 3


def test_embedding_files_beside_the_model(cold_model):
    model_dir = cold_model.fn_args.serving_model_dir
    with open(os.path.join(model_dir, features.EMBEDDING_SPEC_FILE)) as f:
        spec = json.load(f)
    expected = HParams.from_custom_config(TEST_CONFIG).embedding_spec()
    assert spec == dataclasses.asdict(expected)
    assert (spec["city"], spec["timezone"]) == ("testville", "Europe/London")

    with open(os.path.join(model_dir, features.EMBEDDING_METADATA_TSV)) as f:
        labels = f.read().splitlines()
    assert len(labels) == features.DAY_HOUR_CELLS
    assert labels[0] == "Mon 00:00" and labels[24 + 8] == "Tue 08:00" and labels[-1] == "Sun 23:00"

    vectors = np.loadtxt(os.path.join(model_dir, features.EMBEDDING_TSV), delimiter="\t")
    assert vectors.shape == (features.DAY_HOUR_CELLS, features.DEFAULT_EMBEDDING_DIM)
    table = day_hour_table(cold_model.model)
    tue_8 = int(tf.strings.to_hash_bucket_fast(["1_8"], features.DEFAULT_CROSS_BUCKETS)[0])
    np.testing.assert_array_equal(vectors[24 + 8], table[tue_8])
    assert not os.path.exists(os.path.join(model_dir, features.WARM_START_FILE))


def test_tensorboard_logs_under_model_run_dir(cold_model):
    logs = os.path.join(cold_model.fn_args.model_run_dir, "logs")
    assert tf.io.gfile.glob(os.path.join(logs, "train", "events.out.tfevents.*"))
    assert tf.io.gfile.glob(os.path.join(logs, "validation", "events.out.tfevents.*"))


def test_approaches_file_lists_exactly_the_trained_approaches(cold_model, tft_run):
    path = os.path.join(cold_model.fn_args.serving_model_dir, features.APPROACHES_FILE)
    with open(path) as f:
        recorded = {(a[features.INTERSECTION], a[features.DIRECTION]) for a in json.load(f)}
    trained = {
        (r[features.INTERSECTION].decode(), r[features.DIRECTION].decode())
        for r in tft_run.train_rows
    }
    assert recorded == trained


def test_read_batches_keeps_every_row_and_its_labels(tft_run, tmp_path):
    import tensorflow_transform as tft

    from transforms.trainer import read_batches

    fn_args = make_fn_args(tft_run, tmp_path, TEST_CONFIG)
    tft_output = tft.TFTransformOutput(tft_run.transform_dir)
    batches = list(read_batches(fn_args.eval_files, tft_output, **SMALL))
    assert len(batches) == -(-len(tft_run.eval_rows) // SMALL["batch_size"])
    assert sum(b.rows for b in batches) == len(tft_run.eval_rows)
    headways = np.concatenate([b.labels[features.HEADWAY_OUTPUT] for b in batches])
    expected = sorted(r[features.SECONDS_TO_NEXT_VEHICLE] for r in tft_run.eval_rows)
    np.testing.assert_allclose(sorted(headways), np.maximum(expected, 0.05), rtol=1e-6)
    times = np.concatenate([b.timestamps for b in batches])
    assert sorted(times) == sorted(r[features.TIMESTAMP_UTC] for r in tft_run.eval_rows)
    approaches = set().union(*(b.approaches for b in batches))
    assert approaches == {
        (r[features.INTERSECTION].decode(), r[features.DIRECTION].decode())
        for r in tft_run.eval_rows
    }


SMALL = {"data_kind": features.DATA_KIND_EVENTS, "batch_size": 128}


def test_training_input_file_records_the_in_memory_path(cold_model, tft_run):
    path = os.path.join(cold_model.fn_args.model_run_dir, TRAINING_INPUT_FILE)
    with open(path) as f:
        record = json.load(f)
    assert record["path"] == IN_MEMORY
    assert record["rows"] == len(tft_run.train_rows)
    assert record["train_rows"] + record["held_out_rows"] == record["rows"]
    assert record["validation_rows"] == record["held_out_rows"] > 0  # 4 steps x 64 > 10%
    assert record["peak_rows_in_memory"] == record["train_rows"]
    assert record["train_bytes"] == record["train_rows"] * record["row_bytes"]


def test_exported_model_is_calibrated_on_the_train_split_and_records_how(cold_model, tft_run):
    import tensorflow_transform as tft

    from transforms import calibration
    from transforms.model import CALIBRATION_LAYER
    from transforms.trainer import predicted_week, read_batches

    path = os.path.join(cold_model.fn_args.serving_model_dir, calibration.RECORD_FILE)
    with open(path) as f:
        record = json.load(f)
    assert record["validation_nll_after"] <= record["validation_nll_before"]
    assert record["day_classes"] in (calibration.NONE, *calibration.DAY_CLASSES)
    (log_g,) = cold_model.model.get_layer(CALIBRATION_LAYER).get_weights()
    assert not log_g[-1].any()  # approaches unseen in training: as trained
    assert log_g[:-1].any() == (record["day_classes"] != calibration.NONE)
    # The week the calibration was computed from is the model's own answer for each
    # approach: the same rates the model gives the train rows (approach rows in id order).
    batches = list(
        read_batches(
            cold_model.fn_args.train_files,
            tft.TFTransformOutput(tft_run.transform_dir),
        )
    )
    inputs = {k: np.concatenate([b.inputs[k] for b in batches]) for k in batches[0].inputs}
    ids, first = np.unique(inputs[features.APPROACH_XF], return_index=True)
    per_approach = {k: v[first] for k, v in inputs.items()}
    week = predicted_week(cold_model.model, per_approach, features.DEFAULT_CROSS_BUCKETS)
    rows = np.searchsorted(ids, inputs[features.APPROACH_XF])
    served = cold_model.model.predict(inputs, verbose=0)[features.VEHICLES_PER_HOUR_OUTPUT]
    np.testing.assert_allclose(
        week[rows, inputs[features.DAY_HOUR_CELL_XF]], served, rtol=1e-5, atol=1e-6
    )

"""Hourly counts (data.kind counts): count label, Poisson loss, Trainer and export."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from tests.transforms.conftest import (
    COUNT_APPROACHES,
    COUNTS_TEST_CONFIG,
    count_example,
    make_fn_args,
    read_transformed,
    serialize,
    true_rate,
    true_shares,
)
from transforms import features
from transforms.model import HParams, poisson_count_nll
from transforms.trainer import read_batches


def test_poisson_count_nll_is_the_poisson_log_pmf_of_the_type_column():
    # (k, type index) against vehicles per hour of 4 types: lambda is the type's column.
    label = tf.constant([[3.0, 1.0], [0.0, 2.0], [5.0, 0.0]])
    per_hour = tf.constant([[9.0, 2.0, 7.0, 1.0], [1.0, 1.0, 0.5, 1.0], [5.0, 1.0, 1.0, 1.0]])
    got = poisson_count_nll(label, per_hour).numpy()
    want = [
        -math.log(math.exp(-lam) * lam**k / math.factorial(k))
        for k, lam in ((3, 2.0), (0, 0.5), (5, 5.0))
    ]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # Minimal at lambda = k.
    scan = [
        poisson_count_nll([[4.0, 0.0]], [[lam, 1.0, 1.0, 1.0]]).numpy()[0]
        for lam in (3.0, 4.0, 5.0)
    ]
    assert scan[1] < scan[0] and scan[1] < scan[2]


def test_transform_gives_count_and_type_index_labels(counts_tft_run):
    out = read_transformed(counts_tft_run, "eval")
    rows = counts_tft_run.eval_rows
    label = out[features.COUNT_LABEL_XF]
    assert label.shape == (len(rows), 2) and label.dtype == np.float32
    assert features.HEADWAY_LABEL_XF not in out
    want = sorted(
        (r[features.VEHICLE_COUNT], features.VEHICLE_TYPES.index(r[features.VEHICLE_TYPE].decode()))
        for r in rows
    )
    assert sorted(map(tuple, label.astype(int).tolist())) == want
    np.testing.assert_array_equal(out[features.VEHICLE_TYPE_LABEL_XF], label[:, 1].astype(int))


def test_read_batches_keeps_every_count_row(counts_tft_run, tmp_path):
    fn_args = make_fn_args(counts_tft_run, tmp_path, COUNTS_TEST_CONFIG)
    batches = list(
        read_batches(
            fn_args.train_files,
            tft.TFTransformOutput(counts_tft_run.transform_dir),
            features.DATA_KIND_COUNTS,
        )
    )
    rows = counts_tft_run.train_rows
    assert sum(b.rows for b in batches) == len(rows)
    assert {k for b in batches for k in b.labels} == {features.VEHICLES_PER_HOUR_OUTPUT}
    total = sum(b.labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 0].sum() for b in batches)
    assert total == sum(r[features.VEHICLE_COUNT] for r in rows)
    assert set().union(*(b.approaches for b in batches)) == set(COUNT_APPROACHES)


def test_counts_model_learns_the_day_hour_profile_and_serves_like_events(counts_model):
    model_dir = counts_model.fn_args.serving_model_dir
    loaded = tf.saved_model.load(model_dir)
    cells = [(1, 8), (1, 3), (5, 13), (6, 1)]  # weekday rush, weekday night, weekend day, night
    rows = [count_example(d, h, "X000", "N") for d, h in cells]
    # A serving client sends only MODEL_RAW_FEATURES, exactly as for an events model.
    unused = tuple(k for k in rows[0] if k not in features.MODEL_RAW_FEATURES)
    served = loaded.signatures["serving_default"](
        examples=tf.constant([serialize(r, drop=unused) for r in rows])
    )
    assert set(served) == {
        features.HEADWAY_OUTPUT,
        features.VEHICLE_TYPE_OUTPUT,
        features.VEHICLES_PER_HOUR_OUTPUT,
        features.APPROACH_COMPARISON_OUTPUT,
    }
    per_hour = served[features.VEHICLES_PER_HOUR_OUTPUT].numpy()
    truth = np.asarray([3600.0 * true_rate(d, h) * np.asarray(true_shares(d)) for d, h in cells])
    # Total volume within 25% of the generating profile (about 40-1000 vehicles per hour).
    np.testing.assert_allclose(per_hour.sum(axis=1), truth.sum(axis=1), rtol=0.25)
    # The headway is derived from the same rate: seconds = 3600 / total per hour.
    np.testing.assert_allclose(
        served[features.HEADWAY_OUTPUT].numpy(), 3600.0 / per_hour.sum(axis=1), rtol=1e-4
    )
    shares = served[features.VEHICLE_TYPE_OUTPUT].numpy()
    bicycle = features.VEHICLE_TYPES.index("bicycle")
    assert shares[2, bicycle] > 2 * shares[0, bicycle]  # weekend bikes


def test_counts_model_files_record_the_kind(counts_model, counts_tft_run):
    model_dir = counts_model.fn_args.serving_model_dir
    with open(os.path.join(model_dir, features.EMBEDDING_SPEC_FILE)) as f:
        spec = json.load(f)
    assert spec["data_kind"] == features.DATA_KIND_COUNTS
    assert "data_kind" not in HParams(data_kind="counts").embedding_spec().compatibility_key()
    with open(os.path.join(model_dir, features.APPROACHES_FILE)) as f:
        approaches = {(a[features.INTERSECTION], a[features.DIRECTION]) for a in json.load(f)}
    assert approaches == set(COUNT_APPROACHES)
    # transform_features parses a raw counts example, so the Evaluator reads its label.
    loaded = tf.saved_model.load(model_dir)
    rows = [count_example(0, 8, vehicle_type="bus", count=17), count_example(3, 2, count=0)]
    out = loaded.signatures["transform_features"](
        examples=tf.constant([serialize(r) for r in rows])
    )
    assert out[features.COUNT_LABEL_XF].numpy().tolist() == [[17.0, 2.0], [0.0, 0.0]]

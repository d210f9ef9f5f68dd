"""The Keras model: loss, outputs, warm-start hooks and hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from transforms import features
from transforms.model import HParams, build_model, day_hour_table, exponential_nll

SMALL = HParams(cross_buckets=50, location_buckets=8, location_embedding_dim=2, seed=1)


def _inputs(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        features.DAY_HOUR_CROSS_XF: rng.integers(0, SMALL.cross_buckets, n),
        features.INTERSECTION_XF: rng.integers(0, SMALL.location_buckets, n),
        features.DIRECTION_XF: rng.integers(0, len(features.DIRECTIONS) + 1, n),
        features.APPROACH_XF: rng.integers(0, features.APPROACH_HASH_RANGE, n),
        features.DAY_HOUR_CELL_XF: rng.integers(0, features.DAY_HOUR_CELLS, n),
    }


def test_exponential_nll_is_rate_t_minus_log_rate_and_minimal_at_the_mean():
    t = tf.constant([4.0, 4.0, 4.0])
    m = tf.constant([2.0, 4.0, 8.0])
    loss = exponential_nll(t, m).numpy()
    rate = 1.0 / m.numpy()
    np.testing.assert_allclose(loss, rate * 4.0 - np.log(rate), rtol=1e-6)
    assert loss[1] < loss[0] and loss[1] < loss[2]


def test_outputs_are_consistent_rates():
    model = build_model(SMALL)
    out = model.predict(_inputs(16), verbose=0)
    seconds = out[features.HEADWAY_OUTPUT]
    probs = out[features.VEHICLE_TYPE_OUTPUT]
    per_hour = out[features.VEHICLES_PER_HOUR_OUTPUT]
    assert seconds.shape == (16,) and probs.shape == (16, len(features.VEHICLE_TYPES))
    assert per_hour.shape == (16, len(features.VEHICLE_TYPES))
    assert np.all(seconds > 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(per_hour.sum(axis=1), 3600.0 / seconds, rtol=1e-4)


def test_training_learns_a_day_hour_dependent_rate():
    model = build_model(HParams(**{**SMALL.__dict__, "learning_rate": 0.05}))
    x = _inputs(4000, seed=1)
    busy = x[features.DAY_HOUR_CROSS_XF] < SMALL.cross_buckets // 2
    rng = np.random.default_rng(2)
    headway = rng.exponential(np.where(busy, 2.0, 50.0)).astype(np.float32)
    labels = {
        features.HEADWAY_OUTPUT: headway,
        features.VEHICLE_TYPE_OUTPUT: rng.integers(0, 4, len(headway)),
    }
    model.fit(x, labels, epochs=8, batch_size=128, verbose=0)
    seconds = model.predict(x, verbose=0)[features.HEADWAY_OUTPUT]
    assert np.median(seconds[busy]) < 5.0 < 20.0 < np.median(seconds[~busy])


def test_initial_weights_and_freezing():
    rng = np.random.default_rng(3)
    donor = rng.normal(size=(SMALL.cross_buckets, SMALL.embedding_dim)).astype(np.float32)
    model = build_model(SMALL, day_hour_initial_weights=donor, day_hour_trainable=False)
    np.testing.assert_array_equal(day_hour_table(model), donor)
    assert not model.get_layer(features.DAY_HOUR_EMBEDDING_LAYER).trainable
    with pytest.raises(ValueError, match="shape"):
        build_model(SMALL, day_hour_initial_weights=donor[:10])


def test_hparams_from_custom_config():
    hp = HParams.from_custom_config(
        {"city": "london", "cross_buckets": 3000, "train_steps": 50, "thresholds": {}},
        train_steps=7,
    )
    assert (hp.city, hp.cross_buckets, hp.train_steps) == ("london", 3000, 7)
    assert HParams.from_custom_config(None).cross_buckets == features.DEFAULT_CROSS_BUCKETS
    assert HParams.from_custom_config({"train_steps": 50}).train_steps == 50
    with pytest.raises(ValueError, match="warm_start_mode"):
        HParams.from_custom_config({"warm_start_mode": "thaw"})
    spec = hp.embedding_spec()
    assert (spec.cross_buckets, spec.city, spec.hashing_scheme) == (
        3000,
        "london",
        features.HASHING_SCHEME,
    )

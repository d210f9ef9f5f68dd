"""The term tying the day x hour embedding's geometry to the city's day-hour profile."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from benchmarks.embedding_quality import spearman
from tests.transforms.conftest import true_rate, true_shares
from transforms import features
from transforms.collisions import cell_buckets
from transforms.model import ApproachInit, DayClassPooling, HParams, build_model
from transforms.profile_geometry import (
    ProfileGeometry,
    SumOfRegularizers,
    city_profile,
    pairwise_distances,
    profile_geometry,
)

BUCKETS = 2058  # the default: no two cells share a bucket


def _table(approaches: int = 3) -> np.ndarray:
    """(approaches + 1, 168, types) vehicles per hour of the synthetic test city, each
    approach a multiple of it (the last row: the unseen approaches')."""
    city = np.array(
        [
            3600.0 * true_rate(day, hour) * np.array(true_shares(day))
            for day, hour in features.all_day_hours()
        ]
    )
    scale = np.arange(1, approaches + 2, dtype=np.float64)[:, None, None]
    return city[None] * scale


def _embedding(vectors: np.ndarray) -> np.ndarray:
    """A day x hour table ([BUCKETS, dims]) holding each cell's vector at its bucket."""
    table = np.zeros([BUCKETS, vectors.shape[1]], np.float32)
    table[cell_buckets(BUCKETS)] = vectors
    return table


def _rho(table: np.ndarray, profile: np.ndarray) -> float:
    vectors = np.asarray(table)[cell_buckets(BUCKETS)]
    return spearman(pairwise_distances(vectors), pairwise_distances(profile))


def test_the_city_profile_sums_the_trained_approaches_only():
    table = _table()
    profile = city_profile(table)
    assert profile.shape == (features.DAY_HOUR_CELLS, 1 + len(features.VEHICLE_TYPES))
    rush, night = features.all_day_hours().index((1, 8)), features.all_day_hours().index((1, 3))
    assert profile[rush, 0] > profile[night, 0]
    np.testing.assert_allclose(profile[:, 1:].sum(axis=1), 1.0)
    changed = table.copy()
    changed[-1] *= 50.0  # the unseen row does not count
    np.testing.assert_allclose(city_profile(changed), profile)


def test_the_term_is_small_for_vectors_laid_out_like_the_profile_and_large_for_random_ones():
    profile = city_profile(_table())
    term = ProfileGeometry(1.0, BUCKETS, profile)
    centred = profile - profile.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    like_profile = _embedding(5.0 * centred @ axes[:2].T)  # any scale: the term ignores it
    random = _embedding(np.random.default_rng(0).normal(size=(features.DAY_HOUR_CELLS, 2)))
    assert float(term(tf.constant(like_profile))) < 0.01
    assert float(term(tf.constant(random))) > 0.7


def test_descending_the_term_raises_the_embedding_quality():
    profile = city_profile(_table())
    term = ProfileGeometry(1.0, BUCKETS, profile)
    start = np.random.default_rng(1).normal(size=(features.DAY_HOUR_CELLS, 2))
    table = tf.Variable(_embedding(start))
    optimizer = keras.optimizers.Adam(0.05)
    before = _rho(table.numpy(), profile)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = term(table)
        optimizer.apply_gradients([(tape.gradient(loss, table), table)])
    assert before < 0.3 < 0.9 < _rho(table.numpy(), profile)


def test_no_term_without_a_weight_or_a_profile():
    assert profile_geometry(0.0, BUCKETS, _table()) is None
    assert profile_geometry(0.03, BUCKETS, ApproachInit.empty().table) is None  # flat
    assert isinstance(profile_geometry(0.03, BUCKETS, _table()), ProfileGeometry)


def test_the_priors_round_trip_through_their_config():
    both = SumOfRegularizers(
        [DayClassPooling(0.5, BUCKETS), ProfileGeometry(0.03, BUCKETS, city_profile(_table()))]
    )
    again = keras.regularizers.deserialize(keras.regularizers.serialize(both))
    table = tf.constant(np.random.default_rng(2).normal(size=(BUCKETS, 2)), tf.float32)
    assert isinstance(again, SumOfRegularizers)
    np.testing.assert_allclose(float(again(table)), float(both(table)), rtol=1e-6)


def _approaches() -> ApproachInit:
    table = _table().astype(np.float32)
    log_rate = np.log(table.mean(axis=1) / 3600.0).astype(np.float32)
    return ApproachInit(np.array([11, 22, 33], np.int64), log_rate, table, rows=10_000)


@pytest.mark.parametrize(
    ("weight", "warm", "trainable", "has_term"),
    [
        (0.03, False, True, True),
        (0.0, False, True, False),
        (0.03, True, True, False),  # fine_tune keeps the donor's geometry
        (0.03, True, False, False),  # frozen
    ],
)
def test_the_model_ties_a_cold_trained_table_only(
    weight: float, warm: bool, trainable: bool, has_term: bool
):
    hparams = HParams(
        cross_buckets=BUCKETS, location_buckets=8, embedding_profile_weight=weight, seed=1
    )
    donor = np.random.default_rng(3).normal(size=(BUCKETS, 2)).astype(np.float32)
    model = build_model(
        hparams,
        approaches=_approaches(),
        day_hour_initial_weights=donor if warm else None,
        day_hour_trainable=trainable,
    )
    layer = model.get_layer(features.DAY_HOUR_EMBEDDING_LAYER)
    regularizer = layer.embeddings_regularizer
    terms = regularizer.regularizers if isinstance(regularizer, SumOfRegularizers) else []
    assert any(isinstance(t, ProfileGeometry) for t in terms) == has_term
    if not trainable:
        assert regularizer is None


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError, match="embedding_profile_weight"):
        HParams(embedding_profile_weight=-0.1)

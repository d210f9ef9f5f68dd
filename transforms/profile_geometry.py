"""Ties the day x hour embedding's geometry to the city's own day-hour traffic profile.

A cell's **profile** (``traffic_profiles``) is its log total vehicles per hour,
standardised over the 168 cells, and its vehicle-type shares. The model's main path
reads the 2-D day x hour vectors through non-linear layers, so on its own it spreads
them in whatever way serves the approaches best (a weekday's morning and evening peaks
far apart, since they carry opposite tides) and their distances say little about how
alike two cells' traffic is. ``ProfileGeometry`` is a small extra term on the table:
``weight * (1 - r)``, where ``r`` is the Pearson correlation, over all pairs of the 168
cells, between the distances of their vectors and the distances of their profiles. The
profile is the city-wide sum of the approach table the Trainer already fits on the
train split (``city_profile``), so the term reads no other data. It fixes nothing but
the embedding's geometry: its scale, rotation and position stay free, and the main path
still decides the rest.

``benchmarks/embedding_quality.py`` scores an embedding against the same kind of
profile, computed from the generator's truth or from the daily files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from transforms.collisions import cell_buckets


def traffic_profiles(expected_counts: np.ndarray) -> np.ndarray:
    """[cells, 1 + types]: log total vehicles per hour (standardised) and type shares."""
    counts = np.asarray(expected_counts, dtype=np.float64)
    total = counts.sum(axis=1)
    log_total = np.log(np.maximum(total, 1e-9))
    log_total = (log_total - log_total.mean()) / (log_total.std() or 1.0)
    shares = counts / np.maximum(total, 1e-12)[:, None]
    return np.column_stack([log_total, shares])


def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Condensed Euclidean distances of all pairs (i < j)."""
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=-1))
    return dist[np.triu_indices(len(points), k=1)]


def city_profile(table: np.ndarray) -> np.ndarray:
    """[168, 1 + types]: the ``traffic_profiles`` of an approach table's city-wide sum.

    ``table``: (approaches + 1, 168, types) vehicles per hour, the last row being the
    unseen approaches' (``transforms.approach_table``), which is left out.
    """
    return traffic_profiles(np.asarray(table, np.float64)[:-1].sum(axis=0))


def _standardised(values: tf.Tensor) -> tf.Tensor:
    centred = values - tf.reduce_mean(values)
    return centred / (tf.math.reduce_std(values) + 1e-9)


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class ProfileGeometry(keras.regularizers.Regularizer):
    """``weight * (1 - r)``: ``r`` correlates the cells' vector distances with their
    profile distances (module docstring). ``profile``: [168, features] per cell."""

    def __init__(self, weight: float, cross_buckets: int, profile: Any) -> None:
        self.weight = float(weight)
        self.cross_buckets = int(cross_buckets)
        self.profile = np.asarray(profile, np.float32)
        self._buckets = tf.constant(cell_buckets(self.cross_buckets), tf.int64)
        upper = np.triu_indices(len(self.profile), k=1)
        self._pairs = tf.constant(np.stack(upper, axis=1), tf.int64)
        self._profile_distances = _standardised(
            tf.constant(pairwise_distances(self.profile.astype(np.float64)), tf.float32)
        )

    def __call__(self, table: tf.Tensor) -> tf.Tensor:
        vectors = tf.gather(table, self._buckets)
        diff = vectors[:, None, :] - vectors[None, :, :]
        # + a tiny constant: cells sharing a bucket are at distance 0, where sqrt has no slope
        distances = tf.sqrt(tf.reduce_sum(tf.square(diff), axis=-1) + 1e-12)
        r = tf.reduce_mean(
            _standardised(tf.gather_nd(distances, self._pairs)) * self._profile_distances
        )
        return self.weight * (1.0 - r)

    def get_config(self) -> dict:
        return {
            "weight": self.weight,
            "cross_buckets": self.cross_buckets,
            "profile": self.profile.tolist(),
        }


def profile_geometry(
    weight: float, cross_buckets: int, table: np.ndarray
) -> ProfileGeometry | None:
    """The term for an approach table, or None when ``weight`` is 0 or the table's
    city-wide profile is the same in every cell (nothing to tie the geometry to)."""
    if weight <= 0:
        return None
    profile = city_profile(table)
    if np.ptp(pairwise_distances(profile)) == 0:
        return None
    return ProfileGeometry(weight, cross_buckets, profile)


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class SumOfRegularizers(keras.regularizers.Regularizer):
    """The sum of several regularizers of one weight (a layer takes only one)."""

    def __init__(self, regularizers: list[Any]) -> None:
        self.regularizers = [
            keras.regularizers.get(r) if isinstance(r, dict) else r for r in regularizers
        ]

    def __call__(self, weights: tf.Tensor) -> tf.Tensor:
        return tf.add_n([r(weights) for r in self.regularizers])

    def get_config(self) -> dict:
        return {"regularizers": [keras.regularizers.serialize(r) for r in self.regularizers]}

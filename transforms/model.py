"""The Keras 2 (tf_keras) model: day x hour, intersection and direction embeddings, two heads.

Headway head: a log-rate per example, trained with the exponential negative
log-likelihood of the observed headway ``t`` (``rate * t - log rate``); it outputs the
expected seconds ``1 / rate``. Vehicle-type head: a softmax over ``VEHICLE_TYPES``.
``VEHICLES_PER_HOUR_OUTPUT`` = ``3600 * rate * share`` per type.

Hourly counts (``HParams.data_kind`` counts) train the same layers through
``VEHICLES_PER_HOUR_OUTPUT``: the Poisson NLL of the observed count ``k`` of one type in
one hour given ``lambda = vehicles_per_hour[type]``. A Poisson total times a multinomial
type split is a Poisson per type, so one loss trains the rate and the type head.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from transforms import features
from transforms.hparams import HParams

MAX_ABS_LOG_RATE = 15.0  # rates between 3e-7/s and 3e6/s; keeps 1/rate finite in float32
HIDDEN_UNITS = 32
GRADIENT_CLIP_NORM = 5.0  # heavy-tailed headways give rare huge gradients of rate * t


@keras.saving.register_keras_serializable(package="traffic_embeddings")
def exponential_nll(y_true: tf.Tensor, y_pred_seconds: tf.Tensor) -> tf.Tensor:
    """Exponential NLL of headway ``t`` given the expected seconds ``m = 1/rate``: t/m + log m."""
    t = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    m = tf.reshape(y_pred_seconds, [-1])
    return t / m + tf.math.log(m)


@keras.saving.register_keras_serializable(package="traffic_embeddings")
def poisson_count_nll(y_true: tf.Tensor, vehicles_per_hour: tf.Tensor) -> tf.Tensor:
    """Poisson NLL of count ``k`` given ``lambda = vehicles_per_hour[type] * exposure``.

    ``y_true``: [batch, 2] = (k, type index) (``features.COUNT_LABEL_XF``);
    ``vehicles_per_hour``: [batch, len(VEHICLE_TYPES)]. ``lambda - k log lambda + lgamma(k+1)``.
    """
    k, lam = count_and_rate(y_true, vehicles_per_hour)
    return lam - k * tf.math.log(lam) + tf.math.lgamma(k + 1.0)


def count_and_rate(y_true: tf.Tensor, vehicles_per_hour: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(k, lambda) per row from a count label and the vehicles-per-hour output (float32).

    ``lambda`` is floored at the smallest normal float32, so ``log lambda`` stays finite.
    """
    label = tf.reshape(tf.cast(y_true, tf.float32), [-1, 2])
    per_hour = tf.reshape(tf.cast(vehicles_per_hour, tf.float32), [-1, len(features.VEHICLE_TYPES)])
    index = tf.cast(label[:, 1], tf.int32)
    lam = tf.gather(per_hour, index, axis=1, batch_dims=1) * features.COUNT_EXPOSURE_HOURS
    return label[:, 0], tf.maximum(lam, np.finfo(np.float32).tiny)


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class HeadwayAndRates(keras.layers.Layer):
    """Turns log-rate and type logits into expected seconds, shares and vehicles per hour.

    ``vehicle_types`` (indices into ``VEHICLE_TYPES``; None = all) are the types seen in
    training. The others are predicted as 0 vehicles, and seconds and shares cover only
    the seen types, so a model trained only on bicycle counts predicts bicycles, not
    untrained shares of cars. Losses only ever read seen types, so training is the same
    as without the mask (the softmax keeps all types: masking its logits instead made
    the counts model fit worse).
    """

    def __init__(self, vehicle_types: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        all_types = range(len(features.VEHICLE_TYPES))
        seen = None if vehicle_types is None else sorted(map(int, vehicle_types))
        self.vehicle_types = None if seen == list(all_types) else seen

    def call(self, log_rate: tf.Tensor, type_logits: tf.Tensor) -> tuple[tf.Tensor, ...]:
        log_rate = tf.clip_by_value(log_rate[:, 0], -MAX_ABS_LOG_RATE, MAX_ABS_LOG_RATE)
        shares = tf.nn.softmax(type_logits, axis=-1)
        if self.vehicle_types is not None:
            seen = np.isin(np.arange(len(features.VEHICLE_TYPES)), self.vehicle_types)
            shares = shares * tf.constant(seen, shares.dtype)
            seen_share = tf.reduce_sum(shares, axis=-1)
            log_rate = log_rate + tf.math.log(seen_share)  # the rate of seen types only
            shares = shares / seen_share[:, None]
        seconds = tf.exp(-log_rate)
        per_hour = 3600.0 * tf.exp(log_rate)[:, None] * shares
        return seconds, shares, per_hour

    def get_config(self) -> dict:
        return {**super().get_config(), "vehicle_types": self.vehicle_types}


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class TrafficEmbeddingModel(keras.Model):
    """The functional model, with train and test steps traced without AutoGraph.

    The day x hour table's stable checkpoint key is the export's business
    (``transforms.export.export_serving_model``), not the model's.
    """

    # The train and test steps have no tensor-dependent Python control flow, so they are
    # traced as written: AutoGraph would otherwise rewrite ~1,200 Keras functions on the
    # first fit (10-20 s here) to produce the same graph.
    @tf.autograph.experimental.do_not_convert
    def train_step(self, data: Any) -> dict:
        return super().train_step(data)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, data: Any) -> dict:
        return super().test_step(data)


def build_model(
    hparams: HParams,
    *,
    day_hour_initial_weights: np.ndarray | None = None,
    day_hour_trainable: bool = True,
    vehicle_types: list[int] | None = None,
) -> keras.Model:
    """Builds and compiles the model on transformed features (``*_XF`` int64, shape [batch]).

    ``day_hour_initial_weights`` ([cross_buckets, embedding_dim]) seeds the day x hour
    table (warm start); ``day_hour_trainable=False`` freezes it. ``vehicle_types``: the
    type indices the model predicts (those seen in training; None = all).
    """
    inputs = {
        name: keras.Input(shape=(), dtype=tf.int64, name=name)
        for name in (features.DAY_HOUR_CROSS_XF, features.INTERSECTION_XF, features.DIRECTION_XF)
    }
    day_hour_embedding = keras.layers.Embedding(
        hparams.cross_buckets,
        hparams.embedding_dim,
        name=features.DAY_HOUR_EMBEDDING_LAYER,
        trainable=day_hour_trainable,
    )
    intersection_embedding = keras.layers.Embedding(
        hparams.location_buckets, hparams.location_embedding_dim, name="intersection_embedding"
    )
    direction_embedding = keras.layers.Embedding(
        len(features.DIRECTIONS) + 1, hparams.location_embedding_dim, name="direction_embedding"
    )
    x = keras.layers.Concatenate(name="embeddings")(
        [
            day_hour_embedding(inputs[features.DAY_HOUR_CROSS_XF]),
            intersection_embedding(inputs[features.INTERSECTION_XF]),
            direction_embedding(inputs[features.DIRECTION_XF]),
        ]
    )
    x = keras.layers.Dense(HIDDEN_UNITS, activation="relu", name="hidden")(x)
    log_rate = keras.layers.Dense(1, name="log_rate")(x)
    type_logits = keras.layers.Dense(len(features.VEHICLE_TYPES), name="type_logits")(x)
    seconds, shares, per_hour = HeadwayAndRates(vehicle_types, name="rates")(log_rate, type_logits)
    outputs = {
        features.HEADWAY_OUTPUT: keras.layers.Identity(name=features.HEADWAY_OUTPUT)(seconds),
        features.VEHICLE_TYPE_OUTPUT: keras.layers.Identity(name=features.VEHICLE_TYPE_OUTPUT)(
            shares
        ),
        features.VEHICLES_PER_HOUR_OUTPUT: keras.layers.Identity(
            name=features.VEHICLES_PER_HOUR_OUTPUT
        )(per_hour),
    }
    model = TrafficEmbeddingModel(inputs=inputs, outputs=outputs, name="traffic_embeddings")
    if day_hour_initial_weights is not None:
        expected = (hparams.cross_buckets, hparams.embedding_dim)
        if tuple(day_hour_initial_weights.shape) != expected:
            raise ValueError(
                f"day x hour initial weights have shape {day_hour_initial_weights.shape}, "
                f"the model needs {expected}"
            )
        day_hour_embedding.set_weights([day_hour_initial_weights])
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=hparams.learning_rate, global_clipnorm=GRADIENT_CLIP_NORM
        ),
        **_losses(hparams.data_kind),
    )
    return model


def _losses(data_kind: str) -> dict[str, Any]:
    """``compile`` losses and metrics per data kind (the labels ``split_labels`` makes)."""
    if data_kind == features.DATA_KIND_COUNTS:
        return {"loss": {features.VEHICLES_PER_HOUR_OUTPUT: poisson_count_nll}}
    return {
        "loss": {
            features.HEADWAY_OUTPUT: exponential_nll,
            features.VEHICLE_TYPE_OUTPUT: keras.losses.SparseCategoricalCrossentropy(),
        },
        "metrics": {features.HEADWAY_OUTPUT: [keras.metrics.MeanAbsoluteError(name="mae")]},
    }


def day_hour_table(model: keras.Model) -> np.ndarray:
    """The day x hour embedding table, [cross_buckets, embedding_dim]."""
    return model.get_layer(features.DAY_HOUR_EMBEDDING_LAYER).get_weights()[0]


def table_sha256(table: np.ndarray) -> str:
    """Fingerprint of an embedding table's exact float32 bytes (warm-start records)."""
    return hashlib.sha256(np.ascontiguousarray(table, dtype=np.float32).tobytes()).hexdigest()

"""The Keras 2 (tf_keras) model: the day x hour embedding, per-approach rates, two heads.

The model computes a log-rate per vehicle type for the example's approach and day-hour
(``build_model``). Headway head: their total rate, trained with the exponential negative
log-likelihood of the observed headway ``t`` (``rate * t - log rate``); it outputs the
expected seconds ``1 / rate``. Vehicle-type head: their softmax over ``VEHICLE_TYPES``.
``VEHICLES_PER_HOUR_OUTPUT`` = ``3600 * rate * share`` per type.
``APPROACH_COMPARISON_OUTPUT`` pairs it with the frozen per-approach historical average
(``transforms.approach_table``), which the gate compares the model with.

Hourly counts (``HParams.data_kind`` counts) train the same layers through
``VEHICLES_PER_HOUR_OUTPUT``: the Poisson NLL of the observed count ``k`` of one type in
one hour given ``lambda = vehicles_per_hour[type]``. A Poisson total times a multinomial
type split is a Poisson per type, so one loss trains the rate and the type head.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras as keras

from transforms import features
from transforms.collisions import cell_buckets
from transforms.hparams import HParams
from transforms.profile_geometry import SumOfRegularizers, profile_geometry

MAX_ABS_LOG_RATE = 15.0  # rates between 3e-7/s and 3e6/s; keeps 1/rate finite in float32
HIDDEN_UNITS = 32
GRADIENT_CLIP_NORM = 5.0  # heavy-tailed headways give rare huge gradients of rate * t
APPROACH_PRIOR_SD = 0.25  # prior sd of per-approach log-rate deviations and loadings
# Per-approach parameters are stored divided by this (their outputs multiplied back):
# Adam moves every parameter by about the learning rate per step, and an approach's
# parameters see only its few rows of each batch, so full steps would follow noise.
APPROACH_STEP_SCALE = 0.2
FINAL_LEARNING_RATE = 0.05  # of the initial one, at the end of the cosine decay
WEIGHT_PRIOR_SD = 1.0  # prior sd of the hidden layers' kernels: fixes the embedding's scale
CALIBRATION_LAYER = "approach_calibration"  # transforms.calibration sets it after training
DAY_CLASS_PRIOR_SD = 0.02  # prior sd of a cell's vector around its hour's day-class mean


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

    def call(self, type_log_rates: tf.Tensor) -> tuple[tf.Tensor, ...]:
        log_rate = tf.reduce_logsumexp(type_log_rates, axis=-1)
        log_rate = tf.clip_by_value(log_rate, -MAX_ABS_LOG_RATE, MAX_ABS_LOG_RATE)
        shares = tf.nn.softmax(type_log_rates, axis=-1)
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
    """The functional model, with train, test and predict steps traced without AutoGraph.

    The day x hour table's stable checkpoint key is the export's business
    (``transforms.export.export_serving_model``), not the model's.
    """

    # The train, test and predict steps have no tensor-dependent Python control flow, so
    # they are traced as written: AutoGraph would otherwise rewrite ~1,200 Keras functions
    # on the first fit (10-20 s here), and the model's call again on the first predict
    # (the calibration's week of predictions), to produce the same graph.
    @tf.autograph.experimental.do_not_convert
    def train_step(self, data: Any) -> dict:
        return super().train_step(data)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, data: Any) -> dict:
        return super().test_step(data)

    @tf.autograph.experimental.do_not_convert
    def predict_step(self, data: Any) -> Any:
        return super().predict_step(data)


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class ApproachIndex(keras.layers.Layer):
    """Maps approach ids (``features.APPROACH_XF``) to rows 0..A-1; unseen ones to row A."""

    def __init__(self, approach_ids: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.approach_ids = [int(a) for a in (approach_ids or [])]
        unseen = len(self.approach_ids)
        # A table cannot be empty: id -1 (never an APPROACH_XF value) stands in then.
        keys = self.approach_ids or [-1]
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(keys, tf.int64), tf.constant(range(len(keys)), tf.int64)
            ),
            default_value=unseen,
        )

    def call(self, approach: tf.Tensor) -> tf.Tensor:
        approach = tf.cast(approach, tf.int64)
        # The lookup's static shape is unknown; keeping the input's avoids unknown-rank
        # tensors downstream (grappler warns about each op it cannot cost).
        return tf.ensure_shape(self.table.lookup(approach), approach.shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "approach_ids": self.approach_ids}


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class ApproachAverage(keras.layers.Layer):
    """The frozen per-approach historical-average table: vehicles per hour per type.

    ``rates``: (approaches + 1, 168, types), ``transforms.approach_table.ApproachTable``.
    """

    def __init__(self, rows: int, **kwargs: Any) -> None:
        super().__init__(trainable=False, **kwargs)
        self.rows = rows
        self.rates = self.add_weight(
            "rates",
            shape=(rows, features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES)),
            initializer="ones",
            trainable=False,
        )

    def call(self, approach_row: tf.Tensor, cell: tf.Tensor) -> tf.Tensor:
        index = tf.stack([tf.cast(approach_row, tf.int64), tf.cast(cell, tf.int64)], axis=-1)
        return tf.gather_nd(self.rates, index)

    def get_config(self) -> dict:
        return {**super().get_config(), "rows": self.rows}


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class ApproachCalibration(ApproachAverage):
    """Frozen log multipliers per (approach row, day-hour cell, type), added to the
    log-rates: zero while training, then set from the train split's counts
    (``transforms.calibration``)."""


@dataclass(frozen=True)
class ApproachInit:
    """What the Trainer learned about the approaches before fitting (see ``build_model``).

    ``ids``: the trained approaches' ``APPROACH_XF`` values (A,); ``log_rate``: (A + 1,
    types) initial log vehicles per second of each approach and type (last row: unseen
    approaches); ``table``: the historical average (A + 1, 168, types) in vehicles/hour;
    ``rows``: training rows, which set how strongly the priors hold the per-approach
    parameters near their start and like weekdays together (little data, small
    deviations); 0 = unknown, no priors.
    """

    ids: np.ndarray
    log_rate: np.ndarray
    table: np.ndarray
    rows: int = 0

    @classmethod
    def empty(cls) -> ApproachInit:
        """No known approach: every approach is the unseen row (tests, benchmarks)."""
        types = len(features.VEHICLE_TYPES)
        return cls(
            np.zeros([0], np.int64),
            np.full([1, types], np.log(10.0 / 3600.0), np.float32),
            np.full([1, features.DAY_HOUR_CELLS, types], 10.0, np.float32),
        )


@keras.saving.register_keras_serializable(package="traffic_embeddings")
class DayClassPooling(keras.regularizers.Regularizer):
    """A Gaussian prior that pulls each cell's day x hour vector toward the mean of the
    same hour over its day class (Monday-Friday, Saturday-Sunday).

    ``l2`` times the summed squared deviations: with ``l2 = 1 / (2 sd^2 rows)`` the
    weekdays of an hour share one vector unless the data separates them, which matters
    only with little data (the table's smoothing, ``transforms.approach_table``, pools
    the same way).
    """

    def __init__(self, l2: float, cross_buckets: int) -> None:
        self.l2 = float(l2)
        self.cross_buckets = int(cross_buckets)
        self._buckets = tf.constant(cell_buckets(self.cross_buckets), tf.int64)

    def __call__(self, table: tf.Tensor) -> tf.Tensor:
        week = tf.reshape(
            tf.gather(table, self._buckets),
            [features.DAYS_PER_WEEK, features.HOURS_PER_DAY, -1],
        )
        penalty = 0.0
        for days in (week[:5], week[5:]):
            centre = tf.reduce_mean(days, axis=0, keepdims=True)
            penalty += tf.reduce_sum(tf.square(days - centre))
        return self.l2 * penalty

    def get_config(self) -> dict:
        return {"l2": self.l2, "cross_buckets": self.cross_buckets}


MODEL_FEATURES = (
    features.DAY_HOUR_CROSS_XF,
    features.DAY_HOUR_CELL_XF,
    features.INTERSECTION_XF,
    features.DIRECTION_XF,
    features.APPROACH_XF,
)


def build_model(
    hparams: HParams,
    *,
    approaches: ApproachInit | None = None,
    day_hour_initial_weights: np.ndarray | None = None,
    day_hour_trainable: bool = True,
    vehicle_types: list[int] | None = None,
) -> keras.Model:
    """Builds and compiles the model on transformed features (``*_XF`` int64, shape [batch]).

    Per vehicle type ``t``, the log-rate of an approach ``a`` in day-hour cell ``c``::

        log rate[a, t, c] = shared_t(day_hour[c], intersection, direction)
                            + bias[a, t] + loadings[a, t] . basis(day_hour[c])

    ``day_hour[c]`` is the 2-D day x hour embedding (the shared, transferable part);
    ``basis`` maps it to ``approach_basis`` features, and each approach weighs them its
    own way (``loadings``, zero at the start), so an inbound approach can peak in the
    morning and the outbound one in the evening. ``bias`` is the approach's observed
    log-rate (``approaches.log_rate``, frozen) plus a learned deviation. Deviations and
    loadings have a Gaussian prior (sd ``APPROACH_PRIOR_SD``): an L2 penalty of
    ``1 / (2 sd^2 rows)`` per unit of squared weight, the MAP estimate for the mean
    per-row loss, so a city with little data stays near the observed rates.

    The day x hour table has two priors of its own: each cell's vector is pulled toward
    its hour's mean over its day class (``DayClassPooling``, weighted by 1 / rows), and
    the vectors' distances are tied to the city-wide day-hour profile of
    ``approaches.table`` (``transforms.profile_geometry``, weight
    ``hparams.embedding_profile_weight``, cold starts only), so that near vectors mean
    alike traffic. A frozen (warm-started) table takes neither.

    ``day_hour_initial_weights`` ([cross_buckets, embedding_dim]) seeds the day x hour
    table (warm start); ``day_hour_trainable=False`` freezes it. ``vehicle_types``: the
    type indices the model predicts (those seen in training; None = all).
    """
    approaches = approaches or ApproachInit.empty()
    types = len(features.VEHICLE_TYPES)
    rows = len(approaches.ids) + 1
    inputs = {name: keras.Input(shape=(), dtype=tf.int64, name=name) for name in MODEL_FEATURES}

    def prior_weight(sd: float) -> float:  # of 1/2 (w/sd)^2 per training row
        return 1.0 / (2.0 * sd**2 * approaches.rows) if approaches.rows > 0 else 0.0

    regularizer: keras.regularizers.Regularizer = DayClassPooling(
        prior_weight(DAY_CLASS_PRIOR_SD), hparams.cross_buckets
    )
    geometry = profile_geometry(
        hparams.embedding_profile_weight, hparams.cross_buckets, approaches.table
    )
    # A warm-started table keeps its donor's geometry: a few days of the target give a
    # poorer profile than the donor's (fine_tune on 1 day of Frankfurt: worse with it).
    if geometry is not None and day_hour_initial_weights is None:
        regularizer = SumOfRegularizers([regularizer, geometry])
    day_hour_embedding = keras.layers.Embedding(
        hparams.cross_buckets,
        hparams.embedding_dim,
        embeddings_regularizer=regularizer if day_hour_trainable else None,
        name=features.DAY_HOUR_EMBEDDING_LAYER,
        trainable=day_hour_trainable,
    )
    intersection_embedding = keras.layers.Embedding(
        hparams.location_buckets, hparams.location_embedding_dim, name="intersection_embedding"
    )
    direction_embedding = keras.layers.Embedding(
        len(features.DIRECTIONS) + 1, hparams.location_embedding_dim, name="direction_embedding"
    )
    day_hour = day_hour_embedding(inputs[features.DAY_HOUR_CROSS_XF])
    x = keras.layers.Concatenate(name="embeddings")(
        [
            day_hour,
            intersection_embedding(inputs[features.INTERSECTION_XF]),
            direction_embedding(inputs[features.DIRECTION_XF]),
        ]
    )
    kernel_prior = keras.regularizers.l2(prior_weight(WEIGHT_PRIOR_SD))
    x = keras.layers.Dense(
        HIDDEN_UNITS, activation="relu", kernel_regularizer=kernel_prior, name="hidden"
    )(x)
    shared = keras.layers.Dense(types, name="type_log_rates")(x)

    row = ApproachIndex(approaches.ids.tolist(), name="approach_index")(
        inputs[features.APPROACH_XF]
    )
    sd = APPROACH_PRIOR_SD / APPROACH_STEP_SCALE  # of the stored parameters
    prior = keras.regularizers.l2(prior_weight(sd))
    scale = APPROACH_STEP_SCALE
    observed = keras.layers.Embedding(
        rows,
        types,
        embeddings_initializer=keras.initializers.Constant(approaches.log_rate),
        trainable=False,
        name="approach_observed_log_rate",
    )(row)
    deviation = keras.layers.Embedding(
        rows,
        types,
        embeddings_initializer="zeros",
        embeddings_regularizer=prior,
        name="approach_log_rate",
    )(row)
    deviation = keras.layers.Rescaling(scale, name="approach_log_rate_scaled")(deviation)
    basis = keras.layers.Dense(
        HIDDEN_UNITS, activation="relu", kernel_regularizer=kernel_prior, name="basis_hidden"
    )(day_hour)
    basis = keras.layers.Dense(hparams.approach_basis, name="approach_basis")(basis)
    loadings = keras.layers.Embedding(
        rows,
        types * hparams.approach_basis,
        embeddings_initializer="zeros",
        embeddings_regularizer=prior,
        name="approach_loadings",
    )(row)
    loadings = keras.layers.Rescaling(scale, name="approach_loadings_scaled")(loadings)
    loadings = keras.layers.Reshape((types, hparams.approach_basis))(loadings)
    own = keras.layers.Dot(axes=(2, 1), name="approach_shape")([loadings, basis])
    calibration = ApproachCalibration(rows, name=CALIBRATION_LAYER)(
        row, inputs[features.DAY_HOUR_CELL_XF]
    )
    type_log_rates = keras.layers.Add(name="log_rates")(
        [shared, observed, deviation, own, calibration]
    )
    seconds, shares, per_hour = HeadwayAndRates(vehicle_types, name="rates")(type_log_rates)
    average = ApproachAverage(rows, name="approach_average")(row, inputs[features.DAY_HOUR_CELL_XF])
    comparison = keras.layers.Lambda(lambda pair: tf.stack(pair, axis=1), name="compare")(
        [per_hour, average]
    )
    outputs = {
        features.HEADWAY_OUTPUT: keras.layers.Identity(name=features.HEADWAY_OUTPUT)(seconds),
        features.VEHICLE_TYPE_OUTPUT: keras.layers.Identity(name=features.VEHICLE_TYPE_OUTPUT)(
            shares
        ),
        features.VEHICLES_PER_HOUR_OUTPUT: keras.layers.Identity(
            name=features.VEHICLES_PER_HOUR_OUTPUT
        )(per_hour),
        features.APPROACH_COMPARISON_OUTPUT: keras.layers.Identity(
            name=features.APPROACH_COMPARISON_OUTPUT
        )(comparison),
    }
    model = TrafficEmbeddingModel(inputs=inputs, outputs=outputs, name="traffic_embeddings")
    model.get_layer("approach_average").set_weights([approaches.table.astype(np.float32)])
    model.get_layer(CALIBRATION_LAYER).set_weights([np.zeros_like(approaches.table, np.float32)])
    if day_hour_initial_weights is not None:
        expected = (hparams.cross_buckets, hparams.embedding_dim)
        if tuple(day_hour_initial_weights.shape) != expected:
            raise ValueError(
                f"day x hour initial weights have shape {day_hour_initial_weights.shape}, "
                f"the model needs {expected}"
            )
        day_hour_embedding.set_weights([day_hour_initial_weights])
    # Cosine decay over the step budget: large steps first, fine ones to converge.
    learning_rate = keras.optimizers.schedules.CosineDecay(
        hparams.learning_rate, decay_steps=max(hparams.train_steps, 1), alpha=FINAL_LEARNING_RATE
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=learning_rate, global_clipnorm=GRADIENT_CLIP_NORM
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

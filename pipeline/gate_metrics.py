"""Volume-independent gate metrics: Keras metrics that TFMA and FastEvaluator both compute.

Every metric keeps only additive state (sums and counts), because TFMA merges partial
results by adding the metric's weights, and all weights of one metric have the same shape
(TFMA adds the weight lists with ``np.add``, which fails on a scalar next to a vector once
a slice spans more than one batch): scalars, or one vector per vehicle type. All are in
nats per example, lower is better.

Each metric states its sums per row (``row_sums``: every weight is the sum of its rows'
terms, per vehicle type for the vector ones), and ``update_state`` adds exactly those.
FastEvaluator uses ``row_sums``, ``sums`` and ``set_sums`` to sum every slice of a batch
in one pass (``components/fast_evaluator/metrics.py``).

- ``ExponentialNLL`` (``headway_nll``): the model's own training loss on the headway,
  ``t/m + log m`` with ``m`` the predicted expected seconds.
- ``ExponentialNLLVsConstantRate`` (``headway_nll_vs_constant``): ``headway_nll`` minus
  the NLL of the best constant-rate model of the same slice (``m = mean t``, NLL
  ``1 + log mean t``). Rescaling all headways by ``c`` adds ``log c`` to both terms, so
  the difference does not depend on traffic volume; below 0 means the model beats the
  constant rate fitted to the evaluation data itself.
- ``CrossEntropyVsPrior`` (``vehicle_type_crossentropy_vs_prior``): the vehicle-type
  cross-entropy minus the entropy of the slice's own type frequencies (the best
  constant-share model); below 0 means the head knows more than the type mix.

Hourly counts (label ``features.COUNT_LABEL_XF`` = (count k, type index), prediction
``vehicles_per_hour``, ``lambda = vehicles_per_hour[type] * COUNT_EXPOSURE_HOURS``):

- ``PoissonCountNLL`` (``count_nll``): the training loss ``poisson_count_nll``,
  ``lambda - k log lambda + log k!``.
- ``PoissonCountNLLVsConstant`` (``count_nll_vs_constant``): ``count_nll`` minus the NLL
  of the best constant count per vehicle type fitted to the slice's own rows
  (``lambda_t`` = mean count of type ``t``). ``log k!`` cancels, so the state is the
  sum of ``lambda - k log lambda`` and per-type row counts and count sums; below 0
  means the model beats knowing each type's average hourly volume.
- ``CountNLLVsApproachAverage`` (``nll_vs_approach_average``, counts) and
  ``EventNLLVsApproachAverage`` (``nll_vs_approach_average``, events): the model's NLL
  minus that of the per-approach historical average (same approach, type, weekday and
  hour, fitted on the train split; ``transforms.approach_table``), both read from the
  output ``features.APPROACH_COMPARISON_OUTPUT`` ([batch, 2, types]: model, table).
  Counts: the Poisson NLL of each count. Events: the NLL of each vehicle's headway and
  type under the marked Poisson process, ``r t - log(lambda_type / 3600)`` with ``r``
  the total rate per second. Below 0 means the model beats the table traffic engineers
  keep, where it is used: per approach and hour.
- ``CountMeanAbsoluteError`` (``count_mean_absolute_error``): mean ``|k - lambda|`` in
  vehicles per hour (volume-dependent; an opt-in sanity limit).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as keras

from transforms import features

NUM_TYPES = len(features.VEHICLE_TYPES)
KERAS_EPSILON = 1e-7  # as Keras' sparse categorical cross-entropy clips probabilities


def _flat(x: tf.Tensor) -> tf.Tensor:
    return tf.reshape(tf.cast(x, tf.float64), [-1])


# (vehicle type index per row, or None for scalar sums; weight name -> term per row)
RowSums = tuple[tf.Tensor | None, dict[str, tf.Tensor]]


class _AdditiveSums(keras.metrics.Metric):
    """Base: float64 weights ``self._sums`` that are sums over rows of ``row_sums``."""

    _sums: dict[str, tf.Variable]

    def row_sums(self, y_true, y_pred) -> RowSums:
        """Each weight's term per row (and the row's type index for per-type weights)."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        self._add_rows(*self.row_sums(y_true, y_pred))

    def _add_rows(self, index: tf.Tensor | None, terms: dict[str, tf.Tensor]) -> None:
        raise NotImplementedError

    def sums(self) -> dict[str, np.ndarray]:
        """The weights by name (zeros, of their shapes, on a fresh instance)."""
        return {key: weight.numpy() for key, weight in self._sums.items()}

    def set_sums(self, sums: dict[str, np.ndarray]) -> None:
        """Sets every weight, e.g. to sums of ``row_sums`` gathered elsewhere."""
        for key, weight in self._sums.items():
            weight.assign(np.asarray(sums[key], dtype=np.float64))

    def reset_state(self) -> None:  # Keras' default assigns a scalar 0 to every weight
        for weight in self.variables:
            weight.assign(tf.zeros_like(weight))


class _SumMetric(_AdditiveSums):
    """Base: named float64 scalar sums that ``update_state`` adds to."""

    SUMS: tuple[str, ...] = ()

    def __init__(self, name: str, dtype: tf.DType = tf.float64, **kwargs) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._sums = {
            s: self.add_weight(s, initializer="zeros", dtype=tf.float64) for s in self.SUMS
        }

    def _add_rows(self, index: tf.Tensor | None, terms: dict[str, tf.Tensor]) -> None:
        for key, value in terms.items():
            self._sums[key].assign_add(tf.reduce_sum(tf.cast(value, tf.float64)))


class ExponentialNLL(_SumMetric):
    """Mean exponential NLL of the headway: the training loss ``exponential_nll``."""

    SUMS = ("nll", "count")

    def __init__(self, name: str = "headway_nll", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        t, m = _flat(y_true), _flat(y_pred)
        return None, {"nll": t / m + tf.math.log(m), "count": tf.ones_like(t)}

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["nll"], self._sums["count"])


class ExponentialNLLVsConstantRate(_SumMetric):
    """Headway NLL minus the NLL of the slice's best constant rate (< 0: model is better)."""

    SUMS = ("nll", "headway", "count")

    def __init__(self, name: str = "headway_nll_vs_constant", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        t, m = _flat(y_true), _flat(y_pred)
        return None, {"nll": t / m + tf.math.log(m), "headway": t, "count": tf.ones_like(t)}

    def result(self) -> tf.Tensor:
        count = self._sums["count"]
        if_any = tf.math.divide_no_nan(self._sums["nll"], count)
        mean_headway = tf.math.divide_no_nan(self._sums["headway"], count)
        constant = 1.0 + tf.math.log(tf.maximum(mean_headway, 1e-300))
        return tf.where(count > 0, if_any - constant, tf.constant(0.0, tf.float64))


class _PerTypeSums(_AdditiveSums):
    """Base: float64 sums per vehicle type (all weights [num_classes], see the docstring)."""

    SUMS: tuple[str, ...] = ()

    def __init__(
        self, name: str, num_classes: int = NUM_TYPES, dtype: tf.DType = tf.float64, **kwargs
    ) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.num_classes = num_classes
        self._sums = {
            s: self.add_weight(s, shape=(num_classes,), initializer="zeros", dtype=tf.float64)
            for s in self.SUMS
        }

    def _add_rows(self, index: tf.Tensor | None, terms: dict[str, tf.Tensor]) -> None:
        """Adds each [rows] column of ``terms`` to its sum, per vehicle type ``index``."""
        segments = tf.cast(index, tf.int32)
        for key, value in terms.items():
            self._sums[key].assign_add(
                tf.math.unsorted_segment_sum(tf.cast(value, tf.float64), segments, self.num_classes)
            )

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}


class CrossEntropyVsPrior(_PerTypeSums):
    """Type cross-entropy minus the entropy of the slice's type frequencies (< 0: better)."""

    SUMS = ("crossentropy", "class_counts")

    def __init__(self, name: str = "vehicle_type_crossentropy_vs_prior", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        index = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
        p = tf.cast(tf.reshape(y_pred, [-1, self.num_classes]), tf.float64)
        p = p / tf.reduce_sum(p, axis=-1, keepdims=True)
        p = tf.clip_by_value(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
        picked = tf.gather(p, index, axis=1, batch_dims=1)
        return index, {"crossentropy": -tf.math.log(picked), "class_counts": tf.ones_like(picked)}

    def result(self) -> tf.Tensor:
        class_counts = self._sums["class_counts"]
        count = tf.reduce_sum(class_counts)
        prior = tf.math.divide_no_nan(class_counts, count)
        entropy = -tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(prior), prior))
        return tf.math.divide_no_nan(tf.reduce_sum(self._sums["crossentropy"]), count) - entropy


def _count_columns(y_true, y_pred) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(k, type index, lambda) per row, float64, from a count label and vehicles_per_hour."""
    label = tf.reshape(tf.cast(y_true, tf.float64), [-1, 2])
    per_hour = tf.reshape(tf.cast(y_pred, tf.float64), [-1, NUM_TYPES])
    index = tf.cast(label[:, 1], tf.int64)
    lam = tf.gather(per_hour, index, axis=1, batch_dims=1) * features.COUNT_EXPOSURE_HOURS
    return label[:, 0], index, tf.maximum(lam, 1e-300)


class PoissonCountNLL(_SumMetric):
    """Mean Poisson NLL of the hourly counts: the training loss ``poisson_count_nll``."""

    SUMS = ("nll", "count")

    def __init__(self, name: str = "count_nll", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        k, _, lam = _count_columns(y_true, y_pred)
        nll = lam - k * tf.math.log(lam) + tf.math.lgamma(k + 1.0)
        return None, {"nll": nll, "count": tf.ones_like(k)}

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["nll"], self._sums["count"])


class PoissonCountNLLVsConstant(_PerTypeSums):
    """Count NLL minus that of the slice's best constant count per type (< 0: better)."""

    SUMS = ("nll_without_log_factorial", "rows", "vehicles")

    def __init__(self, name: str = "count_nll_vs_constant", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        k, index, lam = _count_columns(y_true, y_pred)
        return index, {
            "nll_without_log_factorial": lam - k * tf.math.log(lam),
            "rows": tf.ones_like(k),
            "vehicles": k,
        }

    def result(self) -> tf.Tensor:
        rows, totals = self._sums["rows"], self._sums["vehicles"]
        # Best constant of type t: lambda_t = S_t / n_t, so sum(lambda_t - k log lambda_t)
        # over its rows is S_t - S_t log(S_t / n_t) (0 for a type never counted).
        log_mean = tf.math.log(tf.maximum(tf.math.divide_no_nan(totals, rows), 1e-300))
        constant = tf.reduce_sum(totals - tf.math.multiply_no_nan(log_mean, totals))
        model = tf.reduce_sum(self._sums["nll_without_log_factorial"])
        return tf.math.divide_no_nan(model - constant, tf.reduce_sum(rows))


class CountMeanAbsoluteError(_SumMetric):
    """Mean ``|k - lambda|``: vehicles per hour of the row's type (volume-dependent)."""

    SUMS = ("absolute_error", "count")

    def __init__(self, name: str = "count_mean_absolute_error", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        k, _, lam = _count_columns(y_true, y_pred)
        return None, {"absolute_error": tf.abs(k - lam), "count": tf.ones_like(k)}

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["absolute_error"], self._sums["count"])


def _comparison(y_pred) -> tuple[tf.Tensor, tf.Tensor]:
    """(model, table) vehicles per hour, [rows, types] each, from the comparison output."""
    pair = tf.reshape(tf.cast(y_pred, tf.float64), [-1, 2, NUM_TYPES])
    return pair[:, 0, :], pair[:, 1, :]


class CountNLLVsApproachAverage(_SumMetric):
    """Count NLL minus that of the per-approach historical average (< 0: model better)."""

    SUMS = ("difference", "count")

    def __init__(self, name: str = "nll_vs_approach_average", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        model, table = _comparison(y_pred)
        k, _, lam_model = _count_columns(y_true, model)
        _, _, lam_table = _count_columns(y_true, table)
        difference = lam_model - lam_table - k * (tf.math.log(lam_model) - tf.math.log(lam_table))
        return None, {"difference": difference, "count": tf.ones_like(k)}

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["difference"], self._sums["count"])


class EventNLLVsApproachAverage(_SumMetric):
    """Headway-and-type NLL minus the per-approach historical average's (< 0: better)."""

    SUMS = ("difference", "count")

    def __init__(self, name: str = "nll_vs_approach_average", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def row_sums(self, y_true, y_pred) -> RowSums:
        label = tf.reshape(tf.cast(y_true, tf.float64), [-1, 2])
        headway, index = label[:, 0], tf.cast(label[:, 1], tf.int64)

        def nll(per_hour: tf.Tensor) -> tf.Tensor:
            per_hour = tf.maximum(per_hour, 1e-300)
            rate = tf.reduce_sum(per_hour, axis=1) / 3600.0
            picked = tf.gather(per_hour, index, axis=1, batch_dims=1) / 3600.0
            return rate * headway - tf.math.log(picked)

        model, table = _comparison(y_pred)
        return None, {"difference": nll(model) - nll(table), "count": tf.ones_like(headway)}

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["difference"], self._sums["count"])

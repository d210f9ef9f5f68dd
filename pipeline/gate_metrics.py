"""Volume-independent gate metrics: Keras metrics that TFMA and FastEvaluator both compute.

Every metric keeps only additive state (sums and counts), because TFMA merges partial
results by adding the metric's weights. All are in nats per example, lower is better.

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
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras

from transforms import features

KERAS_EPSILON = 1e-7  # as Keras' sparse categorical cross-entropy clips probabilities


def _flat(x: tf.Tensor) -> tf.Tensor:
    return tf.reshape(tf.cast(x, tf.float64), [-1])


class _SumMetric(keras.metrics.Metric):
    """Base: named float64 sums that ``update_state`` adds to."""

    SUMS: tuple[str, ...] = ()

    def __init__(self, name: str, dtype: tf.DType = tf.float64, **kwargs) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._sums = {
            s: self.add_weight(s, initializer="zeros", dtype=tf.float64) for s in self.SUMS
        }

    def reset_state(self) -> None:  # Keras' default assigns a scalar 0 to every weight
        for weight in self.variables:
            weight.assign(tf.zeros_like(weight))

    def _add(self, **values: tf.Tensor) -> None:
        for key, value in values.items():
            self._sums[key].assign_add(tf.cast(value, tf.float64))


class ExponentialNLL(_SumMetric):
    """Mean exponential NLL of the headway: the training loss ``exponential_nll``."""

    SUMS = ("nll", "count")

    def __init__(self, name: str = "headway_nll", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, m = _flat(y_true), _flat(y_pred)
        self._add(nll=tf.reduce_sum(t / m + tf.math.log(m)), count=tf.size(t))

    def result(self) -> tf.Tensor:
        return tf.math.divide_no_nan(self._sums["nll"], self._sums["count"])


class ExponentialNLLVsConstantRate(_SumMetric):
    """Headway NLL minus the NLL of the slice's best constant rate (< 0: model is better)."""

    SUMS = ("nll", "headway", "count")

    def __init__(self, name: str = "headway_nll_vs_constant", **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, m = _flat(y_true), _flat(y_pred)
        self._add(
            nll=tf.reduce_sum(t / m + tf.math.log(m)), headway=tf.reduce_sum(t), count=tf.size(t)
        )

    def result(self) -> tf.Tensor:
        count = self._sums["count"]
        if_any = tf.math.divide_no_nan(self._sums["nll"], count)
        mean_headway = tf.math.divide_no_nan(self._sums["headway"], count)
        constant = 1.0 + tf.math.log(tf.maximum(mean_headway, 1e-300))
        return tf.where(count > 0, if_any - constant, tf.constant(0.0, tf.float64))


class CrossEntropyVsPrior(_SumMetric):
    """Type cross-entropy minus the entropy of the slice's type frequencies (< 0: better)."""

    SUMS = ("crossentropy", "count")

    def __init__(
        self,
        name: str = "vehicle_type_crossentropy_vs_prior",
        num_classes: int = len(features.VEHICLE_TYPES),
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.num_classes = num_classes
        self.class_counts = self.add_weight(
            "class_counts", shape=(num_classes,), initializer="zeros", dtype=tf.float64
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        index = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
        p = tf.cast(tf.reshape(y_pred, [-1, self.num_classes]), tf.float64)
        p = p / tf.reduce_sum(p, axis=-1, keepdims=True)
        p = tf.clip_by_value(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
        picked = tf.gather(p, index, axis=1, batch_dims=1)
        self._add(crossentropy=-tf.reduce_sum(tf.math.log(picked)), count=tf.size(index))
        self.class_counts.assign_add(
            tf.math.bincount(
                index, minlength=self.num_classes, maxlength=self.num_classes, dtype=tf.float64
            )
        )

    def result(self) -> tf.Tensor:
        count = self._sums["count"]
        prior = tf.math.divide_no_nan(self.class_counts, count)
        entropy = -tf.reduce_sum(tf.math.multiply_no_nan(tf.math.log(prior), prior))
        return tf.math.divide_no_nan(self._sums["crossentropy"], count) - entropy

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes}

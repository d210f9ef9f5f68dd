"""Metric values per slice from whole columns, the same formulas as TFMA/Keras.

Supported metric classes (``tfma.MetricConfig.class_name``) and their TFMA names:
``ExampleCount``, ``MeanAbsoluteError``, ``MeanSquaredLogarithmicError`` (TFMA's own
metrics) and Keras' ``SparseCategoricalCrossentropy`` and ``SparseCategoricalAccuracy``;
a Keras metric class named with a ``module`` (as TFMA imports it) is instantiated and fed
the slice's whole columns in one ``update_state``. Anything else is an error: the stock
Evaluator is the fallback, never a silent skip.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable

import numpy as np
import tensorflow_model_analysis as tfma
import tf_keras as keras

KERAS_EPSILON = 1e-7  # tf_keras.backend.epsilon(): probabilities are clipped to [eps, 1-eps]


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def mean_absolute_error(labels: np.ndarray, predictions: np.ndarray) -> float:
    return float(np.mean(np.abs(_flat(labels) - _flat(predictions))))


def mean_squared_logarithmic_error(labels: np.ndarray, predictions: np.ndarray) -> float:
    diff = np.log1p(_flat(labels)) - np.log1p(_flat(predictions))
    return float(np.mean(np.sum(diff**2, axis=1)))


def sparse_categorical_crossentropy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    index = np.asarray(labels).reshape(-1).astype(np.int64)
    return float(np.mean(-np.log(p[np.arange(len(index)), index])))


def sparse_categorical_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    index = np.asarray(labels).reshape(-1).astype(np.int64)
    return float(np.mean(np.argmax(probabilities, axis=-1) == index))


# class_name -> (TFMA metric name, fn(labels, predictions) -> value)
METRICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float]]] = {
    "MeanAbsoluteError": ("mean_absolute_error", mean_absolute_error),
    "MeanSquaredLogarithmicError": (
        "mean_squared_logarithmic_error",
        mean_squared_logarithmic_error,
    ),
    "SparseCategoricalCrossentropy": (
        "sparse_categorical_crossentropy",
        sparse_categorical_crossentropy,
    ),
    "SparseCategoricalAccuracy": ("sparse_categorical_accuracy", sparse_categorical_accuracy),
}
EXAMPLE_COUNT = ("ExampleCount", "example_count")


def module_keras_metric(
    metric: tfma.MetricConfig, labels: np.ndarray, predictions: np.ndarray
) -> tuple[str, float]:
    """(TFMA metric name, value) of a ``module``-provided Keras metric on whole columns."""
    cls = getattr(importlib.import_module(metric.module), metric.class_name)
    if not issubclass(cls, keras.metrics.Metric):
        raise ValueError(
            f"FastEvaluator: {metric.module}.{metric.class_name} is not a Keras metric; "
            "use the stock tfx Evaluator for it"
        )
    config = json.loads(metric.config) if metric.config else {}
    if "name" not in config:  # TFMA's default name: the class name in snake_case
        config["name"] = re.sub(
            "([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", metric.class_name)
        ).lower()
    instance = cls.from_config(config)
    instance.update_state(labels, predictions)
    return instance.name, float(instance.result().numpy())


def slice_masks(
    columns: dict[str, np.ndarray], feature_keys: list[list[str]]
) -> list[tuple[tuple, np.ndarray]]:
    """(TFMA slice key, row mask) for the overall slice and every value of each spec.

    ``feature_keys``: one list of feature names per slicing spec ([] = overall). A slice
    key is a tuple of (feature, value) pairs, as TFMA's slicer builds them.
    """
    rows = len(next(iter(columns.values()))) if columns else 0
    result: list[tuple[tuple, np.ndarray]] = []
    for keys in feature_keys:
        if not keys:
            result.append(((), np.ones(rows, dtype=bool)))
            continue
        stacked = np.stack([columns[k].astype(object) for k in keys], axis=1)
        values, inverse = np.unique(stacked.astype(str), axis=0, return_inverse=True)
        for i in range(len(values)):
            mask = inverse.reshape(-1) == i
            first = np.flatnonzero(mask)[0]
            key = tuple((k, _slice_value(columns[k][first])) for k in keys)
            result.append((key, mask))
    return result


def _slice_value(value) -> int | float | str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value

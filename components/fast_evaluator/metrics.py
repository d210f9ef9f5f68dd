"""Per-slice metric accumulators fed one batch at a time, the same formulas as TFMA/Keras.

Supported metric classes (``tfma.MetricConfig.class_name``) and their TFMA names:
``ExampleCount``, ``MeanAbsoluteError``, ``MeanSquaredLogarithmicError`` (TFMA's own
metrics) and Keras' ``SparseCategoricalCrossentropy`` and ``SparseCategoricalAccuracy``
are a sum over rows divided by a sum over rows, kept as two float64 sums per slice
(``RowSums``). A Keras metric class named with a ``module`` (as TFMA imports it): our
own (``pipeline.gate_metrics``) state their additive weights per row, summed per slice
(``KerasRowSums``); any other gets one instance per slice fed that slice's rows of
every batch (``KerasPerSlice``). Anything else is an error: the stock Evaluator is the
fallback, never a silent skip.

A batch's rows are split by slice with one ``np.bincount`` per slicing spec (every
slice of the spec at once). Memory is the accumulators only: a few floats (or one
vector per vehicle type) per slice, metric and model, whatever the number of rows.
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

RowTerms = tuple[np.ndarray, np.ndarray]  # (numerator per row, denominator per row)
# One slicing spec's view of a batch: (slice id per row, number of slices so far).
Slicing = tuple[np.ndarray, int]


def _flat(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1)


def mean_absolute_error(labels: np.ndarray, predictions: np.ndarray) -> RowTerms:
    """Mean over every element: |label - prediction| summed per row, elements per row."""
    diff = np.abs(_flat(labels) - _flat(predictions))
    return diff.sum(axis=1), np.full(len(diff), diff.shape[1], dtype=np.float64)


def mean_squared_logarithmic_error(labels: np.ndarray, predictions: np.ndarray) -> RowTerms:
    """Mean over rows of the squared log1p difference summed over the row's elements."""
    diff = np.log1p(_flat(labels)) - np.log1p(_flat(predictions))
    return np.sum(diff**2, axis=1), np.ones(len(diff))


def sparse_categorical_crossentropy(labels: np.ndarray, probabilities: np.ndarray) -> RowTerms:
    """Keras' cross-entropy: normalized, clipped to [eps, 1-eps], -log of the label's."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum(axis=-1, keepdims=True)
    p = np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    index = np.asarray(labels).reshape(-1).astype(np.int64)
    return -np.log(p[np.arange(len(index)), index]), np.ones(len(index))


def sparse_categorical_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> RowTerms:
    """1 where the most probable class is the label."""
    index = np.asarray(labels).reshape(-1).astype(np.int64)
    hits = (np.argmax(probabilities, axis=-1) == index).astype(np.float64)
    return hits, np.ones(len(index))


# class_name -> (TFMA metric name, fn(labels, predictions) -> (numerator, denominator) per row)
METRICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], RowTerms]]] = {
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


def _per_slice(slicing: Slicing, terms: np.ndarray, segments: np.ndarray | None, width: int):
    """Sums of ``terms`` per slice ([slices]), or per slice and segment ([slices, width])."""
    ids, num_slices = slicing
    if segments is None:
        return np.bincount(ids, terms, num_slices)
    flat = np.bincount(ids * width + segments, terms, num_slices * width)
    return flat.reshape(num_slices, width)


def _grown(array: np.ndarray, num_slices: int) -> np.ndarray:
    """``array`` with zero rows appended up to ``num_slices`` rows."""
    missing = num_slices - len(array)
    if missing <= 0:
        return array
    return np.concatenate([array, np.zeros((missing, *array.shape[1:]))])


class RowSums:
    """TFMA's count and formula metrics: numerator and denominator sums per slice."""

    def __init__(self, name: str, row_terms: Callable[..., RowTerms] | None = None) -> None:
        self.name = name
        self._row_terms = row_terms  # None: ExampleCount (the numerator counts rows)
        self._sums: list[tuple[np.ndarray, np.ndarray]] = []  # per slicing spec

    def update(self, labels, predictions, slicings: list[Slicing]) -> None:
        """Adds one batch, sliced by every slicing spec."""
        if self._row_terms is None:
            numerator = denominator = np.ones(len(slicings[0][0]))
        else:
            numerator, denominator = self._row_terms(labels, predictions)
        if not self._sums:
            self._sums = [(np.zeros(0), np.zeros(0)) for _ in slicings]
        for i, slicing in enumerate(slicings):
            num, den = (_grown(a, slicing[1]) for a in self._sums[i])
            num += _per_slice(slicing, numerator, None, 0)
            den += _per_slice(slicing, denominator, None, 0)
            self._sums[i] = num, den

    def value(self, spec: int, slice_id: int) -> float:
        numerator, denominator = (a[slice_id] for a in self._sums[spec])
        return float(numerator if self._row_terms is None else numerator / denominator)


def _keras_metric(metric: tfma.MetricConfig) -> keras.metrics.Metric:
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
    return cls.from_config(config)


def _has_row_sums(instance: keras.metrics.Metric) -> bool:
    return all(hasattr(instance, a) for a in ("row_sums", "sums", "set_sums"))


class KerasRowSums:
    """A Keras metric with additive weights stated per row (``pipeline.gate_metrics``):
    ``row_sums(y_true, y_pred)`` -> (segment per row or None, {weight: term per row}),
    ``sums()`` and ``set_sums()``. One call per batch, then one ``np.bincount`` per
    slicing spec and weight; each slice's value is ``result()`` on its sums."""

    def __init__(self, instance: keras.metrics.Metric) -> None:
        self._instance = instance
        self.name = instance.name
        self._shapes = {k: np.shape(v) for k, v in instance.sums().items()}
        if any(len(shape) > 1 for shape in self._shapes.values()):
            raise ValueError(f"FastEvaluator: {self.name}: weights must be scalars or vectors")
        self._sums: list[dict[str, np.ndarray]] = []  # per slicing spec

    def update(self, labels, predictions, slicings: list[Slicing]) -> None:
        """Adds one batch, sliced by every slicing spec."""
        segments, terms = self._instance.row_sums(labels, predictions)
        segments = None if segments is None else np.asarray(segments, dtype=np.int64)
        terms = {k: np.asarray(v, dtype=np.float64) for k, v in terms.items()}
        if not self._sums:
            self._sums = [
                {k: np.zeros((0, *shape)) for k, shape in self._shapes.items()} for _ in slicings
            ]
        for i, slicing in enumerate(slicings):
            for key, shape in self._shapes.items():
                width = shape[0] if shape else 0
                grown = _grown(self._sums[i][key], slicing[1])
                grown += _per_slice(slicing, terms[key], segments if shape else None, width)
                self._sums[i][key] = grown

    def value(self, spec: int, slice_id: int) -> float:
        self._instance.set_sums({k: v[slice_id] for k, v in self._sums[spec].items()})
        return float(self._instance.result().numpy())


class KerasPerSlice:
    """Any other Keras metric: one instance per slice, its ``update_state`` called with
    that slice's rows of every batch (its state accumulates across batches, as Keras
    metrics are built to). One eager call per slice and batch: slower than
    ``KerasRowSums``."""

    def __init__(self, metric: tfma.MetricConfig) -> None:
        self._metric = metric
        self.name = _keras_metric(metric).name
        self._instances: list[list[keras.metrics.Metric]] = []  # per slicing spec

    def update(self, labels, predictions, slicings: list[Slicing]) -> None:
        """Adds one batch, sliced by every slicing spec."""
        if not self._instances:
            self._instances = [[] for _ in slicings]
        for instances, (ids, num_slices) in zip(self._instances, slicings, strict=True):
            while len(instances) < num_slices:
                instances.append(_keras_metric(self._metric))
            for slice_id in np.unique(ids):
                rows = ids == slice_id
                instances[slice_id].update_state(labels[rows], predictions[rows])

    def value(self, spec: int, slice_id: int) -> float:
        return float(self._instances[spec][slice_id].result().numpy())


Accumulator = RowSums | KerasRowSums | KerasPerSlice


def accumulator(metric: tfma.MetricConfig) -> Accumulator:
    """The per-slice accumulator of ``metric``, or a ValueError naming an unsupported one."""
    if metric.class_name == EXAMPLE_COUNT[0]:
        return RowSums(EXAMPLE_COUNT[1])
    if metric.module:
        instance = _keras_metric(metric)
        return KerasRowSums(instance) if _has_row_sums(instance) else KerasPerSlice(metric)
    if metric.class_name in METRICS:
        return RowSums(*METRICS[metric.class_name])
    raise ValueError(
        f"FastEvaluator cannot compute metric {metric.class_name!r} "
        f"(supported: {sorted(METRICS)}, ExampleCount and "
        "Keras metric classes named with a module); "
        "use the stock tfx Evaluator for it"
    )


class SliceIndex:
    """Slice ids of one slicing spec across batches: each distinct value tuple of its
    features gets the next id, with the TFMA slice key built from its first row."""

    def __init__(self, feature_keys: list[str]) -> None:
        self.feature_keys = feature_keys
        self._ids: dict[tuple[str, ...], int] = {}
        self.slice_keys: list[tuple] = []
        self._sort_keys: list[tuple[str, ...]] = []

    def ids(self, columns: dict[str, np.ndarray], rows: int) -> np.ndarray:
        """Row -> slice id for one batch (all 0 for the overall slice, no features)."""
        if not self.feature_keys:
            if not self.slice_keys:
                self._add((), ())
            return np.zeros(rows, dtype=np.int64)
        stacked = np.stack([columns[k].astype(object) for k in self.feature_keys], axis=1)
        values, first, inverse = np.unique(
            stacked.astype(str), axis=0, return_index=True, return_inverse=True
        )
        local_to_id = np.empty(len(values), dtype=np.int64)
        for i, value in enumerate(values):
            text = tuple(value)
            if text not in self._ids:
                row = first[i]
                self._add(
                    text,
                    tuple((k, _slice_value(columns[k][row])) for k in self.feature_keys),
                )
            local_to_id[i] = self._ids[text]
        return local_to_id[inverse.reshape(-1)]

    def _add(self, text: tuple[str, ...], slice_key: tuple) -> None:
        self._ids[text] = len(self.slice_keys)
        self.slice_keys.append(slice_key)
        self._sort_keys.append(text)

    def ordered(self) -> list[tuple[int, tuple]]:
        """(slice id, TFMA slice key) in the order of the values' text, as np.unique sorts."""
        order = sorted(range(len(self.slice_keys)), key=self._sort_keys.__getitem__)
        return [(i, self.slice_keys[i]) for i in order]


def _slice_value(value) -> int | float | str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value

"""The per-slice accumulators, fed several batches, against each Keras metric fed every
row of the slice at once (the Keras class is the reference, not our formulas)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
import tf_keras as keras

from components.fast_evaluator import metrics as fast_metrics
from pipeline import gate_metrics
from pipeline.gates import GATE_METRICS_MODULE

ROWS, TYPES = 900, gate_metrics.NUM_TYPES
BATCHES = (0, 300, 500, ROWS)  # uneven batches


def _events(rng) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """class name -> (labels, predictions) shaped as the models give them."""
    headway = rng.exponential(20.0, (ROWS, 1)).astype(np.float32)
    expected = rng.uniform(5.0, 40.0, (ROWS, 1)).astype(np.float32)
    types = rng.integers(0, TYPES, (ROWS, 1))
    probabilities = rng.dirichlet(np.ones(TYPES), ROWS).astype(np.float32)
    event = np.concatenate([headway, types], axis=1).astype(np.float32)
    per_hour = rng.uniform(1.0, 300.0, (ROWS, 2, TYPES)).astype(np.float32)
    count = np.concatenate([rng.poisson(50.0, (ROWS, 1)), types], axis=1).astype(np.float32)
    return {
        "ExponentialNLL": (headway, expected),
        "ExponentialNLLVsConstantRate": (headway, expected),
        "CrossEntropyVsPrior": (types, probabilities),
        "EventNLLVsApproachAverage": (event, per_hour),
        "PoissonCountNLL": (count, per_hour[:, 0]),
        "PoissonCountNLLVsConstant": (count, per_hour[:, 0]),
        "CountMeanAbsoluteError": (count, per_hour[:, 0]),
        "CountNLLVsApproachAverage": (count, per_hour),
        "MeanAbsoluteError": (headway, expected),
        "MeanSquaredLogarithmicError": (headway, expected),
        "SparseCategoricalCrossentropy": (types, probabilities),
        "SparseCategoricalAccuracy": (types, probabilities),
        "MeanSquaredError": (headway, expected),  # a Keras metric without row_sums
    }


def _config(class_name: str) -> tfma.MetricConfig:
    if hasattr(gate_metrics, class_name):
        return tfma.MetricConfig(
            class_name=class_name, module=GATE_METRICS_MODULE, config=json.dumps({"name": "m"})
        )
    if class_name == "MeanSquaredError":
        return tfma.MetricConfig(class_name=class_name, module="tf_keras.metrics")
    return tfma.MetricConfig(class_name=class_name)  # TFMA's/Keras' formula metrics


def _tolerance(class_name: str) -> float:
    """Our gate metrics sum in float64; Keras' built-in metrics keep float32 state."""
    return 1e-9 if hasattr(gate_metrics, class_name) else 1e-6


def _reference(class_name: str, labels: np.ndarray, predictions: np.ndarray) -> float:
    cls = getattr(gate_metrics, class_name, None) or getattr(keras.metrics, class_name)
    metric = cls()
    metric.update_state(labels, predictions)
    return float(metric.result().numpy())


@pytest.mark.parametrize("class_name", sorted(_events(np.random.default_rng(0))))
def test_batches_summed_per_slice_equal_the_keras_metric_on_whole_slices(class_name):
    rng = np.random.default_rng(1)
    labels, predictions = _events(rng)[class_name]
    # One slice for every row, and 5 values of which the last first appears in batch 3.
    hour = rng.integers(0, 4, ROWS)
    hour[BATCHES[2] :: 7] = 9
    indexes = [fast_metrics.SliceIndex([]), fast_metrics.SliceIndex(["hour"])]
    accumulator = fast_metrics.accumulator(_config(class_name))
    for start, stop in itertools.pairwise(BATCHES):
        columns = {"hour": hour[start:stop]}
        slicings = []
        for index in indexes:
            ids = index.ids(columns, stop - start)
            slicings.append((ids, len(index.slice_keys)))
        accumulator.update(labels[start:stop], predictions[start:stop], slicings)

    overall = indexes[0].ordered()
    assert overall == [(0, ())]
    want = _reference(class_name, labels, predictions)
    assert accumulator.value(0, 0) == pytest.approx(want, rel=_tolerance(class_name))
    by_hour = indexes[1].ordered()
    assert [key for _, key in by_hour] == [(("hour", h),) for h in (0, 1, 2, 3, 9)]
    for slice_id, ((_, value),) in by_hour:
        rows = hour == value
        want = _reference(class_name, labels[rows], predictions[rows])
        assert accumulator.value(1, slice_id) == pytest.approx(want, rel=_tolerance(class_name))

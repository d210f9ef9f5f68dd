"""The TFMA EvalConfig: metrics for both heads, slices, and the blessing gate.

Labels are read from the transformed features (``transform_features`` signature),
so the vehicle-type label is the same integer index the model trained on.
"""

from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from pipeline import gate_metrics
from pipeline.config import EvaluationConfig
from transforms import features

GATE_METRICS_MODULE = gate_metrics.__name__

# Which head each metric belongs to, its TFMA/Keras class name and the module of our own
# Keras metric classes (None: TFMA's or Keras' built-in class).
METRIC_OUTPUTS: dict[str, tuple[str, str, str | None]] = {
    "headway_nll": (features.HEADWAY_OUTPUT, "ExponentialNLL", GATE_METRICS_MODULE),
    "headway_nll_vs_constant": (
        features.HEADWAY_OUTPUT,
        "ExponentialNLLVsConstantRate",
        GATE_METRICS_MODULE,
    ),
    "sparse_categorical_crossentropy": (
        features.VEHICLE_TYPE_OUTPUT,
        "SparseCategoricalCrossentropy",
        None,
    ),
    "vehicle_type_crossentropy_vs_prior": (
        features.VEHICLE_TYPE_OUTPUT,
        "CrossEntropyVsPrior",
        GATE_METRICS_MODULE,
    ),
    "sparse_categorical_accuracy": (
        features.VEHICLE_TYPE_OUTPUT,
        "SparseCategoricalAccuracy",
        None,
    ),
    # Absolute seconds depend on traffic volume: opt-in sanity limits only.
    "mean_absolute_error": (features.HEADWAY_OUTPUT, "MeanAbsoluteError", None),
    "mean_squared_logarithmic_error": (
        features.HEADWAY_OUTPUT,
        "MeanSquaredLogarithmicError",
        None,
    ),
}
SLICE_FEATURES = (features.VEHICLE_TYPE, features.HOUR, features.DAY_OF_WEEK)


def _threshold(upper_bound: float | None, max_increase: float | None) -> tfma.MetricThreshold:
    threshold = tfma.MetricThreshold()
    if upper_bound is not None:
        threshold.value_threshold.upper_bound.value = upper_bound
    if max_increase is not None:
        threshold.change_threshold.direction = tfma.MetricDirection.LOWER_IS_BETTER
        threshold.change_threshold.absolute.value = max_increase
    return threshold


def build_eval_config(evaluation: EvaluationConfig) -> tfma.EvalConfig:
    """EvalConfig with every metric of METRIC_OUTPUTS, gated where configured."""
    unknown = set(evaluation.thresholds) - set(METRIC_OUTPUTS)
    if unknown:
        raise ValueError(
            f"evaluation.thresholds: unknown metric(s) {sorted(unknown)}; "
            f"known: {sorted(METRIC_OUTPUTS)}"
        )
    by_output: dict[str, list[tfma.MetricConfig]] = {}
    for name, (output, class_name, module) in METRIC_OUTPUTS.items():
        metric = tfma.MetricConfig(class_name=class_name)
        if module:  # our Keras metrics, named as the thresholds name them
            metric.module, metric.config = module, json.dumps({"name": name})
        gate = evaluation.thresholds.get(name)
        if gate is not None:  # the gate looks at the overall slice, not at every slice
            metric.per_slice_thresholds.append(
                tfma.PerSliceMetricThreshold(
                    slicing_specs=[tfma.SlicingSpec()],
                    threshold=_threshold(gate.upper_bound, gate.max_increase),
                )
            )
        by_output.setdefault(output, []).append(metric)
    metrics_specs = [
        tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount")]),
        *(tfma.MetricsSpec(output_names=[o], metrics=m) for o, m in by_output.items()),
    ]
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                # Signatures only: serving_default for predictions, transform_features
                # for the transformed labels (no Keras custom objects needed).
                model_type=tfma.TF_GENERIC,
                signature_name="serving_default",
                preprocessing_function_names=["transform_features"],
                label_keys={
                    features.HEADWAY_OUTPUT: features.HEADWAY_LABEL_XF,
                    features.VEHICLE_TYPE_OUTPUT: features.VEHICLE_TYPE_LABEL_XF,
                },
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            *(tfma.SlicingSpec(feature_keys=[f]) for f in SLICE_FEATURES),
        ],
        metrics_specs=metrics_specs,
    )

"""The TFMA EvalConfig: the data kind's metrics, slices, and the blessing gate.

Labels are read from the transformed features (``transform_features`` signature), so
they are exactly what the model trained on: for events the headway and the
vehicle-type index, for counts ``features.COUNT_LABEL_XF`` (count, type index) scored
against ``vehicles_per_hour``. Which metrics and default gate: ``pipeline.gates``.
"""

from __future__ import annotations

import json

import tensorflow_model_analysis as tfma

from pipeline import gates
from pipeline.config import ConfigError, EvaluationConfig, gate_thresholds
from transforms import features
from transforms.hparams import HParams

# Every metric name of either data kind (benchmarks print them; pipeline.gates per kind).
METRIC_OUTPUTS = {
    name: spec for metrics in gates.METRICS_BY_KIND.values() for name, spec in metrics.items()
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


def build_eval_config(
    evaluation: EvaluationConfig, data_kind: str = HParams.data_kind
) -> tfma.EvalConfig:
    """EvalConfig with every metric of ``data_kind``, gated where configured (or by the
    kind's default gate when ``evaluation.thresholds`` is None)."""
    if data_kind not in gates.METRICS_BY_KIND:
        raise ConfigError(f"data.kind: {data_kind!r} not in {sorted(gates.METRICS_BY_KIND)}")
    thresholds = gate_thresholds(evaluation, data_kind)
    problem = gates.unknown_metrics(set(thresholds), data_kind)
    if problem:
        raise ConfigError(problem)
    by_output: dict[str, list[tfma.MetricConfig]] = {}
    for name, (output, class_name, module) in gates.METRICS_BY_KIND[data_kind].items():
        metric = tfma.MetricConfig(class_name=class_name)
        if module:  # our Keras metrics, named as the thresholds name them
            metric.module, metric.config = module, json.dumps({"name": name})
        gate = thresholds.get(name)
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
                label_keys=gates.LABEL_KEYS_BY_KIND[data_kind],
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            *(tfma.SlicingSpec(feature_keys=[f]) for f in SLICE_FEATURES),
        ],
        metrics_specs=metrics_specs,
    )

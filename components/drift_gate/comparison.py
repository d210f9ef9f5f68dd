"""Compares two runs' statistics with TFDV's drift comparators.

The comparators are the schema's ``drift_comparator`` (``infinity_norm`` or
``jensen_shannon_divergence``), evaluated by ``tfdv.validate_statistics(statistics,
schema, previous_statistics=baseline)`` as TFX's DistributionValidator does; every
measured value comes from the result's ``drift_skew_info``, whether over the threshold
or not. A feature with statistics on one side only is reported as drifted (value
``inf``).
"""

from __future__ import annotations

import math

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components.drift_gate.checks import CHECKS, Measurement

# Reasons TFDV gives for a comparison (anomalies_pb2.AnomalyInfo.Type).
_MISSING_SIDE = (
    anomalies_pb2.AnomalyInfo.COMPARATOR_CONTROL_DATA_MISSING,
    anomalies_pb2.AnomalyInfo.COMPARATOR_TREATMENT_DATA_MISSING,
)


def _feature_names(stats: statistics_pb2.DatasetFeatureStatisticsList) -> set[str]:
    return {
        ".".join(f.path.step) if f.path.step else f.name
        for dataset in stats.datasets
        for f in dataset.features
    }


def comparison_schema(
    current: statistics_pb2.DatasetFeatureStatisticsList, thresholds: dict[str, float]
) -> schema_pb2.Schema:
    """A schema inferred from ``current`` with a drift comparator on each checked
    feature present in it (the features' own constraints play no part: only the
    comparisons are read back)."""
    schema = tfdv.infer_schema(current)
    for feature in schema.feature:
        if feature.name in thresholds:
            comparator_name = CHECKS[feature.name][0]
            comparator = getattr(feature.drift_comparator, comparator_name)
            comparator.threshold = thresholds[feature.name]
    return schema


def compare(
    current: statistics_pb2.DatasetFeatureStatisticsList,
    baseline: statistics_pb2.DatasetFeatureStatisticsList,
    thresholds: dict[str, float],
    split: str,
) -> tuple[list[Measurement], anomalies_pb2.Anomalies]:
    """One Measurement per checked feature found in either side, and TFDV's anomalies."""
    checked = {name: t for name, t in thresholds.items() if name in CHECKS}
    present = _feature_names(current) | _feature_names(baseline)
    schema = comparison_schema(current, checked)
    anomalies = tfdv.validate_statistics(current, schema, previous_statistics=baseline)
    measured: dict[str, Measurement] = {}
    for info in anomalies.drift_skew_info:
        name = ".".join(info.path.step)
        for m in info.drift_measurements:
            if name in checked:
                measured[name] = Measurement(
                    split, name, CHECKS[name][0], float(m.value), float(m.threshold)
                )
    for name, threshold in checked.items():
        if name in present and name not in measured:  # one side only: TFDV cannot compare
            measured[name] = Measurement(split, name, CHECKS[name][0], math.inf, threshold)
    for name, info in anomalies.anomaly_info.items():
        if name in checked and any(r.type in _MISSING_SIDE for r in info.reason):
            measured[name] = Measurement(split, name, CHECKS[name][0], math.inf, checked[name])
    order = list(CHECKS)
    return sorted(measured.values(), key=lambda m: order.index(m.feature)), anomalies

"""Which metrics the Evaluator computes for each data kind, and each kind's default gate.

Plain names only (no TensorFlow import), so that loading a config can check its
thresholds; ``pipeline.evaluation`` turns them into a TFMA EvalConfig and
``pipeline.gate_metrics`` holds our own Keras metric classes.
"""

from __future__ import annotations

from transforms import features

GATE_METRICS_MODULE = "pipeline.gate_metrics"  # tests check it is gate_metrics.__name__

# metric name -> (model output, TFMA/Keras class name, module of our own Keras metric
# classes or None for TFMA's/Keras' built-in class).
EVENTS_METRICS: dict[str, tuple[str, str, str | None]] = {
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
    "nll_vs_approach_average": (
        features.APPROACH_COMPARISON_OUTPUT,
        "EventNLLVsApproachAverage",
        GATE_METRICS_MODULE,
    ),
    # Absolute seconds depend on traffic volume: opt-in sanity limits only.
    "mean_absolute_error": (features.HEADWAY_OUTPUT, "MeanAbsoluteError", None),
    "mean_squared_logarithmic_error": (
        features.HEADWAY_OUTPUT,
        "MeanSquaredLogarithmicError",
        None,
    ),
}
COUNTS_METRICS: dict[str, tuple[str, str, str | None]] = {
    "count_nll": (features.VEHICLES_PER_HOUR_OUTPUT, "PoissonCountNLL", GATE_METRICS_MODULE),
    "count_nll_vs_constant": (
        features.VEHICLES_PER_HOUR_OUTPUT,
        "PoissonCountNLLVsConstant",
        GATE_METRICS_MODULE,
    ),
    "nll_vs_approach_average": (
        features.APPROACH_COMPARISON_OUTPUT,
        "CountNLLVsApproachAverage",
        GATE_METRICS_MODULE,
    ),
    # Vehicles per hour depend on traffic volume: an opt-in sanity limit only.
    "count_mean_absolute_error": (
        features.VEHICLES_PER_HOUR_OUTPUT,
        "CountMeanAbsoluteError",
        GATE_METRICS_MODULE,
    ),
}
METRICS_BY_KIND = {
    features.DATA_KIND_EVENTS: EVENTS_METRICS,
    features.DATA_KIND_COUNTS: COUNTS_METRICS,
}
# The transformed feature TFMA reads as the label of each scored output, per kind.
LABEL_KEYS_BY_KIND = {
    features.DATA_KIND_EVENTS: {
        features.HEADWAY_OUTPUT: features.HEADWAY_LABEL_XF,
        features.VEHICLE_TYPE_OUTPUT: features.VEHICLE_TYPE_LABEL_XF,
        features.APPROACH_COMPARISON_OUTPUT: features.EVENT_LABEL_XF,
    },
    features.DATA_KIND_COUNTS: {
        features.VEHICLES_PER_HOUR_OUTPUT: features.COUNT_LABEL_XF,
        features.APPROACH_COMPARISON_OUTPUT: features.COUNT_LABEL_XF,
    },
}

# The gate a config gets when it leaves evaluation.thresholds out: metric ->
# {"upper_bound": absolute bound, "max_increase": bound on candidate - last blessed}.
# Volume-independent: the model's own NLL against the slice's best constant and against
# the per-approach historical average of the train split, and no worse than the last
# blessed model (README "Gating and publishing").
DEFAULT_GATES: dict[str, dict[str, dict[str, float]]] = {
    features.DATA_KIND_EVENTS: {
        "headway_nll_vs_constant": {"upper_bound": 0.0},
        "nll_vs_approach_average": {"upper_bound": 0.0},
        "headway_nll": {"max_increase": 0.02},
        "vehicle_type_crossentropy_vs_prior": {"upper_bound": 0.05},
        "sparse_categorical_crossentropy": {"max_increase": 0.02},
    },
    features.DATA_KIND_COUNTS: {
        "count_nll_vs_constant": {"upper_bound": 0.0},
        "nll_vs_approach_average": {"upper_bound": 0.0},
        "count_nll": {"max_increase": 0.02},
    },
}


def unknown_metrics(names: set[str] | list[str], data_kind: str) -> str:
    """'' if every name is a metric of ``data_kind``, else a message naming the others."""
    known = METRICS_BY_KIND[data_kind]
    problems = []
    for name in sorted(set(names) - set(known)):
        other = [kind for kind, metrics in METRICS_BY_KIND.items() if name in metrics]
        problems.append(
            f"{name!r} is a metric of data.kind {other[0]}" if other else f"unknown metric {name!r}"
        )
    if not problems:
        return ""
    return (
        f"evaluation.thresholds: {'; '.join(problems)}, not of data.kind {data_kind} "
        f"(its metrics: {', '.join(sorted(known))})"
    )

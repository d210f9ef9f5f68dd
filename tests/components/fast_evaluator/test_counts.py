"""Counts models: FastEvaluator against the stock Evaluator, and the default counts gate."""

from __future__ import annotations

import os

import pytest
from tfx.components.evaluator import executor as stock_executor

from components.fast_evaluator import executor as fast_executor
from pipeline.config import EvaluationConfig, MetricThreshold
from tests.components.fast_evaluator.helpers import (
    assert_same_blessing,
    assert_same_metrics,
    evaluate,
    model,
    model_artifact,
    untrained_model_artifact,
)
from tests.transforms.conftest import COUNTS_TEST_CONFIG
from transforms import features

COUNTS = features.DATA_KIND_COUNTS
COUNT_METRICS = {
    "count_nll",
    "count_nll_vs_constant",
    "count_mean_absolute_error",
    "nll_vs_approach_average",
}
DEFAULT_GATE = EvaluationConfig()  # thresholds None: the counts kind's default gate


@pytest.fixture(scope="module")
def counts_artifact(counts_model, tmp_path_factory) -> str:
    return model_artifact(counts_model.fn_args.serving_model_dir, tmp_path_factory, "counts")


@pytest.fixture(scope="module")
def untrained_artifact(counts_tft_run, tmp_path_factory) -> str:
    """The same counts model, exported with its initial (random) weights."""
    return untrained_model_artifact(
        counts_tft_run, COUNTS_TEST_CONFIG, tmp_path_factory, "untrained_counts"
    )


def _overall(metrics: dict, name: str) -> float:
    return metrics[()][features.VEHICLES_PER_HOUR_OUTPUT][""][name]["doubleValue"]


@pytest.mark.slow
def test_counts_metrics_and_blessing_match_stock_with_baseline(
    counts_tft_run, counts_artifact, untrained_artifact, tmp_path
):
    gate = EvaluationConfig(
        thresholds={
            "count_nll": MetricThreshold(max_increase=0.0),
            "count_nll_vs_constant": MetricThreshold(upper_bound=0.0),
            "count_mean_absolute_error": MetricThreshold(upper_bound=1e6, max_increase=0.0),
        }
    )
    models = {
        "model": model(counts_artifact, 1),
        "baseline_model": model(untrained_artifact, 2),
    }
    stock = evaluate(
        stock_executor.Executor, tmp_path / "stock", counts_tft_run, models, gate, COUNTS
    )
    fast = evaluate(fast_executor.Executor, tmp_path / "fast", counts_tft_run, models, gate, COUNTS)
    assert_same_metrics(stock.metrics, fast.metrics, COUNT_METRICS)
    assert _overall(fast.metrics, "count_nll_diff") < 0  # trained beats the untrained baseline
    assert fast.validation.validation_ok == stock.validation.validation_ok is True
    assert_same_blessing(stock.blessing, fast.blessing, models, blessed=True)


@pytest.mark.slow
def test_default_counts_gate_blesses_a_trained_model_and_refuses_an_untrained_one(
    counts_tft_run, counts_artifact, untrained_artifact, tmp_path
):
    results = {}
    for name, uri in (("trained", counts_artifact), ("untrained", untrained_artifact)):
        results[name] = evaluate(
            fast_executor.Executor,
            tmp_path / name,
            counts_tft_run,
            {"model": model(uri, 1)},
            DEFAULT_GATE,
            COUNTS,
        )
    trained, untrained = results["trained"], results["untrained"]
    assert _overall(trained.metrics, "count_nll_vs_constant") < -0.5  # nats per hourly count
    assert _overall(untrained.metrics, "count_nll_vs_constant") > 0
    assert trained.validation.validation_ok and not untrained.validation.validation_ok
    assert os.listdir(trained.blessing.uri) == ["BLESSED"]
    assert os.listdir(untrained.blessing.uri) == ["NOT_BLESSED"]
    failed = {
        f.metric_key.name
        for s in untrained.validation.metric_validations_per_slice
        for f in s.failures
    }
    # Its table is build_model's placeholder (no approaches): a constant it loses to too.
    assert failed == {"count_nll_vs_constant", "nll_vs_approach_average"}

"""Counts models: FastEvaluator against the stock Evaluator, and the default counts gate."""

from __future__ import annotations

import os

import pytest
import tensorflow_transform as tft
import tf_keras as keras
from tfx.components.evaluator import executor as stock_executor

from components.fast_evaluator import executor as fast_executor
from pipeline.config import EvaluationConfig, MetricThreshold
from tests.components.fast_evaluator.test_executor import _assert_same_metrics, _evaluate, _model
from tests.transforms.conftest import COUNTS_TEST_CONFIG
from transforms import features
from transforms.export import export_serving_model
from transforms.model import HParams, build_model

COUNTS = features.DATA_KIND_COUNTS
COUNT_METRICS = {
    "count_nll",
    "count_nll_vs_constant",
    "count_mean_absolute_error",
    "nll_vs_approach_average",
}
DEFAULT_GATE = EvaluationConfig()  # thresholds None: the counts kind's default gate


def _artifact(serving_model_dir: str, tmp_path_factory, name: str) -> str:
    uri = tmp_path_factory.mktemp(name)
    os.symlink(serving_model_dir, uri / "Format-Serving")
    return str(uri)


@pytest.fixture(scope="module")
def counts_artifact(counts_model, tmp_path_factory) -> str:
    return _artifact(counts_model.fn_args.serving_model_dir, tmp_path_factory, "counts_model")


@pytest.fixture(scope="module")
def untrained_artifact(counts_tft_run, tmp_path_factory) -> str:
    """The same counts model, exported with its initial (random) weights."""
    keras.utils.set_random_seed(5)
    hparams = HParams.from_custom_config(COUNTS_TEST_CONFIG)
    out = tmp_path_factory.mktemp("untrained") / "serving_model"
    export_serving_model(
        build_model(hparams),
        tft.TFTransformOutput(counts_tft_run.transform_dir),
        str(out),
        hparams.embedding_spec(),
    )
    return _artifact(str(out), tmp_path_factory, "untrained_model")


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
        "model": _model(counts_artifact, 1),
        "baseline_model": _model(untrained_artifact, 2),
    }
    stock = _evaluate(
        stock_executor.Executor, tmp_path / "stock", counts_tft_run, models, gate, COUNTS
    )
    fast = _evaluate(
        fast_executor.Executor, tmp_path / "fast", counts_tft_run, models, gate, COUNTS
    )
    _assert_same_metrics(stock[0], fast[0], COUNT_METRICS)
    assert _overall(fast[0], "count_nll_diff") < 0  # trained beats the untrained baseline
    assert fast[1].validation_ok == stock[1].validation_ok is True
    assert os.listdir(fast[2].uri) == os.listdir(stock[2].uri) == ["BLESSED"]


@pytest.mark.slow
def test_default_counts_gate_blesses_a_trained_model_and_refuses_an_untrained_one(
    counts_tft_run, counts_artifact, untrained_artifact, tmp_path
):
    results = {}
    for name, uri in (("trained", counts_artifact), ("untrained", untrained_artifact)):
        results[name] = _evaluate(
            fast_executor.Executor,
            tmp_path / name,
            counts_tft_run,
            {"model": _model(uri, 1)},
            DEFAULT_GATE,
            COUNTS,
        )
    trained, untrained = results["trained"], results["untrained"]
    assert _overall(trained[0], "count_nll_vs_constant") < -0.5  # nats per hourly count
    assert _overall(untrained[0], "count_nll_vs_constant") > 0
    assert trained[1].validation_ok and not untrained[1].validation_ok
    assert os.listdir(trained[2].uri) == ["BLESSED"]
    assert os.listdir(untrained[2].uri) == ["NOT_BLESSED"]
    failed = {
        f.metric_key.name for s in untrained[1].metric_validations_per_slice for f in s.failures
    }
    # Its table is build_model's placeholder (no approaches): a constant it loses to too.
    assert failed == {"count_nll_vs_constant", "nll_vs_approach_average"}

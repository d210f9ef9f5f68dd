"""FastEvaluator against the stock TFMA Evaluator on the same real model and examples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tensorflow_model_analysis as tfma
from tfx.components.evaluator import executor as stock_executor
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import proto_utils

from components.fast_evaluator import executor as fast_executor
from pipeline.config import EvaluationConfig, MetricThreshold
from pipeline.evaluation import build_eval_config

GATE = EvaluationConfig(
    thresholds={
        "sparse_categorical_crossentropy": MetricThreshold(upper_bound=5.0, max_increase=0.0),
        "mean_absolute_error": MetricThreshold(upper_bound=10_000.0, max_increase=0.0),
        # Our own Keras metrics (pipeline.gate_metrics), computed by both executors.
        "headway_nll": MetricThreshold(max_increase=0.0),
        "headway_nll_vs_constant": MetricThreshold(upper_bound=0.0),
        # A 40-step model on 25 rows per approach: its type head is near the prior.
        "vehicle_type_crossentropy_vs_prior": MetricThreshold(upper_bound=0.15),
    }
)
OWN_METRICS = {
    "headway_nll",
    "headway_nll_vs_constant",
    "vehicle_type_crossentropy_vs_prior",
    "nll_vs_approach_average",  # the per-approach gate: identical in both evaluators
}


def _model(uri: str, artifact_id: int) -> standard_artifacts.Model:
    model = standard_artifacts.Model()
    model.uri, model.id = uri, artifact_id
    return model


def _evaluate(
    executor_class, tmp: Path, tft_run, models: dict, config, data_kind: str = "events"
) -> tuple:
    examples = standard_artifacts.Examples()
    examples.uri = tft_run.raw_examples_dir
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = str(tmp / "evaluation"), str(tmp / "blessing")
    os.makedirs(blessing.uri)
    executor_class().Do(
        {"examples": [examples], **{k: [v] for k, v in models.items()}},
        {"evaluation": [evaluation], "blessing": [blessing]},
        {
            "eval_config": proto_utils.proto_to_json(build_eval_config(config, data_kind)),
            "example_splits": json.dumps(["eval"]),
        },
    )
    result = tfma.load_eval_result(evaluation.uri)
    return dict(result.slicing_metrics), tfma.load_validation_result(evaluation.uri), blessing


def _assert_same_metrics(stock: dict, fast: dict, own_metrics: set[str] = OWN_METRICS) -> None:
    assert sorted(map(str, stock)) == sorted(map(str, fast))
    overall = {m for by_sub_key in stock[()].values() for m in by_sub_key[""]}
    assert {m.removesuffix("_diff") for m in overall} >= own_metrics
    for slice_key, by_output in stock.items():
        for output, by_sub_key in by_output.items():
            for metric, value in by_sub_key[""].items():
                got = fast[slice_key][output][""][metric]["doubleValue"]
                want = value["doubleValue"]
                assert got == pytest.approx(want, rel=1e-5, abs=1e-6), (slice_key, metric)


@pytest.fixture(scope="module")
def model_artifact_uri(cold_model, tmp_path_factory) -> str:
    uri = tmp_path_factory.mktemp("model")
    os.symlink(cold_model.fn_args.serving_model_dir, uri / "Format-Serving")
    return str(uri)


@pytest.mark.slow
def test_same_metrics_validation_and_blessing_as_stock_without_baseline(
    tft_run, model_artifact_uri, tmp_path
):
    models = {"model": _model(model_artifact_uri, 1)}
    stock = _evaluate(stock_executor.Executor, tmp_path / "stock", tft_run, models, GATE)
    fast = _evaluate(fast_executor.Executor, tmp_path / "fast", tft_run, models, GATE)
    _assert_same_metrics(stock[0], fast[0])
    assert fast[1].validation_ok == stock[1].validation_ok is True
    assert fast[1].rubber_stamp == stock[1].rubber_stamp
    assert os.listdir(fast[2].uri) == os.listdir(stock[2].uri) == ["BLESSED"]


@pytest.mark.slow
def test_same_diff_metrics_and_failed_gate_as_stock_with_baseline(
    tft_run, model_artifact_uri, tmp_path
):
    # An impossible gate: the candidate must beat an identical baseline and a tiny bound.
    gate = EvaluationConfig(
        thresholds={
            "mean_absolute_error": MetricThreshold(upper_bound=1.0, max_increase=-1.0),
            "headway_nll": MetricThreshold(max_increase=-0.01),
            "headway_nll_vs_constant": MetricThreshold(upper_bound=-100.0),
        }
    )
    models = {
        "model": _model(model_artifact_uri, 1),
        "baseline_model": _model(model_artifact_uri, 2),
    }
    stock = _evaluate(stock_executor.Executor, tmp_path / "stock", tft_run, models, gate)
    fast = _evaluate(fast_executor.Executor, tmp_path / "fast", tft_run, models, gate)
    _assert_same_metrics(stock[0], fast[0])
    assert fast[1].validation_ok is stock[1].validation_ok is False

    def failures(result):
        return sorted(
            (str(f.metric_key.name), f.metric_key.is_diff)
            for s in result.metric_validations_per_slice
            for f in s.failures
        )

    assert failures(fast[1]) == failures(stock[1]) != []
    assert os.listdir(fast[2].uri) == os.listdir(stock[2].uri) == ["NOT_BLESSED"]

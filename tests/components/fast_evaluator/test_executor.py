"""FastEvaluator against the stock TFMA Evaluator on the same real models and examples.

Both executors run once per case (module fixtures); the tests compare everything the
stock one produces, both ways: slices, metric names and values, validation failures,
and the blessing's file and custom properties. With a baseline, the candidate is the
trained model and the baseline its untrained export, so every ``_diff`` is non-zero;
the fast executor then reads the 300 eval rows in batches of ``SMALL_BATCH``.

Over its memory budget on a cluster's Beam runner the FastEvaluator hands the split to
the stock executor (TFMA's Beam pipeline); on the ``portable`` profile (Beam's embedded
job service, the Flink/Spark path) that path must run as Beam jobs and give the fast
path's gate: the same metrics, validation and blessing. On the ``direct`` profile the
fast path runs whatever the budget (its memory is one batch).
"""

from __future__ import annotations

import copy

import pytest
from tfx.components.evaluator import executor as stock_executor

from components import scale_out
from components.fast_evaluator import executor as fast_executor
from components.fast_evaluator import planning
from deploy.runners import beam_profiles
from pipeline.config import BeamConfig, EvaluationConfig, MetricThreshold
from tests.beam_jobs import job_service_log
from tests.components.fast_evaluator.helpers import (
    assert_same_blessing,
    assert_same_metrics,
    evaluate,
    flat_metrics,
    model,
)

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
# Passes on some metrics and fails on others, by value and by change vs the baseline.
MIXED_GATE = EvaluationConfig(
    thresholds={
        "headway_nll": MetricThreshold(max_increase=0.0),  # beats the untrained baseline
        "mean_absolute_error": MetricThreshold(upper_bound=1.0),
        "sparse_categorical_crossentropy": MetricThreshold(max_increase=-10.0),
        "headway_nll_vs_constant": MetricThreshold(upper_bound=-100.0),
    }
)
OWN_METRICS = {
    "headway_nll",
    "headway_nll_vs_constant",
    "vehicle_type_crossentropy_vs_prior",
    "nll_vs_approach_average",  # the per-approach gate: identical in both evaluators
}
SMALL_BATCH = 64
# About one byte (memory_budget_mb takes fractions): every split is over it.
TINY_BUDGET = {fast_executor.MEMORY_BUDGET_MB_KEY: 1e-6}
PORTABLE_ARGS = beam_profiles.beam_args(BeamConfig(profile="portable"))
DIRECT_ARGS = beam_profiles.beam_args(BeamConfig(profile="direct"), workers=1)


def _failures(validation) -> list[tuple[str, bool]]:
    return sorted(
        (str(f.metric_key.name), f.metric_key.is_diff)
        for s in validation.metric_validations_per_slice
        for f in s.failures
    )


@pytest.fixture(scope="module")
def without_baseline(tft_run, model_artifact_uri, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("without_baseline")
    models = {"model": model(model_artifact_uri, 1)}
    stock = evaluate(stock_executor.Executor, tmp / "stock", tft_run, models, GATE)
    # Over the budget on the direct profile: still the fast path.
    fast = evaluate(
        fast_executor.Executor,
        tmp / "fast",
        tft_run,
        models,
        GATE,
        beam_args=DIRECT_ARGS,
        extra_properties=TINY_BUDGET,
    )
    return stock, fast, models


@pytest.fixture(scope="module")
def with_baseline(tft_run, model_artifact_uri, untrained_artifact_uri, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("with_baseline")
    models = {
        "model": model(model_artifact_uri, 1),
        "baseline_model": model(untrained_artifact_uri, 2),
    }
    stock = evaluate(stock_executor.Executor, tmp / "stock", tft_run, models, MIXED_GATE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_executor, "SCORE_BATCH_SIZE", SMALL_BATCH)
        fast = evaluate(fast_executor.Executor, tmp / "fast", tft_run, models, MIXED_GATE)
    return stock, fast, models


@pytest.fixture(scope="module")
def on_portable(tft_run, model_artifact_uri, untrained_artifact_uri, tmp_path_factory):
    """The FastEvaluator over its budget on the portable profile, both gates; with the
    Beam jobs that finished on the job service during each."""
    tmp = tmp_path_factory.mktemp("on_portable")
    cases = {
        "without_baseline": ({"model": model(model_artifact_uri, 1)}, GATE),
        "with_baseline": (
            {
                "model": model(model_artifact_uri, 1),
                "baseline_model": model(untrained_artifact_uri, 2),
            },
            MIXED_GATE,
        ),
    }
    results = {}
    for name, (models, gate) in cases.items():
        with job_service_log() as log:
            evaluated = evaluate(
                fast_executor.Executor,
                tmp / name,
                tft_run,
                models,
                gate,
                beam_args=PORTABLE_ARGS,
                extra_properties=TINY_BUDGET,
            )
        results[name] = (evaluated, log.jobs_done())
    return results


@pytest.mark.slow
def test_same_metrics_validation_and_blessing_as_stock_without_baseline(without_baseline):
    stock, fast, models = without_baseline
    assert_same_metrics(stock.metrics, fast.metrics, OWN_METRICS)
    assert not any(name.endswith("_diff") for *_, name in flat_metrics(fast.metrics))
    assert fast.validation.validation_ok == stock.validation.validation_ok is True
    assert fast.validation.rubber_stamp == stock.validation.rubber_stamp
    assert_same_blessing(stock.blessing, fast.blessing, models, blessed=True)


@pytest.mark.slow
def test_same_diff_metrics_over_several_batches_as_stock_with_another_baseline(
    tft_run, with_baseline
):
    stock, fast, _ = with_baseline
    assert len(tft_run.eval_rows) > 3 * SMALL_BATCH  # the fast executor read 5 batches
    assert_same_metrics(stock.metrics, fast.metrics, OWN_METRICS)
    diffs = {
        key: value
        for key, value in flat_metrics(stock.metrics).items()
        if key[-1].endswith("_diff") and key[0] == ()
    }
    assert {key[-1].removesuffix("_diff") for key in diffs} >= OWN_METRICS
    fast_values = flat_metrics(fast.metrics)
    for key, value in diffs.items():
        if key[-1] != "example_count_diff":  # the same rows for both models
            assert value != 0 and fast_values[key] != 0, key


@pytest.mark.slow
def test_same_failures_and_blessing_as_stock_with_another_baseline(with_baseline):
    stock, fast, models = with_baseline
    assert fast.validation.validation_ok is stock.validation.validation_ok is False
    failures = _failures(fast.validation)
    assert failures == _failures(stock.validation)
    assert ("headway_nll", True) not in failures  # passed against the untrained baseline
    assert ("sparse_categorical_crossentropy", True) in failures  # a change threshold
    assert ("mean_absolute_error", False) in failures  # a value threshold
    assert_same_blessing(stock.blessing, fast.blessing, models, blessed=False)


def _rename(metrics: dict, key: tuple, new_name: str) -> None:
    slice_key, output, sub_key, name = key
    by_name = metrics[slice_key][output][sub_key]
    by_name[new_name] = by_name.pop(name)


def _drop(metrics: dict, key: tuple) -> None:
    slice_key, output, sub_key, name = key
    del metrics[slice_key][output][sub_key][name]


def _add(metrics: dict, key: tuple) -> None:
    slice_key, output, sub_key, name = key
    metrics[slice_key][output][sub_key][f"{name}_extra"] = {"doubleValue": 1.0}


def _shift(metrics: dict, key: tuple) -> None:
    slice_key, output, sub_key, name = key
    metrics[slice_key][output][sub_key][name]["doubleValue"] *= 1.001


def _drop_slice(metrics: dict, key: tuple) -> None:
    del metrics[next(k for k in metrics if k != ())]


@pytest.mark.slow
@pytest.mark.parametrize(
    "breakage",
    [
        lambda m, k: _rename(m, k, "headway_nll_renamed"),
        _drop,
        _add,
        _shift,
        _drop_slice,
    ],
    ids=["renamed", "dropped", "extra", "value", "slice"],
)
def test_the_parity_check_fails_on_a_broken_fast_output(with_baseline, breakage):
    stock, fast, _ = with_baseline
    assert_same_metrics(stock.metrics, fast.metrics, OWN_METRICS)  # intact: passes
    key = next(k for k in flat_metrics(fast.metrics) if k[0] == () and k[-1] == "headway_nll")
    broken = copy.deepcopy(fast.metrics)
    breakage(broken, key)
    with pytest.raises(AssertionError):
        assert_same_metrics(stock.metrics, broken, OWN_METRICS)


def _path(evaluated) -> str:
    return evaluated.evaluation.get_string_custom_property(fast_executor.EVALUATION_PATH_PROPERTY)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "blessed"), [("without_baseline", True), ("with_baseline", False)]
)
def test_over_budget_on_the_portable_profile_tfma_runs_as_beam_jobs_with_the_fast_gate(
    on_portable, without_baseline, with_baseline, case, blessed
):
    beam, jobs_done = on_portable[case]
    _, fast, models = {"without_baseline": without_baseline, "with_baseline": with_baseline}[case]
    assert _path(beam) == planning.BEAM and jobs_done >= 1
    assert _path(fast) == planning.FAST  # over the same budget, on the direct profile
    # The gate: every metric of every slice both ways, the failures and the blessing.
    assert_same_metrics(beam.metrics, fast.metrics, OWN_METRICS)
    assert beam.validation.validation_ok is fast.validation.validation_ok is blessed
    assert _failures(beam.validation) == _failures(fast.validation)
    assert_same_blessing(beam.blessing, fast.blessing, models, blessed=blessed)


@pytest.mark.slow
@pytest.mark.parametrize("side", ["beam", "fast"])
def test_the_portable_parity_check_fails_when_either_side_drops_a_gate_metric(
    on_portable, with_baseline, side
):
    beam, fast = on_portable["with_baseline"][0].metrics, with_baseline[1].metrics
    assert_same_metrics(beam, fast, OWN_METRICS)  # intact: passes
    gate_metrics, dropped = set(MIXED_GATE.thresholds), set()
    for key in flat_metrics(beam):
        if key[0] != () or key[-1].removesuffix("_diff") not in gate_metrics:
            continue
        dropped.add(key[-1].removesuffix("_diff"))
        broken = copy.deepcopy(beam if side == "beam" else fast)
        _drop(broken, key)
        with pytest.raises(AssertionError):
            if side == "beam":
                assert_same_metrics(broken, fast, OWN_METRICS)
            else:
                assert_same_metrics(beam, broken, OWN_METRICS)
    assert dropped == gate_metrics  # each gate metric was dropped once at least


@pytest.mark.parametrize(
    ("input_bytes", "budget", "on_cluster", "path"),
    [
        (1, 1, False, planning.FAST),
        (1, 1, True, planning.FAST),
        (2, 1, False, planning.FAST),
        (2, 1, True, planning.BEAM),
    ],
)
def test_only_a_split_over_the_budget_on_a_cluster_leaves_the_fast_path(
    input_bytes, budget, on_cluster, path
):
    """Sizes in KiB of input; the budget in KiB of input's decoded size."""
    budget_bytes = scale_out.decoded_bytes(budget << 10)
    assert planning.choose_path(input_bytes << 10, budget_bytes, on_cluster) == path

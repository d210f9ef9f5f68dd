"""End to end: the real pipeline on small generated data, read back from MLMD.

Two London runs (the session fixture ``london`` in conftest.py: a first run and an
unchanged re-run) are shared and checked by run id; tests that add runs of their own to
the same output dir and MLMD store compare with what was there before them, so the
tests pass in any order.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from tests import e2e_support
from transforms import features

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
COMPONENTS = {
    wiring.EXAMPLE_GEN,
    wiring.STATISTICS_GEN,
    wiring.SCHEMA_GEN,
    wiring.EXAMPLE_VALIDATOR,
    wiring.TRANSFORM,
    wiring.TRAINER,
    wiring.EVALUATOR,
    wiring.PUSHER,
}


def _runs(layout):
    store = metadata.open_store(layout.metadata_path)
    return store, metadata.run_ids(store, LONDON)


def _serving_example() -> bytes:
    feature = {
        features.DAY_OF_WEEK: tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
        features.HOUR: tf.train.Feature(int64_list=tf.train.Int64List(value=[8])),
        features.INTERSECTION: tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"LDN-0001"])),
        features.DIRECTION: tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"N"])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_first_run_executes_every_component_once_and_pushes_a_reloadable_model(london):
    store, runs = _runs(london["layout"])
    assert runs[0] == london["first_run"]
    executions = metadata.run_executions(store, LONDON, london["first_run"])
    executed = [e.node_id for e in executions if e.node_id in COMPONENTS]
    assert sorted(executed) == sorted(COMPONENTS)  # each exactly once
    assert all(e.state == "COMPLETE" for e in executions if e.node_id in COMPONENTS)

    pusher = next(e for e in executions if e.node_id == wiring.PUSHER)
    pushed = metadata.outputs_of(store, pusher.execution.id, "pushed_model")[0]
    props = metadata.custom_properties(pushed)
    assert props["pushed"] == 1
    version_dir = props["pushed_destination"]
    assert os.path.dirname(version_dir) == str(london["layout"].serving_base("london"))
    for name in (
        features.EMBEDDING_TSV,
        features.EMBEDDING_METADATA_TSV,
        features.EMBEDDING_SPEC_FILE,
        features.APPROACHES_FILE,
        "saved_model.pb",
    ):
        assert os.path.isfile(os.path.join(version_dir, name)), name

    model = tf.saved_model.load(version_dir)
    out = model.signatures["serving_default"](tf.constant([_serving_example()]))
    probs = out[features.VEHICLE_TYPE_OUTPUT].numpy()
    assert probs.shape == (1, len(features.VEHICLE_TYPES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert out[features.HEADWAY_OUTPUT].numpy().min() > 0

    example_gen = next(e for e in executions if e.node_id == wiring.EXAMPLE_GEN)
    counts = metadata.custom_properties(
        metadata.outputs_of(store, example_gen.execution.id, "examples")[0]
    )
    assert counts["rows_read"] == (
        counts["examples_train"]
        + counts["examples_eval"]
        + counts["rejected_total"]
        + counts["unlabeled_last_vehicles"]
        + counts["unlabeled_before_gap"]
    )


def test_second_run_with_no_change_only_uses_the_cache(london):
    store, runs = _runs(london["layout"])
    assert runs[:2] == [london["first_run"], london["cached_run"]]
    executions = metadata.run_executions(store, LONDON, london["cached_run"])
    states = {e.node_id: e.state for e in executions if e.node_id in COMPONENTS}
    assert set(states) == COMPONENTS
    assert set(states.values()) == {"CACHED"}, states


def test_tfx_beam_package_is_built_once_not_by_each_beam_component(london):
    # TFX logs these lines when it builds its tfx_ephemeral sdist for Beam workers
    # (dependency_utils), and when an executor finds one already named in its arguments.
    built, named = "Creating temporary sdist package", "already includes dependency"
    layout = london["layout"]
    logs = sorted(layout.log_dir("london").glob("run-*.log"))
    first = logs[0].read_text()
    assert first.count(built) == 1  # before the components: one for the whole run
    # ExampleGen, StatisticsGen, Transform and the Evaluator each found it named.
    assert first.count(named) == 4
    assert sum(log.read_text().count(built) for log in logs[1:]) == 0  # later runs reuse it
    packages = list(layout.tfx_package_dir.rglob("*.tar.gz"))
    assert len(packages) == 1 and packages[0].stat().st_size > 0


def test_changing_train_steps_retrains_but_keeps_transform_cached(london):
    steps = str(e2e_support.E2E_TRAIN_STEPS + 10)
    runs_before = len(_runs(london["layout"])[1])
    code = e2e_support.run(
        "london", london["config"], london["data"], london["output"], "--train-steps", steps
    )
    assert code == 0
    store, runs = _runs(london["layout"])
    assert len(runs) == runs_before + 1
    executions = metadata.run_executions(store, LONDON, runs[-1])
    states = {e.node_id: e.state for e in executions if e.node_id in COMPONENTS}
    upstream = (wiring.EXAMPLE_GEN, wiring.STATISTICS_GEN, wiring.TRANSFORM)
    assert {states[n] for n in upstream} == {"CACHED"}, states
    assert states[wiring.TRAINER] == "COMPLETE", states

    # The Evaluator compared the new model with the first run's (blessed and pushed):
    # the baseline resolver excludes the candidate, whatever else is blessed.
    def node(run: str, node_id: str):
        return next(e for e in metadata.run_executions(store, LONDON, run) if e.node_id == node_id)

    first_model = metadata.outputs_of(
        store, node(london["first_run"], wiring.TRAINER).execution.id, "model"
    )
    new_model = metadata.outputs_of(store, node(runs[-1], wiring.TRAINER).execution.id, "model")
    evaluator = node(runs[-1], wiring.EVALUATOR).execution.id
    assert [a.id for a in metadata.inputs_of(store, evaluator, "model")] == [new_model[0].id]
    baseline = metadata.inputs_of(store, evaluator, "baseline_model")
    assert [a.id for a in baseline] == [first_model[0].id] != [new_model[0].id]


def test_unreachable_threshold_is_not_blessed_and_pushes_nothing(london, capsys):
    layout = london["layout"]
    before = sorted(os.listdir(layout.serving_base("london")))
    strict = e2e_support.write_config(
        london["root"] / "strict.yaml",
        "london",
        "Europe/London",
        evaluation={"thresholds": {"mean_absolute_error": {"upper_bound": 0.001}}},
    )
    assert e2e_support.run("london", strict, london["data"], london["output"]) == 3
    out = capsys.readouterr().out
    assert "NOT blessed" in out and "mean_absolute_error" in out
    assert "nothing pushed" in out
    assert sorted(os.listdir(layout.serving_base("london"))) == before
    store, runs = _runs(layout)
    pusher = next(
        e for e in metadata.run_executions(store, LONDON, runs[-1]) if e.node_id == wiring.PUSHER
    )
    pushed = metadata.outputs_of(store, pusher.execution.id, "pushed_model")[0]
    assert metadata.custom_properties(pushed)["pushed"] == 0


def test_data_anomaly_stops_the_run_at_the_example_validator(london, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in sorted(os.listdir(london["data"])):
        if not name.endswith(".csv"):
            continue
        lines = (london["data"] / name).read_text().splitlines()
        header = lines[0].split(",")
        speed = header.index(features.RAW_SPEED)
        rows = [line.split(",") for line in lines[1:]]
        for row in rows[::50]:
            row[speed] = "950.0"  # a radar glitch far outside the curated schema's domain
        (data / name).write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    code = e2e_support.run("london", london["config"], data, tmp_path / "output")
    err = capsys.readouterr().err
    assert code == 1
    assert f"FAILED at {wiring.EXAMPLE_VALIDATOR}" in err
    assert features.SPEED in err and "DataAnomalyError" in err


def test_explain_and_predict_the_pushed_model_with_its_lineage(london, tmp_path, capsys):
    """explain/predict find the latest pushed model by city and read its MLMD record."""
    from deploy.insights.explainer import explain
    from deploy.insights.predictions import predict

    summary = explain(
        "london",
        output=str(london["output"]),
        report_dir=str(tmp_path / "report"),
        ground_truth=str(london["data"]),
    )
    assert summary.model["city"] == "london"
    assert "daily files" in summary.model["data_span"]  # from ML Metadata
    assert summary.metrics_overall["example_count"] > 0
    assert summary.approaches == e2e_support.E2E_INTERSECTIONS * len(features.DIRECTIONS)
    assert set(summary.ground_truth.per_type) == set(features.VEHICLE_TYPES)
    week = predict("london", output=str(london["output"]), week=True)
    assert len(week) == 168 * summary.approaches
    assert "Evaluation metrics by slice" in (tmp_path / "report" / "index.html").read_text()

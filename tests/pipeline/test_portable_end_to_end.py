"""The whole pipeline on Beam's portable job API (the Flink/Spark path), run locally.

The ``portable`` profile submits every Beam job of the pipeline to Beam's embedded job
service with LOOPBACK workers: pipelines become runner-API protos and functions are
pickled, as on a Flink or Spark job server. Its row counts must equal the DirectRunner
run (the shared ``london`` fixture) on the same data.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.components.statistics_gen import executor as stock_statistics
from tfx.types import standard_artifacts

from components.fast_statistics_gen.executor import FAST_PATH_PROPERTY
from deploy.mlmd import metadata
from deploy.runners import beam_profiles
from deploy.runners.local.runner import LocalLayout
from pipeline import pipeline as wiring
from pipeline.config import BeamConfig
from tests import e2e_support
from tests.beam_jobs import JOB_DONE

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
# ExampleGen always runs a Beam job; StatisticsGen only for splits too big for its
# in-memory path (components/fast_statistics_gen), so its Beam path is also run here
# directly. Transform runs in place (no analyzers, nothing materialised: no Beam job)
# and the Evaluator (components/fast_evaluator) scores its split in batches in its own
# process under the budget (its TFMA Beam path on the job service is tested in
# tests/components/fast_evaluator/test_executor.py).
COUNTS = ("rows_read", "examples_train", "examples_eval", "rejected_total")
COUNTS += ("unlabeled_last_vehicles", "unlabeled_before_gap")


def _first_complete(store, node_id: str):
    ctx = store.get_context_by_type_and_name("node", f"{LONDON}.{node_id}")
    executions = store.get_executions_by_context(ctx.id)
    done = [e for e in executions if e.last_known_state == metadata.COMPLETE]
    return min(done, key=lambda e: e.id)


def _records(artifact_uri: str) -> dict[str, int]:
    """Number of records per split, counted from the artifact's TFRecord files."""
    counts = {}
    for split in ("train", "eval"):
        files = tf.io.gfile.glob(os.path.join(artifact_uri, f"Split-{split}", "*"))
        counts[split] = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
    return counts


def _output(layout: LocalLayout, node_id: str, key: str):
    store = metadata.open_store(layout.metadata_location)
    return metadata.outputs_of(store, _first_complete(store, node_id).id, key)[0]


def _num_examples(statistics_uri: str, split: str) -> int:
    path = os.path.join(statistics_uri, f"Split-{split}", stock_statistics.DEFAULT_FILE_NAME)
    return tfdv.load_stats_binary(path).datasets[0].num_examples


def _row_counts(layout: LocalLayout) -> dict[str, object]:
    store = metadata.open_store(layout.metadata_location)
    example_gen = _first_complete(store, wiring.EXAMPLE_GEN)
    examples = metadata.outputs_of(store, example_gen.id, "examples")[0]
    props = metadata.custom_properties(examples)
    return {"example_gen": {k: props[k] for k in COUNTS}, "examples": _records(examples.uri)}


def _jobs_per_component(log_text: str) -> dict[str, int]:
    """How many Beam jobs finished on the job service while each component ran."""
    jobs: dict[str, int] = {}
    current = ""
    for line in log_text.splitlines():
        started = re.search(r"Component (\w+) is running\.", line)
        if started:
            current = started.group(1)
            jobs.setdefault(current, 0)
        elif JOB_DONE in line and "state DONE" in line:
            jobs[current] = jobs.get(current, 0) + 1
    return jobs


def test_portable_profile_pushes_a_model_with_the_direct_runners_row_counts(london, tmp_path):
    config = e2e_support.write_config(
        tmp_path / "london.yaml", "london", "Europe/London", beam={"profile": "portable"}
    )
    output = tmp_path / "output"
    # The job service's INFO lines go to the run's log file: proof of where Beam ran.
    beam_logger = logging.getLogger("apache_beam.runners.portability")
    level = beam_logger.level
    beam_logger.setLevel(logging.INFO)
    try:
        assert e2e_support.run("london", config, london["data"], output) == 0
    finally:
        beam_logger.setLevel(level)
    layout = LocalLayout(output)

    (log_file,) = Path(layout.log_dir("london")).glob("run-*.log")
    jobs = _jobs_per_component(log_file.read_text(errors="replace"))
    assert jobs.get(wiring.EXAMPLE_GEN, 0) >= 1, f"no ExampleGen job on the job service: {jobs}"
    assert jobs.get(wiring.TRAINER) == 0
    statistics = _output(layout, wiring.STATISTICS_GEN, "statistics")
    in_memory = metadata.custom_properties(statistics).get(FAST_PATH_PROPERTY)
    if in_memory == 1:  # the in-memory path computes statistics without a Beam job
        assert jobs.get(wiring.STATISTICS_GEN, 0) == 0, jobs
    else:
        assert jobs.get(wiring.STATISTICS_GEN, 0) >= 1, jobs

    store = metadata.open_store(layout.metadata_location)
    run = metadata.run_executions(store, LONDON)
    assert all(n.state == "COMPLETE" for n in run)
    pushed = list(layout.serving_base("london").iterdir())
    assert len(pushed) == 1 and (pushed[0] / "saved_model.pb").is_file()

    portable, direct = _row_counts(layout), _row_counts(london["layout"])
    assert portable == direct
    assert portable["examples"] == {
        "train": portable["example_gen"]["examples_train"],
        "eval": portable["example_gen"]["examples_eval"],
    }


def test_statistics_gens_beam_path_runs_on_the_portable_job_service(london, tmp_path, caplog):
    """The stock StatisticsGen executor (the path of large splits) with portable args."""
    raw = _output(london["layout"], wiring.EXAMPLE_GEN, "examples")
    examples = standard_artifacts.Examples()
    examples.uri = raw.uri
    examples.split_names = raw.properties["split_names"].string_value
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(tmp_path / "statistics")
    args = beam_profiles.beam_args(BeamConfig(profile="portable"))
    executor = stock_statistics.Executor(
        stock_statistics.Executor.Context(beam_pipeline_args=args, tmp_dir=str(tmp_path))
    )
    with caplog.at_level(logging.INFO, logger="apache_beam.runners.portability"):
        executor.Do(
            {"examples": [examples]}, {"statistics": [statistics]}, {"exclude_splits": "[]"}
        )
    assert JOB_DONE in caplog.text and "state DONE" in caplog.text
    counts = metadata.custom_properties(raw)
    pipeline_statistics = _output(london["layout"], wiring.STATISTICS_GEN, "statistics")
    for split in ("train", "eval"):
        assert _num_examples(statistics.uri, split) == counts[f"examples_{split}"]
        assert _num_examples(pipeline_statistics.uri, split) == counts[f"examples_{split}"]

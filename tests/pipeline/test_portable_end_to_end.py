"""The whole pipeline on Beam's portable job API (the Flink/Spark path), run locally.

The ``portable`` profile submits every Beam stage that takes the pipeline's Beam
arguments to Beam's embedded job service with
LOOPBACK workers: pipelines become runner-API protos and functions are pickled, as on a
Flink or Spark job server. Its row counts must equal the DirectRunner run (the shared
``london`` fixture) on the same data.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
import tensorflow as tf

from deploy import metadata
from deploy.local_runner import LocalLayout
from pipeline import pipeline as wiring
from tests import e2e_support

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
# The stages that run Beam jobs with the pipeline's Beam arguments. Transform runs in
# place (no analyzers, nothing materialised: TFX writes the graph without a Beam job)
# and the Evaluator (components/fast_evaluator) computes its metrics in memory.
BEAM_STAGES = (wiring.EXAMPLE_GEN, wiring.STATISTICS_GEN)
COUNTS = ("rows_read", "examples_train", "examples_eval", "rejected_total")
COUNTS += ("unlabeled_last_vehicles",)
# Logged by Beam's job service (local_job_service) when a submitted job finishes.
JOB_DONE = "Completed job in"


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
    for stage in BEAM_STAGES:
        assert jobs.get(stage, 0) >= 1, f"{stage} ran no job on the portable job service: {jobs}"
    assert jobs.get(wiring.TRAINER) == 0

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

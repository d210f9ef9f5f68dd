"""The Trainer's Beam reader: on a cluster's runner over the budget, a Beam job parses.

On the ``portable`` profile (Beam's embedded job service: the Flink/Spark path) with the
budget at a tenth of the training rows' size, the real ``run_fn`` path must have a Beam
job parse and transform the train split (it finishes on the job service;
``training_input.json`` says ``beam``), stream the rows from local disk, leave no
files behind, and train the same model as the in-memory, in-process run: bit-identical
weights and the same eval metrics. On the ``direct`` profile, or under the budget, the
Trainer reads in its own process.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from components import scale_out
from deploy.runners import beam_profiles
from pipeline.config import BeamConfig
from tests.beam_jobs import job_service_log
from tests.transforms.conftest import TEST_CONFIG, eval_metrics, make_fn_args
from transforms import beam_rows, features, reading
from transforms.row_store import IN_MEMORY, STREAMING
from transforms.trainer import TRAINING_INPUT_FILE, train_and_export

PORTABLE_ARGS = beam_profiles.beam_args(BeamConfig(profile="portable"))
DIRECT_ARGS = beam_profiles.beam_args(BeamConfig(profile="direct"), workers=1)


def _record(fn_args) -> dict:
    with open(os.path.join(fn_args.model_run_dir, TRAINING_INPUT_FILE)) as f:
        return json.load(f)


def test_only_a_split_over_the_budget_on_a_cluster_is_read_by_beam(tft_run):
    files = [os.path.join(tft_run.raw_examples_dir, "Split-train", "*")]
    size = scale_out.decoded_bytes(scale_out.input_bytes(reading.matching_files(files)))
    assert beam_rows.choose_reader(files, size - 1, PORTABLE_ARGS) == beam_rows.BEAM
    assert beam_rows.choose_reader(files, size, PORTABLE_ARGS) == beam_rows.IN_PROCESS
    assert beam_rows.choose_reader(files, size - 1, DIRECT_ARGS) == beam_rows.IN_PROCESS
    assert beam_rows.choose_reader(files, size - 1, ()) == beam_rows.IN_PROCESS
    # Only a cluster's runner reaches the Trainer's custom_config (its cache key).
    assert scale_out.trainer_config(DIRECT_ARGS) == {}
    assert scale_out.trainer_config(PORTABLE_ARGS) == {"beam_pipeline_args": PORTABLE_ARGS}


@pytest.mark.slow
def test_over_the_budget_on_the_portable_profile_a_beam_job_reads_the_same_model(
    tft_run, cold_model, tmp_path
):
    memory = _record(cold_model.fn_args)
    assert memory["reader"] == beam_rows.IN_PROCESS and memory["path"] == IN_MEMORY

    config = {
        **TEST_CONFIG,
        "memory_budget_mb": memory["train_bytes"] / 10 / (1 << 20),
        **scale_out.trainer_config(PORTABLE_ARGS),
    }
    fn_args = make_fn_args(tft_run, tmp_path, config)
    with job_service_log() as log:
        on_beam = train_and_export(fn_args)

    record = _record(fn_args)
    assert record["reader"] == beam_rows.BEAM and log.jobs_done() >= 1
    assert record["path"] == STREAMING
    counted = ("rows", "train_rows", "held_out_rows", "validation_rows")
    assert {k: record[k] for k in counted} == {k: memory[k] for k in counted}
    assert not os.path.exists(os.path.join(fn_args.model_run_dir, beam_rows.ROWS_DIR))
    assert not os.path.exists(record["spill_dir"])

    for a, b in zip(cold_model.model.get_weights(), on_beam.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the same model, bit for bit
    want = eval_metrics(cold_model.fn_args, features.DATA_KIND_EVENTS)
    got = eval_metrics(fn_args, features.DATA_KIND_EVENTS)
    assert set(got) == set(want) and len(want) >= 4
    assert got == want

"""The Trainer over its memory budget: a tenth of the training data's size.

The real ``run_fn`` path (DataAccessor, TFT graph, training, export) with
``memory_budget_mb`` set to a tenth of what the in-memory run held must stream its rows
from local disk (``training_input.json`` says so, and the store's own counter shows it
never held more than a bucket's worth), and train the same model: bit-identical
weights, so the Evaluator's metrics on the eval split match the in-memory run's.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.transforms.conftest import COUNTS_TEST_CONFIG, TEST_CONFIG, eval_metrics, make_fn_args
from transforms import features
from transforms.row_store import IN_MEMORY, STREAMING
from transforms.trainer import TRAINING_INPUT_FILE, train_and_export

CASES = {
    features.DATA_KIND_EVENTS: ("tft_run", "cold_model", TEST_CONFIG),
    features.DATA_KIND_COUNTS: ("counts_tft_run", "counts_model", COUNTS_TEST_CONFIG),
}


def _record(fn_args) -> dict:
    with open(os.path.join(fn_args.model_run_dir, TRAINING_INPUT_FILE)) as f:
        return json.load(f)


@pytest.mark.parametrize("data_kind", sorted(CASES))
def test_a_tenth_of_the_budget_streams_and_trains_the_same_model(data_kind, request, tmp_path):
    run_name, model_name, config = CASES[data_kind]
    run, in_memory = request.getfixturevalue(run_name), request.getfixturevalue(model_name)
    memory = _record(in_memory.fn_args)
    assert memory["path"] == IN_MEMORY and memory["peak_rows_in_memory"] == memory["train_rows"]

    budget_mb = memory["train_bytes"] / 10 / (1 << 20)
    fn_args = make_fn_args(run, tmp_path, {**config, "memory_budget_mb": budget_mb})
    streamed = train_and_export(fn_args)

    record = _record(fn_args)
    assert record["path"] == STREAMING
    assert record["memory_budget_bytes"] == int(memory["train_bytes"] / 10)
    assert {k: record[k] for k in ("rows", "train_rows", "held_out_rows", "validation_rows")} == {
        k: memory[k] for k in ("rows", "train_rows", "held_out_rows", "validation_rows")
    }
    # Never all rows at once: at most a load batch or a bucket (1/256 of the rows) plus
    # a batch; the disk cache is gone after the run.
    assert record["peak_rows_in_memory"] < record["train_rows"] / 4
    assert not os.path.exists(record["spill_dir"])

    for a, b in zip(in_memory.model.get_weights(), streamed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the same model, bit for bit

    want = eval_metrics(in_memory.fn_args, data_kind)
    got = eval_metrics(fn_args, data_kind)
    assert set(got) == set(want) and len(want) >= 4
    for name, value in want.items():
        assert f"{got[name]:.3g}" == f"{value:.3g}", name

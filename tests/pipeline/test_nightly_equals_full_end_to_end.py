"""End to end: a nightly run (day cache warm) and a full run of the same window give the
same model and the same eval metrics.

One data root, a 4-day window ending 2026-03-22. The nightly output ran the window ending
03-21 first, so its 03-22 run parses one day and reuses three from the day cache; the full
run starts from a fresh output and parses all four. Their Examples hold the same rows in
different files and order; the Trainer's row order comes from each row's content and the
seed (``transforms.row_order``), so the weights must be bit-identical, and the Evaluator's
metrics equal. The 03-21 model is checked to differ, so the comparison can fail. (The nightly run's
extra ``*_diff`` metrics, against its baseline, are left out: the full run has no
baseline.)
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import tensorflow as tf

from components.traffic_example_gen import in_process, properties
from deploy import exit_codes
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from deploy.runners.local.run_summary import RunSummary, summarize_run
from pipeline import names as wiring
from tests import e2e_support

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")


def _run(config, data, output, as_of: str) -> RunSummary:
    code = e2e_support.run("london", config, data, output, "--as-of", as_of, "--train-steps", "40")
    assert code in (exit_codes.OK, exit_codes.NOT_BLESSED)
    store = metadata.open_store(LocalLayout(output).metadata_path)
    return summarize_run(store, LONDON, metadata.run_ids(store, LONDON)[-1])


def _ingest_path(output) -> str | None:
    """How the output's last run's ExampleGen ingested its new days (day cache)."""
    store = metadata.open_store(LocalLayout(output).metadata_path)
    run = metadata.run_ids(store, LONDON)[-1]
    for node in metadata.run_executions(store, LONDON, run):
        if node.node_id.endswith("ExampleGen"):
            examples = metadata.outputs_of(store, node.execution.id, "examples")[0]
            return metadata.custom_properties(examples).get(properties.INGEST_PATH)
    return None


def _weights(model_dir: str) -> dict[str, np.ndarray]:
    prefix = os.path.join(model_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(prefix)}


def _same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_nightly_run_equals_a_full_run_of_the_same_window(tmp_path):
    data = e2e_support.generate("london", tmp_path / "data")  # 2026-03-16 .. 2026-03-24
    config = e2e_support.write_config(
        tmp_path / "london.yaml",
        "london",
        "Europe/London",
        data={"split": {"kind": "time", "eval_days": 2}, "window_days": 4, "max_missing_days": 0},
    )
    previous = _run(config, data, tmp_path / "nightly", "2026-03-21")
    nightly = _run(config, data, tmp_path / "nightly", "2026-03-22")
    assert _ingest_path(tmp_path / "nightly") == in_process.IN_PROCESS  # no Beam pipeline
    full = _run(config, data, tmp_path / "full", "2026-03-22")
    ingested = [
        (s.row_counts[properties.DAYS_INGESTED], s.row_counts[properties.DAYS_REUSED])
        for s in (nightly, full)
    ]
    assert ingested == [(1, 3), (4, 0)]

    # The nightly run also has a baseline (the 03-21 model), so TFMA adds a ``*_diff`` of
    # each metric against it; the full run's first model has none. Every other metric of
    # every slice is equal.
    assert [name for name, _ in nightly.metrics_by_slice] == [
        name for name, _ in full.metrics_by_slice
    ]
    for (name, ours), (_, theirs) in zip(
        nightly.metrics_by_slice, full.metrics_by_slice, strict=True
    ):
        assert theirs and not any(k.endswith("_diff") for k in theirs)
        assert {k: v for k, v in ours.items() if not k.endswith("_diff")} == theirs, name
    assert (nightly.blessed, nightly.blessing_reason) == (full.blessed, full.blessing_reason)
    nightly_weights = _weights(nightly.model_dir)
    assert _same_weights(nightly_weights, _weights(full.model_dir))
    assert not _same_weights(nightly_weights, _weights(previous.model_dir))

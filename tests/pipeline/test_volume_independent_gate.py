"""End to end: the default gate blesses a quiet city's good model and refuses a worse one.

A London-shaped city generated at 7% of London's volume (night headways of many
minutes) can never pass an absolute seconds bound; the default gate (built-in
london.yaml, unchanged) compares NLLs instead, so a trained model is blessed and a
diverged one (learning rate 5) is not. (An untrained model is no longer a bad one: it
starts at each approach's observed rates, which already beat a city-wide constant.)
"""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from deploy.mlmd import metadata
from deploy.runners.local.run_summary import metrics_by_slice
from deploy.runners.local.runner import LocalLayout
from pipeline import pipeline as wiring
from pipeline.config import CONFIG_PACKAGE
from tests import e2e_support

pytestmark = pytest.mark.slow
LOW_VOLUME_SCALE = "0.07"  # ~140 vehicles a day over 3 intersections, mean headway > 1.5 h
DAYS = 14  # at 9 days (685 training rows) the model does not beat the constant rate
TRAINING = {"train_steps": 400, "eval_steps": 20, "batch_size": 256}


def _default_gate() -> dict:
    text = resources.files(CONFIG_PACKAGE).joinpath("london.yaml").read_text()
    return yaml.safe_load(text)["evaluation"]


def _overall(output, run_index: int) -> dict[str, float]:
    layout = LocalLayout(output)
    store = metadata.open_store(layout.metadata_path)
    name = wiring.pipeline_name("london")
    run_id = metadata.run_ids(store, name)[run_index]
    evaluator = next(
        e for e in metadata.run_executions(store, name, run_id) if e.node_id == wiring.EVALUATOR
    )
    uri = metadata.outputs_of(store, evaluator.execution.id, "evaluation")[0].uri
    return dict(metrics_by_slice(uri))["overall"]


def test_default_gate_blesses_a_low_volume_city_and_refuses_a_worse_model(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data", DAYS, scale=LOW_VOLUME_SCALE)
    output = tmp_path / "output"
    split = {"split": {"kind": "time", "eval_days": 3}}
    good = e2e_support.write_config(
        tmp_path / "good.yaml",
        "london",
        "Europe/London",
        data=split,
        training=TRAINING,
        evaluation=_default_gate(),
    )
    assert e2e_support.run("london", good, data, output) == 0
    out = capsys.readouterr().out
    assert "model: BLESSED" in out, out
    overall = _overall(output, -1)
    # Quiet: the mean headway is far above the old absolute 600 s MAE bound's reach.
    assert overall["headway_seconds/mean_absolute_error"] > 600.0
    assert overall["headway_seconds/headway_nll_vs_constant"] < 0.0

    worse = e2e_support.write_config(
        tmp_path / "worse.yaml",
        "london",
        "Europe/London",
        data=split,
        evaluation=_default_gate(),
        training={**TRAINING, "learning_rate": 5.0},
    )
    assert e2e_support.run("london", worse, data, output) == 3
    out = capsys.readouterr().out
    assert "NOT blessed" in out and "headway_nll_vs_constant" in out, out
    assert "nothing pushed" in out
    worse_overall = _overall(output, -1)
    assert worse_overall["headway_seconds/headway_nll_vs_constant"] > 0.0
    print(f"\nlow-volume gate: good {overall}\nworse {worse_overall}")

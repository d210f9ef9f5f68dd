"""End to end: the default gate refuses a model that does not beat the per-approach table.

A model trained for a single step starts at each approach's observed mean rate, which
beats a city-wide constant but not the historical average of the same approach, type,
weekday and hour: ``nll_vs_approach_average`` > 0 fails the default gate, while the
same pipeline's fully trained model passes it.
"""

from __future__ import annotations

import pytest

from tests import e2e_support
from tests.pipeline.test_volume_independent_gate import _default_gate, _overall

pytestmark = pytest.mark.slow
METRIC = "vehicles_per_hour_vs_approach_average/nll_vs_approach_average"


def test_a_one_step_model_fails_on_nll_vs_approach_average(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data", 14)
    output = tmp_path / "output"
    split = {"split": {"kind": "time", "eval_days": 3}}

    def config(name: str, steps: int):
        return e2e_support.write_config(
            tmp_path / f"{name}.yaml",
            "london",
            "Europe/London",
            data=split,
            training={"train_steps": steps, "eval_steps": 20, "batch_size": 512},
            evaluation=_default_gate(),
        )

    assert e2e_support.run("london", config("one_step", 1), data, output) == 3
    out = capsys.readouterr().out
    assert "NOT blessed" in out and "nll_vs_approach_average" in out, out
    assert _overall(output, -1)[METRIC] > 0.0

    assert e2e_support.run("london", config("trained", 1500), data, output) == 0
    out = capsys.readouterr().out
    assert "model: BLESSED" in out, out
    assert _overall(output, -1)[METRIC] < 0.0

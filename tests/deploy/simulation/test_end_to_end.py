"""simulate -> run: the pipeline blesses a model on SUMO's stop-line events (default gate)."""

from __future__ import annotations

import pytest
import yaml

from deploy.cli import main as cli_main
from deploy.datasets.simulation import network

pytestmark = pytest.mark.slow


def test_pipeline_blesses_on_two_simulated_days_with_the_default_gate(tmp_path, capsys):
    data = tmp_path / "data"
    simulate = ["simulate", "--city", "london", "--out", str(data), "--grid", "2x2"]
    assert cli_main([*simulate, "--days", "2"]) == 0
    assert (data / network.NET_FILE).is_file()  # next to the day files: ExampleGen skips it
    config = tmp_path / "london.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "city": "london",
                "timezone": "Europe/London",
                "data": {"split": {"kind": "time", "eval_days": 1}},
                "training": {"train_steps": 300, "eval_steps": 20, "batch_size": 256},
                "evaluation": {"thresholds": None},  # the default gate of the events kind
            }
        )
    )
    argv = ["run", "--city", "london", "--config", str(config), "--data", str(data)]
    code = cli_main([*argv, "--output", str(tmp_path / "output"), "--workers", "1"])
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    assert "BLESSED" in out

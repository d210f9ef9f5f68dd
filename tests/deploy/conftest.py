"""A simulated weekend and the pipeline run on it, shared by the slow end-to-end tests of
``simulate`` (tests/deploy/simulation) and ``advise`` (tests/deploy/signal_plans)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from deploy.cli import main as cli_main

SIMULATED_START = "2026-03-21"  # a Saturday: the quickest two days of a 2x2 grid to simulate
# Local hours of each date: from the small hours to the midday peak, rates 30x apart. A
# window of busy hours only (10-14) is not blessed: its rates are flat, a constant rate
# predicts them as well as the model (headway NLL vs constant +0.03).
SIMULATED_HOURS = "4-13"


@dataclass(frozen=True)
class SimulatedRun:
    """``simulate`` output, the ``run`` on it and what ``run`` printed. Read it, never
    write into it: the tests that share it run in any order."""

    data: Path
    output: Path
    code: int
    out: str


@pytest.fixture(scope="session")
def simulated_weekend(tmp_path_factory: pytest.TempPathFactory) -> SimulatedRun:
    """``simulate`` a 2x2 London grid for Saturday 21 and Sunday 22 March 2026, local
    04:00-13:00, then ``run`` the default pipeline on it (Saturday trains, Sunday evaluates,
    300 steps, the default gate): the real CLI, real SUMO, a real trained and pushed model."""
    root = tmp_path_factory.mktemp("simulated_weekend")
    data, output, config = root / "data", root / "output", root / "london.yaml"
    simulate = ["simulate", "--city", "london", "--out", str(data), "--grid", "2x2"]
    simulate += ["--days", "2", "--start", SIMULATED_START, "--hours", SIMULATED_HOURS]
    assert cli_main(simulate) == 0
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
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = cli_main([*argv, "--output", str(output), "--workers", "1"])
    print(printed.getvalue())
    return SimulatedRun(data, output, code, printed.getvalue())

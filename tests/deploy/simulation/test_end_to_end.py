"""simulate -> run: the pipeline blesses a model on SUMO's stop-line events (default gate)."""

from __future__ import annotations

import pytest

from deploy.datasets.simulation import network

pytestmark = pytest.mark.slow


def test_pipeline_blesses_on_two_simulated_days_with_the_default_gate(simulated_weekend):
    # the shared fixture (tests/deploy/conftest.py): 2 simulated days, then `run`
    data = simulated_weekend.data
    assert (data / network.NET_FILE).is_file()  # next to the day files: ExampleGen skips it
    assert sorted(p.name for p in data.glob("*.csv")) == ["2026-03-21.csv", "2026-03-22.csv"]
    assert simulated_weekend.code == 0, simulated_weekend.out[-2000:]
    assert "BLESSED" in simulated_weekend.out

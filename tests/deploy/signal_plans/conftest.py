"""Fixtures: real SUMO networks and the insights tests' small trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.insights.conftest import model_dir  # noqa: F401  (re-exported fixture)
from tests.deploy.signal_plans.networks import grid_network
from tests.transforms.conftest import cold_model, tft_run  # noqa: F401  (re-exported)


@pytest.fixture(scope="session")
def grid_2x2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 grid of traffic lights X000-X003 (the model fixture's intersections)."""
    return grid_network(tmp_path_factory.mktemp("grid"))

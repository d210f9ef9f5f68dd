"""Small real SUMO set-ups shared by the simulation tests."""

from __future__ import annotations

from pathlib import Path

from deploy.datasets.simulation import network
from deploy.datasets.synthetic import cities

LONDON = cities.get_city("london")
GRID_2X2 = network.GridSpec(rows=2, cols=2)


def grid_2x2(tmp: Path) -> network.Network:
    """A 2x2 London grid (LDN-0001 .. LDN-0004, row-major from the north-west)."""
    ids = cities.intersection_ids(LONDON, 4)
    return network.read_network(network.build_grid(GRID_2X2, ids, tmp / "grid.net.xml"))

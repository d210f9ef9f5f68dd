"""Small real SUMO networks for the tests, from ``simulate``'s own grid builder
(``deploy.datasets.simulation.network.build_grid``) with the model fixture's intersection ids."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploy.datasets.simulation import network
from deploy.datasets.simulation.network import sumo_binary, sumo_env

__all__ = ["GRID", "grid_network", "grid_routes", "netgenerate_grid", "sumo_binary", "sumo_env"]

# 2 x 2 signals, 2 lanes each way on every street, no bike lane: N-S and E-W alike.
GRID = network.GridSpec(rows=2, cols=2, major_lanes=2, minor_lanes=2, bike_lane=False)
IDS = ("X000", "X001", "X002", "X003")  # row-major from the north-west


def grid_network(out_dir: Path, ids: tuple[str, ...] = IDS) -> Path:
    """``GRID`` with signals ``ids`` (the model fixture's intersections by default)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return network.build_grid(GRID, ids, out_dir / "grid.net.xml")


def grid_routes(ids: tuple[str, ...] = IDS) -> dict[str, str]:
    """Straight fringe-to-fringe routes of ``GRID``: ``{"N0": "edge edge edge", ...}``,
    heading then street."""
    return {
        f"{heading}{line}": " ".join(network.grid_path(GRID, ids, heading, line))
        for heading in ("N", "S", "E", "W")
        for line in range(2)
    }


def netgenerate_grid(out_dir: Path, *options: str) -> Path:
    """``netgenerate --grid`` (2 x 2, fringe arms, every junction a traffic light) with
    extra ``options``; junction ids are netgenerate's (A0, A1, ...)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    net = out_dir / "netgenerate.net.xml"
    command = [
        sumo_binary("netgenerate"), "--grid", "--grid.number", "2", "--grid.length", "200",
        "--grid.attach-length", "200", "--default-junction-type", "traffic_light",
        "--no-turnarounds", "-o", str(net), *options,
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, env=sumo_env())
    return net

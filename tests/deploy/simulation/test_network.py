"""Grid networks built by netconvert: signal ids are the city's intersection ids."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from deploy.datasets.simulation import network
from deploy.datasets.synthetic import cities
from tests.deploy.simulation.helpers import GRID_2X2, LONDON, grid_2x2


def test_signal_and_program_ids_are_the_intersection_ids(tmp_path):
    net = grid_2x2(tmp_path)
    ids = cities.intersection_ids(LONDON, 4)
    assert net.intersections == ids == ("LDN-0001", "LDN-0002", "LDN-0003", "LDN-0004")
    programs = {t.get("id") for t in ElementTree.parse(net.path).getroot().iter("tlLogic")}
    assert programs == set(ids)


def test_every_signal_has_four_approaches_with_the_edge_geometry_direction(tmp_path):
    net = grid_2x2(tmp_path)
    assert len(net.approaches) == 16
    index = net.approach_index()
    # LDN-0001 is the north-west signal: entering from the west fringe heads east.
    east = net.approaches[index[("LDN-0001", "E")]]
    assert east.edges == ("W0--LDN-0001",)
    assert (east.motor_lanes, east.bike_only_lanes) == (2, 1)
    north = net.approaches[index[("LDN-0001", "N")]]
    assert north.edges == ("LDN-0003--LDN-0001",)
    assert (north.motor_lanes, north.bike_only_lanes) == (1, 1)


def test_grid_paths_run_fringe_to_fringe_and_turn_right():
    ids = cities.intersection_ids(LONDON, 4)
    assert network.grid_path(GRID_2X2, ids, "E", 0) == (
        "W0--LDN-0001",
        "LDN-0001--LDN-0002",
        "LDN-0002--E0",
    )
    # Heading north in column 1, right turn at the second signal passed: east at LDN-0002.
    assert network.grid_path(GRID_2X2, ids, "N", 1, turn_after=1) == (
        "S1--LDN-0004",
        "LDN-0004--LDN-0002",
        "LDN-0002--E0",
    )


def test_bad_grid_and_missing_network_are_one_line_errors(tmp_path):
    with pytest.raises(network.NetworkError, match="at least 1x1"):
        network.GridSpec(rows=0)
    with pytest.raises(network.NetworkError, match="not a file"):
        network.read_network(tmp_path / "missing.net.xml")
    no_lights = tmp_path / "plain.net.xml"
    no_lights.write_text('<net version="1.20"></net>\n')
    with pytest.raises(network.NetworkError, match="no traffic-light"):
        network.read_network(no_lights)

"""Green phases and the approaches they serve, read from real netconvert/netgenerate nets."""

from __future__ import annotations

from deploy.signal_plans.phases import is_green, read_signals
from tests.deploy.signal_plans.networks import netgenerate_grid


def test_default_four_arm_program(grid_2x2):
    signals = read_signals(grid_2x2)
    assert [s.intersection for s in signals] == ["X000", "X001", "X002", "X003"]
    s = signals[0]
    assert s.directions == ("E", "N", "S", "W") and s.lanes == (2, 2, 2, 2)
    # SUMO's default: N-S green (left turns permissive 'g'), yellow, E-W green, yellow
    assert s.states[0] == "GGGgrrrrGGGgrrrr" and s.green_phases == (0, 2)
    served = [[s.directions[a] for a in phase] for phase in s.serves]
    assert served == [["N", "S"], ["E", "W"]]
    assert s.approaches[0] == ("X000", "E")


def test_protected_left_turn_phases_serve_no_approach(tmp_path):
    net = netgenerate_grid(
        tmp_path,
        "--default.lanenumber", "2", "--turn-lanes", "1", "--turn-lanes.length", "50",
        "--tls.left-green.time", "6",
    )  # fmt: skip
    s = read_signals(net)[0]
    assert s.lanes == (3, 3, 3, 3)  # the exclusive left lane counts
    assert len(s.states) == 8 and s.green_phases == (0, 2, 4, 6)
    # through phases carry the approaches; the left-turn phases get the minimum green
    served = [[s.directions[a] for a in phase] for phase in s.serves]
    assert served == [["N", "S"], [], ["E", "W"], []]


def test_is_green():
    assert is_green("GGgrr") and is_green("rrrG")
    assert not is_green("yyygrrr") and not is_green("rrrr")


def test_simulate_grid_with_bike_lanes(tmp_path):
    """``simulate``'s own grid builder: E-W arterials of 2 lanes, N-S cross streets of 1,
    a bicycle-only lane on every edge; the approaches agree with ``read_network``'s."""
    from deploy.datasets.simulation import network
    from deploy.datasets.synthetic import cities

    ids = cities.intersection_ids(cities.get_city("london"), 4)
    path = network.build_grid(network.GridSpec(rows=2, cols=2), ids, tmp_path / "g.net.xml")
    signals = read_signals(path)
    assert [s.intersection for s in signals] == sorted(ids)
    theirs = {(a.intersection_id, a.direction) for a in network.read_network(path).approaches}
    assert {a for s in signals for a in s.approaches} == theirs
    s = signals[0]
    assert s.directions == ("E", "N", "S", "W")
    assert s.lanes == (2, 1, 1, 2) and s.bike_lanes == (1, 1, 1, 1)
    served = [sorted(s.directions[a] for a in phase) for phase in s.serves]
    assert sorted(served) == [["E", "W"], ["N", "S"]]

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

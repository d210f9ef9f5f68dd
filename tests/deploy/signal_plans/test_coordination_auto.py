"""``--coordination auto``: the wait helpers and the rule on hand-worked cases, and the
choice it makes per band on a real 2x2 SUMO grid."""

from __future__ import annotations

import numpy as np
import pytest

from deploy.signal_plans import coordination as coord
from deploy.signal_plans.api import network_approaches, plans_from_rates
from deploy.signal_plans.links import read_links


def test_random_arrivals_wait_red_squared_over_two_cycles():
    # 60 s cycle, 20 s green: a third of arrivals pass, the rest wait 20 s on average
    assert coord.random_wait(20.0, 60.0) == pytest.approx(40.0 * 40.0 / 120.0)
    assert coord.random_wait(60.0, 60.0) == 0.0
    with pytest.raises(ValueError):
        coord.random_wait(70.0, 60.0)


def test_platoon_wait_by_where_it_meets_the_cycle():
    green, cycle = 20.0, 60.0
    assert coord.platoon_wait(0.0, 20.0, green, cycle) == 0.0  # the whole platoon in green
    assert coord.platoon_wait(20.0, 0.0, green, cycle) == 40.0  # one car at the start of red
    # arrivals over 50..70 s: the first 10 s wait 10..0 s (mean 5), the last 10 s none
    assert coord.platoon_wait(50.0, 20.0, green, cycle) == pytest.approx(2.5)
    assert coord.platoon_wait(-10.0, 20.0, green, cycle) == pytest.approx(2.5)  # mod cycle
    # a platoon spread over a whole cycle waits as random arrivals do
    assert coord.platoon_wait(7.0, cycle, green, cycle) == pytest.approx(
        coord.random_wait(green, cycle)
    )


def _link(arrival: float, flow: float = 600.0) -> coord.LinkCase:
    # a 60 s common cycle with 25 s greens; uncoordinated, the signal runs 40 s / 15 s
    return coord.LinkCase(flow, arrival, 25.0, 25.0, 60.0, 15.0, 40.0)


def test_keep_wave_where_one_direction_dominates():
    red = [_link(30.0)]  # the opposite platoon meets the whole red: 30..55 s wait 30..5
    assert coord.opposite_wait(red)[0] > coord.opposite_wait(red)[1]
    assert coord.keep_wave(1500.0, 1000.0, red)  # 60/40: the tide wins whatever
    assert coord.keep_wave(900.0, 0.0, [])  # one-way
    assert not coord.keep_wave(1400.0, 1000.0, red)  # 58/42 and the other side meets red


def test_keep_a_balanced_wave_only_if_the_other_direction_progresses():
    progresses = [_link(-2.0), _link(0.0)]  # within 2 s of the green's start
    assert coord.keep_wave(1000.0, 1000.0, progresses)
    # random arrivals at 40 s / 15 s wait 25^2/80 = 7.8 s; this platoon: 10 s of its 25
    # arrive in red, waiting 10..0 s: 50/25 = 2 s on average
    assert coord.opposite_wait([_link(50.0)]) == pytest.approx((2.0, 625.0 / 80.0))
    assert coord.keep_wave(1000.0, 1000.0, [_link(50.0)])
    # the flows weigh the links: a heavy link in red outweighs a light one in green
    assert not coord.keep_wave(1000.0, 1000.0, [_link(0.0, 100.0), _link(30.0, 900.0)])


def _constant_rates(network, per_direction: dict[str, float]) -> tuple[list, np.ndarray]:
    """Every hour of the week the same cars/h per approach, by its direction of travel."""
    approaches = network_approaches(network)
    rates = np.zeros((len(approaches), 168, 4))
    for i, (_, direction) in enumerate(approaches):
        rates[i, :, 0] = per_direction[direction]
    return approaches, rates


def _plans(network, rates, mode):
    approaches, values = rates
    return plans_from_rates(network, approaches, values, bands="single", coordination=mode)


def _same(a, b) -> bool:
    return (
        a.offsets == b.offsets
        and a.wave_directions == b.wave_directions
        and {k: t.greens for k, t in a.timings.items()}
        == {k: t.greens for k, t in b.timings.items()}
    )


def test_auto_waves_the_tide(grid_2x2):
    # eastbound twice westbound: the rule's dominance (2 >= 1.5) keeps the wave
    rates = _constant_rates(grid_2x2, {"E": 1000.0, "W": 500.0, "N": 300.0, "S": 300.0})
    auto = _plans(grid_2x2, rates, coord.AUTO)
    assert auto.wave_directions == {0: "E"}
    assert _same(auto, _plans(grid_2x2, rates, coord.GREEN_WAVE))


def test_auto_drops_a_balanced_wave_at_a_long_cycle(grid_2x2):
    # 1400 pcu/h on 2 lanes each way: y = 0.39 per phase, Y = 0.78, Webster's cycle
    # (1.5 * 8 + 5) / 0.22 = 77 s, greens about 34 s. The eastbound wave (a tie goes to E)
    # has the westbound platoon leave one signal a link's travel time (about 13.4 s) after
    # the other's green started and arrive a round trip (about 27 s) into it: most of it
    # meets the 43 s red (about 23 s on average, against 43^2 / 154 = 12 s at random).
    travel = [link[1] for link in read_links(grid_2x2)["W"].values() if link is not None]
    assert travel and all(12.0 < t < 15.0 for t in travel)
    rates = _constant_rates(grid_2x2, dict.fromkeys("NESW", 1400.0))
    auto = _plans(grid_2x2, rates, coord.AUTO)
    assert auto.wave_directions == {} and auto.offsets == {}
    assert _same(auto, _plans(grid_2x2, rates, coord.NONE))
    assert min(t.cycle for t in auto.timings.values()) > 60.0


def test_auto_keeps_a_balanced_wave_at_a_short_cycle(grid_2x2):
    # light and balanced: every signal at the 30 s minimum cycle, greens about 11 s; the
    # westbound round trip of about 27 s lands about 3 s before the next green: a short
    # wait for the platoon's head, against 19^2 / 60 = 6 s for random arrivals
    rates = _constant_rates(grid_2x2, dict.fromkeys("NESW", 150.0))
    auto = _plans(grid_2x2, rates, coord.AUTO)
    assert {t.cycle for t in auto.timings.values()} == {30.0}
    assert auto.wave_directions == {0: "E"}
    assert _same(auto, _plans(grid_2x2, rates, coord.GREEN_WAVE))

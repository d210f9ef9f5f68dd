"""Coordination: the pure helpers on hand-made inputs, the links of a real network, and
green-wave offsets as the real ``sumo`` runs them (also after a WAUT switch)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

from deploy.signal_plans import coordination as coord
from deploy.signal_plans.api import plans_from_rates
from deploy.signal_plans.links import read_links
from deploy.signal_plans.webster import PlanSettings, timing
from tests.deploy.signal_plans.networks import IDS, sumo_binary, sumo_env
from tests.deploy.signal_plans.test_writer import tidal_rates


def test_common_cycle_is_the_critical_signals():
    assert coord.common_cycle([42.0, 71.5, 30.0]) == 71.5
    with pytest.raises(ValueError):
        coord.common_cycle([])


def test_wave_direction_follows_the_heaviest_flow():
    assert coord.wave_direction({"E": 900.0, "W": 1500.0, "N": 300.0}) == "W"
    assert coord.wave_direction({"E": 500.0, "W": 500.0}) == "E"  # ties: sorted order


def test_arrival_times_add_up_along_a_chain():
    # a -> b -> c (13 s, then 14 s), d on its own, e fed by a
    upstream = {"a": None, "b": ("a", 13.0), "c": ("b", 14.0), "d": None, "e": ("a", 20.0)}
    assert coord.arrival_times(upstream) == {"a": 0.0, "b": 13.0, "c": 27.0, "d": 0.0, "e": 20.0}


def test_arrival_times_cut_a_loop():
    times = coord.arrival_times({"a": ("c", 10.0), "b": ("a", 10.0), "c": ("b", 10.0)})
    assert sorted(times.values()) == [0.0, 10.0, 20.0]  # one head, then the chain


def test_offset_starts_the_green_at_the_arrival():
    program = [(30.0, "GGrr"), (3.0, "yyrr"), (1.0, "rrrr"), (22.0, "rrGG"), (4.0, "rryy")]
    assert coord.green_start(program, "rrGG") == 34.0
    # green 34 s into a 60 s program must start at t = 27: offset (27 - 34) mod 60 = 53
    assert coord.offset(27.0, 34.0, 60.0) == 53.0
    assert (53.0 + 34.0) % 60.0 == 27.0
    with pytest.raises(ValueError):
        coord.green_start(program, "GGGG")


def test_whole_seconds_keep_the_total():
    greens = [20.4, 15.35, 9.25]
    rounded = coord.whole_seconds(greens, 45)
    assert sum(rounded) == 45
    assert all(abs(r - g) < 1 for r, g in zip(rounded, greens, strict=True))
    assert rounded == [21, 15, 9]  # the largest remainder (.4) goes up
    assert coord.whole_seconds(greens, 46) == [21, 16, 9]  # then .35, not .25
    with pytest.raises(ValueError):
        coord.whole_seconds(greens, 49)


def test_timing_in_a_given_cycle_splits_by_the_flow_ratios():
    settings = PlanSettings()
    own = timing([720.0, 360.0], [1, 1], [[0], [1]], settings)  # y 0.4 and 0.2
    longer = timing([720.0, 360.0], [1, 1], [[0], [1]], settings, cycle=90.0)
    assert own.cycle < 90.0 and longer.cycle == pytest.approx(90.0)
    assert longer.effective_greens[0] / longer.effective_greens[1] == pytest.approx(2.0)
    assert max(longer.saturation) < max(own.saturation)


def test_read_links_of_a_grid(grid_2x2):
    links = read_links(grid_2x2)
    # X000 X001 / X002 X003 (north-west first): eastbound X001 is fed by X000
    upstream, seconds = links["E"]["X001"]
    assert upstream == "X000" and 10.0 < seconds < 200.0 / 13.89 + 0.01
    assert links["E"]["X000"] is None  # fed from the fringe
    assert links["S"]["X002"][0] == "X000" and links["N"]["X000"][0] == "X002"


def _green_starts(states_file: Path, state: str) -> list[float]:
    root = ElementTree.parse(states_file).getroot()
    return [float(e.get("time")) for e in root.iter("tlsState") if e.get("state") == state]


def test_sumo_runs_the_green_wave_also_after_a_switch(grid_2x2, tmp_path):
    approaches, rates = tidal_rates(grid_2x2)
    plans = plans_from_rates(grid_2x2, approaches, rates, coordination=coord.GREEN_WAVE)
    additional = plans.write_additional(tmp_path / "plans.add.xml")
    am = int(plans.bands.assignment[8])  # Mon 08:00, the N-S peak: its wave runs N or S
    direction = plans.wave_directions[am]
    assert direction in "NS"
    cycles = {plans.timings[s, am].cycle for s in IDS}
    assert len(cycles) == 1 and float(next(iter(cycles))).is_integer()
    (head, down), travel = next(
        ((link[0], s), link[1])
        for s, link in read_links(grid_2x2)[direction].items()
        if link is not None
    )
    probe = tmp_path / "probe.add.xml"
    probe.write_text(
        "<additional>"
        + "".join(
            f'<timedEvent type="SaveTLSSwitchStates" source="{s}" dest="{tmp_path / s}.xml"/>'
            for s in (head, down)
        )
        + "</additional>"
    )
    end = 7 * 3600 + 600  # the switch to the AM band is at 07:00
    command = [sumo_binary("sumo"), "-n", str(grid_2x2), "-a", f"{additional},{probe}"]
    command += ["--begin", "0", "--end", str(end), "--no-step-log"]
    result = subprocess.run(command, capture_output=True, text=True, env=sumo_env())
    assert result.returncode == 0, result.stderr
    cycle = next(iter(cycles))
    starts = {}
    for s in (head, down):
        signal = next(x for x in plans.signals if x.intersection == s)
        a = signal.directions.index(direction)
        phase = next(k for k, served in enumerate(signal.serves) if a in served)
        green = signal.states[signal.green_phases[phase]]
        starts[s] = [t for t in _green_starts(tmp_path / f"{s}.xml", green) if t > 7 * 3600 + 60]
    assert starts[head] and starts[down]
    lag = (np.asarray(starts[down][:3]) - starts[head][0]) % cycle
    # the downstream green starts a link's travel time after the upstream one
    assert lag == pytest.approx(np.full(3, round(travel) % cycle), abs=1.0)

"""Webster's timing on hand-computed textbook values (no re-implemented formula)."""

from __future__ import annotations

import numpy as np
import pytest

from deploy.signal_plans.webster import PCE, PlanSettings, pcu_per_hour, timing

# Lost time per phase = yellow + all-red, so displayed green = effective green.
NO_LIMITS = dict(yellow=3.0, all_red=1.0, min_green=1.0, min_cycle=1.0, max_cycle=300.0)


def test_two_phase_textbook_example():
    """The classic two-road problem (e.g. L.R. Kadiyali, *Traffic Engineering and Transport
    Planning*; also set as a GATE CE question, https://byjus.com/question-answer/if-the-
    normal-flows-on-two-approach-roads-at-an-intersection-are-respectively-500-pcu):
    flows 500 and 300 pcu/h, saturation flow 1600 pcu/h on each road, total lost time
    16 s: y = 0.3125 and 0.1875, Y = 0.5, C0 = (1.5 * 16 + 5) / (1 - 0.5) = 58 s.
    By hand: effective greens (58 - 16) * 0.625 = 26.25 s and 42 * 0.375 = 15.75 s;
    x = 0.3125 * 58 / 26.25 = 0.6905 on both phases."""
    settings = PlanSettings(saturation_flow=1600, lost_time=8.0, **NO_LIMITS)
    t = timing([500, 300], [1, 1], [[0], [1]], settings)
    assert t.flow_ratios == pytest.approx((0.3125, 0.1875))
    assert t.total_ratio == pytest.approx(0.5)
    assert t.lost_time == 16
    assert t.webster_cycle == pytest.approx(58.0)
    assert t.cycle == pytest.approx(58.0)
    assert t.effective_greens == pytest.approx((26.25, 15.75))
    assert t.saturation == pytest.approx((0.690476, 0.690476), abs=1e-6)
    assert not t.oversaturated


def test_critical_approach_is_the_higher_ratio():
    """GATE CE (via https://interviewmania.com/discussion/92661): N-S higher flow 1000 veh/h
    on a saturation flow of 2500, E-W 900 on 3000, lost time 12 s per cycle: y = 0.4 and
    0.3, Y = 0.7, C0 = (1.5 * 12 + 5) / 0.3 = 76.67 s (the answer, 77 s). Here 500 pcu/h
    per lane x 5 and 6 lanes; the lower-flow approach of each phase must not count."""
    settings = PlanSettings(saturation_flow=500, lost_time=6.0, **NO_LIMITS)
    t = timing([1000, 800, 900, 450], [5, 5, 6, 6], [[0, 1], [2, 3]], settings)
    assert t.flow_ratios == pytest.approx((0.4, 0.3))
    assert t.webster_cycle == pytest.approx(76.6667, abs=1e-4)
    # by hand: (76.667 - 12) * 4/7 = 36.952 s and * 3/7 = 27.714 s
    assert t.effective_greens == pytest.approx((36.952, 27.714), abs=1e-3)


def test_pce_of_a_mixed_stream():
    # 400 cars + 50 trucks + 20 buses + 100 bicycles = 400 + 100 + 40 + 20 = 560 pcu/h
    rates = np.array([400.0, 50.0, 20.0, 100.0])
    assert pcu_per_hour(rates) == pytest.approx(560.0)
    assert dict(PCE) == {"car": 1.0, "truck": 2.0, "bus": 2.0, "bicycle": 0.2}


def test_clamps_and_minimum_green():
    settings = PlanSettings()  # 1800 pcu/h/lane, 4 s lost per phase, 7 s min green, 30-120 s
    quiet = timing([10, 5], [1, 1], [[0], [1]], settings)
    # C0 = (1.5 * 8 + 5) / (1 - 0.00833) = 17.1 s -> 30 s; 22 s effective green; the
    # lighter phase by proportion (7.33 s) is above 7 s, so 14.67 and 7.33 s.
    assert quiet.cycle == pytest.approx(30.0)
    assert quiet.effective_greens == pytest.approx((14.667, 7.333), abs=1e-3)
    lopsided = timing([900, 9], [1, 1], [[0], [1]], settings)
    # y = 0.5 and 0.005: C0 = 17 / 0.495 = 34.34 s; the minor phase is held at 7 s and
    # the major gets 34.34 - 8 - 7 = 19.34 s
    assert lopsided.effective_greens == pytest.approx((19.343, 7.0), abs=1e-3)
    assert sum(lopsided.greens) + 2 * 4 == pytest.approx(lopsided.cycle)


def test_oversaturation_is_flagged():
    settings = PlanSettings()
    t = timing([1800, 900], [1, 1], [[0], [1]], settings)  # Y = 1.5
    assert t.oversaturated and t.cycle == 120 and t.webster_cycle == float("inf")
    near = timing([1500, 150], [1, 1], [[0], [1]], settings)  # Y = 0.9167: C0 = 120 cap
    # x on phase 1 = 0.8333 * 120 / ((120 - 8) * 0.8333/0.9167) = 0.982 > 0.95
    assert near.saturation[0] == pytest.approx(0.982, abs=1e-3) and near.oversaturated
    fine = timing([900, 450], [1, 1], [[0], [1]], settings)  # Y = 0.75, C0 = 68 s
    assert fine.cycle == pytest.approx(68.0) and not fine.oversaturated


def test_a_phase_serving_no_approach_gets_the_minimum_as_lost_time():
    settings = PlanSettings(**{**NO_LIMITS, "min_green": 5.0}, lost_time=4.0)
    t = timing([500, 300], [1, 1], [[0], [], [1]], settings)
    # L = 3 * 4 + 5 = 17 s; Y = 800/1800 = 0.4444: C0 = (25.5 + 5) / 0.5556 = 54.9 s
    assert t.lost_time == 17
    assert t.webster_cycle == pytest.approx(54.9, abs=1e-9)
    assert t.greens[1] == 5.0

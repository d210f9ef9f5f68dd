"""Plan bands: at most K plans a day, each band one run of hours per day."""

from __future__ import annotations

import numpy as np
import pytest

from deploy.signal_plans.bands import circular_runs, day_list, plan_bands, single_band
from transforms import features


def tidal_features() -> np.ndarray:
    """[168, 2] y of a N-S and an E-W phase: weekday AM peak N-S, PM peak E-W, quiet
    nights, a flat weekend daytime."""
    x = np.full((168, 2), 0.05)
    for cell, (day, hour) in enumerate(features.all_day_hours()):
        if 6 <= hour < 22:
            x[cell] = 0.2
        if day < 5 and 7 <= hour < 10:
            x[cell] = (0.5, 0.2)
        if day < 5 and 16 <= hour < 19:
            x[cell] = (0.2, 0.5)
    return x


def assert_plannable(bands, cap: int) -> None:
    for day in range(7):
        runs = bands.day_runs(day)
        used = [b for b, _, _ in runs]
        assert len(set(used)) == len(used), (day, runs)  # each band one run of hours
        assert len(used) <= cap, (day, runs)
        assert sum(n for _, _, n in runs) == 24


def test_tidal_week_gets_peak_plans():
    bands = plan_bands(tidal_features(), max_plans_per_day=4)
    assert_plannable(bands, 4)
    label = {(d, h): int(bands.assignment[c]) for c, (d, h) in enumerate(features.all_day_hours())}
    am, pm, night = label[0, 8], label[0, 17], label[0, 3]
    assert len({am, pm, night}) == 3
    assert bands.describe(am) == ("Mon-Fri", "07:00-10:00")
    assert bands.describe(pm) == ("Mon-Fri", "16:00-19:00")
    # Weekday daytime (y = 0.2) falls in three runs around the peaks; by hand, its
    # 06-07h and 19-22h runs cost least joined to the night (3 x 2 x 0.15^2 < 3 x 0.3^2):
    assert bands.describe(night) == ("Mon-Sun", "Mon-Fri 19:00-07:00; Sat-Sun 22:00-06:00")
    assert bands.when(am) == "Mon-Fri 07:00-10:00"
    assert bands.when(night) == "Mon-Fri 19:00-07:00; Sat-Sun 22:00-06:00"
    assert night == 0  # bands are numbered by load, the quietest first
    # a switch into the AM band at Mon 07:00 (cell 7)
    assert (7, am) in bands.switches()


@pytest.mark.parametrize("cap", [1, 2, 3, 4, 5])
def test_noise_still_respects_the_cap(cap):
    x = np.random.default_rng(cap).random((168, 6))
    bands = plan_bands(x, max_plans_per_day=cap, n_bands=8)
    assert_plannable(bands, cap)
    assert bands.count <= 8


def test_embedding_regime_labels_are_made_plannable():
    labels = np.arange(168) % 5  # a worst case: a new label every hour
    bands = plan_bands(tidal_features(), max_plans_per_day=3, labels=labels, method="regimes")
    assert_plannable(bands, 3)


def test_single_band_and_helpers():
    one = single_band()
    assert one.count == 1 and one.switches() == []
    assert one.describe(0) == ("Mon-Sun", "00:00-24:00")
    assert circular_runs(np.array([1, 1, 0, 0, 1])) == [(0, 2, 2), (1, 4, 3)]
    assert day_list([0, 1, 2, 3, 4, 6]) == "Mon-Fri,Sun"

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
    bands = plan_bands(tidal_features(), max_plans_per_day=4, split_day_classes=False)
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
    bands = plan_bands(x, max_plans_per_day=cap, n_bands=8, split_day_classes=False)
    assert_plannable(bands, cap)
    assert bands.count <= 8
    split = plan_bands(x, max_plans_per_day=cap, n_bands=8)  # one band per day class
    assert_plannable(split, cap)
    assert bands.count <= split.count <= 3 * bands.count


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


def test_bands_shared_by_weekdays_and_the_weekend_are_split_per_day_class():
    x = tidal_features()
    whole = plan_bands(x, max_plans_per_day=4, split_day_classes=False)
    split = plan_bands(x, max_plans_per_day=4)
    assert_plannable(split, 4)
    day = np.repeat(np.arange(7), 24)
    day_class = np.where(day < 5, 0, day - 4)  # Mon-Fri, Sat, Sun
    for band in range(split.count):  # each band within one day class
        assert len(np.unique(day_class[split.cells(band)])) == 1
    # the same hours of each day change plan: a band of the whole grouping is one band
    # per day class it was used on, and no band spans two
    for band in range(whole.count):
        cells = whole.cells(band)
        assert len(np.unique(split.assignment[cells])) == len(np.unique(day_class[cells]))
    for d in range(7):
        assert [(h, n) for _, h, n in split.day_runs(d)] == [
            (h, n) for _, h, n in whole.day_runs(d)
        ]
    # bands are still numbered by load: the weekday night plan is quieter than the PM peak
    label = {dh: int(split.assignment[c]) for c, dh in enumerate(features.all_day_hours())}
    assert label[0, 3] < label[0, 17] and label[0, 3] != label[5, 3]

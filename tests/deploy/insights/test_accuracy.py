"""The scoring helper on small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deploy.insights import accuracy
from transforms import features


def test_poisson_nll_is_the_full_likelihood():
    nll = accuracy.poisson_nll(np.array([2.0, 1.0, math.e]), np.array([0, 1, 2]))
    # 2 - 0; 1 - 1 * log 1 + log 1!; e - 2 * log e + log 2!
    np.testing.assert_allclose(nll, [2.0, 1.0, math.e - 2.0 + math.log(2.0)])


def test_zero_rate_with_a_count_is_large_but_finite():
    nll = accuracy.poisson_nll(np.array([0.0]), np.array([3]))
    assert np.isfinite(nll).all() and nll[0] > 50


def test_poisson_kl_is_zero_for_the_truth_and_hand_computed_otherwise():
    np.testing.assert_allclose(accuracy.poisson_kl(np.array([4.0, 0.5]), np.array([4.0, 0.5])), 0)
    # truth 1, predicted 2: 1 * log(1/2) - 1 + 2; truth 0, predicted 3: 3
    np.testing.assert_allclose(
        accuracy.poisson_kl(np.array([2.0, 3.0]), np.array([1.0, 0.0])),
        [1.0 - math.log(2.0), 3.0],
    )


def test_rate_error_sums_absolute_errors_over_the_true_total():
    assert accuracy.rate_error(np.array([1.0, 3.0, 10.0]), np.array([2.0, 2.0, 6.0])) == 0.6
    assert math.isnan(accuracy.rate_error(np.array([1.0]), np.array([0.0])))


def test_score_over_all_and_busy_cells():
    rate = np.array([1.0, 6.0, 10.0])
    truth = np.array([2.0, 5.0, 8.0])
    count = np.array([1, 5, 9])
    s = accuracy.score(rate, busy=accuracy.busy_mask(truth), count=count, truth=truth)
    assert (s.cells, s.busy_cells) == (3, 2)
    assert s.rate_error == pytest.approx(4.0 / 15.0)  # (1 + 1 + 2) / 15
    assert s.rate_error_busy == pytest.approx(3.0 / 13.0)
    nll = [
        1.0,
        6.0 - 5 * math.log(6.0) + math.log(120.0),
        10.0 - 9 * math.log(10.0) + math.lgamma(10),
    ]
    assert s.nll == pytest.approx(sum(nll) / 3)
    assert s.nll_busy == pytest.approx((nll[1] + nll[2]) / 2)
    without_truth = accuracy.score(rate, busy=np.zeros(3, bool), count=count)
    assert math.isnan(without_truth.rate_error) and without_truth.as_dict()["rate_error"] is None


def test_lookup_and_week_cells_follow_the_table_axes():
    table = np.arange(2 * features.DAY_HOUR_CELLS * 4, dtype=float).reshape(2, -1, 4)
    cells = accuracy.week_cells(table)
    assert len(cells) == table.size
    np.testing.assert_array_equal(accuracy.lookup(table, cells), table.ravel())
    one = accuracy.Cells(np.array([1]), np.array([8 + 24]), np.array([3]))  # Tue 08:00 bicycle
    assert accuracy.lookup(table, one)[0] == table[1, 32, 3]


def test_per_approach_and_the_shown_approaches():
    approach = np.array([0, 0, 1, 1, 2])
    truth = np.array([10.0, 10.0, 1.0, 1.0, 5.0])
    rate = np.array([10.0, 12.0, 4.0, 1.0, 5.0])
    rows = accuracy.per_approach(rate, truth, approach, 4)
    np.testing.assert_allclose(rows["true_total"], [20, 2, 5, 0])
    np.testing.assert_allclose(rows["abs_error"], [2, 3, 0, 0])
    np.testing.assert_allclose(rows["rate_error"][:3], [0.1, 1.5, 0.0])
    assert np.isnan(rows["rate_error"][3])
    # busiest: 0 then 2; worst of the rest: 1 (3 vehicles) then 3
    assert accuracy.shown_approaches(rows["true_total"], rows["abs_error"]) == [0, 2, 1, 3]


def _cell(day: int, hour: int) -> int:
    return features.all_day_hours().index((day, hour))


def test_historical_average_tends_to_the_mean_with_many_hours():
    vehicles = np.zeros((1, features.DAY_HOUR_CELLS, 4))
    hours = np.full(features.DAY_HOUR_CELLS, 1000.0)
    vehicles[0, _cell(1, 8), 0] = 12_000.0  # 12 cars per hour on Tuesdays at 08:00
    table = accuracy.historical_average(vehicles, hours)
    assert table.shape == (1, features.DAY_HOUR_CELLS, 4)
    assert table[0, _cell(1, 8), 0] == pytest.approx(12.0, rel=1e-3)
    assert table[0, _cell(1, 9), 0] < 0.01 and (table > 0).all()


def test_day_class_average_pools_weekdays_by_hour():
    vehicles = np.zeros((1, features.DAY_HOUR_CELLS, 4))
    hours = np.zeros((1, features.DAY_HOUR_CELLS, 4))
    vehicles[0, _cell(0, 8), 0], hours[0, _cell(0, 8), 0] = 10.0, 1.0  # Monday 08:00
    vehicles[0, _cell(1, 8), 0], hours[0, _cell(1, 8), 0] = 20.0, 1.0  # Tuesday 08:00
    table = accuracy.day_class_average(vehicles, hours)
    # Pooled: 30 cars in 2 hours; the smoothing's prior is also 15 here, so exactly 15.
    for day in range(5):
        assert table[0, _cell(day, 8), 0] == pytest.approx(15.0)

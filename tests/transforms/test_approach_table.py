"""The per-approach historical-average table, on cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from transforms import approach_table, features

TYPES = len(features.VEHICLE_TYPES)
MON_00, TUE_00, SAT_00 = 0, 24, 5 * 24


def test_smoothing_on_a_hand_computed_case():
    vehicles = np.zeros((1, features.DAY_HOUR_CELLS, TYPES))
    vehicles[0, MON_00, 0] = 6.0  # 6 cars on Monday 00:00, over 2 observed Mondays
    hours = np.full(features.DAY_HOUR_CELLS, 2.0)  # every cell observed twice (events)
    rates = approach_table.fit_approach_average(vehicles, hours).rates
    assert rates.shape == (2, features.DAY_HOUR_CELLS, TYPES)  # + the unseen row

    car_mean = 6.0 / 336.0  # 6 cars over 168 cells x 2 hours
    weekday_hour_0 = (6.0 + car_mean) / (5 * 2.0 + 1.0)  # pooled Mon-Fri 00:00, smoothed
    weekend_hour_0 = (0.0 + car_mean) / (2 * 2.0 + 1.0)
    assert rates[0, MON_00, 0] == pytest.approx((6.0 + weekday_hour_0) / 3.0, rel=1e-6)
    assert rates[0, TUE_00, 0] == pytest.approx(weekday_hour_0 / 3.0, rel=1e-6)
    assert rates[0, SAT_00, 0] == pytest.approx(weekend_hour_0 / 3.0, rel=1e-6)
    # A type never seen there: half a vehicle over the approach's 336 observed hours.
    never = 0.5 / 336.0
    assert rates[0, TUE_00, 1] == pytest.approx(((never / 11.0) / 3.0), rel=1e-6)
    assert (rates > 0).all()
    np.testing.assert_array_equal(rates[1], rates[0])  # unseen = mean of the one approach


def test_counts_exposure_is_per_cell_and_missing_hours_do_not_count():
    vehicles = np.zeros((2, features.DAY_HOUR_CELLS, TYPES))
    hours = np.zeros_like(vehicles)
    vehicles[0, MON_00, 0], hours[0, MON_00, 0] = 30.0, 3.0  # 10 an hour, 3 hours
    hours[0, TUE_00, 0] = 3.0  # 3 real zero counts on Tuesday; other hours missing
    vehicles[1, MON_00, 0], hours[1, MON_00, 0] = 30.0, 30.0  # 1 an hour, 30 hours
    rates = approach_table.fit_approach_average(vehicles, hours).rates
    # Approach 0: mean 30 / 6 = 5 over its observed hours; weekday 00:00 pooled
    # (30 + 5) / (6 + 1) = 5; Monday (30 + 5) / (3 + 1), Tuesday (0 + 5) / (3 + 1).
    assert rates[0, MON_00, 0] == pytest.approx(8.75, rel=1e-6)
    assert rates[0, TUE_00, 0] == pytest.approx(1.25, rel=1e-6)
    # Approach 1 has one rate everywhere it was seen: the smoothing keeps it.
    assert rates[1, MON_00, 0] == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(rates[2], rates[:2].mean(axis=0), rtol=1e-6)


def test_observed_sums_and_event_exposure():
    approach = np.array([0, 0, 1, 1])
    cell = np.array([MON_00, MON_00, MON_00, TUE_00])
    vehicle_type = np.array([0, 0, 3, 0])
    sums = approach_table.observed_sums(approach, cell, vehicle_type, np.ones(4), 2)
    assert sums[0, MON_00, 0] == 2 and sums[1, MON_00, 3] == 1 and sums[1, TUE_00, 0] == 1
    assert sums.sum() == 4
    # Three vehicles in the same UTC hour of Monday 00:00 count as one observed hour;
    # another Monday adds a second.
    monday = 1_773_619_200
    timestamps = np.array([monday, monday + 60, monday + 3599, monday + 7 * 86_400])
    exposure = approach_table.event_exposure_hours(np.full(4, MON_00), timestamps)
    assert exposure[MON_00] == 2 and exposure.sum() == 2


def test_initial_rates_keep_the_volume_and_shrink_the_type_mix():
    table = approach_table.ApproachTable(np.full((2, features.DAY_HOUR_CELLS, TYPES), 2.5))
    by_type = np.array([[10.0, 0.0, 0.0, 0.0]])  # 10 cars seen at the only approach
    initial = approach_table.initial_rates(table, by_type)
    np.testing.assert_allclose(initial.sum(axis=1), 10.0)  # 4 types x 2.5 per hour
    assert initial[0, 0] > initial[0, 1] > 0  # mostly cars, never exactly no trucks

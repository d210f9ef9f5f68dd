"""Demand: per-approach rates are the sums of route rates; the load has the intended shape."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from deploy.datasets.simulation import demand
from deploy.datasets.synthetic import sampling
from tests.deploy.simulation.helpers import GRID_2X2, LONDON, grid_2x2
from transforms import features


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    net = grid_2x2(tmp_path_factory.mktemp("net"))
    return net, demand.grid_demand(LONDON, GRID_2X2, net)


def test_an_approach_gets_exactly_the_routes_through_its_edge(setup):
    net, flows = setup
    rates = demand.approach_rates(flows, net)
    k = net.approach_index()[("LDN-0001", "E")]
    # Every route entering row 0 from the west passes LDN-0001 heading east; no other does.
    through = [r for r, rid in enumerate(flows.route_ids) if rid.startswith("E0")]
    assert len(through) == 3  # straight, right turn at the first or the second signal
    np.testing.assert_allclose(rates[k], flows.rates[through].sum(axis=0))


def test_busiest_signal_is_loaded_to_peak_y_and_nights_are_light(setup):
    net, flows = setup
    ratios = demand.flow_ratios(flows, net)
    assert ratios.total.max() == pytest.approx(demand.DemandParams().peak_y)
    night = ratios.total[:, :5, 3]  # weekdays 03:00
    assert night.max() < 0.1 * ratios.total.max()


def test_the_balance_between_the_axes_shifts_over_the_day(setup):
    net, flows = setup
    ratios = demand.flow_ratios(flows, net)
    monday = 0
    morning, midday = 8, 12
    assert (ratios.y_major[:, monday, morning] > 2 * ratios.y_minor[:, monday, morning]).all()
    assert (ratios.y_minor[:, monday, midday] > ratios.y_major[:, monday, midday]).all()


def test_the_arterial_tide_reverses_between_morning_and_evening(setup):
    net, flows = setup
    rates = demand.approach_rates(flows, net).sum(axis=1)  # (approaches, 7, 24)
    index = net.approach_index()
    west, east = rates[index[("LDN-0002", "W")]], rates[index[("LDN-0002", "E")]]
    assert west[0, 8] > 1.5 * east[0, 8]  # inbound (westbound) in the morning
    assert east[0, 17] > 1.3 * west[0, 17]  # outbound in the evening


def test_write_routes_writes_one_poisson_flow_per_route_type_and_hour(setup, tmp_path):
    _, flows = setup
    cells = sampling.local_hour_cells(LONDON.timezone, date(2026, 3, 16), 1)
    path = tmp_path / "r.rou.xml"
    count = demand.write_routes(flows, cells, path, 8, 10)
    assert count == 2 * len(flows.route_ids) * len(features.VEHICLE_TYPES)
    text = path.read_text()
    assert text.count("<flow ") == count
    assert 'begin="28800" end="32400" period="exp(' in text

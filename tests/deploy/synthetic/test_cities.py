"""City profiles: lookup rules and realistic weekly shapes."""

from __future__ import annotations

import numpy as np
import pytest

from deploy.datasets.synthetic import cities
from transforms import features

CAR, TRUCK, BUS, BICYCLE = (
    features.VEHICLE_TYPES.index(v) for v in ("car", "truck", "bus", "bicycle")
)
WEEKDAYS, SATURDAY, SUNDAY = slice(0, 5), 5, 6


@pytest.fixture(params=["london", "frankfurt", "generic"])
def shapes(request):
    if request.param == "generic":
        return cities.get_city("Oslo", timezone="Europe/Oslo").weekly_shapes()
    return cities.get_city(request.param).weekly_shapes()


def test_builtin_cities():
    london, frankfurt = cities.get_city("london"), cities.get_city("Frankfurt")
    assert (london.timezone, frankfurt.timezone) == ("Europe/London", "Europe/Berlin")
    assert london.default_seed != frankfurt.default_seed
    assert frankfurt.intersections < london.intersections
    bicycle_share = {p.name: p.vehicle_shares[BICYCLE] for p in (london, frankfurt)}
    assert bicycle_share["frankfurt"] > bicycle_share["london"]
    assert set(cities.builtin_city_names()) >= {"london", "frankfurt"}


def test_unknown_city_needs_a_timezone():
    with pytest.raises(ValueError, match="--timezone") as err:
        cities.get_city("atlantis")
    assert "\n" not in str(err.value)
    lyon = cities.get_city("Lyon", timezone="Europe/Paris")
    assert (lyon.name, lyon.timezone, lyon.id_prefix) == ("lyon", "Europe/Paris", "LYO")
    assert lyon.default_seed == cities.get_city("lyon", timezone="Europe/Paris").default_seed


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd"])
def test_invalid_timezone(zone):
    with pytest.raises(ValueError, match="IANA"):
        cities.get_city("lyon", timezone=zone)


def test_timezone_overrides_builtin_zone():
    assert cities.get_city("london", timezone="UTC").timezone == "UTC"


def test_shapes_have_weekly_mean_one(shapes):
    assert shapes.shape == (len(features.VEHICLE_TYPES), 7, 24)
    np.testing.assert_allclose(shapes.mean(axis=(1, 2)), 1.0)
    assert (shapes > 0).all()


def test_car_profile_is_realistic(shapes):
    weekday = shapes[CAR, WEEKDAYS].mean(axis=0)
    morning, midday, evening = weekday[6:10].max(), weekday[11:14].mean(), weekday[15:19].max()
    assert morning > 1.5 * midday and evening > 1.5 * midday  # two peaks
    assert weekday[1:3].max() < 0.05 * morning  # near-zero night
    weekend = shapes[CAR, SUNDAY]
    assert weekend.argmax() > weekday[:12].argmax() + 3  # later weekend day
    # Flatter: no commuter spikes above the daytime level.
    assert weekend.max() / weekend[9:19].mean() < 0.9 * weekday.max() / weekday[9:19].mean()
    assert 0.4 < weekend.sum() / weekday.sum() < 0.9


def test_bicycle_commuting_peaks(shapes):
    weekday = shapes[BICYCLE, WEEKDAYS].mean(axis=0)
    assert weekday[6:10].max() > 4 * weekday[11:14].mean()
    assert weekday[15:19].max() > 4 * weekday[11:14].mean()


def test_bus_timetable_floor(shapes):
    weekday = shapes[BUS, 0]
    service = weekday[10:15]
    assert service.std() / service.mean() < 0.1  # roughly constant service level
    assert weekday[2:4].max() < 0.25 * service.mean()  # reduced night service
    assert weekday[2:4].min() > 0.05 * service.mean()  # ...but not none
    assert shapes[BUS, SUNDAY, 10:15].mean() < service.mean()


def test_trucks_in_working_hours(shapes):
    weekday = shapes[TRUCK, WEEKDAYS].sum(axis=0)
    assert weekday[7:18].sum() > 0.75 * weekday.sum()
    assert shapes[TRUCK, SUNDAY].sum() < 0.2 * shapes[TRUCK, 0].sum()


def test_frankfurt_peaks_an_hour_earlier():
    def morning_peak(name):
        return int(cities.get_city(name).weekly_shapes()[CAR, 0, :12].argmax())

    assert morning_peak("london") - morning_peak("frankfurt") == 1

"""Built-in city profiles for the synthetic traffic generator.

A :class:`CityProfile` fixes everything about a city that does not depend on the
run: its time zone, default seed, size (intersections, base volume per
intersection), vehicle mix, and the timing of its peaks. From these it derives the
weekly shape of each vehicle type over local day-of-week x hour
(:meth:`CityProfile.weekly_shapes`):

* cars: morning and evening peaks on weekdays, a midday plateau, a later and
  flatter day on weekends, near-zero traffic at night;
* bicycles: sharp commuting peaks on weekdays, a leisure hump on weekends;
* buses: a timetable-like, roughly constant service level during service hours
  (reduced on weekends), a low night service, small peak-hour reinforcements;
* trucks: concentrated in working hours on weekdays, little on Saturdays, almost
  none on Sundays (Germany bans most heavy goods vehicles on Sundays).

``london`` and ``frankfurt`` are built in; any other city gets the generic profile
with the time zone passed by the caller (:func:`get_city`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from transforms import features

_HOUR_CENTRES = np.arange(features.HOURS_PER_DAY) + 0.5
_SATURDAY, _SUNDAY = 5, 6


@dataclass(frozen=True)
class CityProfile:
    """The fixed traffic model of one city (everything except the random draws)."""

    name: str
    timezone: str
    default_seed: int
    id_prefix: str  # intersection ids are f"{id_prefix}-{n:04d}"
    intersections: int
    mean_base_volume: float  # mean vehicles per hour per intersection, week average
    base_volume_sigma: float  # lognormal spread of base volumes between intersections
    vehicle_shares: tuple[float, ...]  # share of each of features.VEHICLE_TYPES
    morning_peak: float  # local hour (fractional) of the weekday morning peak
    evening_peak: float  # local hour of the weekday evening peak
    weekend_peak: float  # local hour of the weekend midday hump
    bus_service_start: float  # local hour weekday bus service reaches its day level
    bus_service_end: float
    sunday_truck_level: float  # Sunday trucks relative to the weekday working-hours level
    night_level: float = 0.03  # car traffic at night relative to the morning peak
    day_noise_sigma: float = 0.08  # lognormal sigma of city-wide day-to-day variation
    hour_noise_sigma: float = 0.15  # lognormal sigma per intersection and hour
    max_lanes: int = 3

    def __post_init__(self) -> None:
        if len(self.vehicle_shares) != len(features.VEHICLE_TYPES):
            raise ValueError(
                f"city {self.name!r}: vehicle_shares needs {len(features.VEHICLE_TYPES)} values "
                f"({', '.join(features.VEHICLE_TYPES)})"
            )
        if abs(sum(self.vehicle_shares) - 1.0) > 1e-9 or min(self.vehicle_shares) <= 0:
            raise ValueError(f"city {self.name!r}: vehicle_shares must be positive and sum to 1")
        if self.intersections < 1 or self.mean_base_volume <= 0:
            raise ValueError(f"city {self.name!r}: intersections and volume must be positive")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def weekly_shapes(self) -> np.ndarray:
        """Relative intensity, shape (vehicle types, 7 days, 24 hours), weekly mean 1 per type.

        Order follows ``features.VEHICLE_TYPES`` and local day of week (0 = Monday).
        """
        builders = {
            "car": self._car_shape,
            "truck": self._truck_shape,
            "bus": self._bus_shape,
            "bicycle": self._bicycle_shape,
        }
        shapes = np.stack([builders[v]() for v in features.VEHICLE_TYPES])
        return shapes / shapes.mean(axis=(1, 2), keepdims=True)

    def _car_shape(self) -> np.ndarray:
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        floor = self.night_level
        daytime = _window(self.morning_peak - 1.5, self.evening_peak + 2.5, steepness=1.2)
        for day in range(5):
            evening_width, late = (2.0, 0.15) if day == 4 else (1.6, 0.0)
            week[day] = (
                floor
                + 0.55 * daytime
                + 1.0 * _bump(self.morning_peak, 1.0)
                + 0.9 * _bump(self.evening_peak - 0.5 * (day == 4), evening_width)
                + late * _bump(21.0, 2.0)
            )
        after_midnight = 0.08 * _bump(0.5, 1.5)  # Friday and Saturday nights out
        wp = self.weekend_peak
        week[_SATURDAY] = (
            floor
            + after_midnight
            + 0.85 * _window(wp - 4.0, wp + 7.0, steepness=1.0)
            + 0.3 * _bump(wp, 2.5)
        )
        week[_SUNDAY] = (
            floor
            + after_midnight
            + 0.75 * _window(wp - 3.0, wp + 6.0, steepness=1.0)
            + 0.2 * _bump(wp + 0.5, 2.5)
        )
        return week

    def _bicycle_shape(self) -> np.ndarray:
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        daytime = _window(self.morning_peak - 1.0, self.evening_peak + 2.0, steepness=1.5)
        weekday = (
            0.01
            + 0.15 * daytime
            + 1.2 * _bump(self.morning_peak, 0.7)
            + 1.0 * _bump(self.evening_peak, 0.9)
        )
        week[:5] = weekday
        week[_SATURDAY] = 0.01 + 0.5 * _bump(self.weekend_peak, 2.5)
        week[_SUNDAY] = 0.01 + 0.45 * _bump(self.weekend_peak + 0.5, 2.5)
        return week

    def _bus_shape(self) -> np.ndarray:
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        night = 0.12
        start, end = self.bus_service_start, self.bus_service_end
        week[:5] = (
            night
            + (1.0 - night) * _window(start, end, steepness=4.0)
            + 0.25 * _bump(self.morning_peak, 1.2)
            + 0.25 * _bump(self.evening_peak, 1.5)
        )
        week[_SATURDAY] = night + (0.75 - night) * _window(start + 1.0, end, steepness=4.0)
        week[_SUNDAY] = night + (0.6 - night) * _window(start + 2.0, end - 0.5, steepness=4.0)
        return week

    def _truck_shape(self) -> np.ndarray:
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        work = _window(self.morning_peak - 2.0, self.evening_peak + 0.5, steepness=2.0)
        week[:5] = 0.05 + 1.0 * work * _bump(11.0 + (self.morning_peak - 8.0) / 2, 4.0)
        week[_SATURDAY] = 0.05 + 0.35 * _bump(10.0, 2.5)
        week[_SUNDAY] = self.sunday_truck_level
        return week


def _bump(centre: float, width: float) -> np.ndarray:
    """A Gaussian bump over the 24 hour centres (value 1 at ``centre``)."""
    return np.exp(-0.5 * ((_HOUR_CENTRES - centre) / width) ** 2)


def _window(start: float, end: float, steepness: float) -> np.ndarray:
    """About 1 between ``start`` and ``end`` (local hours), 0 outside, smooth edges."""
    rise = 1.0 / (1.0 + np.exp(-steepness * (_HOUR_CENTRES - start)))
    fall = 1.0 / (1.0 + np.exp(steepness * (_HOUR_CENTRES - end)))
    return rise * fall


LONDON = CityProfile(
    name="london",
    timezone="Europe/London",
    default_seed=20260316,
    id_prefix="LDN",
    intersections=24,
    mean_base_volume=25.0,  # 24 x 25 x 24 h x 28 d ~ 400k rows
    base_volume_sigma=0.45,
    vehicle_shares=(0.80, 0.06, 0.04, 0.10),
    morning_peak=8.3,  # the 08:00-09:00 hour is the busiest
    evening_peak=17.5,
    weekend_peak=13.5,
    bus_service_start=5.5,
    bus_service_end=23.5,
    sunday_truck_level=0.06,
)

FRANKFURT = CityProfile(
    name="frankfurt",
    timezone="Europe/Berlin",
    default_seed=20260317,
    id_prefix="FRA",
    intersections=16,
    mean_base_volume=18.5,  # about half of London's rows
    base_volume_sigma=0.4,
    vehicle_shares=(0.72, 0.08, 0.04, 0.16),
    morning_peak=7.3,  # an hour earlier than London
    evening_peak=16.6,
    weekend_peak=13.0,
    bus_service_start=4.75,
    bus_service_end=23.0,
    sunday_truck_level=0.015,
)

GENERIC = CityProfile(
    name="generic",
    timezone="UTC",
    default_seed=0,
    id_prefix="CTY",
    intersections=16,
    mean_base_volume=20.0,
    base_volume_sigma=0.45,
    vehicle_shares=(0.80, 0.08, 0.04, 0.08),
    morning_peak=8.2,
    evening_peak=17.5,
    weekend_peak=13.5,
    bus_service_start=5.5,
    bus_service_end=23.5,
    sunday_truck_level=0.04,
)

BUILTIN_CITIES: dict[str, CityProfile] = {p.name: p for p in (LONDON, FRANKFURT)}


def builtin_city_names() -> list[str]:
    """Names of the cities with a built-in profile."""
    return sorted(BUILTIN_CITIES)


def get_city(name: str, timezone: str | None = None) -> CityProfile:
    """The profile of ``name``: a built-in one, or the generic profile in ``timezone``.

    ``timezone`` overrides a built-in city's zone. Raises ``ValueError`` with a
    one-line message for an unknown city without a time zone or an invalid zone.
    """
    key = name.strip().lower()
    if not key:
        raise ValueError("city name must not be empty")
    if timezone is not None:
        _check_timezone(timezone)
    if key in BUILTIN_CITIES:
        profile = BUILTIN_CITIES[key]
        return profile if timezone is None else replace(profile, timezone=timezone)
    if timezone is None:
        raise ValueError(
            f"unknown city {name!r}: pass --timezone (an IANA zone such as Europe/Paris) "
            f"to use the generic profile (built-in: {', '.join(builtin_city_names())})"
        )
    return replace(
        GENERIC,
        name=key,
        timezone=timezone,
        default_seed=zlib.crc32(key.encode()),
        id_prefix=_id_prefix(key),
    )


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"timezone {timezone!r} is not an IANA time zone") from err


def _id_prefix(name: str) -> str:
    letters = re.sub(r"[^A-Z]", "", name.upper())
    return (letters + "XXX")[:3]

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

Approaches (intersection x direction of travel) differ from the city shape in two ways
(:func:`approach_shapes`):

* **Tidal flow.** Each intersection lies at a bearing and distance from the city centre
  (drawn per seed, ``sampling.draw_layout``). A direction of travel gets the inbound
  weight ``w = cos(angle between its heading and the heading toward the centre)``, from
  +1 (straight toward the centre) through 0 (tangential) to -1 (straight away). On
  weekdays the commuter peaks of cars and bicycles are scaled: the morning peak bump by
  ``1 + tidal * w``, the evening peak bump by ``1 - tidal * w`` (``tidal`` is a profile
  field, 0.5-0.6; the same at every distance from the centre). Buses and trucks are not
  tidal. The approach shape is then renormalised to weekly mean 1, so an approach's
  weekly volume stays ``base_volume * direction_factor * share``.
* **Intersection kinds** (:data:`INTERSECTION_KINDS`): most are ``radial`` (the city
  shape, tidal). A few per city (``intersections // intersections_per_special`` of each
  other kind, chosen per seed) are distinct, and not tidal unless stated:

  - ``school``: cars and bicycles peak at the school run (weekdays around
    ``school_peaks``, e.g. 08:00 and 15:30), little traffic at weekends;
  - ``shopping``: cars and bicycles from late morning to evening, Saturday the busiest
    day, Sunday low (``shopping_sunday_level``);
  - ``night_trucks``: an arterial with night deliveries: ``night_truck_share`` of its
    weekly trucks drive at night (22:00-05:00, Sunday 22:00 to Saturday 05:00); its cars
    and bicycles are tidal like a radial one's.

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
    tidal: float = 0.55  # weekday commuter peak bump x (1 +- tidal * inbound weight)
    radius_km: float = 6.0  # intersections lie within this distance of the centre
    intersections_per_special: int = 10  # one school, shopping, night_trucks per this many
    school_peaks: tuple[float, float] = (8.1, 15.6)  # local hours of the school run
    shopping_sunday_level: float = 0.35  # Sunday shopping-street level vs Saturday's
    night_truck_share: float = 0.4  # share of a night_trucks arterial's weekly trucks at night
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
        if not (0 <= self.tidal < 1 and 0 <= self.night_truck_share < 1):
            raise ValueError(f"city {self.name!r}: tidal and night_truck_share must be in [0, 1)")
        ZoneInfo(self.timezone)  # raises for an unknown zone

    def weekly_shapes(self) -> np.ndarray:
        """Relative intensity, shape (vehicle types, 7 days, 24 hours), weekly mean 1 per type.

        The city's shape: a radial intersection without tidal flow. Order follows
        ``features.VEHICLE_TYPES`` and local day of week (0 = Monday).
        """
        shapes = self.kind_parts(RADIAL).sum(axis=1)
        return shapes / shapes.mean(axis=(1, 2), keepdims=True)

    def kind_parts(self, kind: str) -> np.ndarray:
        """The weekly shape of an intersection kind in three additive parts, shape
        (vehicle types, 3, 7, 24): the part tidal flow leaves alone, the weekday morning
        commuter bump and the weekday evening one (both zero where nothing is tidal)."""
        builders = {
            "car": self._car_parts,
            "truck": lambda: _untidal(self._truck_shape()),
            "bus": lambda: _untidal(self._bus_shape()),
            "bicycle": self._bicycle_parts,
        }
        if kind == SCHOOL:
            quiet = self.night_level / 2  # a residential street: quieter nights than a radial
            builders["car"] = lambda: _untidal(self._school_shape(quiet, 0.25, 0.06))
            builders["bicycle"] = lambda: _untidal(self._school_shape(0.005, 0.05, 0.03))
        elif kind == SHOPPING:
            builders["car"] = lambda: _untidal(self._shopping_shape(self.night_level))
            builders["bicycle"] = lambda: _untidal(self._shopping_shape(0.01))
        elif kind == NIGHT_TRUCKS:
            builders["truck"] = lambda: _untidal(self._night_truck_shape())
        elif kind != RADIAL:
            raise ValueError(f"unknown intersection kind {kind!r}")
        return np.stack([builders[v]() for v in features.VEHICLE_TYPES])

    def _car_parts(self) -> np.ndarray:
        parts = np.zeros((3, features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        floor = self.night_level
        daytime = _window(self.morning_peak - 1.5, self.evening_peak + 2.5, steepness=1.2)
        for day in range(5):
            evening_width, late = (2.0, 0.15) if day == 4 else (1.6, 0.0)
            parts[0, day] = floor + 0.55 * daytime + late * _bump(21.0, 2.0)
            parts[1, day] = 1.0 * _bump(self.morning_peak, 1.0)
            parts[2, day] = 0.9 * _bump(self.evening_peak - 0.5 * (day == 4), evening_width)
        after_midnight = 0.08 * _bump(0.5, 1.5)  # Friday and Saturday nights out
        wp = self.weekend_peak
        parts[0, _SATURDAY] = (
            floor
            + after_midnight
            + 0.85 * _window(wp - 4.0, wp + 7.0, steepness=1.0)
            + 0.3 * _bump(wp, 2.5)
        )
        parts[0, _SUNDAY] = (
            floor
            + after_midnight
            + 0.75 * _window(wp - 3.0, wp + 6.0, steepness=1.0)
            + 0.2 * _bump(wp + 0.5, 2.5)
        )
        return parts

    def _bicycle_parts(self) -> np.ndarray:
        parts = np.zeros((3, features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        daytime = _window(self.morning_peak - 1.0, self.evening_peak + 2.0, steepness=1.5)
        parts[0, :5] = 0.01 + 0.15 * daytime
        parts[1, :5] = 1.2 * _bump(self.morning_peak, 0.7)
        parts[2, :5] = 1.0 * _bump(self.evening_peak, 0.9)
        parts[0, _SATURDAY] = 0.01 + 0.5 * _bump(self.weekend_peak, 2.5)
        parts[0, _SUNDAY] = 0.01 + 0.45 * _bump(self.weekend_peak + 0.5, 2.5)
        return parts

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

    def _school_shape(self, floor: float, daytime: float, weekend: float) -> np.ndarray:
        """The school run: sharp weekday peaks at ``school_peaks``, a quiet weekend."""
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        drop_off, pick_up = self.school_peaks
        week[:5] = (
            floor
            + daytime * _window(drop_off - 1.0, pick_up + 3.0, steepness=1.2)
            + 1.0 * _bump(drop_off, 0.5)
            + 0.8 * _bump(pick_up, 0.7)
        )
        week[_SATURDAY:] = floor + weekend * _window(
            self.weekend_peak - 4.0, self.weekend_peak + 5.0, steepness=1.0
        )
        return week

    def _shopping_shape(self, floor: float) -> np.ndarray:
        """Shops: late morning to evening, Saturday the busiest day, Sunday low."""
        week = np.empty((features.DAYS_PER_WEEK, features.HOURS_PER_DAY))
        week[:5] = floor + 0.65 * _window(10.0, 19.5, steepness=1.5) + 0.15 * _bump(17.5, 1.5)
        week[_SATURDAY] = floor + 1.0 * _window(9.5, 19.0, steepness=1.5) + 0.2 * _bump(14.0, 2.5)
        week[_SUNDAY] = floor + self.shopping_sunday_level * _window(11.0, 17.0, steepness=1.5)
        return week

    def _night_truck_shape(self) -> np.ndarray:
        """Daytime trucks plus night deliveries (22:00-05:00, Sunday 22:00 to Saturday
        05:00): ``night_truck_share`` of the weekly trucks come from the night part."""
        day = self._truck_shape()
        night = np.zeros_like(day)
        night[:_SUNDAY] += _window(-3.0, 5.0, steepness=2.0)  # Monday to Saturday morning
        night[[_SUNDAY, 0, 1, 2, 3, 4]] += _window(22.0, 29.0, steepness=2.0)  # evenings
        share = self.night_truck_share
        return (1.0 - share) * day / day.mean() + share * night / night.mean()


RADIAL, SCHOOL, SHOPPING, NIGHT_TRUCKS = "radial", "school", "shopping", "night_trucks"
INTERSECTION_KINDS = (RADIAL, SCHOOL, SHOPPING, NIGHT_TRUCKS)


def approach_shapes(profile: CityProfile, kinds: np.ndarray, inbound: np.ndarray) -> np.ndarray:
    """Weekly shape of every approach, shape (I, len(DIRECTIONS), V, 7, 24), weekly mean 1.

    ``kinds`` (I,) indexes :data:`INTERSECTION_KINDS`, ``inbound`` (I, D) is each direction's
    inbound weight in [-1, 1]. The morning bump is scaled by ``1 + tidal * inbound``, the
    evening one by ``1 - tidal * inbound``, then each approach and type is renormalised.
    """
    parts = np.stack([profile.kind_parts(kind) for kind in INTERSECTION_KINDS])[kinds]
    tide = (profile.tidal * np.asarray(inbound, dtype=float))[:, :, None, None, None]
    shapes = (
        parts[:, None, :, 0]
        + (1.0 + tide) * parts[:, None, :, 1]
        + (1.0 - tide) * parts[:, None, :, 2]
    )
    return shapes / shapes.mean(axis=(-2, -1), keepdims=True)


def _untidal(week: np.ndarray) -> np.ndarray:
    """A (7, 24) shape as the three parts of :meth:`CityProfile.kind_parts` (no tidal bumps)."""
    return np.stack([week, np.zeros_like(week), np.zeros_like(week)])


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
    tidal=0.6,
    radius_km=9.0,
    school_peaks=(8.1, 15.6),
    shopping_sunday_level=0.45,  # Sunday trading: six hours
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
    tidal=0.5,
    radius_km=5.0,
    school_peaks=(7.6, 15.1),
    shopping_sunday_level=0.08,  # shops closed on Sundays
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


def intersection_ids(profile: CityProfile, n: int) -> tuple[str, ...]:
    """The ids of a city's first ``n`` intersections: ``f"{id_prefix}-{k:04d}"``, k from 1."""
    return tuple(f"{profile.id_prefix}-{k + 1:04d}" for k in range(n))


def _id_prefix(name: str) -> str:
    letters = re.sub(r"[^A-Z]", "", name.upper())
    return (letters + "XXX")[:3]

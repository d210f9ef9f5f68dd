"""Sampling: a city's intersections and its per-vehicle observations, as numpy arrays.

Model: a non-homogeneous Poisson process per approach (intersection x direction of
travel) and vehicle type. The expected number of vehicles in one local hour cell is::

    intensity[i, d, v, dow, hour] * day_noise[date] * hour_noise[i, cell]
    intensity = base_volume[i] * direction_factor[i, d] * share[v] * shape[i, d, v, dow, hour]

``shape`` is the approach's weekly profile (:func:`cities.approach_shapes`, weekly mean 1
per type): the city's shape for the intersection's kind, with tidal commuter peaks. The
direction factors of an intersection sum to 1, so ``base_volume`` stays the intersection's
week-average volume. Both noises are lognormal with mean 1 (``day_noise`` is city-wide per
local date, ``hour_noise`` per intersection and hour cell), so the expected rate equals
``intensity`` (:func:`approach_intensity`, what ground_truth.json records per approach).
Counts are drawn per hour cell with numpy, then each vehicle gets a uniform millisecond
inside its hour. Hour cells are the real local hours of the time zone: the spring-forward
hour does not exist, the autumn hour occurs twice (once per UTC offset).

Layout (:func:`draw_layout`, per seed): each intersection lies at a compass bearing
(uniform) and distance (uniform over the disc of ``radius_km``) from the centre. A
direction of travel's inbound weight is the cosine between its heading and the heading
toward the centre (+1 inbound, -1 outbound, 0 tangential). ``intersections //
intersections_per_special`` intersections become each distinct kind: ``shopping`` streets
among the inner half (by distance), ``night_trucks`` arterials among the outer half,
``school`` among the rest; all others are ``radial``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from deploy.datasets.synthetic.cities import (
    INTERSECTION_KINDS,
    RADIAL,
    CityProfile,
    approach_shapes,
    intersection_ids,
)
from transforms import features

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
MAX_SPEED_TENTHS = 1200
# Free-flow speeds (km/h) per vehicle type and how much congestion slows each.
_FREE_SPEED = {"car": 38.0, "truck": 33.0, "bus": 26.0, "bicycle": 17.0}
_CONGESTION_SLOWDOWN = {"car": 0.45, "truck": 0.4, "bus": 0.35, "bicycle": 0.05}
_SPEED_SPREAD = 0.15
_MAIN_AXIS_FACTOR, _MINOR_AXIS_FACTOR = 0.32, 0.18  # N and S (or E and W) carry more


@dataclass(frozen=True)
class HourCells:
    """The real local hours of a run, one entry per UTC hour (DST-aware)."""

    utc_start_ms: np.ndarray  # int64 epoch ms of each cell's start
    offset_ms: np.ndarray  # int64 UTC offset of each cell
    offset_text: tuple[str, ...]  # "+01:00"
    date_index: np.ndarray  # local date - start date, in days
    day_of_week: np.ndarray  # local, 0 = Monday
    hour: np.ndarray  # local 0-23


@dataclass(frozen=True)
class Layout:
    """The city's intersections (independent of the dates)."""

    ids: tuple[str, ...]
    base_volume: np.ndarray  # (I,)
    direction_factors: np.ndarray  # (I, 4), rows sum to 1
    lanes: np.ndarray  # (I, 4)
    bearing_deg: np.ndarray  # (I,) compass bearing from the centre, 0 = north, 90 = east
    distance_km: np.ndarray  # (I,) from the centre
    kind: np.ndarray  # (I,) index into cities.INTERSECTION_KINDS

    @property
    def inbound(self) -> np.ndarray:
        """(I, len(DIRECTIONS)) inbound weight of each direction of travel, in [-1, 1]."""
        return inbound_weights(self.bearing_deg)


@dataclass(frozen=True)
class Rows:
    """Sampled vehicles, sorted by (local date, time)."""

    utc_ms: np.ndarray
    local_ms: np.ndarray
    cell: np.ndarray
    intersection: np.ndarray
    direction: np.ndarray
    vehicle_type: np.ndarray
    lane: np.ndarray
    speed_tenths: np.ndarray


def local_hour_cells(tz_name: str, start: date, days: int) -> HourCells:
    """Every UTC hour whose local date is in [start, start + days), with its local labels."""
    zone = ZoneInfo(tz_name)
    end = start + timedelta(days=days)
    first = datetime.combine(start, time(0), zone).astimezone(timezone.utc) - timedelta(hours=3)
    last = datetime.combine(end, time(0), zone).astimezone(timezone.utc) + timedelta(hours=3)
    utc, offsets, texts, date_index, dows, hours = [], [], [], [], [], []
    for k in range(int((last - first).total_seconds()) // 3600):
        instant = first + timedelta(hours=k)
        local = instant.astimezone(zone)
        if not start <= local.date() < end:
            continue
        offset = local.utcoffset() or timedelta(0)
        utc.append(int(instant.timestamp()) * 1000)
        offsets.append(int(offset.total_seconds()) * 1000)
        texts.append(_offset_text(offset))
        date_index.append((local.date() - start).days)
        dows.append(local.weekday())
        hours.append(local.hour)
    return HourCells(
        utc_start_ms=np.array(utc, dtype=np.int64),
        offset_ms=np.array(offsets, dtype=np.int64),
        offset_text=tuple(texts),
        date_index=np.array(date_index, dtype=np.int64),
        day_of_week=np.array(dows, dtype=np.int64),
        hour=np.array(hours, dtype=np.int64),
    )


def draw_layout(profile: CityProfile, n: int, scale: float, seed: int) -> Layout:
    """Intersections: base volumes, direction split, lanes, position and kind."""
    rng = np.random.default_rng([seed, 0])
    raw = rng.lognormal(0.0, profile.base_volume_sigma, n)
    base = raw / raw.mean() * profile.mean_base_volume * scale
    north_south_main = rng.random(n) < 0.5
    axis = np.where(
        north_south_main[:, None],
        [_MAIN_AXIS_FACTOR, _MINOR_AXIS_FACTOR] * 2,
        [_MINOR_AXIS_FACTOR, _MAIN_AXIS_FACTOR] * 2,
    )
    factors = axis * rng.uniform(0.8, 1.2, (n, len(features.DIRECTIONS)))
    factors /= factors.sum(axis=1, keepdims=True)
    lanes = rng.integers(1, profile.max_lanes + 1, (n, len(features.DIRECTIONS)))
    ids = intersection_ids(profile, n)
    # Drawn after the above, so base volumes, factors and lanes keep their former values.
    bearing = rng.uniform(0.0, 360.0, n)
    distance = profile.radius_km * np.sqrt(rng.random(n))
    return Layout(
        ids=ids,
        base_volume=base,
        direction_factors=factors,
        lanes=lanes,
        bearing_deg=bearing,
        distance_km=distance,
        kind=_draw_kinds(profile, distance, rng),
    )


def _draw_kinds(profile: CityProfile, distance: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Kind index per intersection: a few shopping (inner), night_trucks (outer), school."""
    n = distance.size
    per_kind = n // profile.intersections_per_special
    kind = np.full(n, INTERSECTION_KINDS.index(RADIAL), dtype=np.int64)
    by_distance = np.argsort(distance, kind="stable")
    inner, outer = by_distance[: n // 2], by_distance[n // 2 :]
    shopping = rng.choice(inner, per_kind, replace=False)
    night = rng.choice(outer, per_kind, replace=False)
    kind[shopping] = INTERSECTION_KINDS.index("shopping")
    kind[night] = INTERSECTION_KINDS.index("night_trucks")
    rest = np.flatnonzero(kind == INTERSECTION_KINDS.index(RADIAL))
    kind[rng.choice(rest, per_kind, replace=False)] = INTERSECTION_KINDS.index("school")
    return kind


def direction_headings() -> np.ndarray:
    """Compass heading (degrees) of travel in each of ``features.DIRECTIONS``."""
    compass = {"N": 0.0, "E": 90.0, "S": 180.0, "W": 270.0}
    return np.array([compass[d] for d in features.DIRECTIONS])


def inbound_weights(bearing_deg: np.ndarray) -> np.ndarray:
    """(I, D) cosine between each direction's heading and the heading toward the centre
    (the bearing from the centre + 180 degrees)."""
    toward_centre = np.asarray(bearing_deg, dtype=float)[:, None] + 180.0
    return np.cos(np.radians(direction_headings()[None, :] - toward_centre))


def approach_intensity(profile: CityProfile, layout: Layout) -> np.ndarray:
    """Noise-free expected vehicles per local hour of every approach and type, shape
    (I, len(DIRECTIONS), len(VEHICLE_TYPES), 7, 24): what the draws follow on average."""
    shapes = approach_shapes(profile, layout.kind, layout.inbound)
    volume = layout.base_volume[:, None] * layout.direction_factors  # (I, D)
    shares = np.asarray(profile.vehicle_shares)
    return volume[:, :, None, None, None] * shares[None, None, :, None, None] * shapes


def _lognormal_mean_one(rng: np.random.Generator, sigma: float, size) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)


def hourly_counts(
    profile: CityProfile, layout: Layout, cells: HourCells, days: int, seed: int
) -> np.ndarray:
    """Vehicles per (hour cell, intersection, direction, vehicle type), int64 of shape
    (cells, I, len(DIRECTIONS), len(VEHICLE_TYPES)): exactly the counts :func:`sample`
    expands into vehicles for the same seed."""
    return _draw_counts(profile, layout, cells, days, np.random.default_rng([seed, 1]))


def _draw_counts(
    profile: CityProfile, layout: Layout, cells: HourCells, days: int, rng: np.random.Generator
) -> np.ndarray:
    n_cells, n_inter = len(cells.hour), len(layout.ids)
    intensity = approach_intensity(profile, layout)  # (I, D, V, 7, 24)
    per_cell = np.moveaxis(intensity[..., cells.day_of_week, cells.hour], -1, 0)  # (C, I, D, V)
    day_noise = _lognormal_mean_one(rng, profile.day_noise_sigma, days)[cells.date_index]
    hour_noise = _lognormal_mean_one(rng, profile.hour_noise_sigma, (n_cells, n_inter))
    noise = hour_noise * day_noise[:, None]  # (C, I)
    return rng.poisson(per_cell * noise[:, :, None, None])


def sample(profile: CityProfile, layout: Layout, cells: HourCells, days: int, seed: int) -> Rows:
    """Draws every vehicle of the run (deterministic for a seed), sorted by local date, time."""
    rng = np.random.default_rng([seed, 1])
    counts = _draw_counts(profile, layout, cells, days, rng).ravel()
    n_inter = len(layout.ids)
    n_dir, n_type = len(features.DIRECTIONS), len(features.VEHICLE_TYPES)
    shapes = profile.weekly_shapes()  # (V, 7, 24)

    flat = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    vehicle_type = flat % n_type
    direction = (flat // n_type) % n_dir
    intersection = (flat // (n_type * n_dir)) % n_inter
    cell = flat // (n_type * n_dir * n_inter)
    utc_ms = cells.utc_start_ms[cell] + rng.integers(0, MS_PER_HOUR, flat.size)
    local_ms = utc_ms + cells.offset_ms[cell]
    local_day = local_ms // MS_PER_DAY
    # One stable sort by (local date, instant); ties keep the (intersection, direction,
    # type) order of the draw, so the output is deterministic.
    first_day = (cells.utc_start_ms[0] + cells.offset_ms[0]) // MS_PER_DAY - 1
    key = ((local_day - first_day) << 41) | (utc_ms - cells.utc_start_ms[0])
    order = np.argsort(key, kind="stable")
    cell, intersection, direction, vehicle_type = (
        a[order] for a in (cell, intersection, direction, vehicle_type)
    )
    utc_ms, local_ms = utc_ms[order], local_ms[order]

    lanes = layout.lanes[intersection, direction]
    kerb_only = np.isin(vehicle_type, [features.VEHICLE_TYPES.index(v) for v in ("bus", "bicycle")])
    lane = np.where(kerb_only, 1, 1 + (rng.random(flat.size) * lanes).astype(np.int64))
    congestion = shapes[0, cells.day_of_week, cells.hour] / shapes[0].max()  # car shape
    free = np.array([_FREE_SPEED[v] for v in features.VEHICLE_TYPES])
    slowdown = np.array([_CONGESTION_SLOWDOWN[v] for v in features.VEHICLE_TYPES])
    speed = (
        free[vehicle_type]
        * (1.0 - slowdown[vehicle_type] * congestion[cell])
        * (1.0 + _SPEED_SPREAD * rng.standard_normal(flat.size))
    )
    speed_tenths = np.clip(np.rint(speed * 10), 10, MAX_SPEED_TENTHS).astype(np.int64)
    return Rows(
        utc_ms=utc_ms,
        local_ms=local_ms,
        cell=cell,
        intersection=intersection,
        direction=direction,
        vehicle_type=vehicle_type,
        lane=lane,
        speed_tenths=speed_tenths,
    )


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"

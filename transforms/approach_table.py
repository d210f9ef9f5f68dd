"""The per-approach historical-average table: what a traffic engineer already keeps.

Expected vehicles per hour of each approach (intersection x direction), vehicle type,
day of week and local hour, fitted on the training split. The Trainer fits it
(``fit_approach_average``) and the exported model carries it as a frozen table, so the
Evaluator can score the model against it (gate metric ``nll_vs_approach_average``);
``benchmarks/bench_accuracy.py`` scores the same table against the truth.

Smoothing (``SMOOTHING_HOURS`` of pseudo-exposure), for cells seen rarely or never::

    rate[a, t, d, h] = (vehicles[a, t, d, h] + s * prior[a, t, d, h])
                       / (hours[a, t, d, h] + s)

``prior`` is the same approach, type and local hour pooled over the same day class
(Monday-Friday or Saturday-Sunday), smoothed the same way toward the approach's and
type's mean over all its observed hours; where the type was never seen at the
approach, that mean is half a vehicle over all of the approach's observed hours (so a
first vehicle is unlikely, not impossible). Every rate is therefore > 0. Approaches
not in training (the table's last row) get the mean of the trained approaches.

``hours`` is the exposure: for hourly counts, the number of count rows of the cell
(zeros included, missing hours excluded); for per-vehicle events, the number of
distinct UTC hours of that day-hour cell in which any vehicle of the city was seen
(an approach without vehicles in an observed hour had a zero count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms import features

SMOOTHING_HOURS = 1.0
# The model's starting type mix of an approach: its own vehicles plus this many vehicles
# in the city's mix (a few buses at one approach say little about its bus share).
SHARE_PRIOR_VEHICLES = 200.0
WEEKDAYS = np.arange(features.DAYS_PER_WEEK) < 5  # Monday-Friday: one day class


def day_hour_cell(day_of_week: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Index in ``features.all_day_hours()`` order: ``day_of_week * 24 + hour``."""
    return np.asarray(day_of_week, np.int64) * features.HOURS_PER_DAY + np.asarray(hour, np.int64)


@dataclass(frozen=True)
class ApproachTable:
    """Vehicles per hour, shape (approaches + 1, 168 cells, vehicle types); last row: unseen."""

    rates: np.ndarray

    @property
    def approaches(self) -> int:
        return self.rates.shape[0] - 1


def observed_sums(
    approach: np.ndarray,
    cell: np.ndarray,
    vehicle_type: np.ndarray,
    vehicles: np.ndarray,
    approaches: int,
) -> np.ndarray:
    """Sums of ``vehicles`` per (approach, cell, type): shape (approaches, 168, types)."""
    shape = (approaches, features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES))
    flat = np.ravel_multi_index((approach, cell, vehicle_type), shape)
    return np.bincount(flat, weights=vehicles, minlength=int(np.prod(shape))).reshape(shape)


def event_exposure_hours(cell: np.ndarray, timestamp_utc: np.ndarray) -> np.ndarray:
    """Per cell, the distinct UTC hours in which any vehicle was seen: shape (168,)."""
    pairs = np.unique(np.stack([cell, np.asarray(timestamp_utc, np.int64) // 3600]), axis=1)
    return np.bincount(pairs[0], minlength=features.DAY_HOUR_CELLS).astype(np.float64)


def fit_approach_average(vehicles: np.ndarray, hours: np.ndarray) -> ApproachTable:
    """The smoothed table from observed sums (see the module docstring).

    ``vehicles``: (approaches, 168, types); ``hours``: (168,) per cell (events) or
    the same shape as ``vehicles`` (counts: rows per approach, cell and type).
    """
    vehicles = np.asarray(vehicles, np.float64)
    hours = np.asarray(hours, np.float64)
    if hours.ndim == 1:
        hours = hours[None, :, None]
    hours = np.broadcast_to(hours, vehicles.shape)
    week = (features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
    v = vehicles.reshape(vehicles.shape[0], *week, -1)
    e = hours.reshape(v.shape)
    prior = np.empty_like(v)
    total_v, total_e = vehicles.sum(axis=1), hours.sum(axis=1)  # (A, T)
    approach_hours = hours.max(axis=2).sum(axis=1)  # (A,): hours the approach was seen
    fallback = np.where(
        total_v > 0,
        total_v / np.maximum(total_e, 1e-12),
        0.5 / np.maximum(approach_hours, 1.0)[:, None],
    )  # (A, T)
    for days in (WEEKDAYS, ~WEEKDAYS):
        class_v = v[:, days].sum(axis=1, keepdims=True)  # (A, 1, 24, T)
        class_e = e[:, days].sum(axis=1, keepdims=True)
        prior[:, days] = (class_v + SMOOTHING_HOURS * fallback[:, None, None, :]) / (
            class_e + SMOOTHING_HOURS
        )
    rates = (v + SMOOTHING_HOURS * prior) / (e + SMOOTHING_HOURS)
    rates = rates.reshape(vehicles.shape)
    unseen = rates.mean(axis=0, keepdims=True)
    return ApproachTable(np.concatenate([rates, unseen]).astype(np.float32))


def initial_rates(table: ApproachTable, vehicles_by_type: np.ndarray) -> np.ndarray:
    """Each approach's week-average vehicles per hour per type, (approaches + 1, types):
    its table volume, split by its own type mix shrunk toward the city's
    (``SHARE_PRIOR_VEHICLES``). ``vehicles_by_type``: observed (approaches, types)."""
    counts = np.asarray(vehicles_by_type, np.float64)
    city = counts.sum(axis=0) + 1.0
    city_share = city / city.sum()
    counts = np.concatenate([counts, counts.mean(axis=0, keepdims=True)])
    shares = (counts + SHARE_PRIOR_VEHICLES * city_share) / (
        counts.sum(axis=1, keepdims=True) + SHARE_PRIOR_VEHICLES
    )
    volume = table.rates.mean(axis=1).sum(axis=1, keepdims=True)
    return volume * shares

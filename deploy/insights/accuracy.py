"""Per-approach accuracy of vehicles-per-hour predictions: pure numpy, no I/O.

A *cell* is one approach x vehicle type x hour: an observed hour of the eval window
(``benchmarks/bench_accuracy.py``, ``explain --observed``) or one of the 168 weekly
day-hour cells (``explain --ground-truth``). Predictors are tables of expected vehicles
per hour, shape (approaches, 168, types) in ``features.all_day_hours()`` order, and are
looked up per cell.

Figures:

* Poisson NLL per cell, ``mu - y log mu + log y!`` (the full likelihood, so the truth's
  own NLL is the floor a predictor can reach), mean over cells;
* rate error against the truth, ``sum |pred - true| / sum true`` over cells;
* expected NLL excess over the truth, ``true log(true / pred) - true + pred`` (the
  Poisson Kullback-Leibler divergence: 0 for the truth itself), mean over cells.

Each is given over all cells and over *busy* cells (``BUSY_VEHICLES_PER_HOUR`` or more
expected vehicles per hour by the reference: the truth where known, else the
historical average).

Baseline tables, all fitted with ``transforms.approach_table.fit_approach_average`` so
that the benchmark, ``explain`` and the model's gate share one smoothing:

* ``historical_average``: the per-approach table fitted on the train days;
* ``last_week``: the same fit on the last 7 train days only. Each weekly cell then has
  one observed hour, so a cell's rate is ``(count last week + s * prior) / (1 + s)``
  with the table's ``SMOOTHING_HOURS`` s and prior (that week's same hour over its day
  class): the same-hour-last-week forecast with the table's smoothing, which keeps the
  NLL finite where last week saw no vehicle;
* ``day_class_average``: the simplest smoothed table, vehicles per approach, type and
  hour of day, weekdays and weekends pooled separately (the fit on day-class sums).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import gammaln

from transforms import approach_table, features

BUSY_VEHICLES_PER_HOUR = 5.0
# Where a table's rate is 0 (a model predicting an untrained type as 0), the NLL uses
# this rate instead, so that a single impossible count does not make the mean infinite.
MIN_RATE = 1e-9


@dataclass(frozen=True)
class Cells:
    """Cells to score: each names an approach, a day-hour cell and a vehicle type."""

    approach: np.ndarray  # int index into the tables' first axis
    cell: np.ndarray  # int in [0, 168): features.all_day_hours() order
    vehicle_type: np.ndarray  # int index into features.VEHICLE_TYPES
    count: np.ndarray | None = None  # observed vehicles in that hour (None: no observation)

    def __len__(self) -> int:
        return len(self.approach)

    def take(self, index: np.ndarray) -> Cells:
        """The cells selected by a mask or index array."""
        count = None if self.count is None else self.count[index]
        return Cells(self.approach[index], self.cell[index], self.vehicle_type[index], count)


def week_cells(table: np.ndarray) -> Cells:
    """Every (approach, day-hour cell, type) of a (A, 168, T) table, without counts."""
    a, c, t = np.indices(table.shape[:3]).reshape(3, -1)
    return Cells(a, c, t)


def lookup(table: np.ndarray, cells: Cells) -> np.ndarray:
    """The table's vehicles per hour at each cell."""
    return np.asarray(table, np.float64)[cells.approach, cells.cell, cells.vehicle_type]


def poisson_nll(rate: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per cell ``mu - y log mu + log y!`` with ``mu = rate`` (one hour of exposure)."""
    mu = np.maximum(np.asarray(rate, np.float64), MIN_RATE)
    y = np.asarray(count, np.float64)
    return mu - y * np.log(mu) + gammaln(y + 1.0)


def poisson_kl(rate: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per cell the expected Poisson NLL of ``rate`` minus the truth's own (>= 0)."""
    mu = np.maximum(np.asarray(rate, np.float64), MIN_RATE)
    lam = np.asarray(truth, np.float64)
    log_ratio = np.log(np.where(lam > 0, lam, 1.0) / mu)
    return np.where(lam > 0, lam * log_ratio, 0.0) - lam + mu


def rate_error(rate: np.ndarray, truth: np.ndarray) -> float:
    """``sum |rate - truth| / sum truth`` (nan when the truth sums to 0)."""
    total = float(np.sum(truth))
    if total <= 0:
        return float("nan")
    return float(np.abs(np.asarray(rate) - np.asarray(truth)).sum() / total)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


@dataclass(frozen=True)
class Scores:
    """One predictor's figures over a set of cells (nan: not computable)."""

    cells: int
    busy_cells: int
    nll: float = float("nan")
    nll_busy: float = float("nan")
    rate_error: float = float("nan")
    rate_error_busy: float = float("nan")
    nll_excess: float = float("nan")
    nll_excess_busy: float = float("nan")

    def as_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def score(
    rate: np.ndarray,
    *,
    busy: np.ndarray,
    count: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> Scores:
    """Figures of predicted ``rate`` per cell against ``count`` and/or ``truth``.

    ``busy``: mask of the busy cells (``busy_mask``). The NLL needs ``count``, the rate
    error and NLL excess need ``truth``; the others stay nan.
    """
    busy = np.asarray(busy, bool)
    out = {"cells": int(busy.size), "busy_cells": int(busy.sum())}
    if count is not None:
        nll = poisson_nll(rate, count)
        out.update(nll=_mean(nll), nll_busy=_mean(nll[busy]))
    if truth is not None:
        rate, truth = np.asarray(rate, np.float64), np.asarray(truth, np.float64)
        kl = poisson_kl(rate, truth)
        out.update(
            rate_error=rate_error(rate, truth),
            rate_error_busy=rate_error(rate[busy], truth[busy]),
            nll_excess=_mean(kl),
            nll_excess_busy=_mean(kl[busy]),
        )
    return Scores(**out)


@dataclass(frozen=True)
class DayOfWeek:
    """One local day of week's busy cells: a predictor against the truth, and the level
    of the train days of that weekday (observed vehicles over the truth's expectation:
    the share of the generator's day noise a day-of-week estimate inherits)."""

    day: int
    busy_cells: int
    nll_excess_busy: float  # mean Poisson KL of the predictor over the truth
    level_busy: float  # sum predicted / sum true, minus 1
    train_level: float  # sum observed / sum true over the train hours of that weekday, minus 1


def by_day_of_week(
    rate: np.ndarray,
    truth: np.ndarray,
    cells: Cells,
    busy: np.ndarray,
    train: Cells,
    train_truth: np.ndarray,
) -> list[DayOfWeek]:
    """Per local day of week (Monday first): the figures of :class:`DayOfWeek`.

    ``rate``, ``truth``: per eval cell of ``cells``; ``train``: the train hours (with
    their counts), ``train_truth`` the truth's rate at each."""
    rate, truth = np.asarray(rate, np.float64), np.asarray(truth, np.float64)
    kl, day = poisson_kl(rate, truth), np.asarray(cells.cell) // features.HOURS_PER_DAY
    train_day = np.asarray(train.cell) // features.HOURS_PER_DAY
    out = []
    for d in range(features.DAYS_PER_WEEK):
        mask, on_day = np.asarray(busy, bool) & (day == d), train_day == d
        expected = float(np.sum(np.asarray(train_truth)[on_day]))
        out.append(
            DayOfWeek(
                day=d,
                busy_cells=int(mask.sum()),
                nll_excess_busy=_mean(kl[mask]),
                level_busy=float(rate[mask].sum() / truth[mask].sum() - 1)
                if mask.any()
                else float("nan"),
                train_level=float(np.sum(np.asarray(train.count)[on_day]) / expected - 1)
                if expected > 0
                else float("nan"),
            )
        )
    return out


def busy_mask(reference: np.ndarray) -> np.ndarray:
    """Cells whose reference rate (truth, else historical average) is busy."""
    return np.asarray(reference, np.float64) >= BUSY_VEHICLES_PER_HOUR


def per_approach(
    rate: np.ndarray, truth: np.ndarray, approach: np.ndarray, approaches: int
) -> dict[str, np.ndarray]:
    """Per approach: ``true_total``, ``abs_error`` (vehicles), ``rate_error`` and
    ``nll_excess`` (mean over its cells) of per-cell ``rate`` against ``truth``."""
    rate, truth = np.asarray(rate, np.float64), np.asarray(truth, np.float64)
    true_total = np.bincount(approach, weights=truth, minlength=approaches)
    abs_error = np.bincount(approach, weights=np.abs(rate - truth), minlength=approaches)
    n = np.bincount(approach, minlength=approaches)
    kl = np.bincount(approach, weights=poisson_kl(rate, truth), minlength=approaches)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "true_total": true_total,
            "abs_error": abs_error,
            "rate_error": np.where(true_total > 0, abs_error / true_total, np.nan),
            "nll_excess": np.where(n > 0, kl / np.maximum(n, 1), np.nan),
        }


def shown_approaches(true_total: np.ndarray, abs_error: np.ndarray, each: int = 2) -> list[int]:
    """The ``each`` busiest approaches, then the ``each`` worst-predicted others (largest
    absolute error in vehicles), as indices."""
    busiest = [int(i) for i in np.argsort(-true_total, kind="stable")[:each]]
    worst = [int(i) for i in np.argsort(-abs_error, kind="stable") if int(i) not in busiest]
    return busiest + worst[:each]


# --- Baseline tables -----------------------------------------------------------


def historical_average(vehicles: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """(A, 168, T) the per-approach table (``fit_approach_average``, unseen row dropped)."""
    return approach_table.fit_approach_average(vehicles, hours).rates[:-1].astype(np.float64)


def day_class_average(vehicles: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """(A, 168, T) per approach, type and hour of day, weekdays and weekends pooled.

    Each day's cell gets its day class's sums, then the table's smoothing."""
    vehicles = np.asarray(vehicles, np.float64)
    hours = np.broadcast_to(
        np.asarray(hours, np.float64)[None, :, None] if np.ndim(hours) == 1 else hours,
        vehicles.shape,
    )
    week = (vehicles.shape[0], features.DAYS_PER_WEEK, features.HOURS_PER_DAY, -1)
    v, e = vehicles.reshape(week), hours.reshape(week)
    pooled_v, pooled_e = np.empty_like(v), np.empty_like(e)
    weekdays = approach_table.WEEKDAYS  # the table's own day classes
    for days in (weekdays, ~weekdays):
        pooled_v[:, days] = v[:, days].sum(axis=1, keepdims=True)
        pooled_e[:, days] = e[:, days].sum(axis=1, keepdims=True)
    return historical_average(pooled_v.reshape(vehicles.shape), pooled_e.reshape(vehicles.shape))

"""Calibrating the trained model to each approach's own counts, shrunk by validation.

After training, the model's vehicles per hour ``P[a, c, t]`` (approach, day-hour cell,
type) are compared with what the train split saw at that approach, per **day class**
(Monday-Friday and Saturday-Sunday, or Monday-Friday, Saturday and Sunday) and hour of
day. Each class-hour gets a multiplier, the posterior mean of a Gamma(kappa, kappa)
prior (mean 1) on the ratio of the true rate to the model's, given Poisson counts::

    g[a, k, h, t] = (C[a, k, h, t] + kappa) / (M[a, k, h, t] + kappa)

``C``: vehicles observed in the class-hour; ``M``: vehicles the model expected there
(``P`` times the exposure hours of each cell of the class-hour), each optionally pooled
with the neighbouring hours of the same day class by a small kernel (a local
likelihood: an approach's tide spans hours, so its neighbours sharpen a class-hour's
estimate at the price of a little bias at sharp peaks). ``kappa`` (in vehicles) sets
how much data it takes to move the model: where the approach saw thousands of
vehicles the counts speak, where it saw a few the model stays. The day classes, the
hour pooling and ``kappa`` are chosen on the validation rows the Trainer holds out of the
train split (early stopping's; the eval split is never read): multipliers from the
rows the model was fitted on must lower the Poisson NLL of the validation rows' counts,
else the model is left as trained (``kappa = inf``). The final multipliers use every
train row. Only a model that beats the historical-average table (fitted on the same
rows) on the validation rows is calibrated, so the gate still judges what the model
learned (``calibrate``). (Cross-validation over all train rows was tried and chooses
too little: the model has already fitted those rows.)

Last, the calibrated rates may be **smoothed by a low-rank factorisation** of the
approach table (``transforms.low_rank``): a Poisson NMF of the counts plus
``prior_hours`` hours of the calibrated model's rates (a pseudo-count prior, so every
row stays near the model where its counts are thin) as a mix of ``rank`` weekly
profiles shared by all approaches and types. The generator's approaches (and real
streets') mix a few weekly shapes: an inbound morning tide, an outbound evening one, a
school, a shop, so a thin approach borrows its shape from the others. Rank and prior
hours are chosen on the validation rows like the rest, or the step is left out.

The final multipliers may weigh the **recent weeks** more, in one of two ways, each
week of the train split by ``0.5 ** (age / half_life)``, its age counted in weeks from
the newest: its **counts** (every cell's multiplier from the weighted sums), or only its
**level** (the table from every week alike, scaled per type by how much busier the
weighted weeks ran than all weeks alike against it: ``level_factor``). Traffic drifts
(the Seattle counters' bicycles rose through the spring), and a table of the whole train
split lags it. Weighing the counts follows a drifting shape too, at the price of a
table from fewer effective weeks in every cell; weighing the level follows the city's
volume and keeps every week's evidence for the shape. The validation rows cannot choose
(they are scattered over the same weeks), so a backtest does: the chosen calibration,
weighted as tried on the weeks before each later train week, scores that week's counts.
The way and half-life of lowest NLL win if they beat none by 0.005 nats per cell. That
is a margin, not a test: the week is the unit of evidence (a week's days share their
weather, events and fitted table), a few train weeks give two or three backtest weeks,
and a Seattle spring's weeks do not all rise. The generator's London, whose weeks vary
only by chance, gains at most 0.0011 and keeps every week alike; 2nd Ave's spring 0.075.
(The model was fitted on those weeks too; it is the same model for every half-life.)

After the smoothing, **alike weekdays are pooled** (``pool_alike_days``): Monday to
Thursday, and Saturday with Sunday, each group by its own weight. Each approach's
log-rates on a group's days are moved toward their mean at the same hour and type. A
city's whole day runs busy or quiet together (weather, events), so a few weeks'
Tuesdays differ from their Wednesdays by their dates' luck, and every step above copies
that luck into the table. Validation rows cannot see it: they are drawn from the same
dates. The weight is the James-Stein one: how much the days' city-wide counts per hour
differ beyond what the same weekday's dates differ between weeks
(``alike_days_weight``), taken only if it is at least one half. The generator's Monday
to Thursday get 1.0, its weekend (a Saturday unlike its Sunday) 0; a Seattle counter's
bicycle weekend, whose days differ by less than their weather, is pooled. With one date
per weekday, the weekend's noise is the spread of the Monday-Thursday dates, and Monday
to Thursday are not pooled.

Why: a 2-D day x hour embedding shared by every approach cannot carry every
approach's own week (a shopping street's Saturday, a school's afternoon). The table a
traffic engineer keeps can, but it is noisy where data is thin. The calibrated model
is the empirical-Bayes blend of the two, and the embedding stays the one trained.
Events and counts alike: for events, the validation rows are a random share of the
vehicles, so their counts are Poisson with the rate thinned by that share.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from transforms import features, low_rank

# Day classes a multiplier is shared over: the approach table's (weekdays, weekend)
# and a finer one for approaches whose Saturday and Sunday differ.
DAY_CLASSES = {
    "weekday/weekend": np.array([0, 0, 0, 0, 0, 1, 1]),
    "weekday/saturday/sunday": np.array([0, 0, 0, 0, 0, 1, 2]),
}
# Weights over hours h-2..h+2 a class-hour's counts are pooled with (circular over the
# hours of its day class): none, or a 5-hour kernel.
HOUR_POOLING = {"none": (1.0,), "5h": (0.1, 0.2, 0.4, 0.2, 0.1)}
MIN_VALIDATION_VEHICLES = 100.0  # fewer validation vehicles: too few to choose, not calibrated
RECORD_FILE = "calibration.json"  # beside the exported model
KAPPAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # vehicles of prior weight, tried in order
# Share of the model's differences between the days of a day class (each hour and type)
# removed before the multipliers: none, half, all (the class's own week shape alone).
DAY_SHRINKS = (0.0, 0.5, 1.0)
NONE = "none"
# Low-rank smoothing: the profiles shared by the approach x type rows, and the hours of
# the calibrated model's rates added to each cell's counts as its prior.
LOW_RANKS = (8, 16)
LOW_RANK_PRIOR_HOURS = (1.0, 3.0)
# Weekdays pooled at the end (``pool_alike_days``), each group by its own weight:
# Monday to Thursday, which a signal controller's day plans treat as one day type
# (Friday's evening and night differ), and Saturday with Sunday.
MONDAY_TO_THURSDAY = (0, 1, 2, 3)
WEEKEND = (5, 6)
ALIKE_DAYS = {"monday_to_thursday": MONDAY_TO_THURSDAY, "weekend": WEEKEND}
# A group is pooled only if its James-Stein weight is at least this: its days differ by
# less than twice their dates' noise. A weight of 0.1 (the generator's weekend, whose
# Saturday and Sunday differ at some hours only) would shrink every hour a little and
# cost the hours that differ.
MIN_ALIKE_WEIGHT = 0.5
# City-wide vehicles per date and hour (of a type) below which a cell is left out of
# the estimate of how alike those days are: its log count would be mostly Poisson noise.
MIN_ALIKE_CELL_VEHICLES = 10.0
# Half-lives (days) of the recency weighting tried after none (math.inf: every week alike).
RECENCY_HALF_LIVES_DAYS = (28.0, 14.0, 7.0)
# What the recency weighting weighs, tried in order: each cell's counts, or the level.
COUNTS, LEVEL = "counts", "level"
RECENCY_WEIGHS = (COUNTS, LEVEL)
# NLL per backtest cell (nats) a half-life must gain over none: a trend, not the chance
# of which weeks ran busy (0.0011 on the generator's London, 0.075 on a Seattle spring).
RECENCY_MIN_GAIN = 0.005


@dataclass(frozen=True)
class Sums:
    """Observed vehicles and exposure hours per (approach, cell, type): (A, 168, T)."""

    vehicles: np.ndarray
    hours: np.ndarray


@dataclass(frozen=True)
class Calibration:
    """The chosen day classes, hour pooling and ``kappa`` (``NONE``/inf: not calibrated), the
    validation NLL per count before and after, and the log multipliers
    (A + 1, 168, T); the last row (approaches unseen in training) is 0."""

    day_classes: str
    kappa: float
    validation_nll_before: float
    validation_nll_after: float
    log_multipliers: np.ndarray
    table_validation_nll: float = math.nan
    reason: str = ""
    hour_pooling: str = NONE
    day_shrink: float = 0.0
    low_rank: int = 0  # profiles of the low-rank smoothing (0: not smoothed)
    low_rank_prior_hours: float = 0.0
    recency_half_life_days: float = math.inf  # inf: every train week weighs alike
    recency_weighs: str = NONE  # what the recent weeks weigh more in: RECENCY_WEIGHS
    # the backtest's NLL per cell: of none, then per way of RECENCY_WEIGHS, per half-life
    recency_backtest_nll: tuple[tuple[str, tuple[float, ...]], ...] = ()
    # how far each group of ALIKE_DAYS was pooled (pool_alike_days), by name
    alike_days_weights: tuple[tuple[str, float], ...] = ()

    def record(self) -> dict[str, float | str]:
        """What the exported model's spec records about it."""
        return {
            "day_classes": self.day_classes,
            "hour_pooling": self.hour_pooling,
            "day_shrink": self.day_shrink,
            "low_rank": self.low_rank or NONE,
            "low_rank_prior_hours": self.low_rank_prior_hours,
            "recency_half_life_days": (
                self.recency_half_life_days if math.isfinite(self.recency_half_life_days) else NONE
            ),
            "recency_weighs": self.recency_weighs,
            "recency_backtest_nll": {
                way: [round(nll, 6) for nll in per_half_life]
                for way, per_half_life in self.recency_backtest_nll
            },
            **{f"pooled_{name}": round(w, 4) for name, w in self.alike_days_weights},
            "kappa": self.kappa if math.isfinite(self.kappa) else NONE,
            "validation_nll_before": round(self.validation_nll_before, 6),
            "validation_nll_after": round(self.validation_nll_after, 6),
            "historical_average_validation_nll": round(self.table_validation_nll, 6),
            "reason": self.reason,
        }


def pool_hours(per_hour: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """``per_hour`` (A, 24, T) pooled over neighbouring hours with ``weights`` (odd
    length, centred; circular over the day)."""
    half = len(weights) // 2
    return sum(
        w * np.roll(per_hour, shift, axis=1)
        for shift, w in zip(range(-half, half + 1), weights, strict=True)
    )


def shrink_days(predicted: np.ndarray, classes: np.ndarray, weight: float) -> np.ndarray:
    """``predicted`` (A, 168, T) with each day's log-rate moved ``weight`` of the way to
    the mean log-rate of its day class at the same hour and type (rates of 0, types the
    model never predicts, stay 0)."""
    if weight == 0.0:
        return predicted
    week = (predicted.shape[0], features.DAYS_PER_WEEK, features.HOURS_PER_DAY, -1)
    positive = predicted > 0
    logs = np.log(np.where(positive, predicted, 1.0)).reshape(week)
    shrunk = logs.copy()
    for day_class in np.unique(classes):
        days = classes == day_class
        shrunk[:, days] += weight * (logs[:, days].mean(axis=1, keepdims=True) - logs[:, days])
    return np.where(positive, np.exp(shrunk.reshape(predicted.shape)), 0.0)


def multipliers(
    predicted: np.ndarray,
    sums: Sums,
    classes: np.ndarray,
    kappa: float,
    hour_weights: tuple[float, ...] = HOUR_POOLING["none"],
) -> np.ndarray:
    """``g`` per (approach, cell, type), (A, 168, T): the class-hour's multiplier, its
    counts pooled over neighbouring hours with ``hour_weights``."""
    expected = predicted * sums.hours
    week = (predicted.shape[0], features.DAYS_PER_WEEK, features.HOURS_PER_DAY, -1)
    observed = sums.vehicles.reshape(week)
    expected = expected.reshape(week)
    g = np.empty_like(observed)
    for day_class in np.unique(classes):
        days = classes == day_class
        seen = pool_hours(observed[:, days].sum(axis=1), hour_weights)
        ratio = (seen + kappa) / (pool_hours(expected[:, days].sum(axis=1), hour_weights) + kappa)
        g[:, days] = ratio[:, None]
    return g.reshape(predicted.shape)


def low_rank_smooth(prior: np.ndarray, sums: Sums, rank: int, prior_hours: float) -> np.ndarray:
    """(A, 168, T) rates of a rank-``rank`` Poisson NMF of ``sums`` plus ``prior_hours``
    hours of ``prior``'s rates per cell (types ``prior`` never predicts stay 0)."""
    types = prior.shape[2]
    vehicles = low_rank.table_rows(sums.vehicles + prior_hours * prior)
    hours = low_rank.table_rows(sums.hours + prior_hours)
    rates = low_rank.from_rows(low_rank.poisson_nmf(vehicles, hours, rank), types)
    return np.where(prior > 0, rates, 0.0)


def date_counts(weeks: list[tuple[int, Sums]]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per weekday (Monday first), the city-wide (vehicles, exposure hours), each (24, T),
    of each of its train dates, from every train row's sums per local week."""
    per_day: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(features.DAYS_PER_WEEK)]
    shape = (features.DAYS_PER_WEEK, features.HOURS_PER_DAY, -1)
    for _, sums in weeks:
        vehicles = sums.vehicles.sum(axis=0).reshape(shape)
        hours = np.broadcast_to(sums.hours, sums.vehicles.shape).sum(axis=0).reshape(shape)
        for day in np.flatnonzero(hours.sum(axis=(1, 2)) > 0):
            per_day[day].append((vehicles[day], hours[day]))
    return per_day


def alike_days_weight(weeks: list[tuple[int, Sums]], days: tuple[int, ...]) -> float:
    """How far to pool ``days`` (a group of ``ALIKE_DAYS``; 0: not at all, 1: one week shape
    for all of them): the positive-part James-Stein weight of their city-wide log counts
    per hour and type, ``noise / (noise + tau^2)``, if it is at least
    ``MIN_ALIKE_WEIGHT`` (the days differ by less than twice their dates' noise), else 0.

    ``noise``: the variance of a weekday's mean over the train weeks, from how the same
    weekday's dates differ between weeks (weather, events: ``s^2``, over the number of
    its dates). With one date per weekday, the weekend's ``s^2`` is the spread of the
    Monday-Thursday dates (days this step takes to be alike); Monday to Thursday then
    have nothing independent to go on, and are not pooled. ``tau^2``: how much the days'
    means differ beyond that noise. Both are pooled over the city-wide hour x type cells
    of at least ``MIN_ALIKE_CELL_VEHICLES`` vehicles on every date used, observed for all
    their hours on every one of them (a counter's outage is not a quiet day)."""
    dates = date_counts(weeks)
    per_day = [np.array([vehicles for vehicles, _ in d]) for d in dates]
    hours = [np.array([h for _, h in d]) for d in dates]
    replicated = [day for day in days if len(per_day[day]) > 1]
    noise_days = days if replicated else MONDAY_TO_THURSDAY
    if days == MONDAY_TO_THURSDAY and not replicated:
        return 0.0
    taken = sorted({*days, *noise_days})
    if any(len(per_day[day]) == 0 for day in taken):
        return 0.0
    full = np.max([hours[day].max(axis=0) for day in taken], axis=0)
    used = np.all(
        [
            (per_day[day].mean(axis=0) >= MIN_ALIKE_CELL_VEHICLES)
            & (per_day[day] > 0).all(axis=0)
            & (hours[day] == full).all(axis=0)  # not on a date with hours missing
            for day in taken
        ],
        axis=0,
    )
    if not used.any():
        return 0.0
    logs = {day: np.log(per_day[day][:, used]) for day in taken}
    if replicated:
        df = sum(len(logs[day]) - 1 for day in replicated) * used.sum()
        s2 = sum(float(((logs[d] - logs[d].mean(axis=0)) ** 2).sum()) for d in replicated) / df
    else:  # one date each: the alike days' spread around their mean
        spread = np.array([logs[day][0] for day in noise_days])
        s2 = float(((spread - spread.mean(axis=0)) ** 2).sum()) / ((len(spread) - 1) * used.sum())
    noise = s2 * float(np.mean([1.0 / len(logs[day]) for day in days]))
    means = np.array([logs[day].mean(axis=0) for day in days])
    between = float(((means - means.mean(axis=0)) ** 2).sum()) / ((len(days) - 1) * used.sum())
    weight = noise / (noise + max(0.0, between - noise)) if noise > 0 else 0.0
    return weight if weight >= MIN_ALIKE_WEIGHT else 0.0


def pool_alike_days(rates: np.ndarray, days: tuple[int, ...], weight: float) -> np.ndarray:
    """``rates`` (A, 168, T) with each of ``days``' log-rates moved ``weight`` of the way
    to their mean at the same approach, hour and type (rates of 0 stay 0): ``shrink_days``
    with ``days`` one class and every other day a class of its own."""
    week = np.arange(features.DAYS_PER_WEEK)
    return shrink_days(rates, np.where(np.isin(week, days), -1, week), weight)


def recency_weighted(weeks: list[tuple[int, Sums]], half_life_days: float) -> Sums:
    """The ``(local week, sums)`` of ``weeks`` summed, each weighted by
    ``0.5 ** (age / half_life_days)``, its age in days from the newest week (weight 1)."""
    newest = max(week for week, _ in weeks)
    weights = [
        0.5 ** ((newest - week) * features.DAYS_PER_WEEK / half_life_days) for week, _ in weeks
    ]
    return Sums(
        sum(w * sums.vehicles for w, (_, sums) in zip(weights, weeks, strict=True)),
        sum(w * sums.hours for w, (_, sums) in zip(weights, weeks, strict=True)),
    )


def level_factor(
    rates: np.ndarray, weeks: list[tuple[int, Sums]], half_life_days: float
) -> np.ndarray:
    """Per type (T,), how much busier than ``rates`` (A, 168, T) predict the ``weeks`` ran,
    weighted by ``recency_weighted``, over the same with every week alike: observed over
    expected vehicles, over that ratio unweighted (1 where a type has none)."""

    def observed_and_expected(half_life: float) -> tuple[np.ndarray, np.ndarray]:
        sums = recency_weighted(weeks, half_life)
        return sums.vehicles.sum(axis=(0, 1)), (rates * sums.hours).sum(axis=(0, 1))

    observed, expected = observed_and_expected(half_life_days)
    observed_alike, expected_alike = observed_and_expected(math.inf)
    numerator, denominator = observed * expected_alike, expected * observed_alike
    return np.divide(
        numerator,
        denominator,
        out=np.ones_like(numerator),
        where=(numerator > 0) & (denominator > 0),
    )


def recency_rates(
    calibrated_on: Callable[[Sums], np.ndarray],
    weeks: list[tuple[int, Sums]],
    half_life_days: float,
    weighs: str,
) -> np.ndarray:
    """``calibrated_on`` the ``weeks``, the recent ones weighing more as ``weighs`` says:
    ``COUNTS``, its sums ``recency_weighted``; ``LEVEL``, its sums alike, scaled by
    ``level_factor``. With ``half_life_days`` inf both are every week alike."""
    if weighs == COUNTS:
        return calibrated_on(recency_weighted(weeks, half_life_days))
    rates = calibrated_on(recency_weighted(weeks, math.inf))
    return rates * level_factor(rates, weeks, half_life_days)


def backtest(
    calibrated_on: Callable[[Sums], np.ndarray],
    weeks: list[tuple[int, Sums]],
    half_life_days: float,
    weighs: str = COUNTS,
) -> tuple[np.ndarray, int]:
    """The Poisson NLL (constant terms dropped) summed over each week of ``weeks`` (in
    order) after the first two, each predicted by ``recency_rates`` of the weeks before
    it (one week before it weighs the same at any half-life); and the cells scored."""
    per_week, cells = [], 0
    for i in range(2, len(weeks)):
        target = weeks[i][1]
        seen = int((target.hours > 0).sum())
        rate = recency_rates(calibrated_on, weeks[:i], half_life_days, weighs)
        per_week.append(poisson_nll(rate, target) * seen)
        cells += seen
    return np.array(per_week), cells


def choose_recency(
    calibrated_on: Callable[[Sums], np.ndarray], weeks: list[tuple[int, Sums]]
) -> tuple[str, float, tuple[tuple[str, tuple[float, ...]], ...]]:
    """What the recent weeks weigh more in (``NONE`` or one of ``RECENCY_WEIGHS``) and the
    half-life (``math.inf``: none) of lowest backtest NLL (``backtest``), if they beat every
    week alike by ``RECENCY_MIN_GAIN`` per cell; and the backtest's NLL per cell: of none,
    then of each way per half-life of ``RECENCY_HALF_LIVES_DAYS``."""
    alike, cells = backtest(calibrated_on, weeks, math.inf)
    cells = max(cells, 1)
    best, best_nll = (NONE, math.inf), alike.sum() - RECENCY_MIN_GAIN * cells
    scored = [(NONE, (float(alike.sum()) / cells,))]
    for weighs in RECENCY_WEIGHS:
        per_half_life = []
        for days in RECENCY_HALF_LIVES_DAYS:
            nll = backtest(calibrated_on, weeks, days, weighs)[0].sum()
            per_half_life.append(float(nll) / cells)
            if nll <= best_nll:
                best, best_nll = (weighs, days), nll
        scored.append((weighs, tuple(per_half_life)))
    return best[0], best[1], tuple(scored)


def poisson_nll(rate: np.ndarray, sums: Sums) -> float:
    """Mean Poisson NLL per vehicle-count cell with exposure (constant terms dropped)."""
    seen = sums.hours > 0
    mean = np.maximum(rate[seen] * sums.hours[seen], 1e-12)
    return float(np.sum(mean - sums.vehicles[seen] * np.log(mean)) / max(seen.sum(), 1))


def calibrate(
    predicted: np.ndarray,
    fit: Sums,
    validation: Sums,
    table_of: Callable[[Sums], np.ndarray],
    shrinks: tuple[float, ...] = DAY_SHRINKS,
    ranks: tuple[int, ...] = LOW_RANKS,
    weeks: list[tuple[int, Sums]] | None = None,
) -> Calibration:
    """Chooses day classes, the day shrink (``shrink_days``), hour pooling and ``kappa``
    on the ``validation`` rows with multipliers from the ``fit`` rows, then returns the
    multipliers from both.

    ``predicted``: the trained model's vehicles per hour (A + 1, 168, T), last row the
    unseen approach; ``fit``, ``validation``: the rows the model was fitted on and the
    rows held out of its training, summed per (approach, cell, type) (A, 168, T). Only
    held-out rows judge: the model has already fitted the others. ``table_of(sums)``:
    the historical-average table (A, 168, T) fitted on ``sums``, the one the gate
    compares with. Calibration polishes a model that has learned something, it never
    rescues one that has not: a model no better on the validation rows than that table
    fitted on the fit rows is left as trained (else a barely trained model, calibrated,
    would be a day-class table and could pass the gate). ``shrinks``: the day shrinks
    tried; ``ranks``: the low-rank smoothings tried (``low_rank_smooth``; none: off).
    ``weeks``: every train row's sums per local week, in order (``recency_weighted``;
    fewer than 3, too few to backtest a half-life on: every week weighs alike; they
    also give each ``alike_days_weight``, else no weekdays are pooled).
    """
    trained = predicted[:-1].astype(np.float64)
    before = poisson_nll(trained, validation)
    table_nll = poisson_nll(np.asarray(table_of(fit), np.float64), validation)
    enough = validation.vehicles.sum() >= MIN_VALIDATION_VEHICLES
    learned = before < table_nll
    candidates = (
        [
            (name, pooling, kappa, shrink)
            for name in DAY_CLASSES
            for shrink in shrinks
            for pooling in HOUR_POOLING
            for kappa in KAPPAS
        ]
        if enough and learned
        else []
    )
    best = (before, NONE, NONE, math.inf, 0.0)
    for name, pooling, kappa, shrink in candidates:
        shaped = shrink_days(trained, DAY_CLASSES[name], shrink)
        g = multipliers(shaped, fit, DAY_CLASSES[name], kappa, HOUR_POOLING[pooling])
        nll = poisson_nll(shaped * g, validation)
        if nll < best[0]:
            best = (nll, name, pooling, kappa, shrink)
    after, name, pooling, kappa, shrink = best

    def calibrated(sums: Sums) -> np.ndarray:
        if name == NONE:
            return trained
        shaped = shrink_days(trained, DAY_CLASSES[name], shrink)
        return shaped * multipliers(shaped, sums, DAY_CLASSES[name], kappa, HOUR_POOLING[pooling])

    weighs, half_life, backtest_nll = NONE, math.inf, ()
    if name != NONE and weeks is not None and len(weeks) > 2:
        weighs, half_life, backtest_nll = choose_recency(calibrated, weeks)

    rank, prior_hours = 0, 0.0
    if enough and learned:
        on_fit = calibrated(fit)
        for r, hours in ((r, h) for r in ranks for h in LOW_RANK_PRIOR_HOURS):
            nll = poisson_nll(low_rank_smooth(on_fit, fit, r, hours), validation)
            if nll < after:
                after, rank, prior_hours = nll, r, hours
    log_g = np.zeros(predicted.shape, np.float32)
    alike_weights = tuple((group, 0.0) for group in ALIKE_DAYS)
    if name != NONE or rank:
        every = (
            recency_weighted(weeks, half_life)
            if weighs == COUNTS
            else Sums(fit.vehicles + validation.vehicles, fit.hours + validation.hours)
        )
        final = calibrated(every)
        if rank:
            final = low_rank_smooth(final, every, rank, prior_hours)
        alike_weights = tuple(
            (group, alike_days_weight(weeks, days) if weeks else 0.0)
            for group, days in ALIKE_DAYS.items()
        )
        for (_, weight), days in zip(alike_weights, ALIKE_DAYS.values(), strict=True):
            final = pool_alike_days(final, days, weight)
        if weighs == LEVEL:
            final = final * level_factor(final, weeks, half_life)
        positive = trained > 0
        log_g[:-1] = np.log(np.where(positive, final, 1.0) / np.where(positive, trained, 1.0))
    reason = (
        "calibrated"
        if name != NONE or rank
        else "too few validation vehicles to choose"
        if not enough
        else "the model is no better than the historical average"
        if not learned
        else "no multiplier lowered the validation NLL"
    )
    return Calibration(
        name,
        kappa,
        before,
        after,
        log_g,
        table_nll,
        reason,
        pooling,
        shrink,
        rank,
        prior_hours,
        half_life,
        weighs,
        backtest_nll,
        alike_weights,
    )


def write_record(result: Calibration, model_dir: str) -> None:
    """Writes ``result.record()`` as ``RECORD_FILE`` into ``model_dir``."""
    import tensorflow as tf  # gfile: model dirs may be on GCS

    with tf.io.gfile.GFile(os.path.join(model_dir, RECORD_FILE), "w") as f:
        f.write(json.dumps(result.record(), indent=2, sort_keys=True) + "\n")

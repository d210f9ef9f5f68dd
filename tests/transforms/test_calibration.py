"""Calibration to each approach's counts: the multipliers, and what validation chooses."""

from __future__ import annotations

import math

import numpy as np

from transforms import calibration, features
from transforms.calibration import Calibration, Sums

CELLS, TYPES = features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES)
DAY = np.repeat(np.arange(features.DAYS_PER_WEEK), features.HOURS_PER_DAY)
HOUR = np.tile(np.arange(features.HOURS_PER_DAY), features.DAYS_PER_WEEK)


def _cell(day: int, hour: int) -> int:
    return day * features.HOURS_PER_DAY + hour


def test_multiplier_is_the_gamma_posterior_mean_per_class_hour():
    predicted = np.full((1, CELLS, TYPES), 2.0)
    vehicles = np.full((1, CELLS, TYPES), 2.0)  # as the model says, 1 hour per cell
    vehicles[0, (DAY < 5) & (HOUR == 8), 0] = 6.0  # weekday 08:00 cars: 30 seen, 10 expected
    sums = Sums(vehicles, np.ones_like(vehicles))
    classes = calibration.DAY_CLASSES["weekday/weekend"]
    g = calibration.multipliers(predicted, sums, classes, kappa=10.0)
    assert g[0, _cell(0, 8), 0] == g[0, _cell(4, 8), 0] == (30 + 10) / (10 + 10)
    assert g[0, _cell(5, 8), 0] == 1.0  # the weekend's 08:00 saw what the model expected
    assert g[0, _cell(0, 8), 1] == 1.0 and g[0, _cell(0, 9), 0] == 1.0
    # more prior weight: the counts move the model less; none: the counts alone
    assert calibration.multipliers(predicted, sums, classes, 1000.0)[0, _cell(0, 8), 0] < 1.05
    assert calibration.multipliers(predicted, sums, classes, 0.0)[0, _cell(0, 8), 0] == 3.0


def _fit_and_validation(rate: np.ndarray, rng: np.random.Generator) -> tuple[Sums, Sums]:
    """Poisson counts at ``rate``: 2.7 hours per cell to fit on, 0.3 to validate."""
    return tuple(
        Sums(rng.poisson(rate * hours).astype(np.float64), np.full(rate.shape, hours))
        for hours in (2.7, 0.3)
    )


def _with_unseen_row(table: np.ndarray) -> np.ndarray:
    return np.concatenate([table, table.mean(axis=0, keepdims=True)])


def _flat(sums: Sums) -> np.ndarray:
    """A table that knows only each approach's and type's mean rate (A, 168, T)."""
    rate = sums.vehicles.sum(axis=1, keepdims=True) / sums.hours.sum(axis=1, keepdims=True)
    return np.broadcast_to(rate, sums.vehicles.shape) + 1e-9


def test_a_shopping_streets_saturday_is_recovered_and_the_right_approaches_kept():
    rng = np.random.default_rng(7)
    shape = 5.0 + 20.0 * np.exp(-0.5 * ((HOUR - 12) / 3.0) ** 2)  # one city-wide day
    model = np.broadcast_to(shape[None, :, None], (6, CELLS, TYPES)).copy()
    truth = model.copy()
    truth[0, DAY == 5] *= 3.0  # approach 0: Saturday three times the model's
    truth[0, DAY == 6] *= 0.5  # and its Sunday half
    fit, validation = _fit_and_validation(truth, rng)
    result = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    assert result.day_classes == "weekday/saturday/sunday" and math.isfinite(result.kappa)
    assert result.validation_nll_after < result.validation_nll_before
    assert result.record()["reason"] == "calibrated"
    calibrated = model * np.exp(result.log_multipliers[:-1])
    # a third of the model's weekend error is left at most: Poisson noise of one
    # Saturday and one Sunday per class-hour, and the prior's pull in the quiet hours
    error = np.abs(np.log(calibrated[0] / truth[0]))[DAY >= 5].mean()
    assert error < np.abs(np.log(model[0] / truth[0]))[DAY >= 5].mean() / 3
    # the approaches the model had right stay near it (one kappa serves every
    # approach), and the unseen row is untouched
    assert np.abs(result.log_multipliers[1:-1]).mean() < 0.1
    assert not result.log_multipliers[-1].any()


def test_a_right_model_is_left_as_trained_or_barely_moved():
    rng = np.random.default_rng(8)
    model = rng.uniform(1.0, 30.0, (10, CELLS, TYPES))
    fit, validation = _fit_and_validation(model, rng)
    result = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    assert result.validation_nll_after <= result.validation_nll_before
    assert np.abs(result.log_multipliers).max() < 0.1


def test_too_few_vehicles_choose_nothing():
    model = np.full((2, CELLS, TYPES), 0.01)
    fold = Sums(np.zeros((2, CELLS, TYPES)), np.ones((2, CELLS, TYPES)))
    fold.vehicles[0, 0, 0] = 50.0  # a burst the model does not expect, but too few
    result = calibration.calibrate(_with_unseen_row(model), fold, fold, _flat)
    assert (result.day_classes, result.kappa) == (calibration.NONE, math.inf)
    assert not result.log_multipliers.any()
    assert result.record()["kappa"] == calibration.NONE
    assert result.reason == "too few validation vehicles to choose"


def test_a_model_no_better_than_the_table_is_left_as_trained():
    rng = np.random.default_rng(9)
    truth = rng.uniform(1.0, 30.0, (4, CELLS, TYPES))
    fit, validation = _fit_and_validation(truth, rng)
    untrained = _with_unseen_row(_flat(fit))  # a one-step model: no week

    def historical_average(sums: Sums) -> np.ndarray:
        return (sums.vehicles + 1.0) / (sums.hours + 1.0)

    result = calibration.calibrate(untrained, fit, validation, historical_average)
    assert (result.day_classes, result.kappa) == (calibration.NONE, math.inf)
    assert result.reason == "the model is no better than the historical average"
    assert not result.log_multipliers.any()
    assert result.record()["pooled_monday_to_thursday"] == result.record()["pooled_weekend"] == 0
    # the same model against a table that is worse than it: calibrated
    worse = calibration.calibrate(
        untrained, fit, validation, lambda sums: np.full(sums.vehicles.shape, 0.5)
    )
    assert worse.log_multipliers.any() and worse.reason == "calibrated"


def test_hour_pooling_spreads_a_class_hour_over_its_neighbours_around_the_clock():
    impulse = np.zeros((1, features.HOURS_PER_DAY, 1))
    impulse[0, 0, 0] = 1.0
    pooled = calibration.pool_hours(impulse, calibration.HOUR_POOLING["5h"])[0, :, 0]
    weights = dict(zip((22, 23, 0, 1, 2), calibration.HOUR_POOLING["5h"], strict=True))
    assert pooled.tolist() == [weights.get(hour, 0.0) for hour in range(features.HOURS_PER_DAY)]
    assert pooled.sum() == 1.0  # no vehicle is lost or made


def test_a_tide_over_several_hours_on_thin_counts_is_pooled_over_hours():
    rng = np.random.default_rng(11)
    day_and_night = np.where((HOUR >= 7) & (HOUR < 21), 1.0, 0.2)  # what the model knows
    model = np.broadcast_to(day_and_night[None, :, None], (8, CELLS, 1)).copy()  # thin
    tide = 1.0 + 1.5 * np.exp(-0.5 * ((HOUR - 8) / 2.0) ** 2)  # a 4-hour morning peak
    truth = model.copy()
    truth[:4, DAY < 5, 0] *= tide[DAY < 5]  # half the approaches: a weekday tide
    fit, validation = _fit_and_validation(truth, rng)
    result = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    assert result.hour_pooling == "5h" and result.record()["hour_pooling"] == "5h"
    calibrated = model * np.exp(result.log_multipliers[:-1])

    def error(rate: np.ndarray, where: np.ndarray = np.s_[:]) -> float:
        return float(np.abs(np.log(rate / truth))[where].mean())

    # the tide is learned; pooled, the calibration is closer to the truth everywhere
    # than the same calibration hour by hour
    tide_hours = np.s_[:4, (DAY < 5) & (HOUR >= 6) & (HOUR <= 10)]
    assert error(calibrated, tide_hours) < error(model, tide_hours) / 2
    every = Sums(fit.vehicles + validation.vehicles, fit.hours + validation.hours)
    classes = calibration.DAY_CLASSES[result.day_classes]
    per_hour = model * calibration.multipliers(model, every, classes, result.kappa)
    assert error(calibrated) < error(per_hour)


def test_day_shrink_moves_each_day_toward_its_class_and_keeps_zero_types_zero():
    rng = np.random.default_rng(12)
    predicted = rng.uniform(1.0, 10.0, (2, CELLS, TYPES))
    predicted[:, :, 3] = 0.0  # a type the model never predicts
    classes = calibration.DAY_CLASSES["weekday/weekend"]
    assert calibration.shrink_days(predicted, classes, 0.0) is predicted
    flat = calibration.shrink_days(predicted, classes, 1.0)
    week = flat.reshape(2, features.DAYS_PER_WEEK, features.HOURS_PER_DAY, TYPES)
    logs = np.log(predicted[..., :3]).reshape(2, features.DAYS_PER_WEEK, -1, 3)
    np.testing.assert_allclose(week[:, 1, :, :3], np.exp(logs[:, :5].mean(axis=1)))
    np.testing.assert_allclose(week[:, 6, :, :3], np.exp(logs[:, 5:].mean(axis=1)))
    assert (week[:, :, :, 3] == 0).all()
    half = calibration.shrink_days(predicted, classes, 0.5)[..., :3]
    np.testing.assert_allclose(half, np.sqrt(predicted[..., :3] * flat[..., :3]))


def test_a_model_that_tells_like_weekdays_apart_by_noise_is_shrunk_to_its_class():
    rng = np.random.default_rng(13)
    shape = 5.0 + 20.0 * np.exp(-0.5 * ((HOUR - 8) / 2.0) ** 2)
    truth = np.broadcast_to(shape[None, :, None], (6, CELLS, TYPES)).copy()
    noise = np.exp(rng.normal(0.0, 0.3, (6, features.DAYS_PER_WEEK, 1, TYPES)))
    noisy = truth * np.repeat(noise, features.HOURS_PER_DAY, axis=1).reshape(truth.shape)
    fit, validation = _fit_and_validation(truth, rng)
    result = calibration.calibrate(_with_unseen_row(noisy), fit, validation, _flat)
    assert result.day_shrink > 0 and result.record()["day_shrink"] == result.day_shrink
    unshrunk = calibration.calibrate(
        _with_unseen_row(noisy), fit, validation, _flat, shrinks=(0.0,)
    )
    assert result.validation_nll_after < unshrunk.validation_nll_after
    calibrated = noisy * np.exp(result.log_multipliers[:-1])
    weekdays = DAY < 5
    spread = np.log(calibrated[:, weekdays]).reshape(6, 5, 24, TYPES).std(axis=1).mean()
    assert spread < 0.5 * np.log(noisy[:, weekdays]).reshape(6, 5, 24, TYPES).std(axis=1).mean()


def test_approaches_mixing_a_few_weekly_shapes_are_smoothed_to_a_low_rank_table():
    rng = np.random.default_rng(14)
    profiles = np.stack(
        [
            2.0 + 20.0 * np.exp(-0.5 * ((HOUR - 8) / 1.5) ** 2) * (DAY < 5),  # inbound tide
            2.0 + 20.0 * np.exp(-0.5 * ((HOUR - 17) / 1.5) ** 2) * (DAY < 5),  # outbound
            1.0 + 8.0 * ((HOUR >= 10) & (HOUR < 18)) * (DAY == 5),  # a Saturday high street
        ]
    )
    mix = rng.gamma(2.0, 0.5, (30, TYPES, 3))
    truth = np.einsum("atk,kc->act", mix, profiles)
    # a model right in the large, wrong per approach and cell by noise it cannot average
    noisy = truth * np.exp(rng.normal(0.0, 0.25, truth.shape))
    fit, validation = _fit_and_validation(truth, rng)
    result = calibration.calibrate(_with_unseen_row(noisy), fit, validation, _flat)
    assert result.low_rank in calibration.LOW_RANKS
    assert result.record()["low_rank"] == result.low_rank
    without = calibration.calibrate(_with_unseen_row(noisy), fit, validation, _flat, ranks=())
    assert without.low_rank == 0 and without.record()["low_rank"] == calibration.NONE
    assert result.validation_nll_after < without.validation_nll_after

    def excess(calibrated: Calibration) -> float:
        rate = noisy * np.exp(calibrated.log_multipliers[:-1])
        return float((truth * np.log(truth / rate) - truth + rate).mean())

    assert excess(result) < 0.7 * excess(without)
    assert not result.log_multipliers[-1].any()  # the unseen row is untouched


def _weeks_of(rates: list[np.ndarray], rng: np.random.Generator) -> tuple[Sums, Sums, list]:
    """Per week of ``rates`` (each A, 168, T), Poisson counts for 2.7 hours per cell to fit
    on and 0.3 to validate; returns the fit and validation sums over all weeks and
    every row's sums per week, numbered from 2900."""
    fits, validations = zip(*(_fit_and_validation(rate, rng) for rate in rates), strict=True)

    def total(parts) -> Sums:
        return Sums(sum(p.vehicles for p in parts), sum(p.hours for p in parts))

    weeks = [(2900 + i, total(pair)) for i, pair in enumerate(zip(fits, validations, strict=True))]
    return total(fits), total(validations), weeks


def test_rising_traffic_weighs_recent_weeks_more_and_predicts_the_next_week_better():
    rng = np.random.default_rng(21)
    shape = 4.0 + 16.0 * np.exp(-0.5 * ((HOUR - 17) / 2.0) ** 2)
    base = np.broadcast_to(shape[None, :, None], (8, CELLS, TYPES)) * rng.uniform(0.5, 2, (8, 1, 1))
    rates = [base * 1.15**week for week in range(5)]  # 15% more traffic every week
    fit, validation, weeks = _weeks_of(rates, rng)
    # the whole split's level, noisy per approach and cell: the calibration pays
    model = np.mean(rates, axis=0) * np.exp(rng.normal(0.0, 0.2, base.shape))
    unweighted = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    weighted = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat, weeks=weeks)
    assert unweighted.recency_half_life_days == math.inf and not unweighted.recency_backtest_nll
    assert unweighted.recency_weighs == calibration.NONE
    assert weighted.recency_half_life_days in calibration.RECENCY_HALF_LIVES_DAYS
    # every approach and hour rose alike: the level is weighed, the shape is every week's
    assert weighted.recency_weighs == calibration.LEVEL
    record = weighted.record()
    assert record["recency_half_life_days"] == weighted.recency_half_life_days
    assert record["recency_weighs"] == calibration.LEVEL
    # the backtest scored none, then each way at every half-life, and chose the lowest
    scored = record["recency_backtest_nll"]
    assert list(scored) == [calibration.NONE, *calibration.RECENCY_WEIGHS]
    assert all(len(scored[way]) == 3 for way in calibration.RECENCY_WEIGHS)
    chosen = calibration.RECENCY_HALF_LIVES_DAYS.index(weighted.recency_half_life_days)
    assert scored[calibration.LEVEL][chosen] == min(min(v) for v in scored.values())
    assert scored[calibration.LEVEL][chosen] < scored[calibration.NONE][0]
    # choices made on the validation rows are not changed by the weighting
    assert (weighted.day_classes, weighted.kappa) == (unweighted.day_classes, unweighted.kappa)
    next_week = base * 1.15**5

    def excess(result: Calibration) -> float:  # expected NLL above the truth's, per cell
        rate = model * np.exp(result.log_multipliers[:-1])
        return float((next_week * np.log(next_week / rate) - next_week + rate).mean())

    assert excess(weighted) < 0.6 * excess(unweighted)


def test_an_evening_that_grows_alone_weighs_each_cells_counts():
    rng = np.random.default_rng(23)
    evening = np.exp(-0.5 * ((HOUR - 17) / 1.5) ** 2)
    base = rng.uniform(0.5, 2, (8, 1, 1))
    # the evening peak doubles over five weeks, the rest of the day stays as it was
    rates = [(4.0 + 16.0 * 1.2**week * evening)[None, :, None] * base for week in range(5)]
    rates = [np.broadcast_to(rate, (8, CELLS, TYPES)) for rate in rates]
    fit, validation, weeks = _weeks_of(rates, rng)
    model = np.mean(rates, axis=0) * np.exp(rng.normal(0.0, 0.2, rates[0].shape))
    result = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat, weeks=weeks)
    # a level per type would raise the flat hours with the evening: each cell follows its own
    assert result.recency_weighs == calibration.COUNTS
    assert result.recency_half_life_days in calibration.RECENCY_HALF_LIVES_DAYS


def test_level_factor_is_the_weighted_weeks_busyness_over_every_weeks():
    rates = np.ones((2, CELLS, TYPES))
    hours = np.ones((2, CELLS, TYPES))

    def week(busier: float) -> Sums:
        vehicles = rates * hours * busier
        vehicles[..., -1] = 0.0  # a type nobody drove: nothing to scale
        return Sums(vehicles, hours)

    weeks = [(1, week(1.0)), (2, week(1.0)), (3, week(2.0))]
    # weights 1/4, 1/2, 1 at a 7-day half-life: (1/4 + 1/2 + 2) / (7/4) busy, against 4/3
    factor = calibration.level_factor(rates, weeks, half_life_days=7.0)
    np.testing.assert_allclose(factor[:-1], (2.75 / 1.75) / (4.0 / 3.0))
    assert factor[-1] == 1.0
    np.testing.assert_allclose(calibration.level_factor(2.0 * rates, weeks, 7.0), factor)
    np.testing.assert_array_equal(calibration.level_factor(rates, weeks, math.inf), 1.0)


def test_steady_traffic_keeps_every_week_alike():
    rng = np.random.default_rng(22)
    shape = 4.0 + 16.0 * np.exp(-0.5 * ((HOUR - 8) / 2.0) ** 2) * (DAY < 5)
    base = np.broadcast_to(shape[None, :, None], (8, CELLS, TYPES)) * rng.uniform(0.5, 2, (8, 1, 1))
    fit, validation, weeks = _weeks_of([base] * 4, rng)
    model = base * np.exp(rng.normal(0.0, 0.2, base.shape))
    result = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat, weeks=weeks)
    assert result.day_classes != calibration.NONE
    assert result.recency_half_life_days == math.inf
    assert result.record()["recency_half_life_days"] == calibration.NONE
    # unweighted, the final multipliers are those of every row: fit plus validation
    # (then its alike weekdays pooled, which needs the weeks: Monday to Thursday, and the
    # weekend's two flat days)
    again = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    weights = dict(result.alike_days_weights)
    assert weights["monday_to_thursday"] > 0.5 and weights["weekend"] > 0.5
    assert dict(again.alike_days_weights) == {"monday_to_thursday": 0.0, "weekend": 0.0}
    pooled = model * np.exp(again.log_multipliers[:-1])
    for group, days in calibration.ALIKE_DAYS.items():
        pooled = calibration.pool_alike_days(pooled, days, weights[group])
    np.testing.assert_allclose(model * np.exp(result.log_multipliers[:-1]), pooled, rtol=1e-5)


def test_recency_weights_halve_every_half_life_back_from_the_newest_week():
    ones = Sums(np.ones((1, CELLS, TYPES)), np.ones((1, CELLS, TYPES)))
    weeks = [(10, ones), (12, ones), (11, ones)]  # in any order; week 11 is missing nothing
    summed = calibration.recency_weighted(weeks, half_life_days=7.0)
    np.testing.assert_allclose(summed.vehicles, 1.0 + 0.25 + 0.5)
    np.testing.assert_allclose(summed.hours, 1.0 + 0.25 + 0.5)
    alike = calibration.recency_weighted(weeks, half_life_days=math.inf)
    np.testing.assert_array_equal(alike.vehicles, 3.0)


def _noisy_days(truth: np.ndarray, weeks: int, sigma: float, rng: np.random.Generator) -> list:
    """``weeks`` weeks of ``truth``, each date's whole city scaled by its own lognormal
    day factor (weather, events), as ``_weeks_of`` takes them."""
    factors = np.exp(rng.normal(0.0, sigma, (weeks, features.DAYS_PER_WEEK)))
    return [truth * np.repeat(f, features.HOURS_PER_DAY)[None, :, None] for f in factors]


def _commuter_city(rng: np.random.Generator) -> np.ndarray:
    shape = 4.0 + 40.0 * np.exp(-0.5 * ((HOUR - 8) / 2.0) ** 2) * (DAY < 5)
    scale = rng.uniform(0.5, 2.0, (12, 1, TYPES))
    return np.broadcast_to(shape[None, :, None], (12, CELLS, TYPES)) * scale


def test_monday_to_thursday_told_apart_only_by_their_dates_weather_are_pooled():
    rng = np.random.default_rng(31)
    truth = _commuter_city(rng)  # Monday to Friday alike
    fit, validation, weeks = _weeks_of(_noisy_days(truth, 3, 0.1, rng), rng)
    model = truth * np.exp(rng.normal(0.0, 0.1, truth.shape))
    pooled = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat, weeks=weeks)
    weight = dict(pooled.alike_days_weights)["monday_to_thursday"]
    assert weight > 0.7
    assert pooled.record()["pooled_monday_to_thursday"] == round(weight, 4)
    unpooled = calibration.calibrate(_with_unseen_row(model), fit, validation, _flat)
    assert dict(unpooled.alike_days_weights)["monday_to_thursday"] == 0.0
    mon_thu = np.isin(DAY, calibration.MONDAY_TO_THURSDAY)

    def excess(result: Calibration) -> float:  # expected NLL above the truth's, per cell
        rate = (model * np.exp(result.log_multipliers[:-1]))[:, mon_thu]
        true = truth[:, mon_thu]
        return float((true * np.log(true / rate) - true + rate).mean())

    assert excess(pooled) < 0.8 * excess(unpooled)
    friday = DAY == 4  # never pooled
    np.testing.assert_allclose(
        (model * np.exp(pooled.log_multipliers[:-1]))[:, friday],
        (model * np.exp(unpooled.log_multipliers[:-1]))[:, friday],
    )


def test_a_monday_busier_than_its_weather_explains_is_kept():
    rng = np.random.default_rng(32)
    truth = _commuter_city(rng)
    truth[:, DAY == 0] *= 1.5  # every Monday half as busy again as Tuesday to Thursday
    _, _, weeks = _weeks_of(_noisy_days(truth, 3, 0.1, rng), rng)
    assert calibration.alike_days_weight(weeks, calibration.MONDAY_TO_THURSDAY) == 0.0
    # one date per weekday: nothing independent to go on
    assert calibration.alike_days_weight(weeks[:1], calibration.MONDAY_TO_THURSDAY) == 0.0
    # 11 of 12 counters out on one Tuesday from 06:00 (no rows): not a quiet day (read as
    # one, that date's spread would pass for weather and pool the Mondays)
    _, sums = weeks[1]
    vehicles, hours = sums.vehicles.copy(), sums.hours.copy()
    out = (DAY == 1) & (HOUR >= 6)
    vehicles[:11, out], hours[:11, out] = 0.0, 0.0
    with_outage = [weeks[0], (weeks[1][0], Sums(vehicles, hours)), weeks[2]]
    assert calibration.alike_days_weight(with_outage, calibration.MONDAY_TO_THURSDAY) == 0.0


def _weekend_city(rng: np.random.Generator, sunday: float) -> np.ndarray:
    """A leisure city: an afternoon hump every day, Sunday's ``sunday`` times Saturday's."""
    shape = 4.0 + 40.0 * np.exp(-0.5 * ((HOUR - 14) / 3.0) ** 2) * np.where(DAY == 6, sunday, 1.0)
    scale = rng.uniform(0.5, 2.0, (12, 1, TYPES))
    return np.broadcast_to(shape[None, :, None], (12, CELLS, TYPES)) * scale


def test_a_weekend_alike_but_for_its_weather_is_pooled_even_on_one_week():
    rng = np.random.default_rng(34)
    truth = _weekend_city(rng, sunday=1.0)
    _, _, weeks = _weeks_of(_noisy_days(truth, 3, 0.25, rng), rng)
    assert calibration.alike_days_weight(weeks, calibration.WEEKEND) > 0.7
    # one week: the Monday-Thursday dates' spread stands for the dates' noise
    assert calibration.alike_days_weight(weeks[:1], calibration.WEEKEND) > 0.5
    apart = _weekend_city(rng, sunday=0.5)
    _, _, weeks = _weeks_of(_noisy_days(apart, 3, 0.25, rng), rng)
    assert calibration.alike_days_weight(weeks, calibration.WEEKEND) == 0.0
    assert calibration.alike_days_weight(weeks[:1], calibration.WEEKEND) == 0.0


def test_pooling_alike_days_moves_only_those_days_toward_their_mean():
    rng = np.random.default_rng(33)
    rates = rng.uniform(1.0, 10.0, (2, CELLS, TYPES))
    rates[:, :, 3] = 0.0  # a type the model never predicts
    days = calibration.MONDAY_TO_THURSDAY
    assert calibration.pool_alike_days(rates, days, 0.0) is rates
    week = calibration.pool_alike_days(rates, days, 1.0).reshape(2, 7, 24, TYPES)
    logs = np.log(rates[..., :3]).reshape(2, 7, 24, 3)
    for day in days:
        np.testing.assert_allclose(week[:, day, :, :3], np.exp(logs[:, :4].mean(axis=1)))
    np.testing.assert_allclose(week[:, 4:], rates.reshape(2, 7, 24, TYPES)[:, 4:], rtol=1e-12)
    assert (week[..., 3] == 0).all()
    half = calibration.pool_alike_days(rates, calibration.WEEKEND, 0.5).reshape(2, 7, 24, TYPES)
    sat, sun = (
        rates.reshape(2, 7, 24, TYPES)[:, 5, :, :3],
        rates.reshape(2, 7, 24, TYPES)[:, 6, :, :3],
    )
    np.testing.assert_allclose(half[:, 5, :, :3], sat**0.75 * sun**0.25)

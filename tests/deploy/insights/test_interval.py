"""predict --interval: Poisson percentile counts of each hour's predicted mean, on a real model."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from deploy.cli import main as cli_main
from deploy.insights import predictions
from deploy.insights.model_files import ModelError
from tests.deploy.insights.test_cli import HEADER_AT, _one_error_line
from transforms import features

MEANS = [*features.VEHICLE_TYPES, "total"]
DRAWS = 200_000
TOLERANCE = 0.005  # > 7 standard errors of an empirical CDF near 0.1 or 0.9 from DRAWS draws


def _check_empirical_quantile(draws: np.ndarray, count: int, q: float) -> None:
    """``count`` is the q-quantile of the sampled distribution: the smallest k with
    P(X <= k) >= q, up to the sampling error of the empirical CDF."""
    assert np.mean(draws <= count) >= q - TOLERANCE
    assert np.mean(draws <= count - 1) < q + TOLERANCE


def test_interval_brackets_the_mean_and_is_the_poisson_quantiles(model_dir):
    frame = predictions.predict(model=model_dir, week=True, interval=80)
    expected = ["intersection_id", "direction", "day_of_week", "hour", "seconds_to_next_vehicle"]
    for name in MEANS:
        expected += [name, f"{name}_p10", f"{name}_p90"]
    assert list(frame.columns) == expected

    plain = predictions.predict(model=model_dir, week=True)
    np.testing.assert_array_equal(frame[MEANS].to_numpy(), plain[MEANS].to_numpy())
    np.testing.assert_allclose(frame["total"], frame[list(features.VEHICLE_TYPES)].sum(axis=1))

    for name in MEANS:
        mean, p10, p90 = (frame[c].to_numpy() for c in (name, f"{name}_p10", f"{name}_p90"))
        # Below mean ln(10/9) ~ 0.105, P(0) > 0.9 so even p90 is 0: the bracket needs mean > that.
        busy = mean >= 0.2
        assert busy.sum() > 1000, name
        assert np.all(p10[busy] <= mean[busy]) and np.all(mean[busy] <= p90[busy]), name
        assert np.all(p10 <= p90) and np.all(p10 >= 0), name

    # Independent check: numpy Poisson draws at means spread over the predicted range.
    rng = np.random.default_rng(7)
    means = frame[MEANS].to_numpy().ravel()
    lows = frame[[f"{n}_p10" for n in MEANS]].to_numpy().ravel()
    highs = frame[[f"{n}_p90" for n in MEANS]].to_numpy().ravel()
    order = np.argsort(means)
    picked = order[np.linspace(0, len(order) - 1, 25).astype(int)]
    assert means[picked].max() > 50 and means[picked].min() < 1.0
    for i in picked:
        draws = rng.poisson(means[i], DRAWS)
        _check_empirical_quantile(draws, lows[i], 0.1)
        _check_empirical_quantile(draws, highs[i], 0.9)


def test_summed_approaches_use_the_summed_mean(model_dir):
    """Sums of independent Poissons: total over types, and approaches summed before the
    interval; adding up the per-approach percentiles would give a wider, wrong interval."""
    frame = predictions.predict(
        model=model_dir, intersection="all", direction="all", at="2026-03-31T08:00", interval=90
    )
    assert len(frame) == 48 and "car_p5" in frame and "car_p95" in frame
    rng = np.random.default_rng(11)
    for _, row in frame.sample(5, random_state=0).iterrows():
        draws = sum(rng.poisson(row[t], DRAWS) for t in features.VEHICLE_TYPES)
        _check_empirical_quantile(draws, row["total_p5"], 0.05)
        _check_empirical_quantile(draws, row["total_p95"], 0.95)

    city = frame.groupby("local_time", as_index=False)[MEANS].sum()
    city = predictions.add_interval(city, 90)
    assert len(city) == 1 and city["car"].iloc[0] > 100
    draws = sum(rng.poisson(m, DRAWS) for m in frame["car"])  # one draw per approach, summed
    _check_empirical_quantile(draws, city["car_p5"].iloc[0], 0.05)
    _check_empirical_quantile(draws, city["car_p95"].iloc[0], 0.95)
    assert city["car_p95"].iloc[0] < frame["car_p95"].sum()
    assert city["car_p5"].iloc[0] > frame["car_p5"].sum()


def test_interval_in_csv_and_json(model_dir, capsys):
    argv = ["predict", "--model", model_dir, "--intersection", "X002", "--direction", "E"]
    argv += ["--at", "2026-03-31T08:00", "--hours", "2", "--interval", "95"]
    assert cli_main([*argv, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header = HEADER_AT
    for name in MEANS:
        header = header.replace(f",{name}", f",{name},{name}_p2.5,{name}_p97.5")
    assert ",".join(rows[0]) == header and len(rows) == 3
    assert all(row[rows[0].index("car_p97.5")].isdigit() for row in rows[1:])

    assert cli_main([*argv, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert isinstance(records[0]["bicycle_p97.5"], int)
    assert records[0]["car_p2.5"] <= records[0]["car"] <= records[0]["car_p97.5"]


@pytest.mark.parametrize("value", ["0", "100", "-10", "80.5", "eighty", ""])
def test_a_bad_interval_is_one_line_and_exit_code_2(model_dir, capsys, value):
    argv = ["predict", "--model", model_dir, "--week", "--interval", value]
    assert cli_main(argv) == 2
    assert "--interval" in _one_error_line(capsys)
    with pytest.raises(ModelError, match="--interval"):
        predictions.predict(model=model_dir, week=True, interval=value)

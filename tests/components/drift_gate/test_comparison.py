"""The drift comparison on real TFDV statistics of generated London data.

Statistics are TFDV's own (``generate_statistics_from_dataframe`` on the generator's
rows, and ``derived.cell_statistics`` on vehicle counts); a broken detector is one
approach with every second row dropped. The L-infinity values are checked against the
shares counted with pandas, which share no code with TFDV.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

from components.drift_gate import checks, comparison, derived
from deploy.datasets.synthetic import cities, generator
from transforms import features

BROKEN = ("LDN-0001", "N")
WINDOW_COLUMNS = [features.INTERSECTION, features.DIRECTION, features.VEHICLE_TYPE]


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """(first week, second week, second week with one approach halved) as DataFrames."""
    out = tmp_path_factory.mktemp("london")
    generator.generate(cities.get_city("london"), out, days=14, intersections=3, seed=7)
    days = sorted(out.glob("*.csv"))
    first = pd.concat(pd.read_csv(p) for p in days[:7])
    second = pd.concat(pd.read_csv(p) for p in days[7:])
    broken_rows = (second[features.INTERSECTION] == BROKEN[0]) & (
        second[features.DIRECTION] == BROKEN[1]
    )
    keep = ~broken_rows | (broken_rows.cumsum() % 2 == 1)
    return first, second, second[keep]


def _window_stats(frame: pd.DataFrame):
    return tfdv.generate_statistics_from_dataframe(frame[WINDOW_COLUMNS])


def _derived_stats(frame: pd.DataFrame):
    hours = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_convert("Europe/London").dt.hour
    cells = frame.groupby([frame[features.INTERSECTION], frame[features.DIRECTION], hours]).size()
    return derived.cell_statistics({k: int(v) for k, v in cells.items()})


def _linf(a: pd.Series, b: pd.Series) -> float:
    shares = pd.concat([a.value_counts(normalize=True), b.value_counts(normalize=True)], axis=1)
    return float((shares.fillna(0).iloc[:, 0] - shares.fillna(0).iloc[:, 1]).abs().max())


def _by_feature(measurements):
    return {m.feature: m for m in measurements}


def test_l_infinity_values_are_the_largest_share_change(weeks):
    first, _, broken = weeks
    found, _ = comparison.compare(
        _window_stats(broken), _window_stats(first), checks.DEFAULT_THRESHOLDS, "train"
    )
    measured = _by_feature(found)
    assert set(measured) == set(WINDOW_COLUMNS)
    for name in WINDOW_COLUMNS:
        assert measured[name].comparator == checks.L_INFINITY
        assert measured[name].value == pytest.approx(_linf(broken[name], first[name]), abs=1e-9)


def test_halving_one_approach_drifts_its_mix_and_an_unbroken_week_does_not(weeks):
    first, second, broken = weeks
    thresholds = checks.DEFAULT_THRESHOLDS
    clean = _by_feature(
        comparison.compare(_window_stats(second), _window_stats(first), thresholds, "train")[0]
        + comparison.compare(_derived_stats(second), _derived_stats(first), thresholds, "train")[0]
    )
    bad = _by_feature(
        comparison.compare(_window_stats(broken), _window_stats(first), thresholds, "train")[0]
        + comparison.compare(_derived_stats(broken), _derived_stats(first), thresholds, "train")[0]
    )
    assert not [m.describe() for m in clean.values() if m.drifted]
    drifted = checks.drifted_features(list(bad.values()))
    assert {features.DIRECTION, checks.APPROACH} <= set(drifted)
    assert features.VEHICLE_TYPE not in drifted  # one approach's types keep their mix
    for name in (features.DIRECTION, checks.APPROACH, checks.APPROACH_HOUR):
        assert bad[name].value > clean[name].value
    # The approach's share fell by about half of what it was.
    share = (
        (first[features.INTERSECTION] == BROKEN[0]) & (first[features.DIRECTION] == "N")
    ).mean()
    assert bad[checks.APPROACH].value == pytest.approx(share / 2, rel=0.35)


def test_jensen_shannon_of_the_hourly_volume_per_approach(weeks):
    first, _, broken = weeks
    found, anomalies = comparison.compare(
        _derived_stats(broken), _derived_stats(first), {checks.APPROACH_HOUR: 0.0}, "eval"
    )
    [m] = found
    assert (m.split, m.feature, m.comparator) == (
        "eval",
        checks.APPROACH_HOUR,
        checks.JENSEN_SHANNON,
    )
    assert 0 < m.value < 1 and m.drifted
    assert checks.APPROACH_HOUR in anomalies.anomaly_info  # TFDV's own verdict agrees


def test_a_feature_on_one_side_only_counts_as_drifted(weeks):
    first, second, _ = weeks
    found, _ = comparison.compare(
        _window_stats(second),
        tfdv.generate_statistics_from_dataframe(first[[features.DIRECTION]]),
        checks.DEFAULT_THRESHOLDS,
        "train",
    )
    measured = _by_feature(found)
    assert math.isinf(measured[features.INTERSECTION].value)
    assert measured[features.INTERSECTION].drifted
    assert not measured[features.DIRECTION].drifted

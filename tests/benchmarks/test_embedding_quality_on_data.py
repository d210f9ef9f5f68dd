"""embedding_quality against a profile computed from the daily files themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.embedding_quality import (
    embedding_quality,
    pairwise_distances,
    profile_from_data,
    spearman,
    traffic_profiles,
)
from deploy.datasets.synthetic import cities, generator
from transforms import features

DAYS = 7


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    generator.generate(cities.get_city("london"), out, days=DAYS, intersections=2, scale=0.3)
    return out


def _write_embedding(model_dir, vectors: np.ndarray) -> str:
    model_dir.mkdir()
    lines = ["\t".join(f"{v:.6f}" for v in row) for row in vectors]
    (model_dir / features.EMBEDDING_TSV).write_text("\n".join(lines) + "\n")
    return str(model_dir)


def test_profile_counts_every_vehicle_in_its_local_weekday_hour(city):
    mean, covered = profile_from_data(str(city), "Europe/London")
    assert covered.all()  # 7 consecutive days cover every weekday
    # Independent count with pandas: local hour of every row, per type.
    frame = pd.concat(pd.read_csv(f) for f in sorted(city.glob("*.csv*")))
    local = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_convert("Europe/London")
    cell = local.dt.dayofweek * 24 + local.dt.hour
    for t, vehicle_type in enumerate(features.VEHICLE_TYPES):
        expected = np.bincount(cell[frame["vehicle_type"] == vehicle_type], minlength=168)
        np.testing.assert_allclose(mean[:, t], expected + 0.5)  # one day per weekday


def test_data_profile_agrees_with_the_generators_truth(city):
    truth = generator.load_ground_truth(city)
    mean, _ = profile_from_data(str(city), "Europe/London")
    rho = spearman(
        pairwise_distances(traffic_profiles(truth)), pairwise_distances(traffic_profiles(mean))
    )
    assert rho > 0.8, rho


def test_embedding_quality_on_data_ranks_a_faithful_embedding_above_a_shuffled_one(city, tmp_path):
    truth_profiles = traffic_profiles(generator.load_ground_truth(city))
    faithful = _write_embedding(tmp_path / "faithful", truth_profiles)
    shuffled = _write_embedding(
        tmp_path / "shuffled", np.random.default_rng(0).permutation(truth_profiles)
    )
    good = embedding_quality(faithful, data_dir=str(city), timezone="Europe/London")
    bad = embedding_quality(shuffled, data_dir=str(city), timezone="Europe/London")
    assert good > 0.8 > 0.2 > bad, (good, bad)


def test_data_without_daily_files_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no daily input file"):
        profile_from_data(str(tmp_path), "Europe/London")

"""transforms.low_rank on data of known low rank."""

import numpy as np

from deploy.insights import accuracy
from transforms import low_rank


def low_rank_counts(seed: int = 3):
    """Rates (60, 168) mixing three weekly profiles; vehicles over 3 hours per cell."""
    rng = np.random.default_rng(seed)
    hour = np.arange(168) % 24
    profiles = np.stack(
        [
            1.0 + 4.0 * np.exp(-0.5 * ((hour - 8) / 1.5) ** 2),  # morning peak
            1.0 + 4.0 * np.exp(-0.5 * ((hour - 17) / 1.5) ** 2),  # evening peak
            0.5 + 0.0 * hour,  # flat
        ]
    )
    truth = rng.gamma(2.0, 1.0, (60, 3)) @ profiles
    hours = np.full(truth.shape, 3.0)
    return truth, rng.poisson(truth * hours).astype(float), hours, profiles


def _excess(rate: np.ndarray, truth: np.ndarray) -> float:
    return float(accuracy.poisson_kl(rate, truth).mean())


def test_low_rank_pooling_beats_each_cells_own_mean_and_known_profiles_beat_both():
    truth, vehicles, hours, profiles = low_rank_counts()
    own_mean = _excess(vehicles / hours, truth)
    nmf = _excess(low_rank.poisson_nmf(vehicles, hours, rank=3), truth)
    oracle = _excess(low_rank.poisson_nmf(vehicles, hours, 3, profiles=profiles), truth)
    assert nmf < 0.5 * own_mean
    assert oracle < nmf


def test_the_same_seed_gives_the_same_rates_and_rows_round_trip():
    _, vehicles, hours, _ = low_rank_counts()
    first = low_rank.poisson_nmf(vehicles, hours, 3, iterations=50)
    np.testing.assert_array_equal(first, low_rank.poisson_nmf(vehicles, hours, 3, iterations=50))
    table = np.arange(2 * 168 * 4, dtype=float).reshape(2, 168, 4)
    rows = low_rank.table_rows(table)
    np.testing.assert_array_equal(rows[1], table[0, :, 1])
    np.testing.assert_array_equal(low_rank.from_rows(rows, 4), table)

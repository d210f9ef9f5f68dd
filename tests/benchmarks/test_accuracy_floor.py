"""benchmarks/accuracy_floor.py: the oracle profiles refit the truth at its rank."""

from benchmarks import accuracy_floor
from tests.transforms.test_low_rank import low_rank_counts


def test_truth_profiles_refit_the_truth_exactly_at_its_rank():
    truth, *_ = low_rank_counts()
    _, fit_at_rank = accuracy_floor.truth_profiles(truth, rank=3)
    _, fit_below = accuracy_floor.truth_profiles(truth, rank=1)
    assert fit_at_rank < 1e-3 < fit_below

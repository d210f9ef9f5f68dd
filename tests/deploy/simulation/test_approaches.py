"""The compass mapping shared by simulate and advise."""

import pytest

from deploy.datasets.simulation.approaches import direction_of_travel, edge_direction


@pytest.mark.parametrize(
    ("dx", "dy", "expected"),
    [
        (0, 1, "N"),
        (1, 0, "E"),
        (0, -1, "S"),
        (-1, 0, "W"),
        (1, 0.9, "E"),
        (0.9, 1, "N"),
        (-1, -0.2, "W"),
    ],
)
def test_direction_of_travel(dx, dy, expected):
    assert direction_of_travel(dx, dy) == expected


def test_edge_direction_uses_the_last_segment():
    # An edge that bends: heads east, then north into the junction.
    assert edge_direction([(0, 0), (100, 0), (100, 50)]) == "N"


def test_zero_length_is_an_error():
    with pytest.raises(ValueError, match="zero-length"):
        direction_of_travel(0, 0)

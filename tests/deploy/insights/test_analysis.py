"""The pure helpers of the report on constructed embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from deploy.insights import analysis
from transforms import features

CELLS = features.all_day_hours()


def _grid_vectors() -> np.ndarray:
    """Cells placed at (day, hour): every cell's nearest cells are its hour neighbours."""
    return np.asarray([[10.0 * d, float(h)] for d, h in CELLS])


def test_a_2d_map_is_the_centred_embedding_and_pca_keeps_distances_of_planar_3d_data():
    vectors = _grid_vectors()
    points, explained = analysis.project_2d(vectors)
    np.testing.assert_allclose(points, vectors - vectors.mean(axis=0))
    assert explained[0] > explained[1] and sum(explained) == pytest.approx(1.0)

    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    lifted = np.column_stack([vectors, np.zeros(len(vectors))]) @ rotation + 5.0
    projected, explained3 = analysis.project_2d(lifted)
    assert sum(explained3) == pytest.approx(1.0)  # the data is planar
    np.testing.assert_allclose(pdist(projected), pdist(vectors), rtol=1e-9, atol=1e-9)


def test_nearest_neighbours_are_the_adjacent_hours_of_the_same_day():
    rows = analysis.nearest_neighbours(_grid_vectors(), k=2)
    assert len(rows) == 168 * 2
    tue_08 = [r for r in rows if r["label"] == "Tue 08:00"]
    assert {r["neighbour_label"] for r in tue_08} == {"Tue 07:00", "Tue 09:00"}
    assert [r["rank"] for r in tue_08] == [1, 2]
    assert all(r["distance"] == pytest.approx(1.0) for r in tue_08)
    mon_00 = [r for r in rows if r["label"] == "Mon 00:00"]
    assert [r["neighbour_label"] for r in mon_00] == ["Mon 01:00", "Mon 02:00"]


def test_regimes_recover_well_separated_groups_ordered_by_volume():
    rng = np.random.default_rng(1)
    night = {i for i, (_, h) in enumerate(CELLS) if h < 6}
    weekend_day = {i for i, (d, h) in enumerate(CELLS) if d >= 5 and h >= 6}
    group = np.asarray([0 if i in night else 1 if i in weekend_day else 2 for i in range(168)])
    centres = np.asarray([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    vectors = centres[group] + rng.normal(scale=0.1, size=(168, 2))
    volume = np.asarray([10.0, 500.0, 900.0])[group]
    per_hour = np.column_stack([0.5 * volume, 0.1 * volume, 0.1 * volume, 0.3 * volume])

    assignment, found = analysis.regimes(vectors, per_hour, k=3)
    assert [len(r.cells) for r in found] == [len(night), len(weekend_day), 168 - 42 - 36]
    assert set(found[0].cells) == night and set(found[1].cells) == weekend_day
    assert [r.name for r in found] == ["all days 00-05h", "weekend 06-23h", "weekday 06-23h"]
    assert found[2].mean_vehicles_per_hour == pytest.approx(900.0)
    assert found[0].type_shares == pytest.approx(
        {"car": 0.5, "truck": 0.1, "bus": 0.1, "bicycle": 0.3}
    )
    assert assignment[CELLS.index((1, 8))] == 2


def test_hour_span_wraps_around_midnight():
    assert analysis.hour_span({22, 23, 0, 1, 5}) == (22, 5)
    assert analysis.hour_span({7, 8, 9}) == (7, 9)


def test_procrustes_undoes_rotation_reflection_scale_and_translation():
    reference = _grid_vectors()
    angle = 0.7
    rotation = np.asarray([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    other = 3.0 * (reference @ rotation) * np.asarray([1.0, -1.0]) + np.asarray([4.0, -2.0])
    aligned = analysis.procrustes_align(reference, other)
    assert aligned.disparity == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(aligned.shift, 0.0, atol=1e-10)

    moved = other.copy()
    moved[CELLS.index((6, 15))] += [50.0, 50.0]  # one cell moves in the other city
    shifted = analysis.procrustes_align(reference, moved)
    assert int(np.argmax(shifted.shift)) == CELLS.index((6, 15))


def test_distance_spearman_is_one_for_a_similar_shape_and_low_for_noise():
    reference = _grid_vectors()
    assert analysis.distance_spearman(reference, 2.0 * reference + 1.0) == pytest.approx(1.0)
    noise = np.random.default_rng(2).normal(size=reference.shape)
    assert abs(analysis.distance_spearman(reference, noise)) < 0.2


def test_relative_errors_use_only_busy_cells():
    truth = np.zeros((168, 4))
    truth[:, 0] = 100.0
    truth[:10, 1] = 60.0
    predicted = truth * 1.1
    predicted[:84, 0] = 80.0  # half the car cells 20% low, half 10% high
    errors = analysis.relative_errors(predicted, truth, min_truth=50.0)
    assert errors["car"].cells == 168
    assert errors["car"].median_relative_error == pytest.approx(0.15)
    assert (errors["truck"].median_relative_error, errors["truck"].cells) == (
        pytest.approx(0.1),
        10,
    )
    assert (errors["bus"].median_relative_error, errors["bus"].cells) == (None, 0)

"""Pure numpy/scipy helpers over the 168 day x hour vectors: map, neighbours, regimes, cities.

Every array of cells follows ``features.all_day_hours()`` order (Monday 00:00 first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import cdist, pdist
from scipy.stats import spearmanr

from deploy.insights.summary import TypeAccuracy
from transforms import features

DEFAULT_NEIGHBOURS = 5
DEFAULT_REGIMES = 5
REGIME_SEED = 0


def project_2d(vectors: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """[n, 2] map coordinates and the variance share each axis explains.

    2-D vectors are shown as learned (centred); wider ones by PCA (their top two
    principal components).
    """
    centred = vectors - vectors.mean(axis=0)
    if centred.shape[1] == 1:
        return np.column_stack([centred[:, 0], np.zeros(len(centred))]), [1.0, 0.0]
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s**2 / max(float((s**2).sum()), 1e-300)
    if centred.shape[1] == 2:
        return centred, [float(v) for v in variance]
    return centred @ vt[:2].T, [float(v) for v in variance[:2]]


def nearest_neighbours(vectors: np.ndarray, k: int = DEFAULT_NEIGHBOURS) -> list[dict]:
    """For each cell its ``k`` nearest other cells (Euclidean, in the full embedding)."""
    labels = [features.day_hour_label(d, h) for d, h in features.all_day_hours()]
    distances = cdist(vectors, vectors)
    np.fill_diagonal(distances, np.inf)
    rows = []
    for cell in range(len(vectors)):
        order = np.argsort(distances[cell], kind="stable")[:k]
        for rank, other in enumerate(order, start=1):
            rows.append(
                {
                    "cell": cell,
                    "label": labels[cell],
                    "neighbour": int(other),
                    "neighbour_label": labels[other],
                    "distance": float(distances[cell, other]),
                    "rank": rank,
                }
            )
    return rows


@dataclass(frozen=True)
class Regime:
    """A cluster of cells and its predicted traffic (city-wide vehicles per hour)."""

    regime: int
    name: str
    cells: list[int]
    mean_vehicles_per_hour: float
    type_shares: dict[str, float]

    @property
    def labels(self) -> list[str]:
        cells = features.all_day_hours()
        return [features.day_hour_label(*cells[c]) for c in self.cells]


def hour_span(hours: set[int]) -> tuple[int, int]:
    """The shortest circular run of hours covering ``hours``, e.g. {22, 23, 0, 5} -> (22, 5)."""
    ordered = sorted(hours)
    gaps = [
        ((ordered[(i + 1) % len(ordered)] - h) % features.HOURS_PER_DAY, i)
        for i, h in enumerate(ordered)
    ]
    _, i = max(gaps)  # the largest gap between consecutive member hours is left out
    return ordered[(i + 1) % len(ordered)], ordered[i]


def _describe(cells: list[int]) -> str:
    """A short name from the members, e.g. 'weekday 07-09h', 'weekend 11-18h', 'all days 22-05h'."""
    grid = features.all_day_hours()
    weekend = sum(grid[c][0] >= 5 for c in cells) / len(cells)
    kind = "weekday" if weekend <= 0.1 else "weekend" if weekend >= 0.9 else "all days"
    first, last = hour_span({grid[c][1] for c in cells})
    return f"{kind} {first:02d}-{last:02d}h"


def regimes(
    vectors: np.ndarray, per_hour: np.ndarray, k: int = DEFAULT_REGIMES, seed: int = REGIME_SEED
) -> tuple[np.ndarray, list[Regime]]:
    """k-means (k-means++ start, fixed seed) of the cells in the embedding.

    ``per_hour``: [168, types] predicted vehicles per hour. Returns each cell's regime
    id and the regimes ordered by predicted volume (quietest first).
    """
    _, assignment = kmeans2(vectors.astype(np.float64), k, minit="++", seed=seed)
    totals = per_hour.sum(axis=1)
    found = []
    for label in np.unique(assignment):
        cells = np.flatnonzero(assignment == label).tolist()
        mix = per_hour[cells].sum(axis=0)
        shares = mix / max(float(mix.sum()), 1e-12)
        found.append((float(totals[cells].mean()), cells, shares))
    found.sort(key=lambda item: item[0])
    ordered = np.empty(len(vectors), dtype=np.int64)
    out = []
    for new_id, (volume, cells, shares) in enumerate(found):
        ordered[cells] = new_id
        out.append(
            Regime(
                regime=new_id,
                name=_describe(cells),
                cells=cells,
                mean_vehicles_per_hour=volume,
                type_shares=dict(zip(features.VEHICLE_TYPES, map(float, shares), strict=True)),
            )
        )
    return ordered, out


def distance_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of the pairwise distances of two [n, d] point sets."""
    return float(spearmanr(pdist(a), pdist(b)).statistic)


@dataclass(frozen=True)
class Alignment:
    """``other`` mapped onto ``reference`` by an orthogonal Procrustes fit."""

    reference: np.ndarray  # centred, unit Frobenius norm
    aligned: np.ndarray  # other, centred, scaled to unit norm, rotated/reflected
    shift: np.ndarray  # per-cell distance between the two, same units
    disparity: float  # sum of squared shifts (0 = identical shapes)


def procrustes_align(reference: np.ndarray, other: np.ndarray) -> Alignment:
    """Centres and scales both to unit norm, then finds the orthogonal R minimising
    ||other R - reference|| (``scipy.linalg.orthogonal_procrustes``)."""

    def normalise(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(axis=0)
        return x / max(float(np.linalg.norm(x)), 1e-300)

    ref, oth = normalise(reference), normalise(other)
    rotation, _ = orthogonal_procrustes(oth, ref)
    aligned = oth @ rotation
    shift = np.linalg.norm(aligned - ref, axis=1)
    return Alignment(ref, aligned, shift, float((shift**2).sum()))


def relative_errors(
    predicted: np.ndarray, truth: np.ndarray, min_truth: float
) -> dict[str, TypeAccuracy]:
    """Per vehicle type: median |pred - true| / true over cells with true >= ``min_truth``."""
    out = {}
    for v, vehicle_type in enumerate(features.VEHICLE_TYPES):
        keep = truth[:, v] >= min_truth
        errors = np.abs(predicted[keep, v] - truth[keep, v]) / truth[keep, v]
        out[vehicle_type] = TypeAccuracy(
            median_relative_error=float(np.median(errors)) if keep.any() else None,
            cells=int(keep.sum()),
        )
    return out

"""Low-rank Poisson factorisation of an approach table: pure numpy.

Every (approach, type) row of vehicles per hour over the 168 day-hour cells is modelled
as a non-negative mix of ``rank`` weekly profiles, ``rate = W @ H``, fitted to
vehicles seen over exposure hours by maximum Poisson likelihood with Lee & Seung's
multiplicative updates (a Poisson NMF with exposure). Approaches share the profiles, so
a thin row borrows its shape from the others: the tide of an inbound approach, a
school's afternoon. Used by the calibration (``transforms.calibration``) and by
``benchmarks/accuracy_floor.py``.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

ITERATIONS = 1500
TINY = 1e-12


def poisson_nmf(
    vehicles: np.ndarray,
    hours: np.ndarray,
    rank: int,
    profiles: np.ndarray | None = None,
    iterations: int = ITERATIONS,
    seed: int = 0,
) -> np.ndarray:
    """Rates per hour ``W @ H`` (rows, cells) maximising the Poisson likelihood of
    ``vehicles`` seen over ``hours`` (both (rows, cells)). ``profiles`` (rank, cells):
    keep H fixed and fit only W. Deterministic for a given ``seed``."""
    weights, shapes = poisson_factors(vehicles, hours, rank, profiles, iterations, seed)
    return weights @ shapes


def poisson_factors(
    vehicles: np.ndarray,
    hours: np.ndarray,
    rank: int,
    profiles: np.ndarray | None = None,
    iterations: int = ITERATIONS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The mixes W (rows, rank) and profiles H (rank, cells) of ``poisson_nmf``.

    The products are small ((rows, rank) by (rank, 168)), so BLAS runs on one thread:
    on a shared 2-core machine its threads spun against the Trainer's, 3-10x slower.
    """
    rng = np.random.default_rng(seed)
    vehicles = np.asarray(vehicles, np.float64)
    hours = np.asarray(hours, np.float64)
    mean_rate = vehicles.sum(1, keepdims=True) / np.maximum(hours.sum(1, keepdims=True), 1.0)
    weights = rng.uniform(0.5, 1.5, (vehicles.shape[0], rank)) * mean_rate / rank
    fixed = profiles is not None
    if fixed:
        shapes = np.array(profiles, np.float64)
    else:
        shapes = rng.uniform(0.5, 1.5, (rank, vehicles.shape[1]))
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(iterations):
            ratio = vehicles / np.maximum(weights @ shapes, TINY)
            weights *= (ratio @ shapes.T) / np.maximum(hours @ shapes.T, TINY)
            if not fixed:
                ratio = vehicles / np.maximum(weights @ shapes, TINY)
                shapes *= (weights.T @ ratio) / np.maximum(weights.T @ hours, TINY)
    return weights, shapes


def table_rows(table: np.ndarray) -> np.ndarray:
    """(A, 168, T) -> (A * T, 168): one row per approach and type."""
    return np.moveaxis(table, 2, 1).reshape(-1, table.shape[1])


def from_rows(rows: np.ndarray, types: int) -> np.ndarray:
    """(A * T, 168) -> (A, 168, T), the inverse of ``table_rows``."""
    return np.moveaxis(rows.reshape(-1, types, rows.shape[1]), 1, 2)

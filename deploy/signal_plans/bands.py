"""Plan bands: the 168 local day-hour cells grouped into hours that share a timing plan.

A band is one timing plan per signal, switched in by time of day. Every signal of the
network switches at the same times (one ``WAUT``), so the bands are network-wide.

How (``plan_bands``):

1. Each cell has a feature vector: what its timing depends on. ``advise`` uses the
   critical flow ratios ``y`` of every green phase of every signal at that hour
   (``webster.flow_ratios`` of the predicted flows), so hours that need the same splits
   and cycle are close. The cells are clustered by k-means (k-means++ start, fixed seed)
   into ``n_bands`` groups; ``labels`` may give another grouping instead, e.g. the
   embedding's traffic regimes (``regime_labels``: ``deploy.insights.analysis.regimes``).
2. Each day is then made plannable: a band's hours within a day must be one run of
   consecutive hours (circular, so a night plan may run 22:00-06:00), and a day uses at
   most ``max_plans_per_day`` bands. While a day breaks either rule, the run of hours
   that is cheapest to hand to a neighbouring run's band (the least added squared
   distance to that band's centre) joins it. Each merge removes a run, so it ends.

3. A band used on more than one day class (Monday-Friday, Saturday, Sunday) is split
   into one band per class (``split_day_classes``, the default). k-means may put
   weekday midday and Saturday daytime together, and a plan timed for the band's
   busiest hour then serves the lighter of them with the heavier one's cycle: on the
   5x5 benchmark's weekdays, 79.8 s of time loss per vehicle at midday against 68.6
   split. A day's runs are unchanged, so each day keeps at most ``max_plans_per_day``
   plans.

Bands are numbered by load: band 0 has the smallest mean feature sum (the quietest).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2

from transforms import features

DEFAULT_MAX_PLANS_PER_DAY = 4
DAY_CLASSES = np.array([0, 0, 0, 0, 0, 1, 2])  # Monday-Friday, Saturday, Sunday
SEED = 0
HOURS = features.HOURS_PER_DAY
DAYS = features.DAYS_PER_WEEK


@dataclass(frozen=True)
class Bands:
    """Each of the 168 cells' band (``features.all_day_hours()`` order)."""

    assignment: np.ndarray  # [168] int, band per cell
    method: str

    @property
    def count(self) -> int:
        return int(self.assignment.max()) + 1

    def cells(self, band: int) -> np.ndarray:
        return np.flatnonzero(self.assignment == band)

    def day_runs(self, day: int) -> list[tuple[int, int, int]]:
        """``(band, first_hour, hours)`` runs of ``day``, circular (a run may wrap midnight)."""
        return circular_runs(self.assignment[day * HOURS : (day + 1) * HOURS])

    def windows(self, band: int) -> list[tuple[int, int, int]]:
        """``(day, first_hour, hours)`` of ``band``: one per day it is used."""
        return [(d, h, n) for d in range(DAYS) for b, h, n in self.day_runs(d) if b == band]

    def switches(self) -> list[tuple[int, int]]:
        """``(cell, band)`` where the band changes from the cell before (the week is
        circular: Monday 00:00 follows Sunday 23:00); empty for a single band."""
        changed = np.flatnonzero(np.roll(self.assignment, 1) != self.assignment)
        return [(int(c), int(self.assignment[c])) for c in changed]

    def describe(self, band: int) -> tuple[str, str]:
        """(days, hours) text, e.g. ``("Mon-Fri", "07:00-10:00")``; hours differing by day
        are listed per day group: ``("Mon-Sun", "Mon-Fri 07:00-10:00; Sat-Sun 10:00-14:00")``."""
        windows = self.windows(band)
        by_hours: dict[tuple[int, int], list[int]] = {}
        for day, first, n in windows:
            by_hours.setdefault((first, n), []).append(day)
        days = day_list([d for d, _, _ in windows])
        spans = [(_hours_text(f, n), day_list(ds)) for (f, n), ds in by_hours.items()]
        if len(spans) == 1:
            return days, spans[0][0]
        return days, "; ".join(f"{ds} {text}" for text, ds in spans)

    def when(self, band: int) -> str:
        """One line: ``"Mon-Fri 07:00-10:00"`` or ``"Mon-Thu 07:00-10:00; Fri 07:00-11:00"``."""
        days, hours = self.describe(band)
        return hours if ";" in hours else f"{days} {hours}"


def _hours_text(first: int, hours: int) -> str:
    if hours >= HOURS:
        return "00:00-24:00"
    return f"{first:02d}:00-{(first + hours) % HOURS:02d}:00"


def day_list(days: list[int]) -> str:
    """``[0, 1, 2, 3, 4, 6]`` -> ``"Mon-Fri,Sun"``."""
    names = features.DAY_NAMES
    out, run = [], []
    for d in sorted(set(days)):
        if run and d != run[-1] + 1:
            out.append(run)
            run = []
        run.append(d)
    if run:
        out.append(run)
    return ",".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]}-{names[r[-1]]}" for r in out)


def circular_runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """``(label, first, length)`` runs of a circular sequence (first run may wrap)."""
    n = len(labels)
    if np.all(labels == labels[0]):
        return [(int(labels[0]), 0, n)]
    start = next(i for i in range(n) if labels[i] != labels[i - 1])  # a run boundary
    runs, first, length = [], start, 0
    for k in range(n):
        i = (start + k) % n
        if length and labels[i] != labels[first]:
            runs.append((int(labels[first]), first, length))
            first, length = i, 0
        length += 1
    runs.append((int(labels[first]), first, length))
    return runs


def _plannable(runs: list[tuple[int, int, int]], cap: int) -> bool:
    bands = {b for b, _, _ in runs}
    return len(bands) == len(runs) and len(bands) <= cap


def _fix_day(day: np.ndarray, x: np.ndarray, centres: dict[int, np.ndarray], cap: int) -> None:
    """Merges runs of ``day`` (labels, in place) until it is plannable."""
    n = len(day)
    while not _plannable(runs := circular_runs(day), cap):
        best = None
        for k, (band, first, length) in enumerate(runs):
            hours = [(first + i) % n for i in range(length)]
            own = float(((x[hours] - centres[band]) ** 2).sum())
            for other in {runs[k - 1][0], runs[(k + 1) % len(runs)][0]} - {band}:
                cost = float(((x[hours] - centres[other]) ** 2).sum()) - own
                if best is None or cost < best[0]:
                    best = (cost, hours, other)
        _, hours, other = best
        day[hours] = other


def kmeans_labels(x: np.ndarray, n_bands: int, seed: int = SEED) -> np.ndarray:
    """[168] k-means labels of the cells' features (fewer groups if fewer distinct rows)."""
    k = min(n_bands, len(np.unique(x, axis=0)))
    if k <= 1:
        return np.zeros(len(x), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty cluster is just not used
        _, labels = kmeans2(x, k, minit="++", seed=seed)
    return labels.astype(np.int64)


def regime_labels(vectors: np.ndarray, per_hour: np.ndarray, n_bands: int) -> np.ndarray:
    """[168] the embedding's traffic regimes (``analysis.regimes``) as band labels."""
    from deploy.insights.analysis import regimes

    assignment, _ = regimes(vectors, per_hour, k=n_bands)
    return assignment


def plan_bands(
    x: np.ndarray,
    max_plans_per_day: int = DEFAULT_MAX_PLANS_PER_DAY,
    n_bands: int | None = None,
    labels: np.ndarray | None = None,
    method: str = "flows",
    split_day_classes: bool = True,
) -> Bands:
    """Bands of the 168 cells from their features ``x`` [168, D] (see the module doc).

    ``n_bands``: k-means groups (default ``max_plans_per_day + 1``: room for a weekend
    plan); ``labels``: a grouping to start from instead of k-means;
    ``split_day_classes``: one band per day class of each band (step 3).
    """
    x = np.asarray(x, dtype=np.float64).reshape(features.DAY_HOUR_CELLS, -1)
    if max_plans_per_day < 1:
        raise ValueError("max_plans_per_day must be >= 1")
    if labels is None:
        labels = kmeans_labels(x, n_bands or max_plans_per_day + 1)
    labels = np.asarray(labels, dtype=np.int64).copy()
    centres = {int(b): x[labels == b].mean(axis=0) for b in np.unique(labels)}
    for day in range(DAYS):
        view = labels[day * HOURS : (day + 1) * HOURS]
        _fix_day(view, x[day * HOURS : (day + 1) * HOURS], centres, max_plans_per_day)
    if split_day_classes:
        cell_class = np.repeat(DAY_CLASSES, HOURS)
        labels = labels * (DAY_CLASSES.max() + 1) + cell_class
    used = np.unique(labels)
    load = [float(x[labels == b].sum(axis=1).mean()) for b in used]
    order = {int(used[i]): rank for rank, i in enumerate(np.argsort(load, kind="stable"))}
    assignment = np.asarray([order[int(b)] for b in labels], dtype=np.int64)
    return Bands(assignment, method)


def single_band() -> Bands:
    """One band for the whole week: the best single all-day plan."""
    return Bands(np.zeros(features.DAY_HOUR_CELLS, dtype=np.int64), "single")

"""What the drift gate compares, with which TFDV comparator, and how it reports it.

Light (no TFX or TensorFlow import): the config, the run summary, ``history`` and the
CLI read it. Every default threshold lives here, once.

A check is one feature of the run's statistics and one TFDV drift comparator:

- ``intersection_id``, ``direction``, ``vehicle_type``: the row mix of each
  (StatisticsGen's statistics), L-infinity distance between the two runs' shares.
- ``approach`` (derived): the mix of ``intersection_id/direction``, L-infinity.
- ``approach_hour`` (derived): the hourly volume per approach, i.e. the share of all
  vehicles in each ``intersection_id/direction/local hour`` cell, Jensen-Shannon.
- the labels: ``seconds_to_next_vehicle`` (events) or ``vehicle_count`` (counts),
  Jensen-Shannon divergence of TFDV's histograms.

The derived features are not in the Examples: ``derived.py`` counts vehicles per cell
(a row of events data is one vehicle, a row of counts data ``vehicle_count`` of them).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from transforms import features

MODES = ("off", "warn", "block")
DEFAULT_MODE = "off"
# The recent-days check (recent.py): the newest days of the window compared with the
# baseline run's days before them; 0 turns it off. A week: every day of the week once.
DEFAULT_RECENT_DAYS = 7

L_INFINITY = "infinity_norm"  # field names of tensorflow_metadata's FeatureComparator
JENSEN_SHANNON = "jensen_shannon_divergence"
SHORT_NAMES = {L_INFINITY: "L-inf", JENSEN_SHANNON: "JS"}

APPROACH = "approach"  # derived: intersection_id/direction
APPROACH_HOUR = "approach_hour"  # derived: intersection_id/direction/HH (local hour)
WINDOW, DERIVED = "window", "derived"  # where a check's statistics come from

# feature: (comparator, default threshold, source). The defaults come from two weeks of
# generated London (docs/drift.md): week to week, unbroken, the mixes moved by at most
# 0.014 and a halved approach moved them by 0.027-0.078; the Jensen-Shannon values
# (0.013-0.053) were sampling noise there, broken or not, hence their looser default.
CHECKS: dict[str, tuple[str, float, str]] = {
    features.INTERSECTION: (L_INFINITY, 0.02, WINDOW),
    features.DIRECTION: (L_INFINITY, 0.02, WINDOW),
    APPROACH: (L_INFINITY, 0.02, DERIVED),
    features.VEHICLE_TYPE: (L_INFINITY, 0.03, WINDOW),
    APPROACH_HOUR: (JENSEN_SHANNON, 0.1, DERIVED),
    features.SECONDS_TO_NEXT_VEHICLE: (JENSEN_SHANNON, 0.1, WINDOW),
    features.VEHICLE_COUNT: (JENSEN_SHANNON, 0.1, WINDOW),
}
DEFAULT_THRESHOLDS = {name: check[1] for name, check in CHECKS.items()}

# Custom properties. On the blessing (FastEvaluator): the drift statistics of the data
# the blessed model was trained on; on the DriftGate's anomalies: the result.
BLESSING_STATISTICS_URI = "drift_statistics_uri"
RESULT = "drift_result"  # OK | DRIFT | NO_BASELINE | BASELINE_MISSING
DRIFTED_FEATURES = "drift_features"  # comma-separated
MEASUREMENTS = "drift_measurements"  # JSON list of Measurement dicts
MODE = "drift_mode"
BLOCKED = "drift_blocked"  # 1: mode block and DRIFT; the Evaluator does not bless
BASELINE_URI = "drift_baseline_statistics_uri"
# JSON of what the recent-days check compared (recent.Parts); '' when it did not run.
RECENT_PARTS = "drift_recent"
OK, DRIFT, NO_BASELINE = "OK", "DRIFT", "NO_BASELINE"
BASELINE_MISSING = "BASELINE_MISSING"  # the blessing names drift statistics that are gone


@dataclass(frozen=True)
class RecentParts:
    """What the recent-days check compared (``recent.py``): ISO first/last days and day
    counts of each side ('' / 0: none)."""

    recent_first: str
    recent_last: str
    recent_days: int
    reference_first: str = ""
    reference_last: str = ""
    reference_days: int = 0
    compared: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RecentParts | None:
        return cls(**json.loads(text)) if text else None

    def describe(self) -> str:
        """e.g. ``recent 2026-03-23..2026-03-29 (7 days) vs 2026-03-02..2026-03-22 (21
        days) of the baseline``, or why they were not compared."""
        recent = f"recent {self.recent_first}..{self.recent_last} ({self.recent_days} days)"
        if not self.reference_days:
            return f"{recent}: not compared (the baseline has no day before {self.recent_first})"
        reference = f"{self.reference_first}..{self.reference_last} ({self.reference_days} days)"
        if not self.compared:
            return (
                f"{recent}: not compared (the baseline's days before them, {reference}, are fewer)"
            )
        return f"{recent} vs {reference} of the baseline"


def unknown_features(names: set[str]) -> str:
    """'' when every name is a check, else one line naming the unknown ones."""
    unknown = sorted(names - set(CHECKS))
    if not unknown:
        return ""
    return f"unknown drift feature(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}"


@dataclass(frozen=True)
class Measurement:
    """One comparison of one feature in one split: TFDV's value vs the threshold."""

    split: str
    feature: str
    comparator: str
    value: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.value > self.threshold

    def describe(self) -> str:
        """e.g. ``eval: direction L-inf 0.043 > 0.02``."""
        rel = ">" if self.drifted else "<="
        name = SHORT_NAMES.get(self.comparator, self.comparator)
        return f"{self.split}: {self.feature} {name} {self.value:.3g} {rel} {self.threshold:g}"


def to_json(measurements: list[Measurement]) -> str:
    return json.dumps([m.__dict__ for m in measurements], sort_keys=True)


def from_json(text: str) -> list[Measurement]:
    return [Measurement(**m) for m in json.loads(text or "[]")]


def drifted_features(measurements: list[Measurement]) -> list[str]:
    """The features over their threshold in any split, in CHECKS order."""
    over = {m.feature for m in measurements if m.drifted}
    return [f for f in CHECKS if f in over] + sorted(over - set(CHECKS))


def worst_by_feature(measurements: list[Measurement]) -> list[Measurement]:
    """Per feature, its measurement furthest over (or closest to) its threshold."""
    worst: dict[str, Measurement] = {}
    for m in measurements:
        if m.feature not in worst or _ratio(m) > _ratio(worst[m.feature]):
            worst[m.feature] = m
    return list(worst.values())


def _ratio(m: Measurement) -> float:
    return m.value / m.threshold if m.threshold else (math.inf if m.value else 0.0)


def summary_line(result: str, mode: str, measurements: list[Measurement]) -> str:
    """The run summary's one line, e.g. ``drift (block): DRIFT in direction, approach:
    eval: direction L-inf 0.0502 > 0.02; train: approach L-inf 0.0631 > 0.02`` (each
    drifted feature's worst split), or ``drift (warn): OK (closest: ...)``."""
    head = f"drift ({mode}): "
    if result == NO_BASELINE:
        return head + "no baseline (no earlier blessed run of the city with drift statistics)"
    if result == BASELINE_MISSING:
        return head + (
            "not compared: the last blessed run's drift statistics are gone "
            "(its drift_statistics_uri holds no statistics file)"
        )
    worst = worst_by_feature(measurements)
    if result == DRIFT:
        return (
            head
            + f"DRIFT in {', '.join(drifted_features(measurements))}: "
            + "; ".join(m.describe() for m in worst if m.drifted)
        )
    if not worst:
        return head + result
    return head + f"{result} (closest: {max(worst, key=_ratio).describe()})"


def blocked_reason(measurements: list[Measurement]) -> str:
    """Why the Evaluator withheld the blessing, naming the drifted features."""
    return f"the drift gate blocks this data (drift in {', '.join(drifted_features(measurements))})"


def history_cell(result: str, measurements: list[Measurement]) -> str:
    """The ``history`` column: ``drift OK``, ``drift -`` or ``drift DRIFT(direction,...)``."""
    if result == DRIFT:
        return f"drift DRIFT({','.join(drifted_features(measurements))})"
    cells = {NO_BASELINE: "drift no-baseline", BASELINE_MISSING: "drift baseline-missing"}
    return {**cells, "": "drift -"}.get(result, f"drift {result}")

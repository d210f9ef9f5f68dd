"""``explain``'s summary: the types its sections are built as and read back by.

``explainer.explain`` builds a ``Summary``; the report page (``report.py``), the
``explain`` command's lines (``deploy/cli/insights.py``) and ``advise``'s report section
(``deploy/signal_plans/advise.py``) read or write its fields by name, so writer and
readers cannot drift apart. ``Summary.to_json()`` is ``summary.json``: the same keys,
a section left out when it was not asked for, and nan written as null.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

# ApproachAccuracy.reference: what the model is scored against.
GROUND_TRUTH = "ground truth"
OBSERVED_COUNTS = "observed counts"


@dataclass(frozen=True)
class TypeAccuracy:
    """City-wide accuracy of one vehicle type against the generator's truth."""

    median_relative_error: float | None  # None: no cell is busy enough for this type
    cells: int


@dataclass(frozen=True)
class GroundTruthSection:
    """``--ground-truth``: the city-wide predictions per type against the truth."""

    file: str
    min_true_vehicles_per_hour: float
    per_type: dict[str, TypeAccuracy]


@dataclass(frozen=True)
class ShownApproach:
    """One approach whose weekly profile the report draws."""

    intersection_id: str
    direction: str
    why: str  # "busiest" | "worst predicted"
    total: float  # its true (or observed) vehicles over the cells scored
    abs_error: float  # the model's absolute error over them, vehicles
    rate_error: float | None


@dataclass(frozen=True)
class ApproachAccuracy:
    """Per approach: the model and the tables against the truth or the observed counts.

    ``scores`` maps a predictor's name to ``deploy.insights.accuracy.Scores.as_dict()``;
    ``note`` says why there are no scores when there are none.
    """

    reference: str  # GROUND_TRUTH | OBSERVED_COUNTS
    source: str
    busy_vehicles_per_hour: float
    what: str = ""
    note: str | None = None
    eval_from: str | None = None  # observed counts: the first eval day
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    shown: list[ShownApproach] = field(default_factory=list)


@dataclass(frozen=True)
class CellShift:
    label: str
    shift: float


@dataclass(frozen=True)
class ComparisonSection:
    """``--compare-with``: this model's map against another model's."""

    with_model: str  # summary.json key "with"
    with_city: str | None
    cross_city_distance_spearman: float
    procrustes_disparity: float
    mean_cell_shift: float
    largest_shifts: list[CellShift]


@dataclass(frozen=True)
class PlansSection:
    """``explain --network``: the signal plans written beside the report."""

    network: str
    page: str
    signals: int
    bands: int
    coordination: str
    max_y_per_band: dict[str, float]


@dataclass
class Summary:
    """What ``explain`` found; ``summary.json`` is ``to_json()``."""

    model: dict[str, Any]  # deploy.insights.lineage.Lineage.as_dict()
    embedding_dim: int
    map_explained_variance: list[float]
    approaches: int
    signal: str
    regimes: list[dict[str, Any]]
    metrics_overall: dict[str, float]
    ground_truth: GroundTruthSection | None = None
    approach_accuracy: ApproachAccuracy | None = None
    comparison: ComparisonSection | None = None
    signal_plans: PlansSection | None = None

    def to_json(self) -> dict[str, Any]:
        """``summary.json``'s dict: sections that are None left out, nan as None."""
        out = {
            f.name: _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }
        if "comparison" in out:
            out["comparison"] = {"with": out["comparison"].pop("with_model"), **out["comparison"]}
        if "approach_accuracy" in out:  # a section with a note has no figures, and vice versa
            out["approach_accuracy"] = {
                k: v for k, v in out["approach_accuracy"].items() if v not in (None, "", [], {})
            }
        return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

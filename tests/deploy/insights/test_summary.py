"""summary.json from the Summary type: the keys readers of the file rely on."""

from __future__ import annotations

import json
import math

from deploy.insights import accuracy
from deploy.insights.summary import (
    GROUND_TRUTH,
    ApproachAccuracy,
    CellShift,
    ComparisonSection,
    GroundTruthSection,
    ShownApproach,
    Summary,
    TypeAccuracy,
)
from transforms import features


def _summary(**sections) -> Summary:
    return Summary(
        model={"city": "x"},
        embedding_dim=2,
        map_explained_variance=[0.7, 0.3],
        approaches=4,
        signal="X-1",
        regimes=[{"regime": 0, "cells": 168}],
        metrics_overall={"example_count": 10.0},
        **sections,
    )


def test_sections_not_asked_for_are_left_out_of_the_file():
    out = _summary().to_json()
    assert set(out) == {
        "model",
        "embedding_dim",
        "map_explained_variance",
        "approaches",
        "signal",
        "regimes",
        "metrics_overall",
    }
    json.dumps(out, allow_nan=False)


def test_comparison_is_keyed_with_and_nan_scores_are_null():
    scores = accuracy.Scores(cells=10, busy_cells=2, nll=1.5).as_dict()
    summary = _summary(
        comparison=ComparisonSection(
            with_model="/m/2",
            with_city="y",
            cross_city_distance_spearman=0.5,
            procrustes_disparity=0.1,
            mean_cell_shift=0.2,
            largest_shifts=[CellShift("Mon 08:00", 0.4)],
        ),
        approach_accuracy=ApproachAccuracy(
            reference=GROUND_TRUTH,
            source="/d",
            busy_vehicles_per_hour=5.0,
            what="w",
            scores={"model": scores},
            shown=[ShownApproach("X-1", "N", "busiest", 10.0, 1.0, float("nan"))],
        ),
    )
    out = json.loads(json.dumps(summary.to_json(), allow_nan=False))
    assert out["comparison"]["with"] == "/m/2" and "with_model" not in out["comparison"]
    assert out["comparison"]["largest_shifts"] == [{"label": "Mon 08:00", "shift": 0.4}]
    acc = out["approach_accuracy"]
    assert acc["scores"]["model"]["nll"] == 1.5 and acc["scores"]["model"]["rate_error"] is None
    shown = acc["shown"][0]
    assert shown[features.INTERSECTION] == "X-1" and shown[features.DIRECTION] == "N"
    assert shown["rate_error"] is None and not math.isnan(shown["total"])
    assert "note" not in acc and "eval_from" not in acc


def test_a_section_with_a_note_has_only_its_head_and_note():
    acc = ApproachAccuracy(
        reference=GROUND_TRUTH, source="/d", busy_vehicles_per_hour=5.0, note="no truth"
    )
    out = _summary(approach_accuracy=acc).to_json()["approach_accuracy"]
    assert out == {
        "reference": GROUND_TRUTH,
        "source": "/d",
        "busy_vehicles_per_hour": 5.0,
        "note": "no truth",
    }


def test_a_type_without_busy_cells_keeps_its_null_error():
    truth = GroundTruthSection(
        file="/g", min_true_vehicles_per_hour=50.0, per_type={"bus": TypeAccuracy(None, 0)}
    )
    out = _summary(ground_truth=truth).to_json()["ground_truth"]
    assert out["per_type"]["bus"] == {"median_relative_error": None, "cells": 0}

"""``explain``: what a pushed model learned, as a self-contained report directory.

Writes into the report dir: ``index.html`` (everything inline, opens from disk with no
network), ``embedding.svg`` and ``embedding.png`` (the day x hour map),
``neighbours.csv``, ``regimes.csv`` and ``summary.json`` (the figures shown).
Uses only the model and its files (plus its ML Metadata record, when beside it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deploy.datasets.synthetic.generator import load_ground_truth
from deploy.insights import (
    analysis,
    approach_accuracy,
    figures,
    lineage,
    model_files,
    observed,
    predictions,
    report,
)
from deploy.insights.model_files import ModelError, ModelFiles
from deploy.insights.summary import (
    CellShift,
    ComparisonSection,
    GroundTruthSection,
    PlansSection,
    Summary,
)
from transforms import features

# Cells with fewer true vehicles per hour are left out of the relative error (the
# acceptance figure of issue 10: median relative error over cells with >= 50 veh/h).
MIN_TRUE_VEHICLES_PER_HOUR = 50.0
SUMMARY_FILE = "summary.json"
NEIGHBOURS_FILE = "neighbours.csv"
REGIMES_FILE = "regimes.csv"


@dataclass
class CityView:
    """One model's map, predictions and regimes (the compared city gets one too)."""

    files: ModelFiles
    points: np.ndarray  # [168, 2]
    explained: list[float]
    per_hour: np.ndarray  # [168, types] predicted city-wide vehicles per hour

    @property
    def name(self) -> str:
        return f"{self.files.city or '?'} {self.files.version}"


def _view(files: ModelFiles) -> CityView:
    points, explained = analysis.project_2d(files.vectors)
    return CityView(files, points, explained, predictions.city_week(files))


def _busiest_intersection(files: ModelFiles, per_approach: pd.DataFrame) -> str:
    totals = per_approach.groupby(features.INTERSECTION)[predictions.TOTAL].sum()
    return str(totals.idxmax())


def _compare_source(compare_with: str, output: str | None) -> ModelFiles:
    """``--compare-with``: a model dir (or ``latest:<city>``), else a city in ``output``."""
    if os.path.isdir(compare_with) or ":" in compare_with:
        return model_files.find(None, output, compare_with)
    return model_files.find(compare_with, output)


def explain(
    city: str | None = None,
    *,
    report_dir: str,
    output: str | None = None,
    model: str | None = None,
    compare_with: str | None = None,
    signal: str | None = None,
    ground_truth: str | None = None,
    observed_data: str | None = None,
    eval_days: int | None = None,
    regimes: int = analysis.DEFAULT_REGIMES,
    neighbours: int = analysis.DEFAULT_NEIGHBOURS,
    signal_plans: Callable[[str], PlansSection] | None = None,
) -> Summary:
    """Writes the report of a pushed model into ``report_dir``; returns its ``Summary``
    (``summary.json`` is ``Summary.to_json()``).

    ``signal``: the intersection of the per-signal heatmaps (default: the busiest);
    ``ground_truth``: the generator's ground_truth.json (or its dir), to state the
    prediction error per vehicle type and per approach; ``observed_data``: a data dir
    whose last ``eval_days`` days (default: the city's config) the model is scored on
    per approach instead; ``signal_plans(report_dir)``: writes the model's signal plans
    into the report dir and returns what the report shows of them (the ``explain
    --network`` command passes ``deploy.signal_plans.advise.report_section``; insights
    do not import advise, which builds on them). Raises ``ModelError`` on bad input.
    """
    files = model_files.find(city, output, model)
    view = _view(files)
    record = lineage.lineage_of(files)
    all_pairs = predictions.approaches_for(files, predictions.ALL, predictions.ALL)
    if signal is None:
        frame = predictions.run_model(files, all_pairs, predictions.week_times())
        signal = _busiest_intersection(files, frame)
    signal_pairs = predictions.approaches_for(files, signal, predictions.ALL, option="--signal")
    signal_per_hour = predictions.city_week(files, signal_pairs)

    assignment, found = analysis.regimes(files.vectors, view.per_hour, k=regimes)
    near = analysis.nearest_neighbours(files.vectors, k=neighbours)
    summary = Summary(
        model=record.as_dict(),
        embedding_dim=int(files.vectors.shape[1]),
        map_explained_variance=view.explained,
        approaches=len(all_pairs),
        signal=signal,
        regimes=[
            {
                "regime": r.regime,
                "name": r.name,
                "cells": len(r.cells),
                "mean_vehicles_per_hour": r.mean_vehicles_per_hour,
                "type_shares": r.type_shares,
            }
            for r in found
        ],
        metrics_overall=dict(record.metrics_by_slice[0][1]) if record.metrics_by_slice else {},
    )
    if ground_truth:
        try:
            truth = load_ground_truth(ground_truth)
        except ValueError as err:
            raise ModelError(str(err)) from err
        summary.ground_truth = GroundTruthSection(
            file=os.path.abspath(ground_truth),
            min_true_vehicles_per_hour=MIN_TRUE_VEHICLES_PER_HOUR,
            per_type=analysis.relative_errors(view.per_hour, truth, MIN_TRUE_VEHICLES_PER_HOUR),
        )
    approach_panels: approach_accuracy.Panels = []
    if ground_truth or observed_data:
        days = eval_days or observed.default_eval_days(files.city)
        try:
            if observed_data:
                found_acc, approach_panels = approach_accuracy.from_observed(
                    files, observed_data, days
                )
            else:
                found_acc, approach_panels = approach_accuracy.from_truth(files, ground_truth, days)
        except ValueError as err:
            flag = (
                f"--observed {observed_data}" if observed_data else f"--ground-truth {ground_truth}"
            )
            raise ModelError(f"{flag}: {err}") from err
        summary.approach_accuracy = found_acc
    other = None
    if compare_with:
        other = _view(_compare_source(compare_with, output))
        aligned = analysis.procrustes_align(files.vectors, other.files.vectors)
        summary.comparison = ComparisonSection(
            with_model=other.files.model_dir,
            with_city=other.files.city,
            cross_city_distance_spearman=analysis.distance_spearman(
                files.vectors, other.files.vectors
            ),
            procrustes_disparity=aligned.disparity,
            mean_cell_shift=float(aligned.shift.mean()),
            largest_shifts=[
                CellShift(features.day_hour_label(*features.all_day_hours()[c]), float(s))
                for c, s in sorted(enumerate(aligned.shift), key=lambda x: -x[1])[:5]
            ],
        )

    os.makedirs(report_dir, exist_ok=True)
    map_fig = figures.embedding_map(
        view.points,
        f"Day x hour embedding: {view.name}",
        "" if files.vectors.shape[1] == 2 else f"(PCA, {view.explained[0]:.0%} of variance)",
    )
    map_svg = figures.svg_text(map_fig)
    with open(os.path.join(report_dir, "embedding.svg"), "w") as f:
        f.write(map_svg)
    with open(os.path.join(report_dir, "embedding.png"), "wb") as f:
        f.write(figures.png_bytes(map_fig))
    pd.DataFrame(near).to_csv(os.path.join(report_dir, NEIGHBOURS_FILE), index=False)
    _regimes_frame(found).to_csv(os.path.join(report_dir, REGIMES_FILE), index=False)

    page = report.Page(
        title=f"What the {files.city or '?'} model learned",
        map_svg=map_svg,
        summary=summary,
        lineage=record,
        neighbours=near,
        regimes=found,
        assignment=assignment,
        city_heatmap_png=figures.png_bytes(
            figures.heatmaps(
                view.per_hour, f"Predicted vehicles per hour, city-wide ({files.city or city})"
            )
        ),
        signal_heatmap_png=figures.png_bytes(
            figures.heatmaps(signal_per_hour, f"Predicted vehicles per hour at signal {signal}")
        ),
    )
    if approach_panels:
        page.approach_png = figures.png_bytes(
            figures.approach_profiles(
                approach_panels,
                "Weekly profiles per approach: model vs " + summary.approach_accuracy.reference,
            )
        )
    if other is not None:
        page.comparison_svg = figures.svg_text(
            figures.comparison(aligned.reference, aligned.aligned, (view.name, other.name))
        )
        page.shift_png = figures.png_bytes(
            figures.shift_heatmap(aligned.shift, f"Per-cell shift after alignment: {other.name}")
        )
    if signal_plans is not None:
        summary.signal_plans = signal_plans(report_dir)
    with open(os.path.join(report_dir, "index.html"), "w") as f:
        f.write(report.render(page))
    with open(os.path.join(report_dir, SUMMARY_FILE), "w") as f:
        json.dump(summary.to_json(), f, indent=2)
    return summary


def _regimes_frame(found: list[analysis.Regime]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "regime": r.regime,
                "name": r.name,
                "cells": len(r.cells),
                "mean_vehicles_per_hour": round(r.mean_vehicles_per_hour, 2),
                **{f"share_{k}": round(v, 4) for k, v in r.type_shares.items()},
                "members": " ".join(label.replace(" ", "_") for label in r.labels),
            }
            for r in found
        ]
    )

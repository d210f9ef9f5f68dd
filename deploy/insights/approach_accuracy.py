"""``explain``'s per-approach accuracy: the model and the historical average per approach,
against the generator's truth (``--ground-truth``) or the observed eval days
(``--observed``), scored with ``accuracy`` like ``benchmarks/bench_accuracy.py``.

Each returns the summary's ``ApproachAccuracy`` section and the weekly-profile panels of
the shown approaches (the busiest and the worst-predicted ones).
"""

from __future__ import annotations

import os

import numpy as np

from deploy.datasets.synthetic.ground_truth import load_approach_intensity
from deploy.insights import accuracy, observed, predictions
from deploy.insights.model_files import ModelFiles
from deploy.insights.summary import GROUND_TRUTH, OBSERVED_COUNTS, ApproachAccuracy, ShownApproach
from transforms import features

MODEL = "model"
Panels = list[tuple[str, dict[str, np.ndarray]]]


def _shown(
    approaches: list[tuple[str, str]], rows: dict[str, np.ndarray], totals: np.ndarray
) -> list[tuple[int, ShownApproach]]:
    picked = accuracy.shown_approaches(totals, rows["abs_error"])
    busiest = set(picked[: len(picked) // 2]) if len(picked) > 1 else set(picked)
    out = []
    for i in picked:
        rate_error = float(rows["rate_error"][i])
        out.append(
            (
                i,
                ShownApproach(
                    intersection_id=approaches[i][0],
                    direction=approaches[i][1],
                    why="busiest" if i in busiest else "worst predicted",
                    total=float(totals[i]),
                    abs_error=float(rows["abs_error"][i]),
                    rate_error=None if np.isnan(rate_error) else rate_error,
                ),
            )
        )
    return out


def _data_dir_of(truth_path: str) -> str:
    return truth_path if os.path.isdir(truth_path) else os.path.dirname(os.path.abspath(truth_path))


def _historical(
    data_dir: str, files: ModelFiles, eval_days: int, approaches: list[tuple[str, str]]
) -> tuple[np.ndarray | None, str]:
    """The historical average of the daily files in ``data_dir`` for ``approaches``."""
    try:
        obs = observed.load(data_dir, files.timezone, eval_days)
        table = observed.baseline_tables(obs)[observed.HISTORICAL_AVERAGE]
        return observed.align(obs.approaches, table, approaches), ""
    except ValueError as err:
        return None, f"no historical average ({err})"


def from_truth(files: ModelFiles, path: str, eval_days: int) -> tuple[ApproachAccuracy, Panels]:
    """Per approach vs ``approach_intensity`` over the 168 weekly cells. The historical
    average is fitted on the train days of the daily files beside ground_truth.json."""
    head = {
        "reference": GROUND_TRUTH,
        "source": os.path.abspath(path),
        "busy_vehicles_per_hour": accuracy.BUSY_VEHICLES_PER_HOUR,
    }
    try:
        names, table = load_approach_intensity(path)
    except ValueError as err:
        return ApproachAccuracy(**head, note=f"no per-approach truth: {err}"), []
    known = set(files.approaches or names)
    approaches = [a for a in names if a in known]
    if not approaches:
        return ApproachAccuracy(**head, note="no approach of the truth was seen in training"), []
    truth = observed.align(names, table, approaches)
    tables = {MODEL: predictions.approach_week(files, approaches)}
    hist, note = _historical(_data_dir_of(path), files, eval_days, approaches)
    if hist is not None:
        tables[observed.HISTORICAL_AVERAGE] = hist
    cells = accuracy.week_cells(truth)
    true_rate = accuracy.lookup(truth, cells)
    busy = accuracy.busy_mask(true_rate)
    rows = accuracy.per_approach(
        accuracy.lookup(tables[MODEL], cells), true_rate, cells.approach, len(approaches)
    )
    shown = _shown(approaches, rows, rows["true_total"])
    out = ApproachAccuracy(
        **head,
        what=(
            f"The 168 weekly cells of the {len(approaches)} approaches in both the truth and "
            "the model; the historical average is fitted on the train days beside the truth"
            + (f" ({note})." if note else ".")
        ),
        scores={
            name: accuracy.score(accuracy.lookup(t, cells), busy=busy, truth=true_rate).as_dict()
            for name, t in tables.items()
        },
        shown=[record for _, record in shown],
    )
    panels = [
        (
            f"{record.intersection_id} {record.direction} ({record.why})",
            {"true": truth[i].sum(axis=1), **{n: t[i].sum(axis=1) for n, t in tables.items()}},
        )
        for i, record in shown
    ]
    return out, panels


def observed_profiles(obs: observed.Observations) -> np.ndarray:
    """(A, 168) mean observed vehicles per hour (all types) per approach and weekly cell
    over the eval window's hours; nan where a cell has no observed hour."""
    rows = obs.eval
    n = len(obs.approaches) * features.DAY_HOUR_CELLS
    slot = rows.approach * features.DAY_HOUR_CELLS + rows.cell
    vehicles = np.bincount(slot, weights=rows.count, minlength=n)
    pairs = np.unique(np.stack([slot, rows.utc_hour]), axis=1)
    hours = np.bincount(pairs[0], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(hours > 0, vehicles / hours, np.nan)
    return mean.reshape(len(obs.approaches), features.DAY_HOUR_CELLS)


def from_observed(
    files: ModelFiles, data_dir: str, eval_days: int
) -> tuple[ApproachAccuracy, Panels]:
    """Per approach vs the observed counts of ``data_dir``'s last ``eval_days`` days; the
    historical average is fitted on the days before. Raises ValueError on bad data."""
    obs = observed.load(data_dir, files.timezone, eval_days)
    baselines = observed.baseline_tables(obs)
    tables = {
        MODEL: predictions.approach_week(files, obs.approaches),
        observed.HISTORICAL_AVERAGE: baselines[observed.HISTORICAL_AVERAGE],
    }
    cells = obs.eval.cells()
    busy = accuracy.busy_mask(accuracy.lookup(baselines[observed.HISTORICAL_AVERAGE], cells))
    rows = accuracy.per_approach(
        accuracy.lookup(tables[MODEL], cells), cells.count, cells.approach, len(obs.approaches)
    )
    shown = _shown(obs.approaches, rows, rows["true_total"])
    profiles = observed_profiles(obs)
    out = ApproachAccuracy(
        reference=OBSERVED_COUNTS,
        source=os.path.abspath(data_dir),
        eval_from=obs.eval_from,
        busy_vehicles_per_hour=accuracy.BUSY_VEHICLES_PER_HOUR,
        what=(
            f"Observed {obs.data_kind} of the last {eval_days} days (from {obs.eval_from}), "
            f"{len(obs.approaches)} approaches; busy by the historical average of the days "
            "before; a shown approach's error is against its observed counts."
        ),
        scores={
            name: accuracy.score(accuracy.lookup(t, cells), busy=busy, count=cells.count).as_dict()
            for name, t in tables.items()
        },
        shown=[record for _, record in shown],
    )
    panels = [
        (
            f"{record.intersection_id} {record.direction} ({record.why})",
            {"observed": profiles[i], **{n: t[i].sum(axis=1) for n, t in tables.items()}},
        )
        for i, record in shown
    ]
    return out, panels

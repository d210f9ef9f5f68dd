"""Per-approach accuracy of the model and its baselines on the eval window of a data dir.

Scores expected vehicles per hour per approach x vehicle type x local hour of the eval
window (the data's last ``eval_days`` days, read as ExampleGen reads them:
``deploy.insights.observed``) against the observed counts (Poisson NLL per cell) and,
where ``ground_truth.json`` has ``approach_intensity``, against the truth (rate error
``sum |pred - true| / sum true``), over all cells and over busy cells (truth, else the
historical average, >= 5 vehicles per hour). Predictors: the pushed model (asked as
``predict`` asks it), the per-approach historical average of the train days
(``transforms.approach_table``), the same hour last week with the table's smoothing,
the day-class average (approach x type x hour of day, weekdays and weekends apart) and
the truth itself (the limit). Definitions: ``deploy/insights/accuracy.py``.

    python -m benchmarks.bench_accuracy --data OUT/data/london --output OUT --city london
    python -m benchmarks.bench_accuracy --data DIR --model-dir SERVING_DIR [--kind counts]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from deploy.datasets.synthetic.ground_truth import load_approach_intensity
from deploy.insights import accuracy, observed
from deploy.insights.accuracy import Scores
from transforms import features

MODEL = "model"
TRUTH = "truth (limit)"


@dataclass(frozen=True)
class Benchmark:
    """The scores of each predictor and what they were computed over."""

    scores: dict[str, Scores]
    data_kind: str
    eval_from: int
    approaches: int
    has_truth: bool
    by_day: list[accuracy.DayOfWeek] | None = None  # the model's, where truth is known


def run(
    obs: observed.Observations,
    model: np.ndarray | None = None,
    truth: np.ndarray | None = None,
) -> Benchmark:
    """Scores every predictor on ``obs``'s eval cells. ``model``, ``truth``: (A, 168, T)
    tables in ``obs.approaches`` order."""
    cells = obs.eval.cells()
    tables = {} if model is None else {MODEL: model}
    tables.update(observed.baseline_tables(obs))
    if truth is not None:
        tables[TRUTH] = truth
    true_rate = None if truth is None else accuracy.lookup(truth, cells)
    reference = (
        true_rate
        if true_rate is not None
        else accuracy.lookup(tables[observed.HISTORICAL_AVERAGE], cells)
    )
    busy = accuracy.busy_mask(reference)
    scores = {
        name: accuracy.score(
            accuracy.lookup(table, cells), busy=busy, count=cells.count, truth=true_rate
        )
        for name, table in tables.items()
    }
    by_day = None
    if truth is not None and model is not None:
        train = obs.train.cells()
        by_day = accuracy.by_day_of_week(
            accuracy.lookup(model, cells),
            true_rate,
            cells,
            busy,
            train,
            accuracy.lookup(truth, train),
        )
    return Benchmark(
        scores, obs.data_kind, obs.eval_from, len(obs.approaches), truth is not None, by_day
    )


def _fmt(value: float, percent: bool = False) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _signed(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.1%}"


def markdown(bench: Benchmark) -> str:
    """The figures as a markdown table."""
    first = next(iter(bench.scores.values()))
    lines = [
        f"{bench.data_kind} data, {bench.approaches} approaches, eval from "
        f"{bench.eval_from}: {first.cells} cells (approach x type x hour), "
        f"{first.busy_cells} busy (>= {accuracy.BUSY_VEHICLES_PER_HOUR:g} veh/h by the "
        f"{'truth' if bench.has_truth else 'historical average'})",
        "",
        "| predictor | NLL / cell | NLL / busy cell | rate error | rate error (busy) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in bench.scores.items():
        lines.append(
            f"| {name} | {_fmt(s.nll)} | {_fmt(s.nll_busy)} | "
            f"{_fmt(s.rate_error, True)} | {_fmt(s.rate_error_busy, True)} |"
        )
    if bench.by_day:
        lines += [
            "",
            "The model on busy cells by local day of week: expected NLL excess over the "
            "truth (Poisson KL) per cell, its level against the truth, and the level of "
            "the train days of that weekday (observed / the truth's expectation)",
            "",
            "| day | busy cells | model NLL excess / cell | model level | train days' level |",
            "|---|---:|---:|---:|---:|",
        ]
        for d in bench.by_day:
            lines.append(
                f"| {features.DAY_NAMES[d.day]} | {d.busy_cells} | "
                f"{_fmt(d.nll_excess_busy)} | {_signed(d.level_busy)} | {_signed(d.train_level)} |"
            )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The data, model and truth options (shared with ``accuracy_floor``)."""
    parser.add_argument("--data", required=True, help="the daily input files' dir")
    parser.add_argument("--model-dir", help="a pushed model dir (or Trainer artifact dir)")
    parser.add_argument("--output", help="output dir of `traffic-pipeline run` (with --city)")
    parser.add_argument("--city", help="the city: its latest pushed model in --output")
    parser.add_argument("--eval-days", type=int, help="default: the city's config, else 7")
    parser.add_argument("--ground-truth", help="default: DATA/ground_truth.json if present")
    parser.add_argument("--kind", choices=features.DATA_KINDS, help="default: from the files")
    parser.add_argument("--timezone", help="IANA zone (default: the model's)")


def load(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[observed.Observations, np.ndarray | None, np.ndarray | None]:
    """The observations, the model's (A, 168, T) table and the truth's (None where there
    is no model or no per-approach truth). ValueError / ModelError on bad input."""
    from deploy.insights import model_files, predictions

    files = None
    if args.model_dir or args.city:
        files = model_files.find(args.city, args.output, args.model_dir)
    timezone = args.timezone or (files.timezone if files else "")
    if not timezone:
        parser.error("give a model (--model-dir or --output/--city) or --timezone")
    city = args.city or (files.city if files else None)
    eval_days = args.eval_days or observed.default_eval_days(city)
    obs = observed.load(args.data, timezone, eval_days, args.kind)
    truth = None
    truth_path = args.ground_truth or os.path.join(args.data, "ground_truth.json")
    if args.ground_truth or os.path.exists(truth_path):
        try:
            names, table = load_approach_intensity(truth_path)
            truth = observed.align(names, table, obs.approaches)
        except ValueError as err:
            if args.ground_truth:
                raise
            print(f"note: no per-approach truth ({err})", file=sys.stderr)
    model = predictions.approach_week(files, obs.approaches) if files else None
    return obs, model, truth


def main(argv: list[str] | None = None) -> int:
    """CLI: prints the markdown table; exit code 2 on bad input."""
    from deploy.insights import model_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        obs, model, truth = load(parser, args)
    except (ValueError, model_files.ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(markdown(run(obs, model, truth)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

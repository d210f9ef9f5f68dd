"""``traffic-pipeline explain`` and ``traffic-pipeline predict``: argparse glue only.

Exit codes: 0 ok; 2 bad usage or input (no pushed model, a dir that is not one of our
models or a corrupt one, an unknown city, a malformed ``--at`` or ``--interval``, an
unwritable ``--report``, a count out of range), with one line on stderr.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

from deploy import exit_codes
from deploy.cli import int_in_range, positive_int
from deploy.insights import analysis
from deploy.insights.summary import ApproachAccuracy
from transforms import features

FORMATS = ("table", "csv", "json")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--city", help="the city (its latest pushed model in --output)")
    p.add_argument("--output", default="output", help="output dir (default: ./output)")
    p.add_argument(
        "--model", help="a pushed model dir, a Trainer model artifact dir, or latest:<city>"
    )


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``explain`` and ``predict``; each sets ``func(args) -> exit code``."""
    p = subparsers.add_parser("explain", help="an HTML report of what a pushed model learned")
    _add_model_args(p)
    p.add_argument(
        "--report", required=True, help="report dir (index.html and files), created if missing"
    )
    p.add_argument("--compare-with", help="another city (latest pushed) or model dir")
    p.add_argument("--signal", help="intersection of the per-signal heatmaps (default: busiest)")
    reference = p.add_mutually_exclusive_group()
    reference.add_argument(
        "--ground-truth", help="the generator's ground_truth.json (or its dir): score against it"
    )
    reference.add_argument(
        "--observed", metavar="DATA_DIR", help="daily input files: score on their last eval days"
    )
    p.add_argument(
        "--eval-days", type=positive_int, help="with --observed (default: the city's config)"
    )
    cells = features.DAY_HOUR_CELLS  # k-means clusters and neighbours of the 168 cells
    p.add_argument("--regimes", type=int_in_range(1, cells), default=analysis.DEFAULT_REGIMES)
    p.add_argument(
        "--neighbours", type=int_in_range(1, cells - 1), default=analysis.DEFAULT_NEIGHBOURS
    )
    p.add_argument(
        "--network",
        help="a SUMO .net.xml whose signals are the model's intersections: add its advised "
        "signal plans (plans.html: per signal the week's plan timeline and flows)",
    )
    p.set_defaults(func=explain_command)

    p = subparsers.add_parser("predict", help="predicted traffic from a pushed model")
    _add_model_args(p)
    p.add_argument("--intersection", default="all", help="an intersection id, or all")
    p.add_argument("--direction", default="all", help="N, E, S, W, or all")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", help="ISO-8601 time with offset, or local time in the city")
    when.add_argument("--week", action="store_true", help="the 168 local day-hour cells")
    p.add_argument(
        "--hours", type=positive_int, default=1, help="hourly steps from --at (default 1)"
    )
    p.add_argument(
        "--interval",
        metavar="PERCENT",
        help="add each hour's central PERCENT%% Poisson interval per type and total, an "
        "integer 1-99 (80: car_p10, car_p90, ...): count variability given the predicted "
        "mean, not the model's uncertainty",
    )
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument(
        "--allow-unseen",
        action="store_true",
        help="predict an --intersection the model never saw (from its untrained unseen-"
        "location bucket) instead of exit 2; a seen_in_training column marks those rows",
    )
    p.set_defaults(func=predict_command)


def _plans_section(args: argparse.Namespace) -> Callable[[str], dict] | None:
    """``explain --network``: advise's plans written into the report (imported only then:
    it needs SUMO's sumolib)."""
    if not args.network:
        return None
    from deploy.signal_plans.advise import report_section

    return functools.partial(
        report_section, city=args.city, network=args.network, output=args.output, model=args.model
    )


def explain_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline explain``."""
    from deploy.cli.local import check_writable_dir
    from deploy.insights.explainer import explain
    from deploy.insights.model_files import ModelError

    try:
        check_writable_dir(Path(args.report), "--report")
        summary = explain(
            args.city,
            report_dir=args.report,
            output=args.output,
            model=args.model,
            compare_with=args.compare_with,
            signal=args.signal,
            ground_truth=args.ground_truth,
            observed_data=args.observed,
            eval_days=args.eval_days,
            regimes=args.regimes,
            neighbours=args.neighbours,
            signal_plans=_plans_section(args),
        )
    except ModelError as err:
        return exit_codes.fail(str(err))
    print(f"report: {args.report}/index.html")
    if summary.comparison:
        rho = summary.comparison.cross_city_distance_spearman
        print(f"cross-city distance Spearman: {rho:.3f}")
    truth = summary.ground_truth
    for vehicle_type, row in truth.per_type.items() if truth else ():
        error = row.median_relative_error
        print(
            f"{vehicle_type}: median relative error "
            + ("n/a" if error is None else f"{error:.1%}")
            + f" over {row.cells} cells with >= {truth.min_true_vehicles_per_hour:g} "
            "true vehicles per hour"
        )
    _print_approach_accuracy(summary.approach_accuracy)
    return 0


def _print_approach_accuracy(acc: ApproachAccuracy | None) -> None:
    """One line per predictor: its per-approach figures (or why there are none)."""
    if not acc:
        return
    if acc.note is not None:
        print(f"per approach: {acc.note}")
        return
    for name, s in acc.scores.items():
        if s["rate_error"] is not None:
            figures = f"rate error {s['rate_error']:.1%}"
            if s["rate_error_busy"] is not None:
                figures += f" (busy cells {s['rate_error_busy']:.1%})"
            figures += f", NLL excess {s['nll_excess']:.3f}"
        else:
            figures = f"Poisson NLL {s['nll']:.3f} per cell"
            if s["nll_busy"] is not None:
                figures += f" ({s['nll_busy']:.3f} per busy cell)"
        print(f"per approach vs {acc.reference}, {name}: {figures} over {s['cells']} cells")


def predict_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline predict``."""
    from deploy.insights.model_files import ModelError
    from deploy.insights.predictions import predict

    try:
        frame = predict(
            args.city,
            output=args.output,
            model=args.model,
            intersection=args.intersection,
            direction=args.direction,
            at=args.at,
            hours=args.hours,
            week=args.week,
            interval=args.interval,
            allow_unseen=args.allow_unseen,
        )
    except ModelError as err:
        return exit_codes.fail(str(err))
    if args.format == "csv":
        text = frame.to_csv(index=False, float_format="%.6g")
    elif args.format == "json":
        text = json.dumps(frame.to_dict(orient="records"), indent=1) + "\n"
    else:
        text = frame.to_string(index=False, float_format=lambda v: f"{v:.2f}") + "\n"
    if args.out:
        try:
            with open(args.out, "w") as f:
                f.write(text)
        except OSError as err:
            return exit_codes.fail(f"--out {args.out}: {err.strerror}")
    else:
        sys.stdout.write(text)
    return 0

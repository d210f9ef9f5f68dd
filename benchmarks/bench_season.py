"""Benchmark: a simulated season, the nightly job day by day against a full run.

Generates ``--weeks`` weeks of London (``deploy.datasets.synthetic``; scale 2.5 gives
about 1M rows per 28 days), then, through the CLI in this process:

1. ``traffic-pipeline run --as-of <last day>`` on a fresh output: a full run of the last
   night's window (it parses every day of the window and fills an empty day cache);
2. ``traffic-pipeline backfill`` from day ``--window`` to the last day with a
   ``--window``-day window: one nightly run per day, each with its own ``--as-of``;
3. ``traffic-pipeline history``: its line count against the backfill's runs.

Prints per night: days ingested / reused, ExampleGen + StatisticsGen seconds and the whole
night's seconds (ML Metadata: each execution's start to publish), each component's seconds
in the slowest night and the full run, then the ratios night / full measured in this run
and whether every night after the first ingested exactly one day. The Done-when of
issue 22 asks <= 0.15 (ExampleGen + StatisticsGen) and <= 0.60 (whole night) at about
1M rows per 28 days.

    python -m benchmarks.bench_season [--weeks 8 --window 28 --scale 2.5] --work-dir DIR

``--nights N`` backfills only the last N nights (the first of them fills the empty day
cache), for a short run at full scale. ``--report-only`` runs nothing and reports what
the work dir holds (a season stopped part-way: its finished nights, against the full
run, which runs first).
"""

from __future__ import annotations

import argparse
import contextlib
import io
from datetime import date, timedelta
from pathlib import Path

import yaml

from transforms import keras_mode

INGEST_STAGES = ("TrafficExampleGen", "StatisticsGen")
START = date(2026, 3, 16)


def night_figures(metadata_path: Path, pipeline_name: str, run_id: str) -> dict:
    """Days ingested / reused and seconds (ExampleGen + StatisticsGen, whole run) of a run."""
    from components.traffic_example_gen import properties
    from deploy.mlmd import metadata

    store = metadata.open_store(metadata_path)
    figures = {"ingest_seconds": 0.0, "seconds": 0.0, "ingested": None, "reused": None}
    figures["stages"] = {}
    for node in metadata.run_executions(store, pipeline_name, run_id):
        ex = node.execution
        seconds = (ex.last_update_time_since_epoch - ex.create_time_since_epoch) / 1000
        figures["seconds"] += seconds
        figures["stages"][node.node_id.rsplit(".", 1)[-1]] = seconds
        if any(node.node_id.endswith(stage) for stage in INGEST_STAGES):
            figures["ingest_seconds"] += seconds
        if node.node_id.endswith("ExampleGen"):
            props = metadata.custom_properties(metadata.outputs_of(store, ex.id, "examples")[0])
            figures["ingested"] = props.get(properties.DAYS_INGESTED)
            figures["reused"] = props.get(properties.DAYS_REUSED)
    return figures


def _cli(argv: list[str]) -> tuple[int, str]:
    from deploy.cli import main as cli_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(argv)
    return code, out.getvalue()


def main() -> None:
    """Runs the season and prints its figures."""
    keras_mode.use_legacy_keras()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--window", type=int, default=28, help="the window's days")
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--intersections", type=int, help="(default: the city's)")
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--eval-days", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--nights", type=int, help="backfill only the last N nights (default: day W to the last)"
    )
    parser.add_argument("--work-dir", required=True, help="generated data and outputs go here")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: report the outputs already in --work-dir (a season cut short)",
    )
    args = parser.parse_args()
    from deploy.datasets.synthetic.cities import get_city
    from deploy.datasets.synthetic.generator import generate
    from pipeline import names as wiring

    work = Path(args.work_dir).resolve()
    data, config = work / "data", work / "london-season.yaml"
    days = args.weeks * 7
    if not data.is_dir():
        generate(
            get_city("london"),
            data,
            days=days,
            start_date=START,
            scale=args.scale,
            intersections=args.intersections,
        )
    config.write_text(
        yaml.safe_dump(
            {
                "city": "london",
                "timezone": "Europe/London",
                "data": {
                    "split": {"kind": "time", "eval_days": args.eval_days},
                    "window_days": args.window,
                    "max_missing_days": 0,
                },
            }
        )
    )
    first, last = START + timedelta(days=args.window - 1), START + timedelta(days=days - 1)
    if args.nights:
        first = max(first, last - timedelta(days=args.nights - 1))
    common = ["--city", "london", "--config", str(config), "--data", str(data)]
    common += ["--workers", str(args.workers), "--train-steps", str(args.train_steps)]
    season, full = work / "season", work / "full"
    name = wiring.pipeline_name("london")
    if args.report_only:
        _report(work, season, full, name)
        return

    # The full run first: a backfill cut short still has it to compare with (``_report``
    # reads both outputs' ML Metadata).
    code, _ = _cli(["run", *common, "--as-of", str(last), "--output", str(full)])
    if code not in (0, 3):
        raise SystemExit(f"full run exit {code}")
    code, out = _cli(
        ["backfill", *common, "--from", str(first), "--to", str(last), "--output", str(season)]
    )
    print(out, end="")
    if code != 0:
        raise SystemExit(f"backfill exit {code}")
    _report(work, season, full, name)


def _report(work: Path, season: Path, full: Path, name: str) -> None:
    from deploy.mlmd import metadata
    from deploy.runners.local.layout import LocalLayout

    season_store = LocalLayout(season).metadata_path
    runs = metadata.run_ids(metadata.open_store(season_store), name)
    nights = [night_figures(season_store, name, run) for run in runs]
    # A season stopped during a night: that night is left out (it never reached the Pusher).
    finished = [n for n in nights if "Pusher" in n["stages"]]
    if len(finished) < len(nights):
        print(f"{len(nights) - len(finished)} unfinished night(s) left out")
    nights = finished
    full_path = LocalLayout(full).metadata_path
    whole = night_figures(
        full_path, name, metadata.run_ids(metadata.open_store(full_path), name)[-1]
    )
    print(f"{'night':>5} {'ingested':>8} {'reused':>6} {'EG+SG s':>8} {'night s':>8}")
    for i, night in enumerate(nights):
        print(
            f"{i + 1:>5} {night['ingested']!s:>8} {night['reused']!s:>6}"
            f" {night['ingest_seconds']:8.1f} {night['seconds']:8.1f}"
        )
    print(
        f"full  {whole['ingested']!s:>8} {whole['reused']!s:>6}"
        f" {whole['ingest_seconds']:8.1f} {whole['seconds']:8.1f}"
    )
    later = nights[1:]  # the first night fills the empty day cache
    if later:
        worst = max(later, key=lambda n: n["seconds"])
        print(f"{'stage':>26} {'worst night s':>13} {'full s':>7}")
        for stage, seconds in whole["stages"].items():
            print(f"{stage:>26} {worst['stages'].get(stage, 0.0):13.1f} {seconds:7.1f}")
        worst_ingest = max(n["ingest_seconds"] for n in later) / whole["ingest_seconds"]
        worst_night = max(n["seconds"] for n in later) / whole["seconds"]
        print(f"worst night / full ExampleGen + StatisticsGen time: {worst_ingest:.3f}")
        print(f"worst night / full whole-run time: {worst_night:.3f}")
        print(
            f"every night after the first ingested 1 day: {all(n['ingested'] == 1 for n in later)}"
        )
    code, out = _cli(
        [
            "history",
            "--city",
            "london",
            "--config",
            str(work / "london-season.yaml"),
            "--output",
            str(season),
        ]
    )
    print(f"history: exit {code}, {len(out.splitlines())} lines for {len(runs)} runs")


if __name__ == "__main__":
    main()

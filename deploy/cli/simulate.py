"""The ``simulate`` subcommand: a city's daily event files from a SUMO simulation.

``traffic-pipeline simulate --city london --out data/sim`` builds a 5x5 signalised grid
(E-W arterials, N-S cross streets), drives the city's demand through it for 7 local
dates from Monday 2026-03-16 and writes one event file per date, ground_truth.json and
network.net.xml. Bad input prints one line to stderr and returns exit code 2, leaving
no output behind.
"""

from __future__ import annotations

import argparse
import os
import sys

from deploy.cli.overwrite import add_overwrite_flags
from deploy.datasets.simulation import demand, network, run, simulate
from deploy.datasets.synthetic import cities
from deploy.datasets.synthetic.formats import FILE_FORMATS
from deploy.exit_codes import BAD_INPUT as EXIT_BAD_INPUT
from deploy.exit_codes import one_line


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Registers ``simulate`` on ``subparsers``; the parsed args carry ``func=main``."""
    parser = subparsers.add_parser(
        "simulate",
        help="write a city's per-vehicle observations from a SUMO simulation",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--city", required=True, metavar="NAME", help="london, frankfurt, ...")
    parser.add_argument(
        "--timezone", metavar="TZ", help="IANA zone; required for a city without a profile"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--days", type=int, default=simulate.DEFAULT_DAYS, metavar="N")
    parser.add_argument(
        "--start", default=simulate.DEFAULT_START_DATE, metavar="YYYY-MM-DD", help="first date"
    )
    parser.add_argument(
        "--hours",
        metavar="FIRST-LAST",
        default="{}-{}".format(*simulate.ALL_HOURS),
        help="simulate only these local hours of each date, e.g. 10-14 (default 0-24)",
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the city's own)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--grid", metavar="RxC", help="ROWSxCOLS signals (default 5x5)")
    where.add_argument(
        "--network", metavar="NET.net.xml", help="a SUMO network; signals = its lights"
    )
    defaults = network.GridSpec()
    parser.add_argument("--block", type=float, default=defaults.block_m, metavar="M")
    parser.add_argument("--major-lanes", type=int, default=defaults.major_lanes, metavar="N")
    parser.add_argument("--minor-lanes", type=int, default=defaults.minor_lanes, metavar="N")
    parser.add_argument(
        "--no-bike-lane", action="store_true", help="bicycles share the lanes with cars"
    )
    knobs = demand.DemandParams()
    parser.add_argument(
        "--peak-y",
        type=float,
        default=knobs.peak_y,
        metavar="Y",
        help="critical flow ratio of the busiest signal at its busiest hour (default 0.8)",
    )
    parser.add_argument(
        "--control",
        choices=run.CONTROLS,
        default=simulate.DEFAULT_CONTROL,
        help="signal control while simulating (default: actuated)",
    )
    parser.add_argument("--format", dest="file_format", choices=FILE_FORMATS, default="csv")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="SUMO processes simulating dates at once (default: all cores)",
    )
    add_overwrite_flags(parser, "an output directory that generate/import/simulate wrote")
    parser.set_defaults(func=main)
    return parser


def main(args: argparse.Namespace) -> int:
    """Runs ``simulate``; returns 0, or 2 after a one-line error on stderr."""
    try:
        profile = cities.get_city(args.city, args.timezone)
        grid = None
        if args.network is None:
            rows, cols = network.parse_grid(args.grid or "5x5")
            grid = network.GridSpec(
                rows=rows,
                cols=cols,
                block_m=args.block,
                major_lanes=args.major_lanes,
                minor_lanes=args.minor_lanes,
                bike_lane=not args.no_bike_lane,
            )
        summary = simulate.simulate(
            profile,
            args.out,
            days=args.days,
            start_date=args.start,
            seed=args.seed,
            grid=grid,
            network_file=args.network,
            params=demand.DemandParams(peak_y=args.peak_y),
            control=args.control,
            file_format=args.file_format,
            overwrite=args.overwrite,
            overwrite_foreign=args.overwrite_foreign,
            progress=lambda line: print(line, flush=True),
            workers=args.workers,
            hours=simulate.parse_hours(args.hours),
        )
    except (ValueError, OSError) as err:
        print(f"error: simulate: {one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    per_day = summary.vehicles_per_day
    print(
        f"simulated {len(per_day)} days of {profile.name} ({profile.timezone}, seed "
        f"{summary.seed}, peak Y {summary.peak_y:.2f}): {sum(per_day) // len(per_day)} "
        f"vehicles/day, {summary.total_rows} stop-line rows in {len(summary.rows_per_file)} "
        f"files, {summary.teleports} teleports, {summary.wall_s:.0f} s; wrote {summary.path} "
        f"(network: {summary.network_path.name})"
    )
    return 0

"""The ``generate`` subcommand: writes a city's synthetic observations.

``traffic-pipeline generate --city london --out data/london`` writes 28 daily CSV
files (default start 2026-03-16) and ground_truth.json; ``--kind counts`` writes the
same vehicles as hourly counts. Bad input prints one line to stderr and returns exit
code 2, leaving no output behind.
"""

from __future__ import annotations

import argparse
import sys

from deploy.cli.overwrite import add_overwrite_flags
from deploy.datasets.synthetic import cities, generator
from deploy.exit_codes import BAD_INPUT as EXIT_BAD_INPUT
from transforms import features


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Registers ``generate`` on ``subparsers``; the parsed args carry ``func=main``."""
    parser = subparsers.add_parser(
        "generate",
        help="write synthetic per-vehicle observations for a city",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--city", required=True, metavar="NAME", help="london, frankfurt, ...")
    parser.add_argument(
        "--timezone", metavar="TZ", help="IANA zone; required for a city without a profile"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the city's own)")
    parser.add_argument("--days", type=int, default=generator.DEFAULT_DAYS, metavar="N")
    parser.add_argument(
        "--start", default=generator.DEFAULT_START_DATE, metavar="YYYY-MM-DD", help="first date"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--format", dest="file_format", choices=generator.FILE_FORMATS, default="csv"
    )
    parser.add_argument(
        "--kind",
        choices=features.DATA_KINDS,
        default=features.DATA_KIND_EVENTS,
        help="events: one row per vehicle; counts: vehicles per local hour, approach and type",
    )
    parser.add_argument("--intersections", type=int, metavar="N", help="number of intersections")
    parser.add_argument("--scale", type=float, default=1.0, metavar="X", help="volume multiplier")
    add_overwrite_flags(parser, "an output directory that generate/import wrote")
    parser.set_defaults(func=main)
    return parser


def main(args: argparse.Namespace) -> int:
    """Runs ``generate``; returns 0, or 2 after a one-line error on stderr."""
    try:
        profile = cities.get_city(args.city, args.timezone)
        summary = generator.generate(
            profile,
            args.out,
            days=args.days,
            start_date=args.start,
            file_format=args.file_format,
            seed=args.seed,
            intersections=args.intersections,
            scale=args.scale,
            overwrite=args.overwrite,
            overwrite_foreign=args.overwrite_foreign,
            kind=args.kind,
        )
    except (ValueError, OSError) as err:
        message = " ".join(str(err).split())  # always one line
        print(f"error: generate: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    what = "rows"
    if summary.kind == features.DATA_KIND_COUNTS:
        what = f"hourly count rows ({summary.vehicles} vehicles)"
    print(
        f"wrote {summary.total_rows} {what} for {profile.name} ({profile.timezone}, seed "
        f"{summary.seed}) in {len(summary.rows_per_file)} files to {summary.path}"
    )
    return 0

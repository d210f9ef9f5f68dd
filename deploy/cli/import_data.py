"""The ``import`` subcommand: one hourly-counts export in, daily counts files out.

``traffic-pipeline import --source seattle-counter FILE --out DIR`` or ``--source wide-csv
FILE --out DIR --time-column ... --timezone ... --direction COL=DIR ...``. Prints the first
rejects (``file:row: field: reason``) and ``read / written / rejected / missing``; exits 2
with one line naming the file on bad usage, a missing column, or more than
``data.max_reject_fraction`` of the values rejected -- then nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from deploy.cli.overwrite import add_overwrite_flags
from deploy.datasets.importers import seattle, wide_csv
from deploy.datasets.importers.records import ImportStats
from deploy.datasets.importers.wide import ImportOptions, convert
from deploy.datasets.importers.writer import check_output, write_daily_counts
from deploy.datasets.synthetic.formats import FILE_FORMATS
from deploy.exit_codes import OK, UsageError
from pipeline.config import DataConfig
from transforms import features

SOURCES = {seattle.SOURCE: seattle.read, wide_csv.SOURCE: wide_csv.read}
MAX_REJECT_FRACTION = DataConfig.max_reject_fraction  # ExampleGen's default limit
PRINTED_REJECTS = 5
# Flags (ImportOptions fields) only one source reads.
SOURCE_ONLY_FLAGS = {
    "time_column": wide_csv.SOURCE,
    "time_format": wide_csv.SOURCE,
    "intersection_column": wide_csv.SOURCE,
    "type_column": wide_csv.SOURCE,
    "check_total": seattle.SOURCE,
}


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Registers ``import`` on ``subparsers``; the parsed args carry ``func=main``."""
    p = subparsers.add_parser(
        "import",
        help="turn an hourly counts export into daily counts files",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("--source", required=True, choices=tuple(SOURCES))
    p.add_argument("file", metavar="FILE", help="the export (CSV, CSV.gz; JSON for seattle)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--format", dest="file_format", choices=FILE_FORMATS, default="csv")
    add_overwrite_flags(p, "an --out that generate/import wrote (never the folder of FILE)")
    p.add_argument(
        "--timezone",
        metavar="TZ",
        help=f"zone of the local times (seattle: {seattle.DEFAULT_TIMEZONE}; wide-csv: required)",
    )
    p.add_argument(
        "--direction",
        action="append",
        default=[],
        metavar="COLUMN=DIR",
        help="count column -> N/E/S/W, repeatable (seattle: inferred from the names)",
    )
    p.add_argument("--intersection", metavar="ID", help="intersection id (default: file stem)")
    p.add_argument("--intersection-column", metavar="COLUMN", help="wide-csv: id per row")
    p.add_argument(
        "--vehicle-type",
        choices=features.VEHICLE_TYPES,
        help=f"(seattle default: {seattle.DEFAULT_VEHICLE_TYPE})",
    )
    p.add_argument("--type-column", metavar="COLUMN", help="wide-csv: vehicle type per row")
    p.add_argument("--time-column", metavar="COLUMN", help="wide-csv: the local time column")
    p.add_argument(
        "--time-format",
        metavar="STRPTIME",
        help="wide-csv: e.g. '%%d.%%m.%%Y %%H:%%M' (default: ISO-8601)",
    )
    p.add_argument(
        "--check-total",
        action="store_true",
        help="seattle: reject rows whose total column differs from the directions' sum",
    )
    p.set_defaults(func=main)
    return p


def main(args: argparse.Namespace) -> int:
    """Runs ``import``; usage and input errors raise :class:`UsageError` (exit code 2)."""
    options = ImportOptions(
        timezone=args.timezone,
        directions=tuple(args.direction),
        intersection=args.intersection,
        intersection_column=args.intersection_column,
        vehicle_type=args.vehicle_type,
        type_column=args.type_column,
        time_column=args.time_column,
        time_format=args.time_format,
        check_total=args.check_total,
    )
    return import_file(
        args.source,
        Path(args.file),
        Path(args.out),
        options,
        args.file_format,
        args.overwrite,
        args.overwrite_foreign,
    )


def import_file(
    source: str,
    path: Path,
    out: Path,
    options: ImportOptions,
    file_format: str = "csv",
    overwrite: bool = False,
    overwrite_foreign: bool = False,
) -> int:
    """Imports ``path`` from ``source`` into daily counts files in ``out``; returns 0."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    for name, owner in SOURCE_ONLY_FLAGS.items():
        if getattr(options, name) not in (None, False) and source != owner:
            raise UsageError(
                f"--{name.replace('_', '-')} applies to --source {owner}, not {source}"
            )
    out = out.absolute()
    check_output(out, overwrite, overwrite_foreign, path)
    spec, rows, notes = SOURCES[source](path, options)
    stats = ImportStats(file=str(path))
    records = convert(rows, spec, stats)
    for note in notes:
        print(f"{path}: {note}")
    for reject in stats.rejects[:PRINTED_REJECTS]:
        print(reject)
    if len(stats.rejects) > PRINTED_REJECTS:
        print(f"... and {len(stats.rejects) - PRINTED_REJECTS} more rejects")
    if stats.reject_fraction > MAX_REJECT_FRACTION or not records:
        stats.written = 0
        print(f"{source} {path}: {stats.summary()}")
        if not records:
            raise UsageError(f"{path}: no counts to write ({stats.summary()})")
        raise UsageError(
            f"{path}: {stats.rejected} of {stats.values} values rejected "
            f"({stats.reject_fraction:.1%} > {MAX_REJECT_FRACTION:.0%}), nothing written; "
            f"first: {stats.rejects[0]}"
        )
    rows_per_file = write_daily_counts(records, out, file_format, overwrite, overwrite_foreign)
    print(f"{source} {path}: {stats.summary()}")
    files = f"{len(rows_per_file)} daily file{'s' if len(rows_per_file) != 1 else ''}"
    print(f"wrote {len(records)} hourly count rows in {files} to {out}")
    return OK

"""``--source wide-csv``: any CSV with one time column and one count column per direction.

``--time-column`` names the local time (``--time-format`` a strptime format, default
ISO-8601; a time with a UTC offset is taken as that instant), ``--timezone`` (required)
its zone, ``--direction COLUMN=DIR`` (repeatable) the count columns. The intersection is
``--intersection ID`` (default: the file's stem) or ``--intersection-column``; the
vehicle type ``--vehicle-type`` or ``--type-column``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from deploy.datasets.importers import tables
from deploy.datasets.importers.records import zone_of
from deploy.datasets.importers.wide import (
    ImportOptions,
    SourceRow,
    WideSpec,
    check_columns,
    explicit_directions,
    fixed_intersection,
    fixed_vehicle_type,
)
from deploy.exit_codes import UsageError

SOURCE = "wide-csv"


def iso_time(text: str) -> datetime:
    """ISO-8601 (``2019-01-01T00:00:00``, ``2019-01-01 00:00``, ``...Z``)."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def strptime_parser(time_format: str) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        return datetime.strptime(text, time_format)

    return parse


def read(path: Path, options: ImportOptions) -> tuple[WideSpec, Iterator[SourceRow], list[str]]:
    """The spec and rows of a wide CSV (no notes: every column read is named by a flag)."""
    if not options.time_column:
        raise UsageError(f"--source {SOURCE} needs --time-column COLUMN")
    if not options.timezone:
        raise UsageError(f"--source {SOURCE} needs --timezone TZ (the zone of the local times)")
    if not options.directions:
        raise UsageError(f"--source {SOURCE} needs --direction COLUMN=DIR (one per column)")
    spec = WideSpec(
        time_column=options.time_column,
        parse_time=strptime_parser(options.time_format) if options.time_format else iso_time,
        directions=explicit_directions(options),
        zone=zone_of(options.timezone),
        intersection=fixed_intersection(path, options),
        intersection_column=options.intersection_column,
        vehicle_type=fixed_vehicle_type(options, None),
        type_column=options.type_column,
    )
    columns, rows = tables.csv_table(path, tables.read_text(path))
    check_columns(spec, columns, str(path))
    return spec, rows, []

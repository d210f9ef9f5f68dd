"""``--source seattle-counter``: a Seattle (Socrata) bike/pedestrian counter export.

Two layouts of the same table: the CSV export (``Date`` column, local time without offset,
``01/01/2019 12:00:00 AM``) and the JSON API export (a list of objects, ``date`` like
``2019-01-01T00:00:00.000``, counts as strings, null cells left out). Every other column is
one direction's hourly count, e.g. ``Fremont Bridge Sidewalks, south of N 34th St Cyclist
East Sidewalk`` (or older ``Fremont Bridge East Sidewalk``, ``Fremont Bridge NB``).

Directions come from the column name: its LAST word among north/south/east/west,
northbound/..., NB/SB/EB/WB, or from ``--direction COLUMN=DIR`` flags (then only those
columns are read). A total column -- one named ``... Total`` or whose name is the start of
another column's name (``Fremont Bridge Sidewalks, south of N 34th St``) -- is ignored, or
checked against the directions' sum with ``--check-total``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from deploy.datasets.importers import tables
from deploy.datasets.importers.records import zone_of
from deploy.datasets.importers.wide import (
    ImportOptions,
    SourceRow,
    WideSpec,
    check_columns,
    check_distinct,
    explicit_directions,
    fixed_intersection,
    fixed_vehicle_type,
)
from deploy.exit_codes import UsageError
from transforms import features

SOURCE = "seattle-counter"
DEFAULT_TIMEZONE = "America/Los_Angeles"
DEFAULT_VEHICLE_TYPE = "bicycle"
TIME_COLUMN = "date"  # "Date" in the CSV export, "date" in the JSON one (any case)
CSV_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # 01/01/2019 12:00:00 AM
_DIRECTION_WORDS = {
    word: direction
    for direction, words in {
        "N": ("north", "northbound", "nb"),
        "S": ("south", "southbound", "sb"),
        "E": ("east", "eastbound", "eb"),
        "W": ("west", "westbound", "wb"),
    }.items()
    for word in words
}
_TOTAL_WORD = "total"


def parse_time(text: str) -> datetime:
    """``01/01/2019 12:00:00 AM`` (CSV) or ISO ``2019-01-01T00:00:00.000`` (JSON)."""
    for parse in (lambda t: datetime.strptime(t, CSV_TIME_FORMAT), datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue  # the other layout
    raise ValueError(f"expected {CSV_TIME_FORMAT!r} or ISO-8601")


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-z]+", name.lower()) if w]


def total_columns(columns: list[str]) -> list[str]:
    """Columns holding a total: named ``... total``, or the start of another column's name."""
    words = {c: _words(c) for c in columns}
    return [
        c
        for c in columns
        if _TOTAL_WORD in words[c]
        or any(o != c and words[o][: len(words[c])] == words[c] for o in columns if words[c])
    ]


def infer_direction(column: str) -> int | None:
    """The direction named last in ``column``'s words, or None."""
    found = [_DIRECTION_WORDS[w] for w in _words(column) if w in _DIRECTION_WORDS]
    return features.DIRECTIONS.index(found[-1]) if found else None


def read(path: Path, options: ImportOptions) -> tuple[WideSpec, Iterator[SourceRow], list[str]]:
    """The spec, rows and notes (e.g. ignored columns) of a Seattle counter export."""
    site = fixed_intersection(path, options)
    vehicle_type = fixed_vehicle_type(options, DEFAULT_VEHICLE_TYPE)
    zone = zone_of(options.timezone or DEFAULT_TIMEZONE)
    text = tables.read_text(path)
    columns, rows = (tables.json_table if tables.is_json(path, text) else tables.csv_table)(
        path, text
    )
    time_column = next((c for c in columns if c.lower() == TIME_COLUMN), None)
    if time_column is None:
        raise UsageError(f"{path}: no column 'Date' (columns: {', '.join(columns)})")
    others = [c for c in columns if c != time_column and not c.startswith(":")]
    notes = []
    if options.directions:
        directions = explicit_directions(options)
        totals = [c for c in total_columns(others) if c not in directions]
        ignored = [c for c in others if c not in directions and c not in totals]
        if ignored:
            notes.append(f"ignored columns (no --direction): {', '.join(ignored)}")
    else:
        directions = {}
        totals = total_columns(others)
        for column in others:
            if column in totals:
                continue
            direction = infer_direction(column)
            if direction is None:
                raise UsageError(
                    f"{path}: cannot tell the direction of column {column!r}; "
                    f"map the columns with --direction '{column}=N' (one flag per column)"
                )
            directions[column] = direction
        check_distinct(directions, str(path))
        if not directions:
            raise UsageError(f"{path}: no direction columns besides {', '.join(columns)}")
    total = None
    if options.check_total:
        if len(totals) != 1:
            found = ", ".join(totals) or "none"
            raise UsageError(f"{path}: --check-total needs one total column, found {found}")
        total = totals[0]
    elif totals:
        notes.append(f"ignored total column: {', '.join(totals)}")
    spec = WideSpec(
        time_column=time_column,
        parse_time=parse_time,
        directions=directions,
        zone=zone,
        intersection=site,
        vehicle_type=vehicle_type,
        total_column=total,
    )
    check_columns(spec, columns, str(path))
    return spec, rows, notes

"""Writes imported count records as daily counts files, atomically.

One file per local date (the hour's date in the source's zone), in the counts layout of
``deploy.datasets.synthetic.counts``, through the generator's staging directory
(``deploy.datasets.output``): a failure leaves nothing behind.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from deploy.datasets.importers.records import CountRecord
from deploy.datasets.output import (
    GenerationError,
    check_holds_no_input,
    check_target,
    staged_directory,
)
from deploy.datasets.synthetic.counts import CountsTable, hour_start_text, write_counts_file
from deploy.exit_codes import UsageError

# Written unquoted into CSV: printable ASCII without commas, quotes or leading/trailing blanks.
_SAFE_ID = re.compile(r"[!#-+\--~](?:[ !#-+\--~]*[!#-+\--~])?")


def check_intersection_id(value: str) -> str | None:
    """None if ``value`` can be an intersection id, else why not."""
    if _SAFE_ID.fullmatch(value):
        return None
    return f"intersection id {value!r} must be printable ASCII without commas or quotes"


def check_output(out: Path, overwrite: bool, overwrite_foreign: bool, source: Path) -> None:
    """:class:`UsageError` unless ``out`` is absent or empty, or ``overwrite`` may replace it
    (``output.check_target``); never when ``out`` is or holds ``source``, the file being
    imported (checked before reading, so a bad --out fails fast)."""
    try:
        check_holds_no_input(out, source)
        check_target(out, overwrite, overwrite_foreign)
    except GenerationError as err:
        raise UsageError(str(err)) from err


def write_daily_counts(
    records: Iterable[CountRecord],
    out: Path,
    file_format: str,
    overwrite: bool,
    overwrite_foreign: bool = False,
) -> dict[str, int]:
    """Writes ``records`` as one file per local date into ``out``; returns rows per file."""
    by_date: dict = defaultdict(list)
    for record in records:
        by_date[record.local_date].append(record)
    rows_per_file: dict[str, int] = {}
    try:
        with staged_directory(
            out, overwrite, overwrite_foreign, written_by="traffic-pipeline import"
        ) as staging:
            for day in sorted(by_date):
                name = f"{day.isoformat()}.{file_format}"
                write_counts_file(staging / name, _table(by_date[day]), file_format)
                rows_per_file[name] = len(by_date[day])
    except GenerationError as err:
        raise UsageError(str(err)) from err
    return rows_per_file


def _table(records: list[CountRecord]) -> CountsTable:
    records = sorted(
        records, key=lambda r: (r.utc_seconds, r.intersection, r.direction, r.vehicle_type)
    )
    hours = list(dict.fromkeys(hour_start_text(r.hour_start) for r in records))
    hour_index = {text: k for k, text in enumerate(hours)}
    intersections = sorted({r.intersection for r in records})
    site_index = {site: k for k, site in enumerate(intersections)}
    return CountsTable(
        hours=tuple(hours),
        hour=np.array([hour_index[hour_start_text(r.hour_start)] for r in records], np.int64),
        intersections=tuple(intersections),
        intersection=np.array([site_index[r.intersection] for r in records], np.int64),
        direction=np.array([r.direction for r in records], np.int64),
        vehicle_type=np.array([r.vehicle_type for r in records], np.int64),
        count=np.array([r.count for r in records], np.int64),
    )

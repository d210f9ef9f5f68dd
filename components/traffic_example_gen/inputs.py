"""The run's input: the daily files of the span, checked before any row is parsed.

``list_daily_files`` selects the daily files of a date range (the span) under
``input_base``; ``select_window`` those of a rolling window (``window``);
``check_inputs`` checks their headers and the split days. The
executor calls ``check_inputs`` first; the local CLI calls it too, before starting the
pipeline, so that bad input is reported (exit code 2) without running anything.
"""

from __future__ import annotations

import datetime
import os
import re

from components.traffic_example_gen import reading, window
from components.traffic_example_gen.reading import CSV, PARQUET, DailyFile
from components.traffic_example_gen.splits import SplitRule, make_split_rule
from transforms import features

DAILY_FILE_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(csv|csv\.gz|parquet)$")


def parse_day(value: str, what: str) -> datetime.date | None:
    """Parses a 'YYYY-MM-DD' span bound; '' means open."""
    return window.parse_date(value, what)


def describe_range(input_base: str, span_begin: str, span_end: str) -> str:
    """Human description of a span selection, used in error messages."""
    return f"input_base={input_base!r}, span {span_begin or '(open)'} .. {span_end or '(open)'}"


def list_daily_files(input_base: str, span_begin: str = "", span_end: str = "") -> list[DailyFile]:
    """The daily files under ``input_base`` whose day is in [span_begin, span_end], by day.

    Raises ValueError if the range is inverted, two files claim the same day, or no
    file matches.
    """
    # Imported here: Beam workers unpickle ``DailyFile`` and must not pay for TFX's
    # file IO plugins (which import TensorFlow).
    from tfx.dsl.io import fileio

    begin = parse_day(span_begin, "span_begin")
    end = parse_day(span_end, "span_end")
    where = describe_range(input_base, span_begin, span_end)
    if begin and end and begin > end:
        raise ValueError(f"span_begin is after span_end ({where})")
    if not fileio.isdir(input_base):
        raise ValueError(f"input_base is not a directory ({where})")
    by_day: dict[datetime.date, DailyFile] = {}
    for entry in sorted(fileio.listdir(input_base)):
        name = entry.rstrip("/")
        match = DAILY_FILE_PATTERN.match(name)
        if not match:
            continue
        try:
            day = datetime.date.fromisoformat(match.group(1))
        except ValueError:
            continue
        if (begin and day < begin) or (end and day > end):
            continue
        ext = match.group(2)
        daily = DailyFile(
            path=os.path.join(input_base, name),
            day=day,
            file_format=PARQUET if ext == PARQUET else CSV,
            gzipped=ext.endswith(".gz"),
        )
        if day in by_day:
            raise ValueError(f"two input files for {day}: {by_day[day].name} and {name} ({where})")
        by_day[day] = daily
    if not by_day:
        raise ValueError(
            f"no daily input file (YYYY-MM-DD.csv, .csv.gz or .parquet) matches {where}"
        )
    return [by_day[d] for d in sorted(by_day)]


def select_window(
    input_base: str,
    window_days: int,
    timezone: str,
    now: datetime.datetime,
    as_of: str = "",
    max_missing_days: int = window.DEFAULT_MAX_MISSING_DAYS,
) -> tuple[list[DailyFile], window.Window]:
    """The daily files of the rolling window resolved at ``now`` (``window``).

    Raises ValueError (``window.WindowError``) if it cannot be resolved or misses more
    than ``max_missing_days`` days (the message names them).
    """
    found = list_daily_files(input_base)
    resolved = window.resolve_window(
        [f.day for f in found], window_days, timezone, now, window.parse_as_of(as_of)
    )
    window.check_missing(resolved, max_missing_days)
    chosen = set(resolved.present)
    return [f for f in found if f.day in chosen], resolved


def check_inputs(
    input_base: str,
    span_begin: str,
    span_end: str,
    split_config: str,
    data_kind: str = features.DATA_KIND_EVENTS,
    files: list[DailyFile] | None = None,
) -> tuple[list[DailyFile], SplitRule]:
    """The selected daily files and the split rule; raises ValueError naming the problem.

    ``files``: already selected (a rolling window); None: the span's files.
    Each file must be readable with the required columns of ``data_kind``
    (``reading.check_file``).
    Only days whose file has data rows count for the time split, so an empty
    (header-only) day never takes a train or eval day.
    """
    if files is None:
        files = list_daily_files(input_base, span_begin, span_end)
    days_with_rows = [f.day for f in files if reading.check_file(f, data_kind)]
    if not days_with_rows:
        raise ValueError(
            f"no data rows in the {len(files)} input file(s) of "
            f"{describe_range(input_base, span_begin, span_end)}"
        )
    return files, make_split_rule(split_config, days_with_rows)

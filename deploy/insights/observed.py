"""Observed hourly counts per approach from the daily input files, split like ExampleGen.

Rows are read and validated by ExampleGen's own code (``reading``, ``parsing``,
``counts``; rejected rows do not count, duplicate count rows keep the first) and split
by its time rule (``inputs.check_inputs``: the last ``eval_days`` days that have data
rows are eval). Local day and hour come from ExampleGen's ``local_calendar``, so the
autumn repeated hour is two hours and the spring gap hour none.

The hours of a split are the ones the approach table counts as exposure
(``transforms.approach_table``): for counts, each row (an explicit zero is an observed
hour, a missing row is not); for per-vehicle events, each (local day-hour cell, UTC
hour) in which any vehicle of the city was seen, every approach and type of it counted
(0 where none passed). Per-vehicle duplicates are not removed here (ExampleGen's
``duplicates`` rule); the generator writes none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from components.traffic_example_gen import counts as count_rows
from components.traffic_example_gen import inputs, reading
from components.traffic_example_gen.parsing import local_calendar, parse_daily_file
from components.traffic_example_gen.splits import TIME, yyyymmdd
from deploy.insights import accuracy
from deploy.insights.accuracy import Cells
from transforms import approach_table, features

SECONDS_PER_HOUR = 3600
MICROS_PER_HOUR = SECONDS_PER_HOUR * 1_000_000
LAST_WEEK_DAYS = features.DAYS_PER_WEEK


@dataclass(frozen=True)
class HourRows:
    """Vehicles per (approach, type, observed hour) of a split, zeros included."""

    approach: np.ndarray  # int index into Observations.approaches
    vehicle_type: np.ndarray  # int index into features.VEHICLE_TYPES
    cell: np.ndarray  # int day-hour cell, features.all_day_hours() order
    utc_hour: np.ndarray  # int64 epoch hours of the hour's start
    yyyymmdd: np.ndarray  # int local date
    count: np.ndarray  # float64 vehicles

    def take(self, index: np.ndarray) -> HourRows:
        return HourRows(
            *(getattr(self, f)[index] for f in self.__dataclass_fields__)  # type: ignore[attr-defined]
        )

    def cells(self) -> Cells:
        """The rows as cells to score."""
        return Cells(self.approach, self.cell, self.vehicle_type, self.count)


@dataclass(frozen=True)
class Observations:
    """A data dir's hours, split into train and eval."""

    approaches: list[tuple[str, str]]  # sorted; train approaches and eval-only ones
    data_kind: str
    timezone: str
    train: HourRows
    eval: HourRows
    eval_from: int  # yyyymmdd of the first eval day

    def sums(self, rows: HourRows) -> tuple[np.ndarray, np.ndarray]:
        """(vehicles, hours) of ``rows`` per approach, cell and type, as the table sums
        them (``observed_sums``; events: ``event_exposure_hours``)."""
        n = len(self.approaches)
        vehicles = approach_table.observed_sums(
            rows.approach, rows.cell, rows.vehicle_type, rows.count, n
        )
        if self.data_kind == features.DATA_KIND_COUNTS:
            ones = np.ones(len(rows.count))
            return vehicles, approach_table.observed_sums(
                rows.approach, rows.cell, rows.vehicle_type, ones, n
            )
        return vehicles, approach_table.event_exposure_hours(rows.cell, rows.utc_hour * 3600)

    def last_week(self) -> HourRows:
        """The train rows of the ``LAST_WEEK_DAYS`` local days before the eval window."""
        days = np.unique(self.train.yyyymmdd)[-LAST_WEEK_DAYS:]
        return self.train.take(np.isin(self.train.yyyymmdd, days))


def detect_kind(data_dir: str) -> str:
    """``counts`` when the first daily file has the counts columns, else ``events``."""
    first = inputs.list_daily_files(data_dir)[0]
    columns = set(reading.read_columns(first))
    return (
        features.DATA_KIND_COUNTS
        if set(features.REQUIRED_COUNT_COLUMNS) <= columns
        else features.DATA_KIND_EVENTS
    )


def _event_rows(files, split_rule, timezone: str) -> pd.DataFrame:
    """One row per valid vehicle: approach key, type, cell, UTC hour, date, eval."""
    parts = []
    for index, daily in enumerate(files):
        for _, parsed in parse_daily_file(
            daily, file_index=index, timezone=timezone, split_rule=split_rule
        ):
            chunk = parsed.chunk
            parts.append(
                pd.DataFrame(
                    {
                        "intersection": parsed.intersection,
                        "direction": parsed.direction,
                        "vehicle_type": chunk.vehicle_type.astype(np.int64),
                        "cell": approach_table.day_hour_cell(chunk.day_of_week, chunk.hour),
                        "utc_hour": chunk.ts_us // MICROS_PER_HOUR,
                        "yyyymmdd": yyyymmdd(daily.day),
                        "is_eval": chunk.is_eval,
                        "count": 1.0,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _count_rows(files, split_rule, timezone: str) -> pd.DataFrame:
    """One row per valid, first-of-its-key hourly count."""
    parts = []
    for daily in files:
        valid = [rows for _, rows, _ in count_rows.parse_counts_file(daily, timezone)]
        if not valid:
            continue
        kept, _ = count_rows.dedup(count_rows.CountRows.concat(valid))
        directions = count_rows.direction_names(kept)
        parts.append(
            pd.DataFrame(
                {
                    "intersection": kept.intersection,
                    "direction": directions,
                    "vehicle_type": kept.vehicle_type.astype(np.int64),
                    "cell": approach_table.day_hour_cell(kept.day_of_week, kept.hour),
                    "utc_hour": kept.ts_us // MICROS_PER_HOUR,
                    "yyyymmdd": kept.yyyymmdd,
                    "is_eval": split_rule.eval_mask(
                        kept.intersection, directions, kept.ts_us, kept.yyyymmdd
                    ),
                    "count": kept.count.astype(np.float64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _expand_events(frame: pd.DataFrame, approaches: int) -> pd.DataFrame:
    """Vehicles per (approach, type, observed hour), zeros included: every approach and
    type of each (cell, UTC hour) in which any vehicle was seen."""
    keys = ["approach", "vehicle_type", "cell", "utc_hour", "yyyymmdd"]
    sums = frame.groupby(keys, sort=False)["count"].sum()
    hours = frame[["cell", "utc_hour", "yyyymmdd"]].drop_duplicates().to_numpy()
    a, t, h = np.meshgrid(
        np.arange(approaches), np.arange(len(features.VEHICLE_TYPES)), np.arange(len(hours))
    )
    a, t, h = a.ravel(), t.ravel(), h.ravel()
    grid = pd.DataFrame(
        {
            "approach": a,
            "vehicle_type": t,
            "cell": hours[h, 0],
            "utc_hour": hours[h, 1],
            "yyyymmdd": hours[h, 2],
        }
    )
    grid["count"] = sums.reindex(pd.MultiIndex.from_frame(grid[keys])).fillna(0.0).to_numpy()
    return grid


def _hour_rows(frame: pd.DataFrame) -> HourRows:
    return HourRows(
        approach=frame["approach"].to_numpy(np.int64),
        vehicle_type=frame["vehicle_type"].to_numpy(np.int64),
        cell=frame["cell"].to_numpy(np.int64),
        utc_hour=frame["utc_hour"].to_numpy(np.int64),
        yyyymmdd=frame["yyyymmdd"].to_numpy(np.int64),
        count=frame["count"].to_numpy(np.float64),
    )


def load(
    data_dir: str, timezone: str, eval_days: int, data_kind: str | None = None
) -> Observations:
    """Reads ``data_dir``'s daily files; the last ``eval_days`` days with rows are eval.

    Raises ValueError (naming the dir or file) when the data cannot be read or split.
    """
    kind = data_kind or detect_kind(data_dir)
    split = json.dumps({"kind": TIME, "eval_days": eval_days})
    files, rule = inputs.check_inputs(data_dir, "", "", split, kind)
    read = _count_rows if kind == features.DATA_KIND_COUNTS else _event_rows
    frame = read(files, rule, timezone)
    if frame.empty:
        raise ValueError(f"{data_dir}: no valid rows")
    keys = list(zip(frame["intersection"], frame["direction"], strict=True))
    approaches = sorted(set(keys))
    index = {a: i for i, a in enumerate(approaches)}
    frame["approach"] = np.fromiter((index[k] for k in keys), np.int64, len(keys))
    parts = {}
    for name, mask in (("train", ~frame["is_eval"]), ("eval", frame["is_eval"])):
        part = frame[mask.to_numpy()]
        if kind == features.DATA_KIND_EVENTS:
            part = _expand_events(part, len(approaches))
        parts[name] = _hour_rows(part)
    return Observations(
        approaches=approaches,
        data_kind=kind,
        timezone=timezone,
        train=parts["train"],
        eval=parts["eval"],
        eval_from=rule.eval_from_yyyymmdd,
    )


def local_cells(utc_hours: np.ndarray, timezone: str) -> np.ndarray:
    """Day-hour cells of UTC epoch hours in ``timezone`` (ExampleGen's calendar)."""
    calendar = local_calendar(np.asarray(utc_hours, np.int64) * MICROS_PER_HOUR, timezone)
    return approach_table.day_hour_cell(calendar.day_of_week, calendar.hour)


def align(
    source: list[tuple[str, str]], table: np.ndarray, target: list[tuple[str, str]]
) -> np.ndarray:
    """``table``'s rows reordered to ``target``'s approaches; ValueError if one is missing."""
    index = {a: i for i, a in enumerate(source)}
    missing = [a for a in target if a not in index]
    if missing:
        raise ValueError(f"no truth for {len(missing)} approach(es), e.g. {missing[0]}")
    return table[[index[a] for a in target]]


HISTORICAL_AVERAGE = "historical average"
LAST_WEEK = "same hour last week"
DAY_CLASS = "day-class average"


def baseline_tables(obs: Observations) -> dict[str, np.ndarray]:
    """(A, 168, T) tables of the train days: historical average, last week, day class
    (``accuracy``). Approaches seen only in the eval days get the mean of the others,
    like the table's unseen row."""
    vehicles, hours = obs.sums(obs.train)
    week_v, week_h = obs.sums(obs.last_week())
    tables = {
        HISTORICAL_AVERAGE: accuracy.historical_average(vehicles, hours),
        LAST_WEEK: accuracy.historical_average(week_v, week_h),
        DAY_CLASS: accuracy.day_class_average(vehicles, hours),
    }
    trained = np.zeros(len(obs.approaches), bool)
    trained[np.unique(obs.train.approach)] = True
    if not trained.all():
        for name, table in tables.items():
            unseen = table[trained].mean(axis=0)
            tables[name] = np.where(trained[:, None, None], table, unseen[None])
    return tables


def default_eval_days(city: str | None) -> int:
    """The city's ``data.split.eval_days`` (built-in config), else ExampleGen's default."""
    from components.traffic_example_gen.splits import DEFAULT_EVAL_DAYS
    from pipeline.config import builtin_cities, load_config

    if city and city in builtin_cities():
        return load_config(city).data.split.eval_days
    return DEFAULT_EVAL_DAYS

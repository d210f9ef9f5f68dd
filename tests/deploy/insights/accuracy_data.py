"""Small daily input files and ground_truth.json fixtures for the accuracy tests."""

from __future__ import annotations

import csv
import json
import zoneinfo
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from transforms import features

COUNT_HEADER = list(features.REQUIRED_COUNT_COLUMNS)


def local_hours(day: date, tz_name: str) -> list[datetime]:
    """The starts of the local hours of ``day`` (23, 24 or 25 of them), aware, local."""
    zone = zoneinfo.ZoneInfo(tz_name)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)
    end_day = day + timedelta(days=1)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone).astimezone(timezone.utc)
    hours = int((end - start).total_seconds() // 3600)
    return [(start + timedelta(hours=k)).astimezone(zone) for k in range(hours)]


def write_counts(
    data_dir: Path,
    first: date,
    days: int,
    tz_name: str,
    mean,  # (intersection, direction, type index, local day of week, local hour) -> float
    approaches: list[tuple[str, str]],
    types: tuple[int, ...],
    seed: int = 0,
) -> int:
    """Daily counts CSVs with Poisson counts of ``mean``, zeros written; returns the rows."""
    rng = np.random.default_rng(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for k in range(days):
        day = first + timedelta(days=k)
        with open(data_dir / f"{day.isoformat()}.csv", "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(COUNT_HEADER)
            for start in local_hours(day, tz_name):
                for intersection, direction in approaches:
                    for t in types:
                        lam = mean(intersection, direction, t, start.weekday(), start.hour)
                        count = int(rng.poisson(lam))
                        out.writerow(
                            [
                                start.isoformat(),
                                intersection,
                                direction,
                                features.VEHICLE_TYPES[t],
                                count,
                            ]
                        )
                        rows += 1
    return rows


def write_truth(
    path: Path, mean, approaches: list[tuple[str, str]], types: tuple[int, ...]
) -> None:
    """A ground_truth.json with ``intensity`` and ``approach_intensity`` from ``mean``."""

    def week(i: str, d: str, t: int) -> list[list[float]]:
        if t not in types:
            return [[0.0] * features.HOURS_PER_DAY for _ in range(features.DAYS_PER_WEEK)]
        return [
            [float(mean(i, d, t, day, hour)) for hour in range(features.HOURS_PER_DAY)]
            for day in range(features.DAYS_PER_WEEK)
        ]

    per_approach = [
        {
            "intersection_id": i,
            "direction": d,
            "intensity": {v: week(i, d, t) for t, v in enumerate(features.VEHICLE_TYPES)},
        }
        for i, d in approaches
    ]
    city = {
        v: np.sum([np.asarray(a["intensity"][v]) for a in per_approach], axis=0).tolist()
        for v in features.VEHICLE_TYPES
    }
    path.write_text(
        json.dumps({"intensity": city, "approach_intensity": per_approach}, indent=1) + "\n"
    )

"""Benchmark: which night of a season the drift gate catches a gradual break.

Generates ``--weeks`` weeks of London (as ``bench_season``: scale 2.5 is about 1M rows
per 28 days), halves one approach (``--approach``, every second vehicle) from day
``--break-day`` on, and replays the nightly drift comparisons of a ``--window``-day
window moving one day a night, with the DriftGate's own functions
(``components/drift_gate``: day cells, TFDV statistics, TFDV comparators, default
thresholds), without training: each night's baseline is the last night that would have
been blessed (``warn``: every night; ``block``: every night without drift).

``--thresholds`` sets some thresholds (the defaults come from 3 intersections, where one
approach is 1/12 of the traffic; a city's smallest approach needs a lower one). Prints
per night the largest whole-window and recent-days values of ``direction`` and
``approach`` (L-infinity) and whether the night drifted, for the broken and the
unbroken data. The whole-window values here are vehicle shares of the whole window; the
pipeline's whole-window check compares StatisticsGen's per-split row shares (the same
for events data, split by train / eval there).

    python -m benchmarks.drift_season [--weeks 8 --window 28 --scale 2.5 --break-day 40] \\
        --work-dir DIR
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

import pandas as pd

from benchmarks.bench_season import START

TIMEZONE = "Europe/London"


def day_cells(data: Path, approach: tuple[str, str], break_day: str):
    """{'unbroken' | 'broken': the day cells of every file} (derived.count_day_cells'
    columns), the broken one with every second vehicle of ``approach`` dropped from
    ``break_day`` on (as tests/e2e_support.halve_approach does)."""
    from components.drift_gate import derived
    from transforms import features

    parts: dict[str, list[pd.DataFrame]] = {"unbroken": [], "broken": []}
    for path in sorted(data.glob("????-??-??.csv")):
        rows = pd.read_csv(path)
        local = pd.to_datetime(rows[features.RAW_TIMESTAMP], utc=True).dt.tz_convert(TIMEZONE)
        rows[derived.DAY] = local.dt.strftime("%Y-%m-%d")
        rows[features.HOUR] = local.dt.hour
        hit = (rows[features.RAW_INTERSECTION] == approach[0]) & (
            rows[features.RAW_DIRECTION] == approach[1]
        )
        dropped = hit & (hit.cumsum() % 2 == 0) & (path.name[:10] >= break_day)
        for name, kept in (("unbroken", rows), ("broken", rows[~dropped])):
            cells = kept.groupby(derived.CELL_KEYS).size().rename(derived.WEIGHT).reset_index()
            parts[name].append(cells)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def replay(
    cells: pd.DataFrame,
    days: list[str],
    window: int,
    recent_days: int,
    mode: str,
    thresholds: dict[str, float],
):
    """One line per night: (night, whole-window values, recent values, drifted)."""
    from components.drift_gate import checks, comparison, recent

    watched = ("direction", checks.APPROACH)
    baseline = None
    for night in range(window - 1, len(days)):
        current = cells[(cells.day >= days[night - window + 1]) & (cells.day <= days[night])]
        if baseline is None:
            baseline = current
            yield days[night], {}, {}, False
            continue
        whole, _ = comparison.compare(
            recent.mix_statistics(current), recent.mix_statistics(baseline), thresholds, "window"
        )
        found, _, _ = recent.compare_recent(
            current, baseline, datetime.date.fromisoformat(days[night]), recent_days, thresholds
        )
        drifted = any(m.drifted for m in whole + found)
        yield (
            days[night],
            {m.feature: m.value for m in whole if m.feature in watched},
            {m.feature: m.value for m in found if m.feature in watched},
            drifted,
        )
        if mode == "warn" or not drifted:
            baseline = current


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--window", type=int, default=28)
    parser.add_argument("--recent-days", type=int, help="(default: the config's default)")
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--intersections", type=int, help="(default: the city's)")
    parser.add_argument("--break-day", type=int, default=40, help="1 = the first day")
    parser.add_argument("--approach", default="LDN-0001/N")
    parser.add_argument(
        "--thresholds",
        default="",
        help="feature=value,... over the defaults (e.g. approach=0.005,direction=0.005)",
    )
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    from components.drift_gate import checks
    from deploy.datasets.synthetic.cities import get_city
    from deploy.datasets.synthetic.generator import generate

    data = Path(args.work_dir).resolve() / "data"
    if not data.is_dir():
        generate(
            get_city("london"),
            data,
            days=args.weeks * 7,
            start_date=START,
            scale=args.scale,
            intersections=args.intersections,
        )
    recent_days = args.recent_days or checks.DEFAULT_RECENT_DAYS
    thresholds = dict(checks.DEFAULT_THRESHOLDS)
    for item in filter(None, args.thresholds.split(",")):
        name, value = item.split("=")
        thresholds[name] = float(value)
    break_day = (START + datetime.timedelta(days=args.break_day - 1)).isoformat()
    cells = day_cells(data, tuple(args.approach.split("/")), break_day)
    days = sorted(cells["broken"].day.unique())
    print(f"window {args.window} days, recent {recent_days} days, break from {break_day}")
    print(f"thresholds: {thresholds}")
    for name, mode in (("unbroken", "block"), ("broken", "warn"), ("broken", "block")):
        print(f"{name} data, {mode}: night  window direction/approach  recent direction/approach")
        for night, whole, found, drifted in replay(
            cells[name], days, args.window, recent_days, mode, thresholds
        ):
            values = " ".join(
                f"{part.get('direction', 0):.4f}/{part.get(checks.APPROACH, 0):.4f}"
                for part in (whole, found)
            )
            print(f"  {night} {values} {'DRIFT' if drifted else ''}")


if __name__ == "__main__":
    main()

"""Generates per-vehicle observations (or hourly counts) for one city, plus the truth they
were drawn from.

:func:`generate` validates its input, then runs the jobs of this package in order:
``sampling`` (intersections and vehicles, numpy), ``formats`` (one CSV / CSV.gz /
Parquet file of vehicles per local date) or, for ``kind="counts"``, ``counts`` (the same
draws as hourly counts per approach and vehicle type), ``ground_truth``
(``ground_truth.json``), all written through ``output`` (a staging directory renamed into
place at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from deploy.datasets.output import GenerationError, check_target, staged_directory
from deploy.datasets.synthetic import ground_truth, sampling
from deploy.datasets.synthetic.cities import CityProfile
from deploy.datasets.synthetic.counts import write_count_days
from deploy.datasets.synthetic.formats import COLUMNS, FILE_FORMATS, write_days
from deploy.datasets.synthetic.ground_truth import (
    GROUND_TRUTH_FILE,
    load_approach_intensity,
    load_ground_truth,
    read_ground_truth,
)
from transforms import features

__all__ = [
    "COLUMNS",
    "DEFAULT_DAYS",
    "DEFAULT_START_DATE",
    "FILE_FORMATS",
    "GROUND_TRUTH_FILE",
    "GenerationError",
    "GenerationSummary",
    "generate",
    "load_approach_intensity",
    "load_ground_truth",
    "read_ground_truth",
]

DEFAULT_DAYS = 28
DEFAULT_START_DATE = "2026-03-16"  # a Monday; 28 days include London's 2026 spring-forward


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate` wrote."""

    path: Path
    rows_per_file: dict[str, int]
    total_rows: int
    ground_truth_path: Path
    seed: int
    kind: str = features.DATA_KIND_EVENTS
    vehicles: int = 0  # vehicles in the files (= total_rows for events)


def generate(
    profile: CityProfile,
    out_dir: str | Path,
    *,
    days: int = DEFAULT_DAYS,
    start_date: date | str = DEFAULT_START_DATE,
    file_format: str = "csv",
    seed: int | None = None,
    intersections: int | None = None,
    scale: float = 1.0,
    overwrite: bool = False,
    kind: str = features.DATA_KIND_EVENTS,
    overwrite_foreign: bool = False,
) -> GenerationSummary:
    """Writes ``days`` daily files of observations for ``profile`` plus ground_truth.json.

    ``kind`` is ``events`` (one row per vehicle) or ``counts`` (the same vehicles counted
    per local hour, approach and vehicle type, zeros included). Deterministic for a seed
    (default: the city's). Raises :class:`GenerationError` for bad input or an
    unwritable/non-empty ``out_dir``; nothing is left behind then. ``overwrite`` replaces
    an ``out_dir`` holding only what generate/import wrote; ``overwrite_foreign`` one
    holding other files too (``output.check_target``).
    """
    start = parse_start_date(start_date)
    seed = profile.default_seed if seed is None else seed
    n_intersections = profile.intersections if intersections is None else intersections
    _validate(days, file_format, seed, n_intersections, scale)
    if kind not in features.DATA_KINDS:
        raise GenerationError(f"kind {kind!r} not in {', '.join(features.DATA_KINDS)}")
    target = Path(out_dir).absolute()
    check_target(target, overwrite, overwrite_foreign)

    layout = sampling.draw_layout(profile, n_intersections, scale, seed)
    cells = sampling.local_hour_cells(profile.timezone, start, days)
    truth = ground_truth.describe(profile, layout, seed, start, days, scale, file_format)
    with staged_directory(
        target, overwrite, overwrite_foreign, written_by="traffic-pipeline generate"
    ) as staging:
        if kind == features.DATA_KIND_COUNTS:
            counts = sampling.hourly_counts(profile, layout, cells, days, seed)
            rows_per_file = write_count_days(
                staging, counts, cells, layout, start, days, file_format
            )
            expected, vehicles = counts.size, int(counts.sum())
        else:
            rows = sampling.sample(profile, layout, cells, days, seed)
            rows_per_file = write_days(staging, rows, cells, layout, start, days, file_format)
            expected = vehicles = rows.utc_ms.size
        total = sum(rows_per_file.values())
        if total != expected:  # a row outside the run's dates would be lost
            raise GenerationError(f"{expected - total} rows fell outside the run's dates")
        truth = {**truth, "files": rows_per_file, "total_rows": total}
        if kind == features.DATA_KIND_COUNTS:
            truth = {**truth, "data_kind": kind, "total_vehicles": vehicles}
        (staging / GROUND_TRUTH_FILE).write_text(ground_truth.to_json(truth))
    return GenerationSummary(
        path=target,
        rows_per_file=rows_per_file,
        total_rows=total,
        ground_truth_path=target / GROUND_TRUTH_FILE,
        seed=seed,
        kind=kind,
        vehicles=vehicles,
    )


def parse_start_date(start_date: date | str) -> date:
    """A ``date`` or ``YYYY-MM-DD``; :class:`GenerationError` otherwise."""
    if isinstance(start_date, date):
        return start_date
    try:
        return date.fromisoformat(start_date)
    except (TypeError, ValueError) as err:
        raise GenerationError(f"start date {start_date!r} is not YYYY-MM-DD") from err


def _validate(days: int, file_format: str, seed: int, intersections: int, scale: float) -> None:
    if days < 1:
        raise GenerationError(f"days must be a positive integer, got {days}")
    if intersections < 1:
        raise GenerationError(f"intersections must be a positive integer, got {intersections}")
    if not scale > 0 or not np.isfinite(scale):
        raise GenerationError(f"scale must be a positive number, got {scale}")
    if seed < 0:
        raise GenerationError(f"seed must be a non-negative integer, got {seed}")
    if file_format not in FILE_FORMATS:
        raise GenerationError(f"format {file_format!r} not in {', '.join(FILE_FORMATS)}")

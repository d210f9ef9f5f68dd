"""``ground_truth.json``: the truth a run was drawn from; written by the generator, read back
by benchmarks and ``explain``.

Content (written with ``json.dumps(indent=1)``; shown compact here)::

    {
      "format_version": 1,
      "city": "london", "timezone": "Europe/London", "seed": 20260316,
      "start_date": "2026-03-16", "days": 28, "scale": 1.0, "file_format": "csv",
      "vehicle_types": ["car", "truck", "bus", "bicycle"],
      "directions": ["N", "E", "S", "W"],
      "intensity_unit": "expected vehicles per local hour, whole city",
      "intensity": {"car": [[24 floats, hour 0..23] x 7 days, Monday first], ...},
      "noise": {"kind": "lognormal, mean 1", "day_sigma": 0.08, "hour_sigma": 0.15},
      "intersections": [
        {"id": "LDN-0001", "base_volume": 31.2,          # expected vehicles/hour,
         "direction_factors": {"N": 0.3, ...},           #   week average, all types
         "lanes": {"N": 2, ...}}, ...],
      "files": {"2026-03-16.csv": 14512, ...},
      "total_rows": 403311
    }

A ``--kind counts`` run adds ``"data_kind": "counts"`` and ``"total_vehicles"``; its
``files`` and ``total_rows`` count hourly count rows.

``intensity[v][dow][hour]`` is the sum over intersections of ``base_volume *
share[v] * shape[v, dow, hour]``. :func:`load_ground_truth` returns it as a
(168 x vehicle types) matrix.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from deploy.synthetic.cities import CityProfile
from deploy.synthetic.sampling import Layout
from transforms import features

GROUND_TRUTH_FILE = "ground_truth.json"
GROUND_TRUTH_FORMAT_VERSION = 1


def describe(
    profile: CityProfile,
    layout: Layout,
    seed: int,
    start: date,
    days: int,
    scale: float,
    file_format: str,
) -> dict:
    """The truth of a run (without "files" and "total_rows", known once written)."""
    shapes = profile.weekly_shapes()
    total_base = float(layout.base_volume.sum())
    intensity = {
        v: np.round(total_base * profile.vehicle_shares[k] * shapes[k], 6).tolist()
        for k, v in enumerate(features.VEHICLE_TYPES)
    }
    intersections = [
        {
            "id": site,
            "base_volume": float(layout.base_volume[i]),
            "direction_factors": dict(
                zip(features.DIRECTIONS, layout.direction_factors[i].tolist(), strict=True)
            ),
            "lanes": dict(zip(features.DIRECTIONS, layout.lanes[i].tolist(), strict=True)),
        }
        for i, site in enumerate(layout.ids)
    ]
    return {
        "format_version": GROUND_TRUTH_FORMAT_VERSION,
        "city": profile.name,
        "timezone": profile.timezone,
        "seed": seed,
        "start_date": start.isoformat(),
        "days": days,
        "scale": scale,
        "file_format": file_format,
        "vehicle_types": list(features.VEHICLE_TYPES),
        "directions": list(features.DIRECTIONS),
        "intensity_unit": "expected vehicles per local hour, whole city",
        "intensity": intensity,
        "noise": {
            "kind": "lognormal, mean 1",
            "day_sigma": profile.day_noise_sigma,
            "hour_sigma": profile.hour_noise_sigma,
        },
        "intersections": intersections,
    }


def to_json(truth: dict) -> str:
    """The file's text (deterministic: same dict, same bytes)."""
    return json.dumps(truth, indent=1) + "\n"


def read_ground_truth(path: str | Path) -> dict:
    """The parsed ground_truth.json (``path``: the file or the output directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / GROUND_TRUTH_FILE
    try:
        truth = json.loads(path.read_text())
    except OSError as err:
        raise ValueError(f"cannot read ground truth {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON: {err}") from err
    if not isinstance(truth, dict) or "intensity" not in truth:
        raise ValueError(f"{path}: field 'intensity' is missing")
    return truth


def load_ground_truth(path: str | Path) -> np.ndarray:
    """True expected vehicles per hour, city-wide: shape (168, len(VEHICLE_TYPES)).

    Rows follow ``features.all_day_hours()`` (Monday 00:00 first), columns
    ``features.VEHICLE_TYPES``. ``path`` is ground_truth.json or its directory.
    """
    truth = read_ground_truth(path)
    matrix = np.empty((features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES)))
    for v, vehicle_type in enumerate(features.VEHICLE_TYPES):
        week = np.asarray(truth["intensity"].get(vehicle_type, []), dtype=float)
        if week.shape != (features.DAYS_PER_WEEK, features.HOURS_PER_DAY):
            raise ValueError(
                f"{path}: field 'intensity.{vehicle_type}' must be 7 x 24 numbers, "
                f"got shape {week.shape}"
            )
        for row, (day, hour) in enumerate(features.all_day_hours()):
            matrix[row, v] = week[day, hour]
    return matrix

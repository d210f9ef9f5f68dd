"""``ground_truth.json``: the truth a run was drawn from; written by the generator, read back
by benchmarks and ``explain``.

Content (written with ``json.dumps(indent=1)``, one line per ``approach_intensity`` entry;
shown compact here)::

    {
      "format_version": 2,
      "city": "london", "timezone": "Europe/London", "seed": 20260316,
      "start_date": "2026-03-16", "days": 28, "scale": 1.0, "file_format": "csv",
      "vehicle_types": ["car", "truck", "bus", "bicycle"],
      "directions": ["N", "E", "S", "W"],
      "intensity_unit": "expected vehicles per local hour, whole city",
      "intensity": {"car": [[24 floats, hour 0..23] x 7 days, Monday first], ...},
      "approach_intensity_unit": "expected vehicles per local hour, one approach",
      "approach_intensity": [
        {"intersection_id": "LDN-0001", "direction": "N",
         "intensity": {"car": [[24 floats] x 7 days, Monday first], "truck": ..., ...}},
        ...],                                  # by intersection id, then DIRECTIONS order
      "noise": {"kind": "lognormal, mean 1", "day_sigma": 0.08, "hour_sigma": 0.15},
      "tidal": 0.6,
      "intersections": [
        {"id": "LDN-0001", "kind": "radial",             # or school, shopping, night_trucks
         "bearing_deg": 212.4, "distance_km": 3.1,       # position from the city centre
         "base_volume": 31.2,                            # expected vehicles/hour,
         "direction_factors": {"N": 0.3, ...},           #   week average, all types
         "inbound_weight": {"N": 0.84, ...},             # cos(heading, toward centre)
         "lanes": {"N": 2, ...}}, ...],
      "files": {"2026-03-16.csv": 14512, ...},
      "total_rows": 403311
    }

A ``--kind counts`` run adds ``"data_kind": "counts"`` and ``"total_vehicles"``; its
``files`` and ``total_rows`` count hourly count rows.

``approach_intensity`` is ``sampling.approach_intensity``: the noise-free expected
vehicles of each approach (noise has mean 1), which the events and counts are drawn
from. ``intensity[v][dow][hour]`` is its sum over approaches. :func:`load_ground_truth`
returns the city-wide intensity as a (168 x vehicle types) matrix,
:func:`load_approach_intensity` the per-approach one as (approaches x 168 x types).
Format version 1 (before tidal approaches) had no ``approach_intensity``, ``tidal`` and
no position, kind or inbound weight per intersection.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from deploy.datasets.synthetic.cities import INTERSECTION_KINDS, CityProfile
from deploy.datasets.synthetic.sampling import Layout, approach_intensity
from transforms import features

GROUND_TRUTH_FILE = "ground_truth.json"
GROUND_TRUTH_FORMAT_VERSION = 2
_DECIMALS = 6


def describe(
    profile: CityProfile,
    layout: Layout,
    seed: int,
    start: date,
    days: int,
    scale: float,
    file_format: str,
    approaches: np.ndarray | None = None,
) -> dict:
    """The truth of a run (without "files" and "total_rows", known once written).

    ``approaches`` (I, D, V, 7, 24) replaces the profile's expected rates
    (``sampling.approach_intensity``), e.g. with the rates ``simulate`` derived from routes.
    """
    if approaches is None:
        approaches = approach_intensity(profile, layout)  # (I, D, V, 7, 24)
    city = approaches.sum(axis=(0, 1))
    intensity = {
        v: np.round(city[k], _DECIMALS).tolist() for k, v in enumerate(features.VEHICLE_TYPES)
    }
    per_approach = [
        {
            "intersection_id": site,
            "direction": direction,
            "intensity": {
                v: np.round(approaches[i, d, k], _DECIMALS).tolist()
                for k, v in enumerate(features.VEHICLE_TYPES)
            },
        }
        for i, site in sorted(enumerate(layout.ids), key=lambda pair: pair[1])
        for d, direction in enumerate(features.DIRECTIONS)
    ]
    inbound = layout.inbound
    intersections = [
        {
            "id": site,
            "kind": INTERSECTION_KINDS[layout.kind[i]],
            "bearing_deg": round(float(layout.bearing_deg[i]), 2),
            "distance_km": round(float(layout.distance_km[i]), 3),
            "base_volume": float(layout.base_volume[i]),
            "direction_factors": dict(
                zip(features.DIRECTIONS, layout.direction_factors[i].tolist(), strict=True)
            ),
            "inbound_weight": dict(
                zip(features.DIRECTIONS, np.round(inbound[i], 4).tolist(), strict=True)
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
        "approach_intensity_unit": "expected vehicles per local hour, one approach",
        "approach_intensity": per_approach,
        "noise": {
            "kind": "lognormal, mean 1",
            "day_sigma": profile.day_noise_sigma,
            "hour_sigma": profile.hour_noise_sigma,
        },
        "tidal": profile.tidal,
        "intersections": intersections,
    }


def to_json(truth: dict) -> str:
    """The file's text (deterministic: same dict, same bytes): ``json.dumps(indent=1)``,
    except that each ``approach_intensity`` entry is one compact line (its ~65k numbers
    would take 60 ms and 1.1 MB one per line with the pure-Python indenting encoder)."""
    entries = truth.get("approach_intensity")
    if not entries:
        return json.dumps(truth, indent=1) + "\n"
    marker = json.dumps(f"<{len(entries)} approaches>")
    text = json.dumps({**truth, "approach_intensity": json.loads(marker)}, indent=1)
    lines = ",\n  ".join(json.dumps(entry, separators=(",", ":")) for entry in entries)
    head, tail = text.split(marker)  # exactly one occurrence: a value of our own key
    return f"{head}[\n  {lines}\n ]{tail}\n"


def _truth_file(path: str | Path) -> Path:
    path = Path(path)
    return path / GROUND_TRUTH_FILE if path.is_dir() else path


def read_ground_truth(path: str | Path) -> dict:
    """The parsed ground_truth.json (``path``: the file or the output directory)."""
    path = _truth_file(path)
    try:
        truth = json.loads(path.read_text())
    except OSError as err:
        raise ValueError(f"cannot read ground truth {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: invalid JSON: {err}") from err
    if not isinstance(truth, dict) or "intensity" not in truth:
        raise ValueError(f"{path}: field 'intensity' is missing")
    return truth


def _week(value: object, path: Path, field: str) -> np.ndarray:
    """``value`` as a (7, 24) float array, or a one-line ValueError naming file and field."""
    try:
        week = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        week = np.empty(0)
    if week.shape != (features.DAYS_PER_WEEK, features.HOURS_PER_DAY):
        raise ValueError(f"{path}: field {field!r} must be 7 x 24 numbers, got shape {week.shape}")
    return week


def _type_columns(intensity: object, path: Path, field: str) -> np.ndarray:
    """{type: 7 x 24} as (168, len(VEHICLE_TYPES)), rows in ``features.all_day_hours()``."""
    if not isinstance(intensity, dict):
        raise ValueError(f"{path}: field {field!r} must map vehicle types to 7 x 24 numbers")
    days, hours = np.array(features.all_day_hours()).T
    return np.stack(
        [
            _week(intensity.get(v), path, f"{field}.{v}")[days, hours]
            for v in features.VEHICLE_TYPES
        ],
        axis=-1,
    )


def load_ground_truth(path: str | Path) -> np.ndarray:
    """True expected vehicles per hour, city-wide: shape (168, len(VEHICLE_TYPES)).

    Rows follow ``features.all_day_hours()`` (Monday 00:00 first), columns
    ``features.VEHICLE_TYPES``. ``path`` is ground_truth.json or its directory.
    """
    truth = read_ground_truth(path)
    return _type_columns(truth["intensity"], _truth_file(path), "intensity")


def load_approach_intensity(path: str | Path) -> tuple[list[tuple[str, str]], np.ndarray]:
    """True expected vehicles per hour of each approach: ``(approaches, matrix)``.

    ``approaches`` lists (intersection_id, direction) in file order (by id, then
    ``features.DIRECTIONS``); ``matrix`` has shape (len(approaches), 168,
    len(VEHICLE_TYPES)), rows in ``features.all_day_hours()`` order. Raises a one-line
    ``ValueError`` naming the file and field when the field is missing or malformed.
    """
    truth = read_ground_truth(path)
    path = _truth_file(path)
    entries = truth.get("approach_intensity")
    if not isinstance(entries, list) or not entries:
        version = truth.get("format_version")
        raise ValueError(
            f"{path}: field 'approach_intensity' is missing or empty "
            f"(format_version {version}; written from version {GROUND_TRUTH_FORMAT_VERSION})"
        )
    approaches, matrices = [], []
    for n, entry in enumerate(entries):
        field = f"approach_intensity[{n}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: field {field!r} must be an object")
        site, direction = entry.get("intersection_id"), entry.get("direction")
        if not isinstance(site, str) or direction not in features.DIRECTIONS:
            raise ValueError(
                f"{path}: field {field!r} needs a string 'intersection_id' and a 'direction' "
                f"in {', '.join(features.DIRECTIONS)}"
            )
        approaches.append((site, direction))
        matrices.append(_type_columns(entry.get("intensity"), path, f"{field}.intensity"))
    return approaches, np.stack(matrices)

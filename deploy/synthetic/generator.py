"""Generates per-vehicle observations for one city, plus the truth they were drawn from.

Model: a non-homogeneous Poisson process per intersection x direction x vehicle
type. The expected number of vehicles in one local hour cell is::

    base_volume[i] * direction_factor[i, d] * share[v] * shape[v, dow, hour]
        * day_noise[date] * hour_noise[i, cell]

``shape`` is the city's weekly profile (:meth:`CityProfile.weekly_shapes`, weekly
mean 1 per type), the direction factors of an intersection sum to 1, and both
noises are lognormal with mean 1 (``day_noise`` is city-wide per local date,
``hour_noise`` per intersection and hour cell), so the expected rate equals the
noise-free one. Counts are drawn per hour cell with numpy, then each vehicle gets
a uniform millisecond inside its hour. Hour cells are the real local hours of the
time zone: the spring-forward hour does not exist, the autumn hour occurs twice
(once per UTC offset).

Output directory (written to a temporary sibling, renamed into place at the end)::

    YYYY-MM-DD.csv | .csv.gz | .parquet   one file per LOCAL date, rows sorted by time
    ground_truth.json

Columns (:data:`COLUMNS`, names from ``transforms.features``): timestamp (ISO-8601, local time,
milliseconds, UTC offset, e.g. ``2026-03-29T00:59:59.250+00:00``), intersection_id,
direction, vehicle_type, lane (int), speed_kmh (1 decimal). Parquet stores the
timestamp as the same string.

``ground_truth.json`` layout::

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

``intensity[v][dow][hour]`` is the sum over intersections of ``base_volume *
share[v] * shape[v, dow, hour]``. :func:`load_ground_truth` returns it as a
(168 x vehicle types) matrix.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from deploy.synthetic.cities import CityProfile
from transforms import features

GROUND_TRUTH_FILE = "ground_truth.json"
FILE_FORMATS = ("csv", "csv.gz", "parquet")
DEFAULT_DAYS = 28
DEFAULT_START_DATE = "2026-03-16"  # a Monday; 28 days include London's 2026 spring-forward
COLUMNS = (
    features.RAW_TIMESTAMP,
    features.RAW_INTERSECTION,
    features.RAW_DIRECTION,
    features.RAW_VEHICLE_TYPE,
    features.RAW_LANE,
    features.RAW_SPEED,
)
GROUND_TRUTH_FORMAT_VERSION = 1

_MS_PER_HOUR = 3_600_000
_MS_PER_DAY = 86_400_000
_TIMESTAMP_WIDTH = 29  # 2026-03-29T00:59:59.250+00:00
# Free-flow speeds (km/h) per vehicle type and how much congestion slows each.
_FREE_SPEED = {"car": 38.0, "truck": 33.0, "bus": 26.0, "bicycle": 17.0}
_CONGESTION_SLOWDOWN = {"car": 0.45, "truck": 0.4, "bus": 0.35, "bicycle": 0.05}
_SPEED_SPREAD = 0.15
_MAX_SPEED_TENTHS = 1200
_MAIN_AXIS_FACTOR, _MINOR_AXIS_FACTOR = 0.32, 0.18  # N and S (or E and W) carry more


class GenerationError(ValueError):
    """Invalid generator input or an output directory that cannot be written."""


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate` wrote."""

    path: Path
    rows_per_file: dict[str, int]
    total_rows: int
    ground_truth_path: Path
    seed: int


@dataclass(frozen=True)
class HourCells:
    """The real local hours of a run, one entry per UTC hour (DST-aware)."""

    utc_start_ms: np.ndarray  # int64 epoch ms of each cell's start
    offset_ms: np.ndarray  # int64 UTC offset of each cell
    offset_text: tuple[str, ...]  # "+01:00"
    date_index: np.ndarray  # local date - start date, in days
    day_of_week: np.ndarray  # local, 0 = Monday
    hour: np.ndarray  # local 0-23


@dataclass(frozen=True)
class _Layout:
    ids: tuple[str, ...]
    base_volume: np.ndarray  # (I,)
    direction_factors: np.ndarray  # (I, 4), rows sum to 1
    lanes: np.ndarray  # (I, 4)


@dataclass(frozen=True)
class _Rows:
    """Sampled vehicles, sorted by (local date, time)."""

    utc_ms: np.ndarray
    local_ms: np.ndarray
    cell: np.ndarray
    intersection: np.ndarray
    direction: np.ndarray
    vehicle_type: np.ndarray
    lane: np.ndarray
    speed_tenths: np.ndarray


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
) -> GenerationSummary:
    """Writes ``days`` daily files of observations for ``profile`` plus ground_truth.json.

    Deterministic for a seed (default: the city's). Raises :class:`GenerationError`
    for bad input or an unwritable/non-empty ``out_dir``; nothing is left behind then.
    """
    start = _parse_start(start_date)
    seed = profile.default_seed if seed is None else seed
    n_intersections = profile.intersections if intersections is None else intersections
    _validate(days, file_format, seed, n_intersections, scale)
    target = Path(out_dir).absolute()
    _check_target(target, overwrite)

    layout = _draw_layout(profile, n_intersections, scale, seed)
    cells = local_hour_cells(profile.timezone, start, days)
    rows = _sample(profile, layout, cells, days, seed)
    truth = _ground_truth(profile, layout, seed, start, days, scale, file_format)
    return _write_atomically(
        target, overwrite, rows, cells, layout, start, days, file_format, truth, seed
    )


def local_hour_cells(tz_name: str, start: date, days: int) -> HourCells:
    """Every UTC hour whose local date is in [start, start + days), with its local labels."""
    zone = ZoneInfo(tz_name)
    end = start + timedelta(days=days)
    first = datetime.combine(start, time(0), zone).astimezone(timezone.utc) - timedelta(hours=3)
    last = datetime.combine(end, time(0), zone).astimezone(timezone.utc) + timedelta(hours=3)
    utc, offsets, texts, date_index, dows, hours = [], [], [], [], [], []
    for k in range(int((last - first).total_seconds()) // 3600):
        instant = first + timedelta(hours=k)
        local = instant.astimezone(zone)
        if not start <= local.date() < end:
            continue
        offset = local.utcoffset() or timedelta(0)
        utc.append(int(instant.timestamp()) * 1000)
        offsets.append(int(offset.total_seconds()) * 1000)
        texts.append(_offset_text(offset))
        date_index.append((local.date() - start).days)
        dows.append(local.weekday())
        hours.append(local.hour)
    return HourCells(
        utc_start_ms=np.array(utc, dtype=np.int64),
        offset_ms=np.array(offsets, dtype=np.int64),
        offset_text=tuple(texts),
        date_index=np.array(date_index, dtype=np.int64),
        day_of_week=np.array(dows, dtype=np.int64),
        hour=np.array(hours, dtype=np.int64),
    )


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


# --- validation ---------------------------------------------------------------


def _parse_start(start_date: date | str) -> date:
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


def _check_target(target: Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise GenerationError(f"output {target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise GenerationError(
            f"output directory {target} already holds data; pass --overwrite to replace it"
        )


# --- sampling -----------------------------------------------------------------


def _draw_layout(profile: CityProfile, n: int, scale: float, seed: int) -> _Layout:
    """Intersections: base volumes, direction split and lanes (independent of the dates)."""
    rng = np.random.default_rng([seed, 0])
    raw = rng.lognormal(0.0, profile.base_volume_sigma, n)
    base = raw / raw.mean() * profile.mean_base_volume * scale
    north_south_main = rng.random(n) < 0.5
    axis = np.where(
        north_south_main[:, None],
        [_MAIN_AXIS_FACTOR, _MINOR_AXIS_FACTOR] * 2,
        [_MINOR_AXIS_FACTOR, _MAIN_AXIS_FACTOR] * 2,
    )
    factors = axis * rng.uniform(0.8, 1.2, (n, len(features.DIRECTIONS)))
    factors /= factors.sum(axis=1, keepdims=True)
    lanes = rng.integers(1, profile.max_lanes + 1, (n, len(features.DIRECTIONS)))
    ids = tuple(f"{profile.id_prefix}-{k + 1:04d}" for k in range(n))
    return _Layout(ids=ids, base_volume=base, direction_factors=factors, lanes=lanes)


def _lognormal_mean_one(rng: np.random.Generator, sigma: float, size) -> np.ndarray:
    return np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)


def _sample(profile: CityProfile, layout: _Layout, cells: HourCells, days: int, seed: int) -> _Rows:
    rng = np.random.default_rng([seed, 1])
    n_cells, n_inter = len(cells.hour), len(layout.ids)
    n_dir, n_type = len(features.DIRECTIONS), len(features.VEHICLE_TYPES)
    shapes = profile.weekly_shapes()  # (V, 7, 24)
    shares = np.asarray(profile.vehicle_shares)
    type_rate = shares[None, :] * shapes[:, cells.day_of_week, cells.hour].T  # (C, V)
    day_noise = _lognormal_mean_one(rng, profile.day_noise_sigma, days)[cells.date_index]
    hour_noise = _lognormal_mean_one(rng, profile.hour_noise_sigma, (n_cells, n_inter))
    site_rate = (layout.base_volume[None, :] * hour_noise) * day_noise[:, None]  # (C, I)
    rate = (
        site_rate[:, :, None, None]
        * layout.direction_factors[None, :, :, None]
        * type_rate[:, None, None, :]
    )
    counts = rng.poisson(rate).ravel()

    flat = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    vehicle_type = flat % n_type
    direction = (flat // n_type) % n_dir
    intersection = (flat // (n_type * n_dir)) % n_inter
    cell = flat // (n_type * n_dir * n_inter)
    utc_ms = cells.utc_start_ms[cell] + rng.integers(0, _MS_PER_HOUR, flat.size)
    local_ms = utc_ms + cells.offset_ms[cell]
    local_day = local_ms // _MS_PER_DAY
    # One stable sort by (local date, instant); ties keep the (intersection, direction,
    # type) order of the draw, so the output is deterministic.
    first_day = (cells.utc_start_ms[0] + cells.offset_ms[0]) // _MS_PER_DAY - 1
    key = ((local_day - first_day) << 41) | (utc_ms - cells.utc_start_ms[0])
    order = np.argsort(key, kind="stable")
    cell, intersection, direction, vehicle_type = (
        a[order] for a in (cell, intersection, direction, vehicle_type)
    )
    utc_ms, local_ms = utc_ms[order], local_ms[order]

    lanes = layout.lanes[intersection, direction]
    kerb_only = np.isin(vehicle_type, [features.VEHICLE_TYPES.index(v) for v in ("bus", "bicycle")])
    lane = np.where(kerb_only, 1, 1 + (rng.random(flat.size) * lanes).astype(np.int64))
    congestion = shapes[0, cells.day_of_week, cells.hour] / shapes[0].max()  # car shape
    free = np.array([_FREE_SPEED[v] for v in features.VEHICLE_TYPES])
    slowdown = np.array([_CONGESTION_SLOWDOWN[v] for v in features.VEHICLE_TYPES])
    speed = (
        free[vehicle_type]
        * (1.0 - slowdown[vehicle_type] * congestion[cell])
        * (1.0 + _SPEED_SPREAD * rng.standard_normal(flat.size))
    )
    speed_tenths = np.clip(np.rint(speed * 10), 10, _MAX_SPEED_TENTHS).astype(np.int64)
    return _Rows(
        utc_ms=utc_ms,
        local_ms=local_ms,
        cell=cell,
        intersection=intersection,
        direction=direction,
        vehicle_type=vehicle_type,
        lane=lane,
        speed_tenths=speed_tenths,
    )


def _ground_truth(
    profile: CityProfile,
    layout: _Layout,
    seed: int,
    start: date,
    days: int,
    scale: float,
    file_format: str,
) -> dict:
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


# --- formatting and writing ------------------------------------------------------


def _text_table(strings) -> np.ndarray:
    """ASCII strings as a NUL-padded uint8 matrix (one row per string)."""
    encoded = [s.encode("ascii") for s in strings]
    width = max(1, *(len(s) for s in encoded))
    return np.array(encoded, dtype=f"S{width}").view(np.uint8).reshape(len(encoded), width)


class _CsvFormatter:
    """Formats rows as CSV bytes with numpy only (no per-row Python)."""

    def __init__(self, rows: _Rows, cells: HourCells, layout: _Layout) -> None:
        self.rows = rows
        self.ids = layout.ids
        day0 = int(rows.local_ms.min() // _MS_PER_DAY) if rows.local_ms.size else 0
        day1 = int(rows.local_ms.max() // _MS_PER_DAY) if rows.local_ms.size else 0
        self.day0 = day0
        dates = np.arange(day0, day1 + 1).astype("datetime64[D]")
        self.date_table = _text_table(np.datetime_as_string(dates).tolist())
        self.offset_table = _text_table(cells.offset_text)
        self.fields = [
            (_text_table(layout.ids), rows.intersection),
            (_text_table(features.DIRECTIONS), rows.direction),
            (_text_table(features.VEHICLE_TYPES), rows.vehicle_type),
            (_text_table([str(n) for n in range(int(layout.lanes.max()) + 1)]), rows.lane),
            (
                _text_table([f"{t // 10}.{t % 10}" for t in range(_MAX_SPEED_TENTHS + 1)]),
                rows.speed_tenths,
            ),
        ]

    def timestamps(self, lo: int, hi: int) -> np.ndarray:
        """(rows, 29) uint8 ISO-8601 local timestamps with offset."""
        local = self.rows.local_ms[lo:hi]
        day = local // _MS_PER_DAY
        in_day = local - day * _MS_PER_DAY
        out = np.empty((hi - lo, _TIMESTAMP_WIDTH), dtype=np.uint8)
        out[:, 0:10] = self.date_table[day - self.day0]
        out[:, 10] = ord("T")
        out[:, 13] = out[:, 16] = ord(":")
        out[:, 19] = ord(".")
        for col, value in (
            (11, in_day // _MS_PER_HOUR),
            (14, in_day // 60_000 % 60),
            (17, in_day // 1000 % 60),
        ):
            out[:, col] = 48 + value // 10
            out[:, col + 1] = 48 + value % 10
        millis = in_day % 1000
        out[:, 20] = 48 + millis // 100
        out[:, 21] = 48 + millis // 10 % 10
        out[:, 22] = 48 + millis % 10
        out[:, 23:29] = self.offset_table[self.rows.cell[lo:hi]]
        return out

    def csv_bytes(self, lo: int, hi: int) -> bytes:
        header = (",".join(COLUMNS) + "\n").encode()
        widths = [_TIMESTAMP_WIDTH] + [table.shape[1] for table, _ in self.fields]
        matrix = np.empty((hi - lo, sum(widths) + len(widths)), dtype=np.uint8)
        matrix[:, :_TIMESTAMP_WIDTH] = self.timestamps(lo, hi)
        col = _TIMESTAMP_WIDTH
        for table, index in self.fields:
            matrix[:, col] = ord(",")
            matrix[:, col + 1 : col + 1 + table.shape[1]] = table[index[lo:hi]]
            col += 1 + table.shape[1]
        matrix[:, col] = ord("\n")
        flat = matrix.ravel()
        return header + flat[flat != 0].tobytes()

    def arrow_table(self, lo: int, hi: int):
        import pyarrow as pa

        def strings(values, index):
            return pa.array(list(values), pa.string()).take(pa.array(index[lo:hi]))

        stamps = np.ascontiguousarray(self.timestamps(lo, hi)).view(f"S{_TIMESTAMP_WIDTH}")
        return pa.table(
            {
                features.RAW_TIMESTAMP: pa.array(stamps.ravel()).cast(pa.string()),
                features.RAW_INTERSECTION: strings(self.ids, self.rows.intersection),
                features.RAW_DIRECTION: strings(features.DIRECTIONS, self.rows.direction),
                features.RAW_VEHICLE_TYPE: strings(features.VEHICLE_TYPES, self.rows.vehicle_type),
                features.RAW_LANE: pa.array(self.rows.lane[lo:hi], pa.int64()),
                features.RAW_SPEED: pa.array(self.rows.speed_tenths[lo:hi] / 10.0, pa.float64()),
            }
        )


def _write_file(path: Path, formatter: _CsvFormatter, lo: int, hi: int, file_format: str) -> None:
    if file_format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(formatter.arrow_table(lo, hi), path, compression="snappy")
        return
    data = formatter.csv_bytes(lo, hi)
    if file_format == "csv.gz":
        buffer = io.BytesIO()
        # mtime=0 and no file name in the header: byte-identical output for a seed.
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as gz:
            gz.write(data)
        data = buffer.getvalue()
    path.write_bytes(data)


def _write_atomically(
    target: Path,
    overwrite: bool,
    rows: _Rows,
    cells: HourCells,
    layout: _Layout,
    start: date,
    days: int,
    file_format: str,
    truth: dict,
    seed: int,
) -> GenerationSummary:
    created_parents = [p for p in reversed(target.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as err:
        _remove_dirs(created_parents)
        raise GenerationError(
            f"cannot write output directory {target}: {err.strerror or err}"
        ) from err
    try:
        formatter = _CsvFormatter(rows, cells, layout)
        local_day = rows.local_ms // _MS_PER_DAY
        epoch = (start - date(1970, 1, 1)).days
        rows_per_file: dict[str, int] = {}
        for k in range(days):
            lo, hi = np.searchsorted(local_day, [epoch + k, epoch + k + 1])
            name = f"{(start + timedelta(days=k)).isoformat()}.{file_format}"
            _write_file(staging / name, formatter, int(lo), int(hi), file_format)
            rows_per_file[name] = int(hi - lo)
        total = sum(rows_per_file.values())
        if total != rows.utc_ms.size:  # a row outside the run's dates would be lost
            raise GenerationError(f"{rows.utc_ms.size - total} rows fell outside the run's dates")
        truth = {**truth, "files": rows_per_file, "total_rows": total}
        (staging / GROUND_TRUTH_FILE).write_text(_truth_json(truth))
        _swap_into_place(staging, target, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_dirs(created_parents)
        raise
    return GenerationSummary(
        path=target,
        rows_per_file=rows_per_file,
        total_rows=total,
        ground_truth_path=target / GROUND_TRUTH_FILE,
        seed=seed,
    )


def _swap_into_place(staging: Path, target: Path, overwrite: bool) -> None:
    if not target.exists():
        staging.rename(target)
        return
    _check_target(target, overwrite)  # re-check: something may have appeared meanwhile
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    target.rename(retired / target.name)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)


def _remove_dirs(dirs: list[Path]) -> None:
    for directory in reversed(dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _truth_json(truth: dict) -> str:
    """ground_truth.json text: one line per scalar key, per day of a profile, per intersection."""
    return _pretty_json(truth, 0) + "\n"


def _pretty_json(value, depth: int) -> str:
    is_container = lambda x: isinstance(x, dict | list)  # noqa: E731
    compact = json.dumps(value)
    pad = " " * depth
    if isinstance(value, dict):
        if not any(map(is_container, value.values())) and len(compact) <= 100:
            return compact
        items = [f"{pad} {json.dumps(k)}: {_pretty_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not any(map(is_container, value)):
            return compact
        if all(isinstance(v, dict) for v in value):
            items = [f"{pad} {json.dumps(v)}" for v in value]
        else:
            items = [f"{pad} {_pretty_json(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return compact


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"

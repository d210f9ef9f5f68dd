"""``simulate``: a city's daily event files from SUMO instead of the statistical generator.

Steps (all written through ``synthetic.output``: staged, renamed into place at the end):

1. the network: a generated grid (``network.build_grid``, signal ids = the city's
   intersection ids) or a copy of a given ``.net.xml``, as ``DIR/network.net.xml``;
2. the demand (``demand.grid_demand`` / ``demand.network_demand``): routes and Poisson
   flows per route, vehicle type and local hour;
3. one SUMO run per local date (``run.run``): simulation time 0 is local midnight of the
   start date and runs in real (UTC) seconds, so a spring-forward date lasts 23 simulated
   hours and an autumn one 25 (``sampling.local_hour_cells``, as the generator); each run
   lasts its date plus ``DRAIN_S`` so vehicles inserted before midnight finish. With
   ``hours=(first, last)`` only the local hours ``[first, last)`` of each date are
   simulated (from an empty network) and written; crossings after ``last`` of vehicles
   inserted before it are not written unless ``last`` is 24;
4. stop-line loops (``detectors``) give one event row per vehicle crossing a stop line,
   written by the generator's writer (``formats.write_days``): one file per local date,
   rows sorted by time, each written as soon as its date's crossings are in (memory
   holds one date, not the run);
5. ``ground_truth.json`` in the generator's v2 form, ``approach_intensity`` being the
   expected vehicles per hour derived from the routes (``demand.approach_rates``), plus a
   ``simulation`` section (network, control, demand knobs, peak flow ratios).

The pipeline reads only ``YYYY-MM-DD.<format>`` files from the data dir, so
``network.net.xml`` next to them does not disturb ``run --data DIR``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from deploy.datasets.output import (
    GenerationError,
    check_holds_no_input,
    check_target,
    staged_directory,
)
from deploy.datasets.simulation import demand as demand_mod
from deploy.datasets.simulation import detectors, network, run
from deploy.datasets.synthetic import ground_truth, sampling
from deploy.datasets.synthetic.cities import CityProfile, intersection_ids
from deploy.datasets.synthetic.formats import FILE_FORMATS, write_days
from deploy.datasets.synthetic.generator import parse_start_date
from transforms import features

DEFAULT_DAYS = 7
DEFAULT_START_DATE = "2026-03-16"  # a Monday (the generator's default start)
DEFAULT_CONTROL = "actuated"
ALL_HOURS = (0, 24)  # local hours [first, last) of each date to simulate
DRAIN_S = 900
NETWORK_FILE = network.NET_FILE


@dataclass(frozen=True)
class SimulationSummary:
    """What :func:`simulate` wrote."""

    path: Path
    rows_per_file: dict[str, int]
    total_rows: int
    vehicles_per_day: list[int]
    teleports: int
    network_path: Path
    ground_truth_path: Path
    seed: int
    wall_s: float
    peak_y: float


def simulate(
    profile: CityProfile,
    out_dir: str | Path,
    *,
    days: int = DEFAULT_DAYS,
    start_date: date | str = DEFAULT_START_DATE,
    seed: int | None = None,
    grid: network.GridSpec | None = None,
    network_file: str | Path | None = None,
    params: demand_mod.DemandParams | None = None,
    control: str = DEFAULT_CONTROL,
    file_format: str = "csv",
    overwrite: bool = False,
    overwrite_foreign: bool = False,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    hours: tuple[int, int] = ALL_HOURS,
) -> SimulationSummary:
    """Simulates ``days`` local dates of ``profile`` and writes the event files, the network
    and ground_truth.json to ``out_dir``; ``workers`` SUMO processes run dates at once (each
    date has its own seed, so the files do not depend on it); ``hours``: the local hours
    ``[first, last)`` of each date to simulate (default all). Raises
    :class:`GenerationError` (a ``ValueError``) for bad input; nothing is left behind then."""
    start = parse_start_date(start_date)
    seed = profile.default_seed if seed is None else seed
    if days < 1:
        raise GenerationError(f"days must be a positive integer, got {days}")
    if seed < 0:
        raise GenerationError(f"seed must be a non-negative integer, got {seed}")
    if file_format not in FILE_FORMATS:
        raise GenerationError(f"format {file_format!r} not in {', '.join(FILE_FORMATS)}")
    if control not in run.CONTROLS:
        raise GenerationError(f"control {control!r} not in {', '.join(run.CONTROLS)}")
    if workers < 1:
        raise GenerationError(f"workers must be a positive integer, got {workers}")
    check_hours(hours)
    if network_file is not None and grid is not None:
        raise GenerationError("give a grid or a network file, not both")
    if network_file is not None and not Path(network_file).is_file():
        raise GenerationError(f"network {network_file} is not a file")
    params = params or demand_mod.DemandParams()
    target = Path(out_dir).absolute()
    if network_file is not None:
        check_holds_no_input(target, Path(network_file))
    check_target(target, overwrite, overwrite_foreign)
    say = progress or (lambda _message: None)
    began = time.monotonic()
    with staged_directory(
        target, overwrite, overwrite_foreign, written_by="traffic-pipeline simulate"
    ) as staging:
        net_path = staging / NETWORK_FILE
        try:
            if network_file is None:
                grid = grid or network.GridSpec()
                ids = intersection_ids(profile, grid.rows * grid.cols)
                network.build_grid(grid, ids, net_path)
            else:
                shutil.copyfile(network_file, net_path)
            net = network.read_network(net_path)
            if grid is not None:
                flows = demand_mod.grid_demand(profile, grid, net, params)
            else:
                flows = demand_mod.network_demand(profile, net, params)
        except network.NetworkError as err:
            raise GenerationError(str(err)) from err
        cells = sampling.local_hour_cells(profile.timezone, start, days)
        layout = _layout(net)
        with tempfile.TemporaryDirectory(prefix="simulate-") as work:
            rows_per_file, vehicles, teleports = _simulate_days(
                net,
                flows,
                cells,
                _DayWriter(staging, cells, layout, start, file_format),
                seed,
                control,
                Path(work),
                say,
                workers,
                hours,
            )
        total = sum(rows_per_file.values())
        ratios = demand_mod.flow_ratios(flows, net)
        truth = _truth(profile, net, flows, ratios, layout, seed, start, days, file_format)
        truth["simulation"].update(
            control=control,
            demand_params=asdict(params),
            grid=asdict(grid) if grid is not None else None,
            local_hours=list(hours),
            vehicles_per_day=vehicles,
            teleports=teleports,
        )
        truth = {**truth, "files": rows_per_file, "total_rows": total}
        (staging / ground_truth.GROUND_TRUTH_FILE).write_text(ground_truth.to_json(truth))
    return SimulationSummary(
        path=target,
        rows_per_file=rows_per_file,
        total_rows=total,
        vehicles_per_day=vehicles,
        teleports=teleports,
        network_path=target / NETWORK_FILE,
        ground_truth_path=target / ground_truth.GROUND_TRUTH_FILE,
        seed=seed,
        wall_s=time.monotonic() - began,
        peak_y=float(ratios.total.max()),
    )


def check_hours(hours: tuple[int, int]) -> tuple[int, int]:
    """``hours`` if ``0 <= first < last <= 24``, else :class:`GenerationError`."""
    first, last = hours
    if not 0 <= first < last <= 24:
        raise GenerationError(
            f"hours must be local hours FIRST-LAST with 0 <= FIRST < LAST <= 24, got {first}-{last}"
        )
    return hours


def parse_hours(text: str) -> tuple[int, int]:
    """``"10-14"`` -> ``(10, 14)``; :class:`GenerationError` for anything else."""
    parts = text.split("-")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise GenerationError(f"hours {text!r} is not FIRST-LAST, e.g. 10-14")
    return check_hours((int(parts[0]), int(parts[1])))


def day_seed(seed: int, day: int) -> int:
    """SUMO's ``--seed`` for day ``day`` of a run with ``seed``."""
    return (seed * 1009 + day) % 2**31


@dataclass(frozen=True)
class _DayWriter:
    """Writes one local date's file with the generator's writer."""

    directory: Path
    cells: sampling.HourCells
    layout: sampling.Layout
    start: date
    file_format: str

    def write(self, day: int, rows: sampling.Rows) -> dict[str, int]:
        first = self.start + timedelta(days=day)
        return write_days(self.directory, rows, self.cells, self.layout, first, 1, self.file_format)


def _simulate_days(
    net: network.Network,
    flows: demand_mod.Demand,
    cells: sampling.HourCells,
    writer: _DayWriter,
    seed: int,
    control: str,
    work: Path,
    say: Callable[[str], None],
    workers: int = 1,
    hours: tuple[int, int] = ALL_HOURS,
) -> tuple[dict[str, int], list[int], int]:
    """Runs SUMO per local date (``workers`` at once) and writes each date's file, in date
    order, once its crossings are all in (a run's crossings after midnight go to the next
    date; with fewer ``hours``, those after the last hour are dropped); returns rows per
    file, vehicles per day and teleports."""
    days = int(cells.date_index.max()) + 1
    rows_per_file: dict[str, int] = {}
    vehicles, teleports = [], 0
    carry = _no_detections()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = [
            pool.submit(_simulate_day, net, flows, cells, day, seed, control, work, hours)
            for day in range(days)
        ]
        for day, future in enumerate(runs):  # in date order, whatever finishes first
            result, found, window_end, day_end = future.result()
            found = _concat([carry, found])
            today = found.time_s < 3600 * window_end
            rows_per_file.update(writer.write(day, _rows(net, _take(found, today), cells)))
            carry = _take(found, found.time_s >= 3600 * day_end)
            vehicles.append(int(result.depart_s.size))
            teleports += result.teleports
            say(
                f"day {day + 1}/{days}: {result.depart_s.size} vehicles, {int(today.sum())} "
                f"stop-line crossings, {result.teleports} teleports, {result.wall_s:.0f} s"
            )
    return rows_per_file, vehicles, teleports


def _simulate_day(
    net: network.Network,
    flows: demand_mod.Demand,
    cells: sampling.HourCells,
    day: int,
    seed: int,
    control: str,
    work: Path,
    hours: tuple[int, int] = ALL_HOURS,
) -> tuple[run.RunResult, detectors.Detections, int, int]:
    """One local date in SUMO (its local ``hours``): its result, its stop-line crossings,
    the last simulated cell + 1 and the date's last cell + 1."""
    in_day = np.flatnonzero(cells.date_index == day)
    window = in_day[(cells.hour[in_day] >= hours[0]) & (cells.hour[in_day] < hours[1])]
    if window.size == 0:  # only a 1-hour window inside a spring-forward gap
        raise GenerationError(f"day {day + 1} has no local hour in {hours[0]}-{hours[1]}")
    first, last = int(window[0]), int(window[-1]) + 1
    day_dir = work / f"day{day}"
    day_dir.mkdir()
    routes = day_dir / "routes.rou.xml"
    demand_mod.write_routes(flows, cells, routes, first, last)
    out = day_dir / "detectors.out.xml"
    loops = detectors.write_detectors(net, day_dir / "detectors.add.xml", out)
    result = run.run(
        net.path,
        routes,
        begin=3600 * first,
        end=3600 * last + DRAIN_S,
        additional_files=[loops],
        out_dir=day_dir,
        seed=day_seed(seed, day),
        control=control,
    )
    found = detectors.read_detections(out)
    shutil.rmtree(day_dir, ignore_errors=True)
    return result, found, last, int(in_day[-1]) + 1


def _no_detections() -> detectors.Detections:
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    return detectors.Detections(empty_f, empty_i, empty_i, empty_i, empty_f)


def _concat(parts: list[detectors.Detections]) -> detectors.Detections:
    return detectors.Detections(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(parts[0]))
    )


def _take(found: detectors.Detections, mask: np.ndarray) -> detectors.Detections:
    return detectors.Detections(*(getattr(found, f.name)[mask] for f in fields(found)))


def _rows(
    net: network.Network, found: detectors.Detections, cells: sampling.HourCells
) -> sampling.Rows:
    """Detections as the generator's ``Rows`` (sorted by local date, then instant); those
    after the run's last hour are dropped."""
    utc_ms = cells.utc_start_ms[0] + np.rint(found.time_s * 1000).astype(np.int64)
    cell = (utc_ms - cells.utc_start_ms[0]) // sampling.MS_PER_HOUR
    keep = (cell >= 0) & (cell < len(cells.hour))
    found = _take(found, keep)
    utc_ms, cell = utc_ms[keep], cell[keep]
    local_ms = utc_ms + cells.offset_ms[cell]
    order = np.lexsort((utc_ms, local_ms // sampling.MS_PER_DAY))
    site_index = {site: i for i, site in enumerate(net.intersections)}
    site_of = np.array([site_index[a.intersection_id] for a in net.approaches], dtype=np.int64)
    dir_of = np.array(
        [features.DIRECTIONS.index(a.direction) for a in net.approaches], dtype=np.int64
    )
    found = _take(found, order)
    return sampling.Rows(
        utc_ms=utc_ms[order],
        local_ms=local_ms[order],
        cell=cell[order],
        intersection=site_of[found.approach],
        direction=dir_of[found.approach],
        vehicle_type=found.vehicle_type,
        lane=found.lane,
        speed_tenths=np.clip(np.rint(found.speed_kmh * 10), 0, sampling.MAX_SPEED_TENTHS).astype(
            np.int64
        ),
    )


def _layout(net: network.Network) -> sampling.Layout:
    """The generator's ``Layout`` for the network's signals (ids and lanes; the writer and
    ground_truth need no more: positions and volumes are zeros)."""
    n = len(net.intersections)
    lanes = np.zeros((n, len(features.DIRECTIONS)), dtype=np.int64)
    site_index = {site: i for i, site in enumerate(net.intersections)}
    for a in net.approaches:
        lanes[site_index[a.intersection_id], features.DIRECTIONS.index(a.direction)] = len(a.lanes)
    zeros = np.zeros(n)
    return sampling.Layout(
        ids=net.intersections,
        base_volume=zeros,
        direction_factors=np.zeros((n, len(features.DIRECTIONS))),
        lanes=np.maximum(lanes, 1),
        bearing_deg=zeros,
        distance_km=zeros,
        kind=np.zeros(n, dtype=np.int64),
    )


def per_site_intensity(net: network.Network, rates: np.ndarray) -> np.ndarray:
    """Approach rates (approaches, V, 7, 24) as (signals, DIRECTIONS, V, 7, 24), zeros where
    a signal has no approach from a direction."""
    out = np.zeros((len(net.intersections), len(features.DIRECTIONS), *rates.shape[1:]))
    site_index = {site: i for i, site in enumerate(net.intersections)}
    for k, a in enumerate(net.approaches):
        out[site_index[a.intersection_id], features.DIRECTIONS.index(a.direction)] = rates[k]
    return out


def _truth(
    profile: CityProfile,
    net: network.Network,
    flows: demand_mod.Demand,
    ratios: demand_mod.FlowRatios,
    layout: sampling.Layout,
    seed: int,
    start: date,
    days: int,
    file_format: str,
) -> dict:
    rates = per_site_intensity(net, demand_mod.approach_rates(flows, net))
    truth = ground_truth.describe(
        profile, layout, seed, start, days, 1.0, file_format, approaches=rates
    )
    week = rates.sum(axis=2).mean(axis=(-2, -1))  # (I, D) vehicles per hour, week mean
    truth["intersections"] = [
        {
            "id": site,
            "kind": "sumo_signal",
            "base_volume": round(float(week[i].sum()), 3),
            "direction_factors": dict(
                zip(
                    features.DIRECTIONS,
                    np.round(week[i] / max(week[i].sum(), 1e-12), 4).tolist(),
                    strict=True,
                )
            ),
            "lanes": dict(zip(features.DIRECTIONS, layout.lanes[i].tolist(), strict=True)),
            "peak_y": round(float(ratios.total[i].max()), 4),
        }
        for i, site in enumerate(net.intersections)
    ]
    truth["noise"] = {"kind": "none: Poisson arrivals per route, type and hour only"}
    truth["simulation"] = {
        "source": "sumo",
        "network_file": NETWORK_FILE,
        "truth": "approach_intensity = sum of the Poisson flow rates of the routes through "
        "the approach's incoming edges (exact expectation of the vehicles inserted; stop-line "
        "counts lag by the travel time from the fringe)",
        "load": asdict(load_summary(flows, ratios)),
        "saturation_pcu_per_lane_hour": demand_mod.SATURATION_PCU_PER_LANE_HOUR,
        "pce": demand_mod.PCE,
        "peak_y": round(float(ratios.total.max()), 4),
        "routes": len(flows.route_ids),
    }
    return truth


@dataclass(frozen=True)
class LoadSummary:
    """Peak flow ratios of each phase and the expected vehicles of a week."""

    peak_y_major: float
    peak_y_minor: float
    vehicles_per_week: float


def load_summary(flows: demand_mod.Demand, ratios: demand_mod.FlowRatios) -> LoadSummary:
    """The load a demand puts on the network, in a few numbers."""
    return LoadSummary(
        peak_y_major=round(float(ratios.y_major.max()), 4),
        peak_y_minor=round(float(ratios.y_minor.max()), 4),
        vehicles_per_week=round(float(flows.rates.sum()), 1),
    )

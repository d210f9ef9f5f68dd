"""The pure entry point: time-of-day plans of a SUMO network from per-approach rates.

``plans_from_rates`` is what ``advise`` (rates from the model) and the closed-loop
benchmark (rates from the model, or the generator's truth for the oracle) call::

    plans = plans_from_rates("grid.net.xml", approaches, rates)           # time-of-day
    fixed = plans_from_rates("grid.net.xml", approaches, rates, bands="single")
    plans.write_additional("plans.add.xml")  # sumo -n grid.net.xml -a plans.add.xml
    plans.write_csv("plans.csv")

``rates[a, cell, type]``: vehicles per hour of approach ``approaches[a]`` =
``(intersection_id, direction)`` in local day-hour cell ``cell``
(``features.all_day_hours()`` order, Monday 00:00 first) by vehicle type
(``features.VEHICLE_TYPES`` order), e.g. ``predictions.approach_week``.

A band's plan is timed for the mean flow of its hours (per approach), or with
``design_hour="peak"`` for its busiest hour. An approach of the
network without rates gets no flow (listed in ``SignalPlans.unrated``); rates of
approaches the network does not have are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from deploy.signal_plans import bands as bands_module
from deploy.signal_plans import coordination as coord
from deploy.signal_plans import writer
from deploy.signal_plans.bands import Bands
from deploy.signal_plans.links import read_links
from deploy.signal_plans.phases import Signal, read_signals
from deploy.signal_plans.webster import PlanSettings, Timing, flow_ratios, pcu_per_hour, timing
from transforms import features

AUTO = "auto"
SINGLE = "single"
MEAN = "mean"
BIKE_LANE_TYPES = ("bicycle",)  # on an approach with a bicycle-only lane, off the car lanes
PEAK = "peak"


@dataclass
class SignalPlans:
    """Every signal's timing per band, and the bands' times."""

    signals: list[Signal]
    bands: Bands
    timings: dict[tuple[str, int], Timing]  # (intersection, band) -> timing
    design_flows: dict[tuple[str, int], np.ndarray]  # pcu/h per approach (signal order)
    settings: PlanSettings
    pcu: np.ndarray  # [signal approaches in order, 168] pcu/h, what the plans were built from
    unrated: list[tuple[str, str]] = field(default_factory=list)
    offsets: dict[tuple[str, int], float] = field(default_factory=dict)  # s, default 0
    coordination: str = coord.NONE
    wave_directions: dict[int, str] = field(default_factory=dict)  # band -> direction

    def program(self, intersection: str, band: int) -> list[tuple[float, str]]:
        """``(duration s, state)`` of the signal's re-timed program for ``band``."""
        signal = next(s for s in self.signals if s.intersection == intersection)
        return writer.program(signal, self.timings[intersection, band], self.settings)

    def load(self) -> dict[int, float]:
        """Per band the largest Y over signals (the load to report beside results)."""
        out: dict[int, float] = {}
        for (_, band), t in self.timings.items():
            out[band] = max(out.get(band, 0.0), t.total_ratio)
        return dict(sorted(out.items()))

    def write_additional(
        self, path: Path | str, start: datetime | None = None, days: int = 7
    ) -> Path:
        """The SUMO additional file (``tlLogic`` per signal and band, one ``WAUT``); time 0
        is local Monday 00:00, or the local midnight ``start`` (``writer`` explains
        ``start``, ``days`` and DST)."""
        programs = {
            (s.intersection, b): self.program(s.intersection, b)
            for s in self.signals
            for b in range(self.bands.count)
        }
        return writer.write_additional(
            path,
            programs,
            start_band=int(self.bands.assignment[24 * start.weekday() if start else 0]),
            switches=writer.switch_times(self.bands.switches(), start, days),
            repeat_weekly=start is None,
            offsets=self.offsets,
        )

    def rows(self) -> list[dict]:
        """plans.csv's rows: one per (signal, band)."""
        out = []
        for s in self.signals:
            for b in range(self.bands.count):
                t = self.timings[s.intersection, b]
                days, hours = self.bands.describe(b)
                flows = self.design_flows[s.intersection, b]
                out.append(
                    {
                        "signal": s.intersection,
                        "band": b,
                        "program_id": writer.program_id(b),
                        "days": days,
                        "hours": hours,
                        "cycle_s": round(sum(d for d, _ in self.program(s.intersection, b)), 1),
                        "green_s": ";".join(f"{g:.1f}" for g in t.greens),
                        "phase_approaches": ";".join(
                            "+".join(s.directions[a] for a in served) or "-" for served in s.serves
                        ),
                        "flow_ratios": ";".join(f"{y:.3f}" for y in t.flow_ratios),
                        "Y": round(t.total_ratio, 3),
                        "degree_of_saturation": ";".join(f"{x:.3f}" for x in t.saturation),
                        "max_degree_of_saturation": round(max(t.saturation), 3),
                        "oversaturated": t.oversaturated,
                        "offset_s": round(self.offsets.get((s.intersection, b), 0.0), 1),
                        "design_pcu_per_hour": ";".join(
                            f"{d}={q:.0f}" for d, q in zip(s.directions, flows, strict=True)
                        ),
                    }
                )
        return out

    def write_csv(self, path: Path | str) -> Path:
        return writer.write_csv(path, self.rows())


def network_approaches(network_path: Path | str) -> list[tuple[str, str]]:
    """Every (intersection, direction) approach of the network's signals, in signal order:
    the ``approaches`` to ask the model or the truth about."""
    return [a for s in read_signals(str(network_path)) for a in s.approaches]


def signal_pcu(
    signals: list[Signal],
    approaches: list[tuple[str, str]],
    rates: np.ndarray,
    settings: PlanSettings,
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """[network approaches, 168] pcu/h on the car lanes in ``signals`` order (bicycles
    count 0 where a bicycle-only lane takes them), and the approaches without rates."""
    index = {tuple(a): i for i, a in enumerate(approaches)}
    pcu = pcu_per_hour(rates, settings.pce)  # [A, 168]
    on_bike_lane = pcu_per_hour(rates, {**settings.pce, **{t: 0.0 for t in BIKE_LANE_TYPES}})
    rows, unrated = [], []
    for s in signals:
        for approach, bike_lanes in zip(s.approaches, s.bike_lanes, strict=True):
            if approach in index:
                rows.append((on_bike_lane if bike_lanes else pcu)[index[approach]])
            else:
                rows.append(np.zeros(features.DAY_HOUR_CELLS))
                unrated.append(approach)
    return np.asarray(rows).reshape(-1, features.DAY_HOUR_CELLS), unrated


def design_flows(
    block: np.ndarray, cells: np.ndarray, signal: Signal, settings: PlanSettings, how: str
) -> np.ndarray:
    """pcu/h per approach a band's plan is timed for: the mean over ``cells`` or, for
    ``"peak"``, the flows of the cell where the signal's Y is largest."""
    if how == MEAN:
        return block[:, cells].mean(axis=1)
    load = [
        sum(flow_ratios(block[:, c], signal.lanes, signal.serves, settings.saturation_flow))
        for c in cells
    ]
    return block[:, cells[int(np.argmax(load))]]


def cell_features(signals: list[Signal], pcu: np.ndarray, settings: PlanSettings) -> np.ndarray:
    """[168, green phases of all signals] critical flow ratio y per phase and cell: what
    ``bands.plan_bands`` groups hours by."""
    columns, offset = [], 0
    for s in signals:
        block = pcu[offset : offset + len(s.directions)]
        offset += len(s.directions)
        per_cell = [
            flow_ratios(block[:, c], s.lanes, s.serves, settings.saturation_flow)
            for c in range(features.DAY_HOUR_CELLS)
        ]
        columns.append(np.asarray(per_cell))
    return np.concatenate(columns, axis=1)


def _whole_seconds(t: Timing, cycle: int) -> Timing:
    """``t`` (timed in ``cycle``) with whole-second greens adding up to ``cycle``; ``t``
    unchanged if its intergreens are not whole seconds or minimum greens lengthened it."""
    intergreens = t.cycle - sum(t.greens)
    if abs(t.cycle - cycle) > 1e-6 or abs(intergreens - round(intergreens)) > 1e-6:
        return t
    greens = coord.whole_seconds(t.greens, round(cycle - intergreens))
    effective = [e + g - g0 for e, g, g0 in zip(t.effective_greens, greens, t.greens, strict=True)]
    pairs = zip(t.flow_ratios, effective, strict=True)
    saturation = [y * cycle / e if e > 0 else math.inf for y, e in pairs]
    return replace(
        t,
        cycle=float(sum(greens) + intergreens),
        greens=tuple(map(float, greens)),
        effective_greens=tuple(map(float, effective)),
        saturation=tuple(map(float, saturation)),
    )


def _green_of(signal: Signal, direction: str) -> int | None:
    """Index of the green phase ``direction``'s approach is timed in (``None``: no such
    approach)."""
    if direction not in signal.directions:
        return None
    a = signal.directions.index(direction)
    return next(k for k, served in enumerate(signal.serves) if a in served)


def _link_cases(
    signals: list[Signal],
    band: int,
    own: dict[tuple[str, int], Timing],
    waved: dict[tuple[str, int], Timing],
    offsets: dict[tuple[str, int], float],
    design: dict[tuple[str, int], np.ndarray],
    links: dict[str, tuple[str, float] | None],
    direction: str,
    settings: PlanSettings,
) -> list[coord.LinkCase]:
    """The links of ``band`` in ``direction`` (``links``: that direction's), as
    ``coordination.keep_wave`` weighs them (``waved``, ``offsets``: the band's green wave;
    ``own``: the uncoordinated plans)."""
    by_id = {s.intersection: s for s in signals}
    starts: dict[tuple[str, int], float] = {}  # (signal, green phase) -> s into the cycle
    for s in signals:
        program = writer.program(s, waved[s.intersection, band], settings)
        for k, phase in enumerate(s.green_phases):
            begins = coord.green_start(program, s.states[phase])
            starts[s.intersection, k] = offsets.get((s.intersection, band), 0.0) + begins
    cases = []
    for signal_id, link in links.items():
        if link is None or signal_id not in by_id or link[0] not in by_id:
            continue
        down, up = by_id[signal_id], by_id[link[0]]
        k, k_up = _green_of(down, direction), _green_of(up, direction)
        if k is None or k_up is None:
            continue
        t = waved[signal_id, band]
        cases.append(
            coord.LinkCase(
                flow=float(design[signal_id, band][down.directions.index(direction)]),
                arrival=starts[up.intersection, k_up] + link[1] - starts[signal_id, k],
                spread=waved[up.intersection, band].greens[k_up],
                green=t.greens[k],
                cycle=t.cycle,
                own_green=own[signal_id, band].greens[k],
                own_cycle=own[signal_id, band].cycle,
            )
        )
    return cases


def coordinate(
    network_path: Path | str,
    signals: list[Signal],
    band_count: int,
    timings: dict[tuple[str, int], Timing],
    design: dict[tuple[str, int], np.ndarray],
    settings: PlanSettings,
    mode: str,
) -> tuple[dict[tuple[str, int], Timing], dict[tuple[str, int], float], dict[int, str]]:
    """The ``coordination`` module's ``mode`` applied to each band's own-cycle ``timings``:
    the re-timed timings, the offsets and each band's wave direction (bands without a wave
    have none)."""
    if mode == coord.NONE:
        return timings, {}, {}
    out, offsets, directions = dict(timings), {}, {}
    links = read_links(network_path) if mode in (coord.GREEN_WAVE, coord.AUTO) else {}
    for b in range(band_count):
        common = coord.common_cycle(timings[s.intersection, b].cycle for s in signals)
        cycle = math.ceil(round(common, 6))  # whole seconds; 30.000000001 is 30
        for s in signals:
            t = timing(design[s.intersection, b], s.lanes, s.serves, settings, cycle=cycle)
            out[s.intersection, b] = _whole_seconds(t, cycle)
        if mode == coord.COMMON_CYCLE:
            continue
        totals: dict[str, float] = {}
        for s in signals:
            for d, q in zip(s.directions, design[s.intersection, b], strict=True):
                totals[d] = totals.get(d, 0.0) + float(q)
        direction = coord.wave_direction(totals)
        arrivals = coord.arrival_times(links.get(direction, {}))
        band_offsets = {}
        for s in signals:
            phase = _green_of(s, direction)
            if phase is None:
                continue
            program = writer.program(s, out[s.intersection, b], settings)
            begins = coord.green_start(program, s.states[s.green_phases[phase]])
            arrival = arrivals.get(s.intersection, 0.0)
            band_offsets[s.intersection, b] = float(round(coord.offset(arrival, begins, cycle)))
        back = coord.OPPOSITE.get(direction, "")
        if mode == coord.AUTO and not coord.keep_wave(
            totals[direction],
            totals.get(back, 0.0),
            _link_cases(
                signals, b, timings, out, band_offsets, design, links.get(back, {}), back, settings
            ),
        ):
            for s in signals:  # uncoordinated: the signals' own plans
                out[s.intersection, b] = timings[s.intersection, b]
            continue
        offsets.update(band_offsets)
        directions[b] = direction
    return out, offsets, directions


def plans_from_rates(
    network_path: Path | str,
    approaches: list[tuple[str, str]],
    rates: np.ndarray,
    bands: Bands | str = AUTO,
    settings: PlanSettings | None = None,
    max_plans_per_day: int = bands_module.DEFAULT_MAX_PLANS_PER_DAY,
    design_hour: str = MEAN,
    coordination: str = coord.DEFAULT,
) -> SignalPlans:
    """Time-of-day Webster plans for every signal of ``network_path``.

    ``rates``: [len(approaches), 168, len(VEHICLE_TYPES)] vehicles/h (see the module doc).
    ``bands``: ``"auto"`` (``bands.plan_bands`` of the cells' flow ratios, at most
    ``max_plans_per_day`` plans a day), ``"single"`` (one all-day plan for the whole
    week: the best single fixed plan), or a ``Bands`` computed by the caller.
    ``settings``: the engineering constants (default ``PlanSettings()``).
    ``design_hour``: what a band's plan is timed for, per signal: ``"mean"`` (the mean
    flow of the band's hours) or ``"peak"`` (the band's hour with the signal's largest
    Y, as a practitioner times one plan for its peak hour).
    ``coordination``: ``coordination.MODES`` (``none``, ``common-cycle``, ``green-wave``,
    ``auto``; the ``coordination`` module says what each does).
    """
    coord.check_mode(coordination)
    if design_hour not in (MEAN, PEAK):
        raise ValueError(f"design_hour must be {MEAN!r} or {PEAK!r}, not {design_hour!r}")
    settings = settings or PlanSettings()
    rates = np.asarray(rates, dtype=np.float64)
    shape = (len(approaches), features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES))
    if rates.shape != shape:
        raise ValueError(f"rates must have shape {shape} (approach, cell, type), not {rates.shape}")
    if not np.all(np.isfinite(rates) & (rates >= 0)):
        raise ValueError("rates must be finite and >= 0")
    signals = read_signals(str(network_path))
    if not signals:
        raise ValueError(f"{network_path} has no traffic lights")
    approaches = [(str(i), str(d)) for i, d in approaches]
    pcu, unrated = signal_pcu(signals, approaches, rates, settings)
    if isinstance(bands, str):
        if bands == SINGLE:
            bands = bands_module.single_band()
        elif bands == AUTO:
            x = cell_features(signals, pcu, settings)
            bands = bands_module.plan_bands(x, max_plans_per_day=max_plans_per_day)
        else:
            raise ValueError(f"bands must be {AUTO!r}, {SINGLE!r} or a Bands, not {bands!r}")
    timings, design = {}, {}
    offset = 0
    for s in signals:
        block = pcu[offset : offset + len(s.directions)]
        offset += len(s.directions)
        for b in range(bands.count):
            flows = design_flows(block, bands.cells(b), s, settings, design_hour)
            design[s.intersection, b] = flows
            timings[s.intersection, b] = timing(flows, s.lanes, s.serves, settings)
    timings, offsets, directions = coordinate(
        network_path, signals, bands.count, timings, design, settings, coordination
    )
    return SignalPlans(
        signals, bands, timings, design, settings, pcu, unrated, offsets, coordination, directions
    )

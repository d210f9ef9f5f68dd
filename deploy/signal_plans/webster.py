"""Webster's fixed-time timing of one signal for one band of hours (pure arithmetic, no I/O).

Method (Webster 1958, *Traffic signal settings*, Road Research Technical Paper 39):

- Flows are converted to passenger-car units (pcu/h) with ``PCE``.
- Each green phase serves some approaches; its critical flow ratio is
  ``y = max over its approaches of q / (s * lanes)`` (``s``: saturation flow per lane).
- ``Y = sum of y``; the optimum cycle ``C0 = (1.5 L + 5) / (1 - Y)``, with ``L`` the lost time
  per cycle, clamped to ``[min_cycle, max_cycle]`` (``max_cycle`` when ``Y >= 1``).
- The effective green ``C - L`` is split in proportion to ``y``, no phase below its minimum.
- Degree of saturation per phase ``x = y C / g`` (``g``: effective green). A timing is
  flagged *oversaturated* when ``Y >= 1`` or any ``x > max_saturation``.

Effective and displayed green: ``g = G + yellow + all_red - lost_time`` (the usual
relation, e.g. HCM 2000 ch. 16). With the defaults (3 s yellow, 1 s all-red, 4 s lost per
phase) the displayed green equals the effective green.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from transforms import features

# Passenger-car equivalents, ``features.VEHICLE_TYPES`` keys. Source: the UK's signal
# design values, Kimber, McDonald & Hounsell (1986), *The prediction of saturation flows
# for road junctions controlled by traffic signals*, TRRL Research Report 67 (after Webster
# & Cobbe 1966): light vehicle 1.0, heavy goods 2.3 (medium 1.5), bus/coach 2.0, pedal
# cycle 0.2. A truck here is any goods vehicle: 2.0, also the HCM's heavy-vehicle E_T.
PCE: Mapping[str, float] = MappingProxyType({"car": 1.0, "truck": 2.0, "bus": 2.0, "bicycle": 0.2})


@dataclass(frozen=True)
class PlanSettings:
    """The engineering constants of a timing (seconds, pcu/h)."""

    pce: Mapping[str, float] = field(default_factory=lambda: PCE)
    # pcu per hour of green per lane. HCM 2000/2010's ideal base is 1900 pc/h/ln; 1800
    # allows for the turning and lane-width losses of an urban grid (RR67's nearside lane
    # of 3.25 m is about 1800 too), and is what SUMO's default car discharges at.
    saturation_flow: float = 1800.0
    lost_time: float = 4.0  # per phase: 2 s start-up + 2 s unused clearance (HCM default)
    yellow: float = 3.0  # SUMO's default yellow for 50 km/h streets
    all_red: float = 1.0
    min_green: float = 7.0  # displayed green, s
    min_cycle: float = 30.0
    max_cycle: float = 120.0  # Webster's recommended upper limit
    max_saturation: float = 0.95  # above it a phase is flagged oversaturated

    def __post_init__(self):
        if set(self.pce) != set(features.VEHICLE_TYPES):
            raise ValueError(f"pce needs exactly {features.VEHICLE_TYPES}, got {sorted(self.pce)}")
        if self.saturation_flow <= 0 or self.min_cycle <= 0 or self.max_cycle < self.min_cycle:
            raise ValueError("saturation_flow > 0 and 0 < min_cycle <= max_cycle are required")
        if min(self.lost_time, self.yellow, self.all_red, self.min_green) < 0:
            raise ValueError("lost time, yellow, all-red and minimum green must be >= 0")

    @property
    def min_effective_green(self) -> float:
        return self.min_green + self.yellow + self.all_red - self.lost_time


@dataclass(frozen=True)
class Timing:
    """One signal's timing for one band: per green phase, in the program's phase order."""

    cycle: float  # s, greens + yellows + all-reds
    greens: tuple[float, ...]  # displayed green per phase, s
    effective_greens: tuple[float, ...]
    flow_ratios: tuple[float, ...]  # y per phase
    saturation: tuple[float, ...]  # degree of saturation x per phase
    lost_time: float  # L per cycle, s
    webster_cycle: float  # C0 before clamping (inf when Y >= 1)
    oversaturated: bool  # Y >= 1 or some x > settings.max_saturation

    @property
    def total_ratio(self) -> float:
        """Y, the sum of the critical flow ratios."""
        return float(sum(self.flow_ratios))


def pcu_per_hour(rates: np.ndarray, pce: Mapping[str, float] = PCE) -> np.ndarray:
    """``rates[..., T]`` vehicles/h by type (``features.VEHICLE_TYPES`` order) -> pcu/h."""
    weights = np.asarray([pce[t] for t in features.VEHICLE_TYPES], dtype=np.float64)
    return np.asarray(rates, dtype=np.float64) @ weights


def flow_ratios(
    flows: Sequence[float],
    lanes: Sequence[int],
    phases: Sequence[Sequence[int]],
    saturation_flow: float,
) -> list[float]:
    """Per phase ``y = max_a q_a / (s * lanes_a)`` over the approaches ``a`` it serves
    (indices into ``flows``/``lanes``); 0 for a phase serving none."""
    out = []
    for served in phases:
        ratios = [flows[a] / (saturation_flow * max(lanes[a], 1)) for a in served]
        out.append(max(ratios, default=0.0))
    return out


def _split(available: float, y: list[float], minimum: float) -> list[float]:
    """``available`` effective green split in proportion to ``y``, none below ``minimum``."""
    fixed: set[int] = {i for i, v in enumerate(y) if v <= 0}
    while True:
        free = [i for i in range(len(y)) if i not in fixed]
        rest = available - minimum * len(fixed)
        total = sum(y[i] for i in free)
        greens = [minimum] * len(y)
        for i in free:
            greens[i] = rest * y[i] / total
        short = [i for i in free if greens[i] < minimum]
        if not short:
            return greens
        fixed.update(short)
        if len(fixed) == len(y):
            return [max(minimum, available / len(y))] * len(y)


def timing(
    flows: Sequence[float],
    lanes: Sequence[int],
    phases: Sequence[Sequence[int]],
    settings: PlanSettings = PlanSettings(),
    cycle: float | None = None,
) -> Timing:
    """Webster's timing of one signal.

    ``flows``: pcu/h per approach; ``lanes``: lanes per approach; ``phases``: for each green
    phase the approach indices whose flow it is timed for (a phase serving none, e.g. a
    protected-turn phase with no flow of its own, gets the minimum green and counts as
    lost time). ``cycle``: a given cycle (s) instead of Webster's, e.g. a common cycle of
    coordinated signals; the greens are split in it the same way (never below the minimum
    greens).
    """
    if not phases:
        raise ValueError("a timing needs at least one green phase")
    if len(flows) != len(lanes):
        raise ValueError("flows and lanes need one value per approach")
    y = flow_ratios(flows, lanes, phases, settings.saturation_flow)
    big_y = sum(y)
    min_g = settings.min_effective_green
    unserved = sum(1 for served in phases if not served)
    lost = settings.lost_time * len(phases) + unserved * min_g
    webster = float("inf") if big_y >= 1.0 else (1.5 * lost + 5.0) / (1.0 - big_y)
    if cycle is None:
        cycle = min(max(webster, settings.min_cycle), settings.max_cycle)
    timed = [i for i, served in enumerate(phases) if served]
    cycle = max(cycle, lost + min_g * len(timed))  # minimum greens win over max_cycle
    effective = [min_g] * len(phases)
    if timed:
        split = _split(cycle - lost, [y[i] for i in timed], min_g)
        for i, g in zip(timed, split, strict=True):
            effective[i] = g
    greens = [g - settings.yellow - settings.all_red + settings.lost_time for g in effective]
    pairs = zip(y, effective, strict=True)
    saturation = [yi * cycle / g if g > 0 else float("inf") for yi, g in pairs]
    total = sum(greens) + len(phases) * (settings.yellow + settings.all_red)
    return Timing(
        cycle=float(total),
        greens=tuple(map(float, greens)),
        effective_greens=tuple(map(float, effective)),
        flow_ratios=tuple(map(float, y)),
        saturation=tuple(map(float, saturation)),
        lost_time=float(lost),
        webster_cycle=float(webster),
        oversaturated=big_y >= 1.0 or max(saturation) > settings.max_saturation,
    )

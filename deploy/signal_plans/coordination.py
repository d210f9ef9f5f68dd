"""Coordination of a band's plans: one common cycle, and offsets for a green wave.

Fixed-time signals only cooperate when they share a cycle: then a vehicle released by
one signal's green meets the next one's green at the same point of every cycle. Per
band (``api.plans_from_rates(coordination=...)``):

- ``none``: every signal keeps its own Webster cycle, offsets 0 (each signal on its own,
  Webster's random-arrival assumption);
- ``common-cycle``: every signal of the network runs the band's *common cycle*, the
  largest of the signals' own Webster cycles (the critical signal sets it, as in
  practice: a shorter cycle would oversaturate it), with its greens re-split in it by the
  same rule (``webster.timing(cycle=...)``); offsets 0;
- ``green-wave``: the common cycle, plus offsets that start each signal's green for the
  band's *wave direction* when a vehicle leaving the upstream signal at the start of its
  green arrives: ``offset = (travel time from the head of the chain - start of that green
  in the program) mod cycle``, the travel time of a link being its edge's length over its
  speed limit (``links.read_links``). The wave direction is the direction of travel with
  the most design flow over the network's signals in that band (the tide: inbound in the
  morning, outbound in the evening);
- ``auto``: per band, the green wave where it pays and ``none`` (each signal on its own
  plan) where it does not, judged from the band's design flows (the model's predictions)
  and the plans alone (:func:`keep_wave`). The wave is kept when one direction of travel
  dominates its opposite (summed design flow at least ``DOMINANCE_RATIO`` times the
  opposite's: the tide, whose platoons ride the wave whatever the other direction
  loses), or when the opposite direction progresses too: its platoons, released by the
  upstream green and spread evenly over it, wait at the next signal no longer on
  average than random arrivals would at the signal's own uncoordinated plan
  (``red**2 / (2 cycle)``), weighted by design flow over its links (a short cycle that
  fits the links: a round trip of two links close to a whole cycle). Otherwise, a
  balanced arterial's other direction would meet red at every signal, and the wave is
  dropped for that band.

SUMO runs a program with ``offset`` o so that its first phase starts at the times
``t = o (mod cycle)``, also after a ``WAUT`` switch (checked in the tests), so each
band's offsets hold from its first cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NONE = "none"
COMMON_CYCLE = "common-cycle"
GREEN_WAVE = "green-wave"
AUTO = "auto"
MODES = (NONE, COMMON_CYCLE, GREEN_WAVE, AUTO)
DEFAULT = AUTO  # not worse than GREEN_WAVE on unseen held-out days (docs/advise.md)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"coordination must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def common_cycle(cycles: Iterable[float]) -> float:
    """The band's common cycle: the largest of the signals' own cycles (s)."""
    values = list(cycles)
    if not values:
        raise ValueError("a common cycle needs at least one signal")
    return float(max(values))


def wave_direction(flows: Mapping[str, float]) -> str:
    """The direction of travel with the most flow (``{direction: pcu/h summed over the
    network's signals}``); ties go to the first in sorted order."""
    if not flows:
        raise ValueError("no flows to pick a wave direction from")
    return max(sorted(flows), key=lambda d: flows[d])


def arrival_times(upstream: Mapping[str, tuple[str, float] | None]) -> dict[str, float]:
    """Per signal, the free-flow travel time (s) from the head of its chain.

    ``upstream[signal]``: ``(the signal feeding it in the wave direction, travel time s)``
    or ``None`` for the head of a chain (no signal upstream). A signal upstream of itself
    through a loop (a ring road) is cut there: the loop's first signal met is a head.
    """
    times: dict[str, float] = {}
    for start in upstream:
        chain: list[str] = []
        node: str | None = start
        while node is not None and node not in times and node not in chain:
            chain.append(node)
            link = upstream.get(node)
            node = link[0] if link is not None else None
        for signal in reversed(chain):
            link = upstream.get(signal)
            if link is None or link[0] not in times:
                times[signal] = 0.0  # a head, or where a loop is cut
            else:
                times[signal] = times[link[0]] + link[1]
    return {signal: times[signal] for signal in upstream}


def green_start(program: Sequence[tuple[float, str]], state: str) -> float:
    """Seconds from the start of ``program`` (``(duration, state)`` phases) to the first
    phase showing ``state``."""
    elapsed = 0.0
    for duration, s in program:
        if s == state:
            return elapsed
        elapsed += duration
    raise ValueError(f"state {state!r} is not in the program")


def offset(arrival: float, green_begins: float, cycle: float) -> float:
    """The ``tlLogic`` offset that starts a green ``green_begins`` s into the program at
    ``arrival`` (mod ``cycle``), in ``[0, cycle)``."""
    if cycle <= 0:
        raise ValueError("cycle must be > 0")
    return (arrival - green_begins) % cycle


def whole_seconds(values: Sequence[float], total: int) -> list[int]:
    """``values`` rounded to whole seconds that add up to ``total`` (largest remainder
    first): SUMO steps whole seconds, and a coordinated cycle must not drift."""
    floors = [int(v // 1) for v in values]
    short = total - sum(floors)
    if short < 0 or short > len(values):
        raise ValueError(f"{list(values)} cannot be rounded to add up to {total}")
    order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def wait_integral(x: float, green: float, cycle: float) -> float:
    """Total wait (s^2) of arrivals spread at rate 1/s over ``[0, x)``, ``x`` in seconds
    from the start of a green of ``green`` s repeating every ``cycle`` s: one arriving
    ``y`` into the cycle waits nothing in the green, else ``cycle - y``."""
    if not 0 <= green <= cycle or cycle <= 0:
        raise ValueError(f"need 0 <= green <= cycle and cycle > 0, got {green}, {cycle}")
    whole, y = divmod(x, cycle)
    red = cycle - green
    part = 0.0 if y <= green else cycle * (y - green) - (y * y - green * green) / 2
    return whole * red * red / 2 + part


def platoon_wait(arrival: float, spread: float, green: float, cycle: float) -> float:
    """Mean wait (s) of a platoon arriving evenly over ``[arrival, arrival + spread)``,
    ``arrival`` in seconds after the start of the downstream green (any real number: it
    is taken mod ``cycle``); ``spread`` 0 is one vehicle."""
    start = arrival % cycle
    if spread <= 0:
        return 0.0 if start < green else cycle - start
    return (wait_integral(start + spread, green, cycle) - wait_integral(start, green, cycle)) / (
        spread
    )


def random_wait(green: float, cycle: float) -> float:
    """Mean wait (s) of arrivals at random instants: ``red**2 / (2 cycle)``."""
    return wait_integral(cycle, green, cycle) / cycle


OPPOSITE = {"N": "S", "S": "N", "E": "W", "W": "E"}
DOMINANCE_RATIO = 1.5  # a 60/40 directional split; docs/advise.md says how it was chosen


@dataclass(frozen=True)
class LinkCase:
    """One link (upstream signal -> downstream approach) of a band in the direction
    opposite the wave, as :func:`keep_wave` weighs it. Times in s; ``arrival`` from the
    start of the downstream green for the link's direction, under the wave's offsets, to
    the arrival of the platoon the start of the upstream green releases (release + travel
    time)."""

    flow: float  # design pcu/h of the downstream approach
    arrival: float
    spread: float  # the upstream green: the platoon's length in time
    green: float  # the downstream green for this direction, in the common cycle
    cycle: float  # the common cycle
    own_green: float  # the downstream green in the signal's own (uncoordinated) plan
    own_cycle: float


def opposite_wait(links: Iterable[LinkCase]) -> tuple[float, float]:
    """Flow-weighted mean wait per vehicle (s) over ``links``: under the wave, and with
    random arrivals at each signal's own plan (uncoordinated)."""
    flow = coordinated = uncoordinated = 0.0
    for link in links:
        flow += link.flow
        coordinated += link.flow * platoon_wait(link.arrival, link.spread, link.green, link.cycle)
        uncoordinated += link.flow * random_wait(link.own_green, link.own_cycle)
    if flow <= 0:
        return 0.0, 0.0
    return coordinated / flow, uncoordinated / flow


def keep_wave(
    wave_flow: float,
    opposite_flow: float,
    opposite_links: Iterable[LinkCase],
    ratio: float = DOMINANCE_RATIO,
) -> bool:
    """``auto``'s rule for one band: keep the green wave when the wave direction's design
    flow (summed over signals) is at least ``ratio`` times the opposite direction's, or
    when the opposite direction's platoons wait no longer under the wave than random
    arrivals at the uncoordinated plans (``opposite_links``: that direction's links)."""
    if wave_flow >= ratio * opposite_flow:
        return True
    coordinated, uncoordinated = opposite_wait(opposite_links)
    return coordinated <= uncoordinated

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
  morning, outbound in the evening).

SUMO runs a program with ``offset`` o so that its first phase starts at the times
``t = o (mod cycle)``, also after a ``WAUT`` switch (checked in the tests), so each
band's offsets hold from its first cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

NONE = "none"
COMMON_CYCLE = "common-cycle"
GREEN_WAVE = "green-wave"
MODES = (NONE, COMMON_CYCLE, GREEN_WAVE)
DEFAULT = GREEN_WAVE  # chosen by the closed loop's measurement (docs/advise.md)


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

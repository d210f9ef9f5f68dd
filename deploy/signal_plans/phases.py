"""A SUMO network's signals: their programs' phases and the approaches each green serves.

An approach is (intersection, direction of travel): the intersection is the traffic
light's id (the shared convention: a signalised junction's id, its tlLogic id and the
project's ``intersection_id`` are one string) and the direction is
``deploy.datasets.simulation.approaches.edge_direction`` of the incoming edge's shape. Several
incoming edges with one direction are one approach (their lanes add up). Lanes a car
may use carry the saturation flow; a bicycle-only lane takes the approach's bicycles
off them.

Of a program's phases, a *green* phase gives some link ``G`` or ``g`` and none ``y``;
the others (yellow, all-red) are the intergreens. Each approach is timed in its *main*
phase: the green phase that gives the most of its links green (``G`` before ``g``, then
the earliest). A green phase that is nobody's main phase (e.g. the protected left-turn
phase SUMO adds for an exclusive left lane) carries no flow of its own and gets the
minimum green (``webster.timing``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sumolib

from deploy.datasets.simulation.approaches import edge_direction

GREEN = "Gg"
YELLOW = "yY"
VEHICLE_CLASS = "passenger"  # lanes a car may use are the lanes of the saturation flow


@dataclass(frozen=True)
class Signal:
    """One traffic light and the program ``advise`` re-times."""

    intersection: str  # the tlLogic id
    program_id: str
    states: tuple[str, ...]  # the program's phase states, in order
    durations: tuple[float, ...]  # their durations, s
    directions: tuple[str, ...]  # approaches with controlled vehicle lanes, sorted
    lanes: tuple[int, ...]  # vehicle lanes per approach (``directions`` order)
    bike_lanes: tuple[int, ...]  # bicycle-only lanes per approach (bicycles off the others)
    green_phases: tuple[int, ...]  # indices into ``states`` of the green phases
    serves: tuple[tuple[int, ...], ...]  # per green phase: approach indices timed in it

    @property
    def approaches(self) -> list[tuple[str, str]]:
        return [(self.intersection, d) for d in self.directions]

    @property
    def link_count(self) -> int:
        return len(self.states[0])


def is_green(state: str) -> bool:
    """A phase that gives right of way to someone and is not a yellow change."""
    return any(c in GREEN for c in state) and not any(c in YELLOW for c in state)


def _main_phase(links: list[int], greens: list[str]) -> int:
    """Index into ``greens`` of the phase giving the most of ``links`` green (G first)."""
    scores = [
        (sum(s[i] == "G" for i in links) + sum(s[i] in GREEN for i in links), -k)
        for k, s in enumerate(greens)
    ]
    return -max(scores)[1]


def signal_of(tls, program_id: str | None = None) -> Signal:
    """The ``Signal`` of a sumolib TLS (its first program unless ``program_id``)."""
    programs = tls.getPrograms()
    if not programs:
        raise ValueError(f"traffic light {tls.getID()!r} has no program")
    pid = program_id if program_id is not None else sorted(programs)[0]
    phases = programs[pid].getPhases()
    states = tuple(p.state for p in phases)
    links: dict[str, set[int]] = {}
    lanes: dict[str, set[str]] = {}
    bike_lanes: dict[str, set[str]] = {}
    for in_lane, _out_lane, index in tls.getConnections():
        edge = in_lane.getEdge()
        if edge.getFunction() not in ("", "normal"):
            continue
        direction = edge_direction(edge.getShape())
        if not in_lane.allows(VEHICLE_CLASS):
            if in_lane.allows("bicycle"):
                bike_lanes.setdefault(direction, set()).add(in_lane.getID())
            continue
        links.setdefault(direction, set()).add(int(index))
        lanes.setdefault(direction, set()).add(in_lane.getID())
    directions = tuple(sorted(links))
    green_phases = tuple(i for i, s in enumerate(states) if is_green(s))
    if not green_phases:
        raise ValueError(f"traffic light {tls.getID()!r} program {pid!r} has no green phase")
    greens = [states[i] for i in green_phases]
    serves: list[list[int]] = [[] for _ in green_phases]
    for a, direction in enumerate(directions):
        serves[_main_phase(sorted(links[direction]), greens)].append(a)
    return Signal(
        intersection=tls.getID(),
        program_id=pid,
        states=states,
        durations=tuple(float(p.duration) for p in phases),
        directions=directions,
        lanes=tuple(len(lanes[d]) for d in directions),
        bike_lanes=tuple(len(bike_lanes.get(d, ())) for d in directions),
        green_phases=green_phases,
        serves=tuple(tuple(s) for s in serves),
    )


def read_signals(network_path: str) -> list[Signal]:
    """Every traffic light of a ``.net.xml`` (sorted by id) with its first program."""
    net = sumolib.net.readNet(str(network_path), withPrograms=True)
    return [signal_of(tls) for tls in sorted(net.getTrafficLights(), key=lambda t: t.getID())]

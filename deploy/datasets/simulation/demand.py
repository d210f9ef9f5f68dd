"""Demand for a signalised grid from a city profile: routes, hourly flows, expected rates, load.

**Routes.** Every street end is an entry. From each entry, a *family* of routes drives
along the street to the opposite fringe (``1 - turn_share`` of the family) or turns
right at one of the signals it passes and drives on to the fringe (``turn_share``,
split evenly over the signals). Only right turns: with permissive lefts (netconvert's
default programs) left turners facing a loaded opposing stream would block a lane and
lock the grid, which no signal plan can fix.

**Shapes.** A family's weekly shape per vehicle type is the generator's
(``cities.approach_shapes``), so the tide and the vehicle mix are the city's:

* arterials (E-W rows) are ``radial`` streets with the city's tidal commute: the centre
  lies to the west, so westbound is inbound (morning peak x ``1 + tidal``) and eastbound
  outbound (evening peak x ``1 + tidal``);
* cross streets (N-S columns) are ``shopping`` streets: cars and bicycles from late
  morning to the evening, Saturday the busiest day, no commuter tide.

So the balance between the axes shifts over the day (arterial-heavy in the commute
peaks, cross-street-heavy at midday and on Saturdays), the tide reverses within the
arterial between morning and evening, and nights are light (the city's night level, a
few percent of the peak). That is the variation time-of-day plans can exploit.

**Volumes and load basis.** A cross-street family carries ``cross_ratio`` of an
arterial family's weekly volume. All volumes are then scaled so that the busiest signal's
critical flow ratio at its busiest hour is ``peak_y`` (default 0.8, within the 0.7-0.85
of loaded urban signals). The flow ratio (:func:`flow_ratios`) is the two-phase one:
``Y = max(y_E, y_W) + max(y_N, y_S)``, ``y = pcu flow / (SATURATION_PCU_PER_LANE_HOUR x
motor lanes)``, with passenger-car equivalents :data:`PCE` (bicycles on a bike-only lane
count 0). Saturation flow 1800 pcu/h/lane is the usual planning value (HCM base 1900,
less for lane width and heavy vehicles). The day's shape was checked against real hourly
counts (the two Seattle bicycle counters of ``../shared/data/real``, weekdays 2014-2018,
read only): their 03:00 hour carries 0.5-1.4% of the peak hour, their 10:00-15:00 trough
19-39% of it, and Broadway's tide is 1.9:1 one way at 08:00 and 1.5:1 the other way at
17:00. The default London arterial here: 2% at 03:00, a 29-32% midday trough, a tide of
2.4:1 inbound at 08:00 and 2.1:1 outbound at 17:00.

**Per-approach truth.** Arrivals of every route, type and local hour are a Poisson
process (SUMO ``flow`` with ``period="exp(rate)"``). The expected vehicles per hour of an
approach are derived exactly from the routes: the sum of the rates of every route whose
edges include one of the approach's incoming edges (:func:`approach_rates`). Counted at
the stop line, an hour's vehicles arrive up to a few minutes (the travel time from the
fringe, plus any queueing) after they were inserted, so hourly counts lag the truth by
that much; daily totals agree exactly in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from deploy.datasets.simulation.network import HEADINGS, GridSpec, Network, grid_path
from deploy.datasets.synthetic.cities import (
    INTERSECTION_KINDS,
    RADIAL,
    SHOPPING,
    CityProfile,
    approach_shapes,
)
from deploy.datasets.synthetic.sampling import HourCells
from transforms import features

VCLASS = {"car": "passenger", "truck": "truck", "bus": "bus", "bicycle": "bicycle"}
PCE = {"car": 1.0, "truck": 2.0, "bus": 2.0, "bicycle": 0.2}
SATURATION_PCU_PER_LANE_HOUR = 1800.0
MAJOR_DIRECTIONS, MINOR_DIRECTIONS = ("E", "W"), ("N", "S")
CENTRE_SIDE = "W"  # the city centre lies west of the grid: westbound is inbound


@dataclass(frozen=True)
class DemandParams:
    """Knobs of :func:`grid_demand`."""

    peak_y: float = 0.8  # critical flow ratio of the busiest signal at its busiest hour
    cross_ratio: float = 0.35  # weekly volume of a cross-street family / an arterial one
    turn_share: float = 0.1  # share of a family that turns right at some signal

    def __post_init__(self) -> None:
        if not 0 < self.peak_y < 1:
            raise ValueError(f"peak_y must be in (0, 1), got {self.peak_y}")
        if not self.cross_ratio > 0:
            raise ValueError(f"cross_ratio must be positive, got {self.cross_ratio}")
        if not 0 <= self.turn_share < 1:
            raise ValueError(f"turn_share must be in [0, 1), got {self.turn_share}")


@dataclass(frozen=True)
class Demand:
    """Routes and their expected vehicles per local hour of the week, per vehicle type."""

    route_ids: tuple[str, ...]
    routes: tuple[tuple[str, ...], ...]  # edge ids per route
    rates: np.ndarray  # (routes, len(VEHICLE_TYPES), 7, 24), vehicles per hour

    def scaled(self, factor: float) -> Demand:
        """The same routes with every rate multiplied by ``factor``."""
        return Demand(self.route_ids, self.routes, self.rates * factor)


@dataclass(frozen=True)
class FlowRatios:
    """Two-phase critical flow ratios per signal and local hour, each (signals, 7, 24)."""

    intersections: tuple[str, ...]
    y_major: np.ndarray  # max(y_E, y_W): the arterial phase
    y_minor: np.ndarray  # max(y_N, y_S): the cross-street phase

    @property
    def total(self) -> np.ndarray:
        """Y = y_major + y_minor."""
        return self.y_major + self.y_minor


def family_shapes(profile: CityProfile, headings: list[str]) -> np.ndarray:
    """Weekly shape (families, V, 7, 24), weekly mean 1 per type, of route families entering
    with these headings: E/W radial and tidal toward :data:`CENTRE_SIDE`, N/S shopping."""
    kinds = np.array(
        [INTERSECTION_KINDS.index(RADIAL if h in MAJOR_DIRECTIONS else SHOPPING) for h in headings]
    )
    inbound = np.zeros((len(headings), len(features.DIRECTIONS)))
    for f, h in enumerate(headings):
        if h in MAJOR_DIRECTIONS:
            inbound[f, features.DIRECTIONS.index(h)] = 1.0 if h == CENTRE_SIDE else -1.0
    shapes = approach_shapes(profile, kinds, inbound)  # (F, D, V, 7, 24)
    return np.stack([shapes[f, features.DIRECTIONS.index(h)] for f, h in enumerate(headings)])


def grid_demand(
    profile: CityProfile, spec: GridSpec, network: Network, params: DemandParams | None = None
) -> Demand:
    """The grid's routes and rates, scaled to ``params.peak_y`` (see the module doc)."""
    params = params or DemandParams()
    ids = network.intersections  # row-major: the ids sort like the grid
    families = [(h, line) for h in ("E", "W") for line in range(spec.rows)] + [
        (h, line) for h in ("S", "N") for line in range(spec.cols)
    ]
    shapes = family_shapes(profile, [h for h, _ in families])
    shares = np.asarray(profile.vehicle_shares)
    route_ids, routes, rates = [], [], []
    for (heading, line), shape in zip(families, shapes, strict=True):
        volume = 1.0 if heading in MAJOR_DIRECTIONS else params.cross_ratio
        family = volume * shares[:, None, None] * shape  # (V, 7, 24)
        signals = spec.cols if HEADINGS[heading][0] == 0 else spec.rows
        splits = [(None, 1.0 - params.turn_share)]
        if params.turn_share > 0:
            splits += [(k, params.turn_share / signals) for k in range(signals)]
        for turn, share in splits:
            suffix = "" if turn is None else f"r{turn}"
            route_ids.append(f"{heading}{line}{suffix}")
            routes.append(grid_path(spec, ids, heading, line, turn))
            rates.append(share * family)
    demand = Demand(tuple(route_ids), tuple(routes), np.stack(rates))
    peak = flow_ratios(demand, network).total.max()
    return demand.scaled(params.peak_y / peak)


def network_demand(
    profile: CityProfile, network: Network, params: DemandParams | None = None
) -> Demand:
    """Demand for a given ``.net.xml``: from every fringe entry edge (leaving a node with a
    single neighbour) one route, the shortest path to the fringe exit that lies farthest
    ahead in the entry's direction of travel; its family shape follows that direction as
    in :func:`grid_demand` (no turning share). Scaled to ``params.peak_y``."""
    import sumolib

    from deploy.datasets.simulation.approaches import edge_direction

    params = params or DemandParams()
    net = sumolib.net.readNet(str(network.path))
    fringe = [n for n in net.getNodes() if len(_neighbours(n)) == 1]
    entries = [e for n in fringe for e in n.getOutgoing() if e.getFunction() != "internal"]
    exits = [e for n in fringe for e in n.getIncoming() if e.getFunction() != "internal"]
    route_ids, routes, headings = [], [], []
    for entry in sorted(entries, key=lambda e: e.getID()):
        heading = edge_direction(entry.getShape())
        dx, dy = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}[heading]
        x0, y0 = entry.getShape()[0]
        best = None
        for exit_edge in exits:
            x1, y1 = exit_edge.getShape()[-1]
            ahead = (x1 - x0) * dx + (y1 - y0) * dy
            aside = abs((x1 - x0) * dy - (y1 - y0) * dx)
            path, _ = net.getShortestPath(entry, exit_edge)
            if path and ahead > 0 and (best is None or ahead - aside > best[0]):
                best = (ahead - aside, path)
        if best is not None:
            route_ids.append(f"{heading}{len(route_ids)}")
            routes.append(tuple(e.getID() for e in best[1]))
            headings.append(heading)
    if not routes:
        raise ValueError(f"network {network.path} has no fringe-to-fringe route")
    shapes = family_shapes(profile, headings)
    shares = np.asarray(profile.vehicle_shares)
    volume = np.array([1.0 if h in MAJOR_DIRECTIONS else params.cross_ratio for h in headings])
    rates = volume[:, None, None, None] * shares[None, :, None, None] * shapes
    demand = Demand(tuple(route_ids), tuple(routes), rates)
    peak = flow_ratios(demand, network).total.max()
    if not peak > 0:
        raise ValueError(f"no route of network {network.path} passes a traffic light")
    return demand.scaled(params.peak_y / peak)


def _neighbours(node) -> set[str]:
    edges = [*node.getIncoming(), *node.getOutgoing()]
    return {
        n.getID()
        for e in edges
        if e.getFunction() != "internal"
        for n in (e.getFromNode(), e.getToNode())
        if n.getID() != node.getID()
    }


def approach_rates(demand: Demand, network: Network) -> np.ndarray:
    """Expected vehicles per local hour of every approach of ``network``, shape
    (approaches, V, 7, 24): the sum of the rates of the routes through its edges."""
    edge_approach = network.edge_approach()
    out = np.zeros((len(network.approaches), *demand.rates.shape[1:]))
    for edges, rate in zip(demand.routes, demand.rates, strict=True):
        for k in {edge_approach[e] for e in edges if e in edge_approach}:
            out[k] += rate
    return out


def pcu_rates(demand: Demand, network: Network) -> np.ndarray:
    """Passenger-car units per hour on each approach's motor lanes, (approaches, 7, 24)."""
    per_type = approach_rates(demand, network)
    out = np.zeros((len(network.approaches), *per_type.shape[2:]))
    for k, approach in enumerate(network.approaches):
        for v, vehicle in enumerate(features.VEHICLE_TYPES):
            if vehicle == "bicycle" and approach.bike_only_lanes:
                continue  # on its own lane
            out[k] += PCE[vehicle] * per_type[k, v]
    return out


def flow_ratios(demand: Demand, network: Network) -> FlowRatios:
    """Critical flow ratios of a two-phase split (E/W, then N/S) per signal and hour."""
    pcu = pcu_rates(demand, network)
    index = network.approach_index()
    shape = (len(network.intersections), *pcu.shape[1:])
    major, minor = np.zeros(shape), np.zeros(shape)
    for i, site in enumerate(network.intersections):
        for target, directions in ((major, MAJOR_DIRECTIONS), (minor, MINOR_DIRECTIONS)):
            for d in directions:
                k = index.get((site, d))
                if k is None:
                    continue
                lanes = max(1, network.approaches[k].motor_lanes)
                y = pcu[k] / (SATURATION_PCU_PER_LANE_HOUR * lanes)
                target[i] = np.maximum(target[i], y)
    return FlowRatios(network.intersections, major, minor)


def vtypes_xml() -> str:
    """The ``vType`` of each project vehicle type (id = the project's type name)."""
    return "\n".join(f'  <vType id="{v}" vClass="{VCLASS[v]}"/>' for v in features.VEHICLE_TYPES)


def write_routes(
    demand: Demand, cells: HourCells, path: str | Path, first: int = 0, last: int | None = None
) -> int:
    """Writes vTypes, routes and one Poisson ``flow`` per route, type and hour cell in
    ``[first, last)`` to ``path``; simulation time 0 is the start of cell 0 and cell ``k``
    spans ``[3600 k, 3600 (k + 1))``. Returns the number of flows."""
    last = len(cells.hour) if last is None else last
    lines = ["<routes>", vtypes_xml()]
    lines += [
        f"  <route id={quoteattr(rid)} edges={quoteattr(' '.join(edges))}/>"
        for rid, edges in zip(demand.route_ids, demand.routes, strict=True)
    ]
    flows = 0
    for k in range(first, last):
        dow, hour = int(cells.day_of_week[k]), int(cells.hour[k])
        begin, end = 3600 * k, 3600 * (k + 1)
        for r, rid in enumerate(demand.route_ids):
            for v, vehicle in enumerate(features.VEHICLE_TYPES):
                rate = float(demand.rates[r, v, dow, hour])
                if rate < 1e-6:
                    continue
                lines.append(
                    f'  <flow id="{rid}.{vehicle}.{k}" type="{vehicle}" route={quoteattr(rid)} '
                    f'begin="{begin}" end="{end}" period="exp({rate / 3600:.9f})" '
                    'departLane="best" departSpeed="max"/>'
                )
                flows += 1
    lines.append("</routes>\n")
    Path(path).write_text("\n".join(lines))
    return flows

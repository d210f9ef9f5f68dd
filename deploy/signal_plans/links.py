"""Which signal feeds which: the links of a SUMO network's signals, per direction of travel.

A link is an edge from one signalised junction to another: the downstream signal's
approach in the edge's direction of travel (``approaches.edge_direction``, as everywhere
else) is fed by the upstream signal, and a vehicle covers it in the edge's length over
its speed limit (the free-flow progression speed; the crossing of the upstream junction
is left out). An approach whose edge starts at a junction without a signal (a fringe
node) has no upstream signal. ``coordination.arrival_times`` turns the links of one
direction into the green wave's arrival times.
"""

from __future__ import annotations

from pathlib import Path

import sumolib

from deploy.datasets.simulation.approaches import edge_direction

Links = dict[str, dict[str, tuple[str, float] | None]]  # direction -> signal -> link


def read_links(network_path: Path | str) -> Links:
    """``{direction: {signal: (upstream signal, travel time s) or None}}`` for every
    signal of the network and every direction of travel some signal has an approach in
    (``None``: that signal has no such approach or no signal upstream in it). Of several
    edges of one approach, the one with the most lanes is the link."""
    net = sumolib.net.readNet(str(network_path), withPrograms=True)
    lights = sorted(net.getTrafficLights(), key=lambda t: t.getID())
    node_signal: dict[str, str] = {}
    incoming: dict[str, set] = {}
    for tls in lights:
        for in_lane, _out_lane, _index in tls.getConnections():
            edge = in_lane.getEdge()
            if edge.getFunction() not in ("", "normal"):
                continue
            node_signal[edge.getToNode().getID()] = tls.getID()
            incoming.setdefault(tls.getID(), set()).add(edge)
    out: Links = {}
    for tls in lights:
        best: dict[str, object] = {}
        for edge in sorted(incoming.get(tls.getID(), ()), key=lambda e: e.getID()):
            direction = edge_direction(edge.getShape())
            if direction not in best or edge.getLaneNumber() > best[direction].getLaneNumber():
                best[direction] = edge
        for direction, edge in best.items():
            upstream = node_signal.get(edge.getFromNode().getID())
            link = None if upstream is None else (upstream, edge.getLength() / edge.getSpeed())
            out.setdefault(direction, {})[tls.getID()] = link
    for links in out.values():
        for tls in lights:
            links.setdefault(tls.getID(), None)
    return {d: dict(sorted(links.items())) for d, links in sorted(out.items())}

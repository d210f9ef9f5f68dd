"""Small real SUMO networks for the tests: a signalised grid whose junction ids are the
model fixture's intersections (``X000``...), built by ``netconvert`` from plain XML."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import sumo

BLOCK = 200.0


def sumo_binary(name: str) -> str:
    return os.path.join(sumo.SUMO_HOME, "bin", name)


def grid_network(
    out_dir: Path,
    columns: int = 2,
    rows: int = 2,
    lanes: int = 2,
    first: int = 0,
    name: str = "X{:03d}",
) -> Path:
    """A ``columns`` x ``rows`` grid of traffic lights ``X000``, ``X001``, ... (``name``
    formatted with the number; row-major from the south-west, numbered from ``first``),
    each with four arms: the outer arms end at priority fringe nodes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    nodes, edges = [], []
    ids = {}
    for r in range(rows):
        for c in range(columns):
            ids[c, r] = name.format(first + r * columns + c)
            nodes.append((ids[c, r], c * BLOCK, r * BLOCK, "traffic_light"))
    signals = set(ids)
    for c in range(columns):
        for r in (-1, rows):
            ids[c, r] = f"F{c}_{r}"
            nodes.append((ids[c, r], c * BLOCK, r * BLOCK, "priority"))
    for r in range(rows):
        for c in (-1, columns):
            ids[c, r] = f"F{c}_{r}"
            nodes.append((ids[c, r], c * BLOCK, r * BLOCK, "priority"))
    for (c, r), node in list(ids.items()):
        for dc, dr in ((1, 0), (0, 1)):
            other = ids.get((c + dc, r + dr))
            fringe = (c, r) not in signals and (c + dc, r + dr) not in signals
            if other and not fringe:
                edges.append((f"{node}_{other}", node, other))
                edges.append((f"{other}_{node}", other, node))
    nod = out_dir / "grid.nod.xml"
    nod.write_text(
        "<nodes>\n"
        + "".join(f'  <node id="{i}" x="{x}" y="{y}" type="{t}"/>\n' for i, x, y, t in nodes)
        + "</nodes>\n"
    )
    edg = out_dir / "grid.edg.xml"
    edg.write_text(
        "<edges>\n"
        + "".join(
            f'  <edge id="{e}" from="{a}" to="{b}" numLanes="{lanes}" speed="13.89"/>\n'
            for e, a, b in edges
        )
        + "</edges>\n"
    )
    net = out_dir / "grid.net.xml"
    command = [
        sumo_binary("netconvert"),
        "-n", str(nod), "-e", str(edg), "-o", str(net),
        "--no-turnarounds", "--no-warnings",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return net


def netgenerate_grid(out_dir: Path, *options: str) -> Path:
    """``netgenerate --grid`` (2 x 2, fringe arms, every junction a traffic light) with
    extra ``options``; junction ids are netgenerate's (A0, A1, ...)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    net = out_dir / "netgenerate.net.xml"
    command = [
        sumo_binary("netgenerate"), "--grid", "--grid.number", "2", "--grid.length", "200",
        "--grid.attach-length", "200", "--default-junction-type", "traffic_light",
        "--no-turnarounds", "-o", str(net), *options,
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return net

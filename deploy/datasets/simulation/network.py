"""Signalised networks for SUMO: a generated grid, or a given ``.net.xml``, and its approaches.

:func:`build_grid` writes plain XML nodes and edges and runs ``netconvert``: ``rows x cols``
signals ``block_m`` apart, every E-W street a major arterial (``major_lanes`` each way),
every N-S street a minor cross street (``minor_lanes`` each way), optionally a bike lane
on every edge; one fringe node beyond each street end, where vehicles enter and leave.
Row 0 is the northernmost street, column 0 the westernmost. Every signalised junction's
id, and its ``tlLogic`` id, IS the project's ``intersection_id``
(``cities.intersection_ids``: ``LDN-0001`` ... row-major). netconvert writes its default
static program per signal (two green phases, 90 s cycle, permissive lefts) as
``programID="0"``.

:func:`read_network` reads any ``.net.xml`` (a generated grid or a given one): its
intersections are its traffic-light junctions, its approaches every (junction, direction
of travel) with incoming lanes, the direction from the edge geometry
(``approaches.edge_direction``; SUMO's y axis points north).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from deploy.datasets.simulation.approaches import edge_direction
from transforms import features

NET_FILE = "network.net.xml"
BIKE_LANE_WIDTH_M = 1.5
# Grid moves in (row, col) steps; row 0 is the north.
HEADINGS = {"N": (-1, 0), "E": (0, 1), "S": (1, 0), "W": (0, -1)}
RIGHT_OF = {"N": "E", "E": "S", "S": "W", "W": "N"}


class NetworkError(ValueError):
    """A network that cannot be built or read (bad options, a net without signals)."""


@dataclass(frozen=True)
class GridSpec:
    """A signalised grid: E-W arterials, N-S cross streets."""

    rows: int = 5
    cols: int = 5
    block_m: float = 200.0
    major_lanes: int = 2  # per direction, E-W
    minor_lanes: int = 1  # per direction, N-S
    bike_lane: bool = True  # bicycles on their own lane (mixed with cars they halve capacity)
    speed_kmh: float = 50.0

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 1:
            raise NetworkError(f"grid needs at least 1x1 signals, got {self.rows}x{self.cols}")
        if self.major_lanes < 1 or self.minor_lanes < 1:
            raise NetworkError("lanes per direction must be >= 1")
        if not self.block_m >= 50:
            raise NetworkError(f"block length must be >= 50 m, got {self.block_m}")
        if not 5 <= self.speed_kmh <= 130:
            raise NetworkError(f"speed must be in [5, 130] km/h, got {self.speed_kmh}")


@dataclass(frozen=True)
class Approach:
    """One (signal, direction of travel) and the incoming lanes that feed it."""

    intersection_id: str
    direction: str
    edges: tuple[str, ...]
    lanes: tuple[str, ...]  # SUMO lane ids, right-most (kerb) first per edge
    motor_lanes: int  # lanes that allow passenger cars
    bike_only_lanes: int  # lanes that allow only bicycles


@dataclass(frozen=True)
class Network:
    """A network's signals and approaches (sorted by id, then ``features.DIRECTIONS``)."""

    path: Path
    intersections: tuple[str, ...]
    approaches: tuple[Approach, ...]

    def approach_index(self) -> dict[tuple[str, str], int]:
        """(intersection_id, direction) -> position in :attr:`approaches`."""
        return {(a.intersection_id, a.direction): k for k, a in enumerate(self.approaches)}

    def edge_approach(self) -> dict[str, int]:
        """Incoming edge id -> position of its approach in :attr:`approaches`."""
        return {edge: k for k, a in enumerate(self.approaches) for edge in a.edges}


def sumo_binary(name: str) -> str:
    """Path of a SUMO executable (``sumo``, ``netconvert``, ...) of the pinned ``eclipse-sumo``."""
    import sumo

    path = os.path.join(sumo.SUMO_HOME, "bin", name)
    if not os.path.isfile(path):
        raise NetworkError(f"SUMO binary {name!r} not found in {sumo.SUMO_HOME}/bin")
    return path


def sumo_env() -> dict[str, str]:
    """The environment for SUMO subprocesses: ``SUMO_HOME`` of the pinned package."""
    import sumo

    return {**os.environ, "SUMO_HOME": sumo.SUMO_HOME}


def grid_node(spec: GridSpec, ids: tuple[str, ...], row: int, col: int) -> str:
    """Node id at grid cell (row, col): a signal inside, a fringe node just outside."""
    if 0 <= row < spec.rows and 0 <= col < spec.cols:
        return ids[row * spec.cols + col]
    if col < 0:
        return f"W{row}"
    if col >= spec.cols:
        return f"E{row}"
    return f"N{col}" if row < 0 else f"S{col}"


def edge_id(a: str, b: str) -> str:
    """The grid edge from node ``a`` to node ``b``."""
    return f"{a}--{b}"


def grid_path(
    spec: GridSpec, ids: tuple[str, ...], heading: str, line: int, turn_after: int | None = None
) -> tuple[str, ...]:
    """Edges of a fringe-to-fringe path: enter street ``line`` (a row for E/W headings, a
    column for N/S) heading ``heading``; with ``turn_after=k`` turn right at the k-th
    signal passed (0-based) and drive on to the fringe."""
    step = HEADINGS[heading]
    if heading in ("E", "W"):
        row, col = line, (-1 if heading == "E" else spec.cols)
    else:
        row, col = (-1 if heading == "S" else spec.rows), line
    nodes = [grid_node(spec, ids, row, col)]
    passed = 0
    while True:
        row, col = row + step[0], col + step[1]
        nodes.append(grid_node(spec, ids, row, col))
        if not (0 <= row < spec.rows and 0 <= col < spec.cols):
            break
        if turn_after is not None and passed == turn_after:
            step = HEADINGS[RIGHT_OF[heading]]
        passed += 1
    return tuple(edge_id(a, b) for a, b in itertools.pairwise(nodes))


def build_grid(spec: GridSpec, ids: tuple[str, ...], out_path: str | Path) -> Path:
    """Writes the grid's ``.net.xml`` to ``out_path`` (via plain XML and ``netconvert``)."""
    if len(ids) != spec.rows * spec.cols:
        raise NetworkError(f"{spec.rows}x{spec.cols} grid needs {spec.rows * spec.cols} ids")
    out_path = Path(out_path)
    nodes, edges = [], []
    for row in range(-1, spec.rows + 1):
        for col in range(-1, spec.cols + 1):
            inside = 0 <= row < spec.rows and 0 <= col < spec.cols
            fringe = (0 <= row < spec.rows) != (0 <= col < spec.cols)
            if not (inside or fringe):
                continue
            node = grid_node(spec, ids, row, col)
            kind = "traffic_light" if inside else "priority"
            x, y = (col + 1) * spec.block_m, (spec.rows - row) * spec.block_m
            nodes.append(f'  <node id={quoteattr(node)} x="{x:.1f}" y="{y:.1f}" type="{kind}"/>')
    speed = spec.speed_kmh / 3.6
    bike = f' bikeLaneWidth="{BIKE_LANE_WIDTH_M}"' if spec.bike_lane else ""
    for heading, lanes, lines in (
        ("E", spec.major_lanes, spec.rows),
        ("W", spec.major_lanes, spec.rows),
        ("S", spec.minor_lanes, spec.cols),
        ("N", spec.minor_lanes, spec.cols),
    ):
        for line in range(lines):
            for edge in grid_path(spec, ids, heading, line):
                a, b = edge.split("--")
                edges.append(
                    f"  <edge id={quoteattr(edge)} from={quoteattr(a)} to={quoteattr(b)} "
                    f'numLanes="{lanes}" speed="{speed:.2f}"{bike}/>'
                )
    work = out_path.parent
    work.mkdir(parents=True, exist_ok=True)
    nod, edg = work / "grid.nod.xml", work / "grid.edg.xml"
    nod.write_text("<nodes>\n" + "\n".join(nodes) + "\n</nodes>\n")
    edg.write_text("<edges>\n" + "\n".join(edges) + "\n</edges>\n")
    try:
        _run_tool(
            "netconvert",
            ["-n", str(nod), "-e", str(edg), "-o", str(out_path), "--no-turnarounds", "true"],
        )
    finally:
        nod.unlink(missing_ok=True)
        edg.unlink(missing_ok=True)
    return out_path


def _run_tool(name: str, args: list[str]) -> None:
    proc = subprocess.run(
        [sumo_binary(name), *args, "--no-warnings", "true"],
        capture_output=True,
        text=True,
        env=sumo_env(),
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise NetworkError(f"{name} failed: {last}")


def read_network(path: str | Path) -> Network:
    """The signals and approaches of a ``.net.xml``; raises :class:`NetworkError` if it
    cannot be read or has no traffic light."""
    import sumolib

    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"network {path} is not a file")
    try:
        net = sumolib.net.readNet(str(path), withPrograms=True)
    except Exception as err:  # sumolib raises whatever its XML parser raises
        raise NetworkError(f"cannot read network {path}: {err}") from err
    signals = sorted(
        node.getID() for node in net.getNodes() if node.getType().startswith("traffic_light")
    )
    if not signals:
        raise NetworkError(f"network {path} has no traffic-light junction")
    approaches = []
    for site in signals:
        by_direction: dict[str, list] = {}
        for edge in net.getNode(site).getIncoming():
            if edge.getFunction() == "internal":
                continue
            by_direction.setdefault(edge_direction(edge.getShape()), []).append(edge)
        for direction in features.DIRECTIONS:
            edges = sorted(by_direction.get(direction, []), key=lambda e: e.getID())
            if not edges:
                continue
            lanes = [lane for edge in edges for lane in edge.getLanes()]
            approaches.append(
                Approach(
                    intersection_id=site,
                    direction=direction,
                    edges=tuple(e.getID() for e in edges),
                    lanes=tuple(lane.getID() for lane in lanes),
                    motor_lanes=sum(lane.allows("passenger") for lane in lanes),
                    bike_only_lanes=sum(
                        lane.allows("bicycle") and not lane.allows("passenger") for lane in lanes
                    ),
                )
            )
    return Network(path=path, intersections=tuple(signals), approaches=tuple(approaches))


def parse_grid(text: str) -> tuple[int, int]:
    """``"5x5"`` -> (5, 5); ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"--grid {text!r} is not ROWSxCOLS, e.g. 5x5")
    return int(match.group(1)), int(match.group(2))

"""Stop-line induction loops and their per-vehicle output as the project's event rows.

One ``instantInductionLoop`` per incoming lane of every approach, ``STOP_LINE_OFFSET_M``
before the stop line; its ``enter`` events (one per vehicle crossing) become event rows:
the approach's intersection and direction of travel, the vehicle's ``vType`` (the
project's type names, see ``demand.vtypes_xml``), the lane (1 = the kerb lane, SUMO's
index 0) and the speed at the loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from deploy.datasets.simulation import run
from deploy.datasets.simulation.network import Network
from transforms import features

STOP_LINE_OFFSET_M = 0.5
_ENTER = re.compile(
    r'<instantOut id="([^"]+)" time="([-\d.]+)" state="enter" vehID="[^"]*" '
    r'speed="([-\d.]+)"[^>]*? type="([^"]*)"'
)


@dataclass(frozen=True)
class Detections:
    """Vehicles crossing stop lines, one entry each, in output order."""

    time_s: np.ndarray  # float, simulation seconds
    approach: np.ndarray  # int64 index into Network.approaches
    lane: np.ndarray  # int64, 1 = kerb lane
    vehicle_type: np.ndarray  # int64 index into features.VEHICLE_TYPES
    speed_kmh: np.ndarray  # float


def detector_id(approach: int, lane: int) -> str:
    """Id of the loop on ``lane`` (1 = kerb) of approach number ``approach``."""
    return f"a{approach}_{lane}"


def write_detectors(network: Network, out_path: str | Path, output_file: str | Path) -> Path:
    """Writes the loops' additional file; their output goes to ``output_file``."""
    target = quoteattr(str(Path(output_file).absolute()))
    lines = ["<additional>"]
    for k, approach in enumerate(network.approaches):
        lanes_per_edge: dict[str, int] = {}
        for lane in approach.lanes:
            edge = lane.rsplit("_", 1)[0]
            index = lanes_per_edge.get(edge, 0)
            lanes_per_edge[edge] = index + 1
            lines.append(
                f'  <instantInductionLoop id="{detector_id(k, index + 1)}" lane={quoteattr(lane)} '
                f'pos="{-STOP_LINE_OFFSET_M}" friendlyPos="true" file={target}/>'
            )
    lines.append("</additional>\n")
    Path(out_path).write_text("\n".join(lines))
    return Path(out_path)


def read_detections(path: str | Path, chunk_lines: int = 200_000) -> Detections:
    """The ``enter`` events of an instantInductionLoop output file, as arrays (read in
    chunks of lines, so a simulated day's million events need no more than a few arrays)."""
    if not run.output_complete(Path(path)):
        # SUMO exits 0 when it cannot write (e.g. a full disk): a cut file is no smaller day.
        raise run.SimulationError(f"{path} is incomplete (a full disk?); simulate again")
    type_index = {v: k for k, v in enumerate(features.VEHICLE_TYPES)}
    parts: list[tuple[np.ndarray, ...]] = []
    with open(path) as handle:
        while True:
            lines = [line for _, line in zip(range(chunk_lines), handle, strict=False)]
            if not lines:
                break
            found = _ENTER.findall("".join(lines))
            if found:
                parts.append(_arrays(found, type_index, path))
    if not parts:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        return Detections(empty_f, empty_i, empty_i, empty_i, empty_f)
    time_s, approach, lane, vtype, speed = (np.concatenate(c) for c in zip(*parts, strict=True))
    return Detections(time_s, approach, lane, vtype, speed)


def _arrays(found: list[tuple[str, ...]], type_index: dict[str, int], path) -> tuple:
    ids, times, speeds, types = zip(*found, strict=True)
    approach, lane = zip(*(d[1:].split("_") for d in ids), strict=True)
    unknown = set(types) - set(type_index)
    if unknown:
        raise ValueError(f"{path}: vehicle types {sorted(unknown)} are not project types")
    return (
        np.asarray(times, dtype=float),
        np.asarray(approach, dtype=np.int64),
        np.asarray(lane, dtype=np.int64),
        np.array([type_index[t] for t in types], dtype=np.int64),
        np.asarray(speeds, dtype=float) * 3.6,
    )

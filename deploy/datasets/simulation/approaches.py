"""The one mapping from SUMO network geometry to the project's approaches.

An approach is (intersection, direction of travel). In a SUMO network the intersection is
the signalised junction (its id is the ``intersection_id`` of the event files) and the
direction of travel of a vehicle arriving on an incoming edge is the compass direction of
that edge's last segment (SUMO's y axis points north). ``simulate`` labels its detector
rows with it and ``advise`` maps signal phases to approaches with it, so both agree.
"""

from __future__ import annotations

import math

from transforms import features


def direction_of_travel(dx: float, dy: float) -> str:
    """Compass direction (one of ``features.DIRECTIONS``) of a movement by (dx, dy)."""
    if dx == 0 and dy == 0:
        raise ValueError("a zero-length segment has no direction of travel")
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0  # 0 = north, 90 = east
    return features.DIRECTIONS[int(((bearing + 45.0) % 360.0) // 90.0)]


def edge_direction(shape: list[tuple[float, float]]) -> str:
    """Direction of travel at the end of an edge whose shape is ``[(x, y), ...]``."""
    (x0, y0), (x1, y1) = shape[-2], shape[-1]
    return direction_of_travel(x1 - x0, y1 - y0)

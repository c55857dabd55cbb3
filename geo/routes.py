"""A route drawn on a map: the path a walk or a drive takes, with its length and time.

Both engines (:meth:`geo.nearby.NearbyFinder.route` on foot, :func:`geo.drive.drive_route` by
road) give the same shape: the place, the foot of its perpendicular on the street, the
street nodes passed, the foot at the other end and the destination — so the drawn line is
as long as the distance the engine reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS

from geo.crs import transformer


@dataclass(frozen=True)
class Route:
    """A path in a metric CRS: ``x``, ``y`` its vertices from start to end; ``metres`` along it and ``seconds``."""

    crs: CRS
    x: np.ndarray
    y: np.ndarray
    metres: float
    seconds: float

    def line(self) -> shapely.LineString:
        """The path as a line in its metric CRS."""
        return shapely.linestrings(np.column_stack([self.x, self.y]))

    def lonlat(self) -> shapely.LineString:
        """The path as a WGS-84 line (for web maps and files)."""
        lon, lat = transformer(self.crs, 4326).transform(self.x, self.y)
        return shapely.linestrings(np.column_stack([lon, lat]))


def node_path(pred: np.ndarray, end: int, n_real: int) -> list[int]:
    """The nodes from the search's start to ``end`` by predecessors, stopping before any node ``>= n_real``
    (a virtual source) or where the predecessor is missing."""
    path = [int(end)]
    while True:
        p = int(pred[path[-1]])
        if p < 0 or p >= n_real:
            break
        path.append(p)
    return path[::-1]


def foot(x: np.ndarray, y: np.ndarray, u: int, v: int, along: float, length: float) -> tuple[float, float]:
    """The point ``along`` metres from node ``u`` towards node ``v`` on a straight street piece."""
    share = along / length if length > 0 else 0.0
    return float(x[u] + share * (x[v] - x[u])), float(y[u] + share * (y[v] - y[u]))


__all__ = ["Route", "node_path", "foot"]

"""The drive network for emergency linkage: a directed road graph timed in seconds, and ambulance times from
every emergency hospital to every venue in one multi-source pass.

Built from OSM-style road lines (``highway`` class, ``oneway``, ``maxspeed``): every drivable
class, motorways and their links included; ``oneway=yes/true/1`` (and motorways, and
roundabouts) one edge in the drawn direction, ``oneway=-1`` the reverse, otherwise both.
An edge's time is its length over its speed — ``maxspeed`` where it is given (``50``,
``50 km/h``, ``30 mph``), else the class's default (:data:`DEFAULT_SPEED_KMH`, configurable)
— times a congestion factor for the hour (:data:`CONGESTION`, configurable).

Places (hospitals, venues) reach the roads as on the walk network: projected onto their
nearest road segment within a bound, entering the directed edge part-way.  Times are exact
on this graph: the tests compare them with networkx on the same directed graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.crs import local_metric_crs
from geo.errors import NetworkError
from geo.geometry_kinds import LINES, kind_is
from geo.network import Snap, merge_vertices
from geo.routes import Route, foot, node_path
from geo.segments import SegmentIndex

#: Road classes an ambulance drives on, with a default speed (km/h) where ``maxspeed`` is not given.
DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0, "primary": 60.0,
    "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0, "tertiary": 40.0, "tertiary_link": 30.0,
    "unclassified": 30.0, "residential": 30.0, "living_street": 10.0, "service": 15.0, "road": 30.0,
}
#: Travel-time factor by hour of day (1.0 free flow): morning and evening peaks slower.
CONGESTION: dict[int, float] = {h: 1.0 for h in range(24)} | {7: 1.5, 8: 1.7, 9: 1.4, 17: 1.5, 18: 1.7, 19: 1.4}
#: Speed (km/h) from a place to its road (the driveway, the last metres on foot with a stretcher).
ACCESS_SPEED_KMH = 5.0
DEFAULT_MAX_SNAP_M = 300.0
_ONE_WAY_YES = frozenset({"yes", "true", "1"})
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$", re.I)


def parse_maxspeed(value: object) -> float | None:
    """``maxspeed`` in km/h (``50``, ``50 km/h``, ``30 mph``); ``None`` when absent or not a number (``signals``)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    m = _SPEED.match(str(value))
    if not m:
        return None
    speed = float(m.group(1)) * (1.609344 if (m.group(2) or "").lower() == "mph" else 1.0)
    return speed if speed > 0 else None


@dataclass
class DriveNetwork:
    """A directed road graph in a metric CRS; ``graph[u, v]`` is the seconds from ``u`` to ``v`` at free flow.

    ``edge_u → edge_v`` are the directed edges with their ``edge_length`` (m) and
    ``edge_seconds``; ``segment_*`` are the drawn road segments places snap to, each with the
    directed edge along it (``seg_forward``) and against it (``seg_backward``), -1 where none.
    """

    crs: CRS
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_seconds: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_forward: np.ndarray
    seg_backward: np.ndarray
    n_one_way: int
    _index: SegmentIndex | None = field(default=None, repr=False)
    _base: csr_matrix | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    def graph(self, factor: float = 1.0) -> csr_matrix:
        """The directed adjacency matrix of seconds, times ``factor`` (congestion); parallel roads keep the fastest."""
        if self._base is None:
            self._base = _fastest(self.edge_u, self.edge_v, self.edge_seconds, self.n_nodes)
        return self._base * factor if factor != 1.0 else self._base

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_distance: float = DEFAULT_MAX_SNAP_M) -> Snap:
        """Project places onto their nearest road segment (``edge`` is the segment, -1 beyond the bound)."""
        if self._index is None:
            u, v = self.seg_u, self.seg_v
            self._index = SegmentIndex(self.node_x[u], self.node_y[u], self.node_x[v], self.node_y[v])
        near = self._index.nearest(np.asarray(x, float), np.asarray(y, float), max_distance=max_distance)
        return Snap(edge=near.segment, along=np.where(near.segment >= 0, near.along, 0.0), offset=near.distance,
                    max_distance=float(max_distance))


def build_drive_network(lines: gpd.GeoDataFrame, *, crs: CRS | str | int | None = None,
                        speeds_kmh: Mapping[str, float] | None = None, tolerance: float = 0.01) -> DriveNetwork:
    """Build the directed drive network from road lines with ``highway`` (and ``oneway``, ``maxspeed``,
    ``junction``) columns; only :data:`DEFAULT_SPEED_KMH` classes (or ``speeds_kmh``'s) are used.

    Raises
    ------
    NetworkError
        No CRS, no ``highway`` column, or no drivable line.
    """
    speeds = dict(DEFAULT_SPEED_KMH if speeds_kmh is None else speeds_kmh)
    if lines is None or len(lines) == 0 or lines.crs is None:
        raise NetworkError("No drive network: the road layer is empty or has no coordinate system.")
    if "highway" not in lines.columns:
        raise NetworkError("The road layer has no 'highway' column, so drivable roads cannot be told apart.")
    hw = lines["highway"].astype(str).to_numpy()
    keep = np.isin(hw, list(speeds)) & kind_is(lines.geometry.to_numpy(), LINES)
    if not keep.any():
        raise NetworkError(f"No drivable road among {len(lines)} lines; drivable classes are {', '.join(speeds)}.")
    roads = lines.loc[keep]
    metric = CRS.from_user_input(crs) if crs is not None else local_metric_crs(
        tuple(roads.geometry.to_crs(4326).total_bounds))
    geoms = roads.geometry.to_crs(metric).to_numpy()
    col = lambda name: roads[name].to_numpy() if name in roads.columns else np.full(len(roads), None)  # noqa: E731
    oneway, maxspeed, junction = col("oneway"), col("maxspeed"), col("junction")
    direction = np.zeros(len(roads), dtype=np.int8)  # 0 both ways, 1 as drawn, -1 against
    for i, (ow, cls, jn) in enumerate(zip(oneway, roads["highway"].astype(str), junction)):
        ow = str(ow).strip().lower() if ow is not None else ""
        if ow in _ONE_WAY_YES or (ow not in ("no", "false", "0") and (cls == "motorway" or jn == "roundabout")):
            direction[i] = 1
        elif ow == "-1":
            direction[i] = -1
    kmh = np.array([parse_maxspeed(m) or speeds[c] for m, c in zip(maxspeed, roads["highway"].astype(str))])
    parts, line_of = shapely.get_parts(geoms, return_index=True)
    coords, part_idx = shapely.get_coordinates(parts, return_index=True)
    same = part_idx[1:] == part_idx[:-1]
    node_of, xy = merge_vertices(coords, tolerance)
    seg_line = line_of[part_idx[:-1][same]]
    return drive_network_from_segments(xy[:, 0], xy[:, 1], node_of[:-1][same], node_of[1:][same], kmh[seg_line],
                                       direction[seg_line], crs=metric)


def drive_network_from_segments(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, kmh: np.ndarray,
                                direction: np.ndarray, *, crs: CRS | str | int) -> DriveNetwork:
    """A drive network from node coordinates and road segments ``u``–``v`` with their speed (km/h) and
    direction (0 both ways, 1 ``u → v`` only, -1 ``v → u`` only); for benchmarks and synthetic tests."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    su, sv = np.asarray(u, np.int64), np.asarray(v, np.int64)
    kmh, d = np.asarray(kmh, np.float64), np.asarray(direction, np.int8)
    length = np.hypot(x[sv] - x[su], y[sv] - y[su])
    real = (su != sv) & (length > 0)
    su, sv, length, kmh, d = su[real], sv[real], length[real], kmh[real], d[real]
    if len(su) == 0:
        raise NetworkError("The drivable roads have no segment of non-zero length.")
    seconds = length / (kmh / 3.6)
    fwd, bwd = d >= 0, d <= 0
    eu = np.concatenate((su[fwd], sv[bwd]))
    ev = np.concatenate((sv[fwd], su[bwd]))
    el = np.concatenate((length[fwd], length[bwd]))
    es = np.concatenate((seconds[fwd], seconds[bwd]))
    seg_forward = np.full(len(su), -1, dtype=np.int64)
    seg_backward = np.full(len(su), -1, dtype=np.int64)
    seg_forward[fwd] = np.arange(int(fwd.sum()))
    seg_backward[bwd] = int(fwd.sum()) + np.arange(int(bwd.sum()))
    return DriveNetwork(CRS.from_user_input(crs), np.ascontiguousarray(x), np.ascontiguousarray(y), eu, ev, el, es,
                        su, sv, seg_forward, seg_backward, int((d != 0).sum()))


def _fastest(u: np.ndarray, v: np.ndarray, seconds: np.ndarray, n: int) -> csr_matrix:
    """A sparse matrix of ``u → v`` seconds keeping the smallest of parallel entries (scipy would add them)."""
    order = np.lexsort((seconds, v, u))
    u, v, seconds = u[order], v[order], seconds[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return csr_matrix((seconds[first], (u[first], v[first])), shape=(n, n))


@dataclass(frozen=True)
class DriveTimes:
    """Seconds from the nearest source to each target (``inf`` where none reaches) and which source it is."""

    seconds: np.ndarray
    source: np.ndarray  # index into the sources, -1 where unreachable
    factor: float
    #: The directed edge each target is reached along (-1: straight from a source on its own segment, or none).
    arrive_edge: np.ndarray | None = None
    #: Predecessors of the search (nodes ``>= n_nodes`` are the sources' virtual nodes).
    pred: np.ndarray | None = None


def _segment_length(net: DriveNetwork, s: int) -> float:
    """Length of road segment ``s`` (that of either directed edge along it)."""
    e = net.seg_forward[s] if net.seg_forward[s] >= 0 else net.seg_backward[s]
    return float(net.edge_length[e])


def _share(part: float, length: float) -> float:
    return part / length if length > 0 else 0.0


def drive_times(net: DriveNetwork, sources_xy: np.ndarray, targets_xy: np.ndarray, *, hour: int | None = None,
                congestion: Mapping[int, float] | None = None, access_kmh: float = ACCESS_SPEED_KMH,
                max_snap_m: float = DEFAULT_MAX_SNAP_M) -> DriveTimes:
    """Seconds from the nearest of ``sources_xy`` (hospitals) to each of ``targets_xy`` (venues), in one pass.

    Each source enters the graph part-way along its road segment (both directions where the
    road allows); each target is reached part-way along its segment from either end that an
    edge runs from; the metres from a place to its road go at ``access_kmh``.  ``hour``
    applies the congestion factor for that hour to every road.
    """
    factor = 1.0 if hour is None else float((congestion or CONGESTION).get(int(hour) % 24, 1.0))
    src = np.asarray(sources_xy, float).reshape(-1, 2)
    dst = np.asarray(targets_xy, float).reshape(-1, 2)
    n = net.n_nodes
    access = access_kmh / 3.6
    ss = net.snap(src[:, 0], src[:, 1], max_distance=max_snap_m)
    # Virtual nodes n + k for the sources, joined to the nodes their edges lead to (never twice the same node).
    rows, cols, vals = [], [], []
    for k in np.flatnonzero(ss.ok):
        s, along = int(ss.edge[k]), float(ss.along[k])
        length = _segment_length(net, s)
        for e, rest in ((net.seg_forward[s], length - along), (net.seg_backward[s], along)):
            if e >= 0:
                rows.append(k)
                cols.append(net.edge_v[e])
                vals.append(ss.offset[k] / access + _share(rest, length) * net.edge_seconds[e] * factor)
    entry = csr_matrix((vals, (rows, cols)), shape=(len(src), n))
    m = n + len(src)
    graph = sparse.bmat([[net.graph(factor), None], [entry, None]], format="csr")
    graph.resize((m, m))
    ok_src = np.flatnonzero(ss.ok)
    out = np.full(len(dst), np.inf)
    who = np.full(len(dst), -1, dtype=np.int64)
    arrive = np.full(len(dst), -1, dtype=np.int64)
    if len(ok_src) == 0 or len(dst) == 0:
        return DriveTimes(out, who, factor, arrive)
    dist, pred, origin = dijkstra(graph, directed=True, indices=n + ok_src, min_only=True,
                                   return_predecessors=True)
    origin = np.where(origin >= n, origin - n, -1)
    ts = net.snap(dst[:, 0], dst[:, 1], max_distance=max_snap_m)
    on_segment: dict[int, list[int]] = {}
    for k in ok_src:
        on_segment.setdefault(int(ss.edge[k]), []).append(int(k))
    for j in np.flatnonzero(ts.ok):
        s, along = int(ts.edge[j]), float(ts.along[j])
        length = _segment_length(net, s)
        best, by, via = np.inf, -1, -1
        for e, part in ((net.seg_forward[s], along), (net.seg_backward[s], length - along)):
            if e >= 0:  # arrive along edge e from its start node, ``part`` metres in
                t = dist[net.edge_u[e]] + _share(part, length) * net.edge_seconds[e] * factor
                if t < best:
                    best, by, via = t, origin[net.edge_u[e]], e
        for k in on_segment.get(s, ()):  # a source on the same segment, upstream of the target
            a_s, start = float(ss.along[k]), ss.offset[k] / access
            for e, ahead in ((net.seg_forward[s], along - a_s), (net.seg_backward[s], a_s - along)):
                if e >= 0 and ahead >= 0:
                    t = start + _share(ahead, length) * net.edge_seconds[e] * factor
                    if t < best:
                        best, by, via = t, k, -1
        if np.isfinite(best):
            out[j], who[j], arrive[j] = best + ts.offset[j] / access, by, via
    return DriveTimes(out, who, factor, arrive, pred)


def drive_route(net: DriveNetwork, source_xy: tuple[float, float], target_xy: tuple[float, float], *,
                hour: int | None = None, congestion: Mapping[int, float] | None = None,
                access_kmh: float = ACCESS_SPEED_KMH, max_snap_m: float = DEFAULT_MAX_SNAP_M) -> Route | None:
    """The drive from ``source_xy`` (a hospital) to ``target_xy`` (a venue) as drawn, with the same seconds as
    :func:`drive_times`; ``None`` when the target cannot be reached."""
    got = drive_times(net, np.array([source_xy], float), np.array([target_xy], float), hour=hour,
                      congestion=congestion, access_kmh=access_kmh, max_snap_m=max_snap_m)
    if not np.isfinite(got.seconds[0]):
        return None
    x, y = net.node_x, net.node_y
    ss = net.snap(np.array([source_xy[0]]), np.array([source_xy[1]]), max_distance=max_snap_m)
    ts = net.snap(np.array([target_xy[0]]), np.array([target_xy[1]]), max_distance=max_snap_m)

    def on_segment(snap: Snap) -> tuple[float, float]:
        s = int(snap.edge[0])
        return foot(x, y, int(net.seg_u[s]), int(net.seg_v[s]), float(snap.along[0]), _segment_length(net, s))

    pts = [tuple(source_xy), on_segment(ss)]
    e = int(got.arrive_edge[0])
    if e >= 0:
        pts += [(x[i], y[i]) for i in node_path(got.pred, int(net.edge_u[e]), net.n_nodes)]
    pts += [on_segment(ts), tuple(target_xy)]
    xy = np.array(pts, dtype=float)
    metres = float(np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1])).sum())
    return Route(net.crs, xy[:, 0], xy[:, 1], metres, float(got.seconds[0]))


__all__ = ["DriveNetwork", "DriveTimes", "build_drive_network", "drive_network_from_segments", "drive_times",
           "drive_route",
           "parse_maxspeed", "DEFAULT_SPEED_KMH", "CONGESTION", "ACCESS_SPEED_KMH"]

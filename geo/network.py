"""The walking network: a graph of walkable street segments, and snapping onto it.

A line layer (the catalogue's ``walk_network``, or OSM ``highway`` lines) becomes an
undirected graph whose nodes are the lines' vertices (lines meeting at a shared vertex
are joined, as OSM ways are at shared nodes) and whose edges are the straight pieces
between consecutive vertices, weighted by their length in metres in a local metric CRS.
Walking ignores one-way tags, so every edge is usable both ways.

Places (facilities, demand cells) are *snapped*: projected onto their nearest edge, so a
route starts with the walk from the place to the street (the snap distance) and then
runs along the street from the foot of the perpendicular.  A place farther than a bound
from every walkable street is reported, not silently attached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.crs import local_metric_crs
from geo.errors import NetworkError
from geo.geometry_kinds import LINES, kind_is
from geo.segments import SegmentIndex

#: OSM ``highway`` values a pedestrian may use (motorways and their links are not here).
WALKABLE_HIGHWAYS: frozenset[str] = frozenset({
    "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
    "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "service",
    "pedestrian", "footway", "path", "steps", "track", "cycleway", "corridor", "road",
    "bridleway",
})
_NO_FOOT = frozenset({"no", "private", "use_sidepath"})
_YES_FOOT = frozenset({"yes", "designated", "permissive", "official"})

#: Default bound on the walk from a place to its nearest walkable street (metres).
DEFAULT_MAX_SNAP_M = 200.0


@dataclass(frozen=True)
class NetworkReport:
    """What went into a walking network and what came out."""

    n_lines: int
    n_lines_used: int
    excluded: dict[str, int]
    n_nodes: int
    n_edges: int
    total_length_km: float
    n_components: int
    largest_component_share: float
    crs: str

    def summary(self) -> str:
        """One paragraph a planner can read."""
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items())) or "none"
        return (f"Walking network: {self.n_lines_used} of {self.n_lines} lines used "
                f"(left out: {dropped}); {self.n_nodes} nodes, {self.n_edges} edges, "
                f"{self.total_length_km:.1f} km in {self.crs}; {self.n_components} connected "
                f"part(s), the largest holds {self.largest_component_share:.1%} of the street length.")


@dataclass(frozen=True)
class Snap:
    """Places projected onto the network's edges.

    ``edge`` is -1 for a place farther than the bound from every edge.  ``along`` is the
    distance from the edge's node ``u`` to the foot of the perpendicular; ``offset``
    the walk from the place to that foot.
    """

    edge: np.ndarray
    along: np.ndarray
    offset: np.ndarray
    max_distance: float

    @property
    def ok(self) -> np.ndarray:
        """Places that reached the network within the bound."""
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)


@dataclass
class WalkNetwork:
    """An undirected walking graph in a metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        The metric CRS of ``node_x``/``node_y`` and of every length.
    node_x, node_y : ndarray
        Node coordinates (metres).
    edge_u, edge_v, edge_length : ndarray
        One row per edge; parallel edges between the same nodes keep the shortest.
    graph : scipy.sparse.csr_matrix
        Symmetric adjacency matrix of edge lengths (``n_nodes × n_nodes``).
    component : ndarray
        Connected-part label of each node.
    report : NetworkReport
    """

    crs: CRS
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    graph: csr_matrix
    component: np.ndarray
    report: NetworkReport
    _index: SegmentIndex | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edge_u)

    @property
    def segment_index(self) -> SegmentIndex:
        """Nearest-edge index (built on first use)."""
        if self._index is None:
            u, v = self.edge_u, self.edge_v
            self._index = SegmentIndex(self.node_x[u], self.node_y[u], self.node_x[v], self.node_y[v])
        return self._index

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_distance: float = DEFAULT_MAX_SNAP_M) -> Snap:
        """Project places ``(x, y)`` (in :attr:`crs`) onto their nearest edge.

        Places farther than ``max_distance`` metres from every edge get ``edge == -1``.
        """
        if max_distance < 0:
            raise NetworkError(f"max_distance must be zero or more metres, not {max_distance}.")
        index = self.segment_index
        near = index.nearest(x, y, max_distance=max_distance)
        # Where an edge's weight is not its straight length (a bent street given with
        # its true length), the foot's position scales to the weight.
        seg = np.maximum(near.segment, 0)
        geom = index.length[seg]
        with np.errstate(invalid="ignore", divide="ignore"):
            along = np.where(geom > 0, near.along / geom, 0.0) * self.edge_length[seg]
        along[near.segment < 0] = 0.0
        return Snap(edge=near.segment, along=along, offset=near.distance,
                    max_distance=float(max_distance))


#: The attributes of a line the network reads (besides its geometry).
WALK_COLUMNS = ("highway", "foot", "access")


def _walkable_mask(lines: gpd.GeoDataFrame, highway_column: str | None) -> tuple[np.ndarray, dict[str, int]]:
    n = len(lines)
    excluded: dict[str, int] = {}
    if highway_column is None:
        keep = np.ones(n, dtype=bool)
    else:
        if highway_column not in lines.columns:
            raise NetworkError(
                f"The line layer has no {highway_column!r} column; it has "
                f"{', '.join(map(str, lines.columns))}. Pass highway_column=None to use every line.")
        hw = lines[highway_column].astype("string").str.strip().str.lower()
        keep = np.array(hw.isin(WALKABLE_HIGHWAYS).fillna(False), dtype=bool)
        dropped = hw[~keep].fillna("(no highway value)")
        excluded.update({str(k): int(v) for k, v in dropped.value_counts().items()})
    for col in ("foot", "access"):
        if col in lines.columns:
            val = lines[col].astype("string").str.strip().str.lower()
            refused = np.array(val.isin(_NO_FOOT).fillna(False), dtype=bool)
            if col == "access" and "foot" in lines.columns:
                foot = lines["foot"].astype("string").str.strip().str.lower()
                refused &= ~np.array(foot.isin(_YES_FOOT).fillna(False), dtype=bool)
            newly = keep & refused
            if newly.any():
                excluded[f"{col}=no/private"] = int(newly.sum())
            keep &= ~refused
    return keep, excluded


def build_walk_network(lines: gpd.GeoDataFrame, *, highway_column: str | None = "highway",
                       crs: CRS | str | int | None = None, tolerance: float = 0.01) -> WalkNetwork:
    """Build the walking graph from a line layer.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings or MultiLineStrings with a CRS.
    highway_column : str or None, optional
        Column with OSM ``highway`` values; only :data:`WALKABLE_HIGHWAYS` are used.
        ``None`` uses every line (e.g. a layer of footpaths only).  Columns ``foot`` and
        ``access`` are honoured where present (``foot=no``, ``access=private``).
    crs : optional
        Metric CRS for lengths; chosen for the layer's extent when not given (CGCS2000
        Gauss–Krüger zone inside China, UTM elsewhere).
    tolerance : float, optional
        Vertices closer than this (metres) are one node.

    Raises
    ------
    NetworkError
        No CRS on the layer, no walkable line, or no usable segment.
    """
    if lines is None or len(lines) == 0:
        raise NetworkError("No walking network: the line layer is empty. Load the "
                           "walk_network layer, or analyse with straight-line distances.")
    return build_walk_network_in_batches([lines], highway_column=highway_column, crs=crs, tolerance=tolerance)


def build_walk_network_in_batches(batches: Iterable[gpd.GeoDataFrame], *, highway_column: str | None = "highway",
                                  crs: CRS | str | int | None = None, tolerance: float = 0.01) -> WalkNetwork:
    """:func:`build_walk_network` of the lines of every batch taken together (in order), holding the line objects of
    one batch at a time: each is reduced to its walkable vertices before the next is read (a province's streets as
    shapely objects take about 0.8 KB a segment).  With more than one batch, ``crs`` must be given."""
    coords, part_of, metric = [], [], None if crs is None else CRS.from_user_input(crs)
    n_lines = n_used = n_parts = 0
    excluded: dict[str, int] = {}
    for k, lines in enumerate(batches):
        if lines is None or len(lines) == 0:
            continue
        if lines.crs is None:
            raise NetworkError("The line layer has no coordinate system; set one before building the network.")
        if metric is None and k > 0:
            raise NetworkError("Lines given in batches need the metric coordinate system (crs=…).")
        xy, part, used, metric, left_out = _walkable_vertices(lines, highway_column, metric)
        coords.append(xy)
        part_of.append(part + n_parts)  # parts numbered on across batches: a batch's first part is a new one
        n_parts += int(part.max()) + 1 if len(part) else 0
        n_lines, n_used = n_lines + len(lines), n_used + used
        for why, n in left_out.items():
            excluded[why] = excluded.get(why, 0) + n
    if n_lines == 0:
        raise NetworkError("No walking network: the line layer is empty. Load the "
                           "walk_network layer, or analyse with straight-line distances.")
    if n_used == 0:
        raise NetworkError(
            f"No walkable line among the {n_lines} lines (left out: {excluded}). Walkable "
            f"highway values are: {', '.join(sorted(WALKABLE_HIGHWAYS))}.")
    coords = np.concatenate(coords) if coords else np.empty((0, 2))
    part_idx = np.concatenate(part_of) if part_of else np.empty(0, dtype=np.int64)
    if len(coords) < 2:
        raise NetworkError("The walkable lines have fewer than two vertices in all.")
    same_part = part_idx[1:] == part_idx[:-1]
    node_of, node_xy = merge_vertices(coords, tolerance)
    u = node_of[:-1][same_part]
    v = node_of[1:][same_part]
    length = np.hypot(*(coords[1:][same_part] - coords[:-1][same_part]).T)
    real = u != v
    u, v, length = u[real], v[real], length[real]
    if len(u) == 0:
        raise NetworkError("The walkable lines have no segment of non-zero length.")
    used = np.zeros(len(node_xy), dtype=bool)
    used[u] = used[v] = True  # drop vertices only zero-length pieces touch
    renum = np.cumsum(used) - 1
    return _assemble(node_xy[used, 0], node_xy[used, 1], renum[u], renum[v], length, metric,
                     n_lines=n_lines, n_used=n_used, excluded=excluded)


def _walkable_vertices(lines: gpd.GeoDataFrame, highway_column: str | None, metric: CRS | None
                       ) -> tuple[np.ndarray, np.ndarray, int, CRS | None, dict[str, int]]:
    """One batch's walkable lines as vertices in ``metric`` (chosen for their extent when None): (coordinates, each
    vertex's part from 0, lines used, the metric CRS, lines left out by reason)."""
    keep, excluded = _walkable_mask(lines, highway_column)
    geoms = lines.geometry.to_numpy()[keep]
    is_line = kind_is(geoms, LINES) & ~shapely.is_empty(geoms)
    if (~is_line).any():
        excluded["not a line"] = excluded.get("not a line", 0) + int((~is_line).sum())
    geoms = geoms[is_line]
    if len(geoms) == 0:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64), 0, metric, excluded
    if metric is None:
        metric = local_metric_crs(tuple(gpd.GeoSeries(geoms, crs=lines.crs).to_crs(4326).total_bounds))
    parts = shapely.get_parts(gpd.GeoSeries(geoms, crs=lines.crs).to_crs(metric).to_numpy())
    coords, part_idx = shapely.get_coordinates(parts, return_index=True)
    return coords, part_idx, len(geoms), metric, excluded


def merge_vertices(coords: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices closer than ``tolerance`` made one node: each vertex's node, and each node's coordinates (those
    of the first vertex seen there)."""
    key = np.round(coords / tolerance).astype(np.int64)
    key -= key.min(axis=0) if len(key) else 0
    if len(key) and key.max() < 2**31:
        # the two grid numbers in one (x above y): a 1-D sort in the same (x, y) order, half the memory of a
        # sort of pairs — a province has millions of vertices
        uniq, node_of = np.unique((key[:, 0] << 32) | key[:, 1], return_inverse=True)
    else:
        uniq, node_of = np.unique(key, axis=0, return_inverse=True)
    del key
    node_of = node_of.ravel()
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[node_of[::-1]] = np.arange(len(node_of))[::-1]
    return node_of, coords[first]


def _assemble(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, length: np.ndarray,
              crs: CRS, *, n_lines: int, n_used: int, excluded: dict[str, int]) -> WalkNetwork:
    """Deduplicate edges (shortest of parallels kept), build the matrix, label the parts."""
    real = (u != v) & (length > 0)
    lo, hi, ln = np.minimum(u, v)[real], np.maximum(u, v)[real], length[real]
    order = np.lexsort((ln, hi, lo))
    lo, hi, ln = lo[order], hi[order], ln[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, ln = lo[first], hi[first], ln[first]
    if len(lo) == 0:
        raise NetworkError("The walkable lines have no segment of non-zero length.")
    n = len(x)
    graph = csr_matrix((np.concatenate((ln, ln)), (np.concatenate((lo, hi)), np.concatenate((hi, lo)))),
                       shape=(n, n))
    n_comp, label = connected_components(graph, directed=False)
    comp_len = np.bincount(label[lo], weights=ln, minlength=n_comp)
    report = NetworkReport(
        n_lines=n_lines, n_lines_used=n_used, excluded=excluded, n_nodes=n, n_edges=len(lo),
        total_length_km=float(ln.sum() / 1000.0), n_components=int(n_comp),
        largest_component_share=float(comp_len.max() / comp_len.sum()), crs=crs.to_string())
    return WalkNetwork(crs=crs, node_x=np.ascontiguousarray(x, dtype=np.float64),
                       node_y=np.ascontiguousarray(y, dtype=np.float64), edge_u=lo, edge_v=hi,
                       edge_length=ln, graph=graph, component=label, report=report)


def network_from_edges(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray,
                       length: np.ndarray | None = None, *, crs: CRS | str | int) -> WalkNetwork:
    """A network straight from node coordinates and edge lists (benchmarks, synthetic tests).

    ``length`` defaults to the straight distance between the end nodes.  Parallel edges
    keep the shortest; self-loops are dropped.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    length = np.hypot(x[u] - x[v], y[u] - y[v]) if length is None else np.asarray(length, dtype=np.float64)
    return _assemble(x, y, u, v, length, CRS.from_user_input(crs), n_lines=len(u), n_used=len(u),
                     excluded={})

"""Service areas that follow the streets: where a walk of D metres from a facility gets to.

Not a circle and not a convex hull: the streets (and parts of streets) reachable within
``limit`` metres are traced on a fine grid (``cell`` metres), widened by one cell on each
side so the street's frontage is included, and outlined as a polygon.  Where a walk ends
half-way along a street, the area ends there too.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage

from geo.errors import AnalysisError
from geo.reach import NetworkReach


class _EdgeSamples:
    """Points every ``spacing`` metres along every edge, grouped by edge (CSR)."""

    def __init__(self, reach: NetworkReach, spacing: float) -> None:
        net = reach.network
        geom = np.hypot(net.node_x[net.edge_v] - net.node_x[net.edge_u],
                        net.node_y[net.edge_v] - net.node_y[net.edge_u])
        n = np.maximum(np.ceil(geom / spacing).astype(np.int64), 1) + 1
        self.ptr = np.concatenate(([0], np.cumsum(n)))
        edge = np.repeat(np.arange(net.n_edges), n)
        frac = (np.arange(self.ptr[-1]) - self.ptr[edge]) / (n[edge] - 1)
        self.edge = edge
        self.pos = frac * net.edge_length[edge]
        self.x = net.node_x[net.edge_u[edge]] + frac * (net.node_x[net.edge_v[edge]] - net.node_x[net.edge_u[edge]])
        self.y = net.node_y[net.edge_u[edge]] + frac * (net.node_y[net.edge_v[edge]] - net.node_y[net.edge_u[edge]])

    def of_edges(self, edges: np.ndarray) -> np.ndarray:
        lo, hi = self.ptr[edges], self.ptr[edges + 1]
        count = hi - lo
        start = np.repeat(lo, count)
        return start + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)


def _union_length(spans: list[tuple[float, float]], length: float) -> float:
    """Length of the union of intervals clipped to ``[0, length]``."""
    clipped = sorted((max(lo, 0.0), min(hi, length)) for lo, hi in spans if min(hi, length) > max(lo, 0.0))
    total, end = 0.0, -np.inf
    for lo, hi in clipped:
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def _outline(x: np.ndarray, y: np.ndarray, cell: float):
    """Polygon of the cells holding the points, widened by one cell."""
    x0, y1 = np.floor(x.min() / cell) * cell - 2 * cell, np.ceil(y.max() / cell) * cell + 2 * cell
    col = ((x - x0) // cell).astype(np.int64)
    row = ((y1 - y) // cell).astype(np.int64)
    mask = np.zeros((row.max() + 3, col.max() + 3), dtype=bool)
    mask[row, col] = True
    mask = ndimage.binary_dilation(mask, structure=np.ones((3, 3), dtype=bool))
    transform = Affine(cell, 0, x0, 0, -cell, y1)
    parts = [shapely.geometry.shape(g) for g, _ in
             rasterio.features.shapes(mask.view(np.uint8), mask=mask, transform=transform)]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def service_areas(reach: NetworkReach, *, limit: float, facilities: np.ndarray | None = None,
                  cell: float = 20.0, chunk: int = 64) -> gpd.GeoDataFrame:
    """Street-following service area of each facility within ``limit`` metres.

    Parameters
    ----------
    reach : NetworkReach
    limit : float
        Walking distance (metres).
    facilities : ndarray of bool, optional
        Which facilities (default all that reach the network).
    cell : float
        Tracing resolution; the area extends about one cell beyond the street centre lines.

    Returns
    -------
    GeoDataFrame
        ``facility`` (index in the facility set), ``street_km`` (street length reached),
        ``area_km2`` and the polygon, in the network's CRS.  Facilities off the network
        have no row.
    """
    if not np.isfinite(limit) or limit <= 0:
        raise AnalysisError(f"A service-area distance must be a positive number of metres, not {limit}.")
    if cell <= 0:
        raise AnalysisError(f"cell must be a positive number of metres, not {cell}.")
    net = reach.network
    mask = np.ones(reach.n_facilities, dtype=bool) if facilities is None else np.asarray(facilities, dtype=bool)
    mask = mask & reach.facility_snapped
    samples = _EdgeSamples(reach, cell)
    local = np.full(net.n_nodes, -1, dtype=np.int64)
    acc_ok = reach.access_snap.ok
    out_f, out_g, out_len = [], [], []
    for batch, window in reach.batches(np.flatnonzero(mask), limit, chunk):
        node_d = reach.window_distances(batch, window, limit)
        local[window] = np.arange(len(window))
        lu, lv = local[net.edge_u], local[net.edge_v]
        own_edges = reach.access_snap.edge[acc_ok & np.isin(reach.access.owner, batch)]
        edges = np.union1d(np.flatnonzero((lu >= 0) | (lv >= 0)), own_edges)
        padded = np.hstack((node_d, np.full((len(batch), 1), np.inf)))
        du, dv = padded[:, lu[edges]], padded[:, lv[edges]]
        length = net.edge_length[edges]
        # Street length reached per facility: from each end as far as the budget allows.
        from_u = np.clip(limit - du, 0, None)
        from_v = np.clip(limit - dv, 0, None)
        reached_len = np.minimum(from_u + from_v, length).sum(axis=1)
        sid = samples.of_edges(edges)
        col = np.searchsorted(edges, samples.edge[sid])
        pos = samples.pos[sid]
        ok = np.minimum(du[:, col] + pos, dv[:, col] + (length[col] - pos)) <= limit
        for k, f in enumerate(batch):
            own = np.flatnonzero(acc_ok & (reach.access.owner == f))
            hit = ok[k].copy()
            extra = 0.0
            for e in np.unique(reach.access_snap.edge[own]):
                # Along the facility's own street the walk starts at the foot, not at a node.
                c = int(np.searchsorted(edges, e))
                mine = own[reach.access_snap.edge[own] == e]
                budget = limit - reach.access_snap.offset[mine]
                a = reach.access_snap.along[mine]
                spans = [(0.0, from_u[k, c]), (length[c] - from_v[k, c], length[c])]
                spans += [(lo, hi) for lo, hi in zip(a - budget, a + budget) if hi > lo]
                before = min(from_u[k, c] + from_v[k, c], length[c])
                extra += _union_length(spans, length[c]) - before
                on_edge = col == c
                near = np.zeros(on_edge.sum(), dtype=bool)
                for lo, hi in zip(a - budget, a + budget):
                    near |= (pos[on_edge] >= lo) & (pos[on_edge] <= hi)
                hit[np.flatnonzero(on_edge)[near]] = True
            chosen = sid[hit]
            xs = np.concatenate((samples.x[chosen], reach.access.x[own]))
            ys = np.concatenate((samples.y[chosen], reach.access.y[own]))
            out_f.append(int(f))
            out_g.append(_outline(xs, ys, cell))
            out_len.append((reached_len[k] + extra) / 1000.0)
        local[window] = -1
    result = gpd.GeoDataFrame({"facility": np.asarray(out_f, dtype=np.int64), "street_km": out_len},
                              geometry=out_g, crs=net.crs)
    result["area_km2"] = result.geometry.area / 1e6
    return result.sort_values("facility").reset_index(drop=True)

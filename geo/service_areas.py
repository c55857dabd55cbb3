"""Service areas that follow the streets: where a walk of D metres from a facility gets to.

Not a circle and not a convex hull: the streets (and parts of streets) reachable within
``limit`` metres are traced on a fine grid (``cell`` metres), widened by one cell on each
side so the street's frontage is included, and outlined as a polygon.  Where a walk ends
half-way along a street, the area ends there too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage

from geo.errors import AnalysisError
from geo.reach import NetworkReach, expand_csr


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



def _union_length(spans: list[tuple[float, float]], length: float) -> float:
    """Length of the union of intervals clipped to ``[0, length]``."""
    clipped = sorted((max(lo, 0.0), min(hi, length)) for lo, hi in spans if min(hi, length) > max(lo, 0.0))
    total, end = 0.0, -np.inf
    for lo, hi in clipped:
        if hi > end:
            total += hi - max(lo, end)
            end = hi
    return total


def _trace(x: np.ndarray, y: np.ndarray, cell: float) -> tuple[np.ndarray, Affine]:
    """Grid of the cells holding the points, widened by one cell, and its transform."""
    x0, y1 = np.floor(x.min() / cell) * cell - 2 * cell, np.ceil(y.max() / cell) * cell + 2 * cell
    col = ((x - x0) // cell).astype(np.int64)
    row = ((y1 - y) // cell).astype(np.int64)
    mask = np.zeros((row.max() + 3, col.max() + 3), dtype=bool)
    mask[row, col] = True
    mask = ndimage.binary_dilation(mask, structure=np.ones((3, 3), dtype=bool))
    return mask, Affine(cell, 0, x0, 0, -cell, y1)


def _outline(mask: np.ndarray, transform: Affine):
    """The traced cells as one polygon (run in the main thread: rasterio's GDAL
    environment is per thread)."""
    parts = [shapely.geometry.shape(g) for g, _ in
             rasterio.features.shapes(mask.view(np.uint8), mask=mask, transform=transform)]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def service_areas(reach: NetworkReach, *, limit: float, facilities: np.ndarray | None = None,
                  cell: float = 20.0, chunk: int = 32, workers: int | None = None) -> gpd.GeoDataFrame:
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
    workers : int, optional
        Threads (default one per core).

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
    ends = np.concatenate((net.edge_u, net.edge_v))
    order = np.argsort(ends, kind="stable")
    node_edges = (np.searchsorted(ends[order], np.arange(net.n_nodes + 1)),
                  np.concatenate((np.arange(net.n_edges), np.arange(net.n_edges)))[order])

    def one(job: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, np.ndarray, Affine, float]]:
        batch, window = job
        node_d = reach.window_distances(batch, window, limit)
        return _batch_areas(reach, samples, node_edges, batch, window, node_d, limit, cell)

    with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, 8))) as pool:
        done = [row for part in pool.map(one, reach.batches(np.flatnonzero(mask), limit, chunk)) for row in part]
    result = gpd.GeoDataFrame({"facility": np.asarray([d[0] for d in done], dtype=np.int64),
                               "street_km": [d[3] for d in done]},
                              geometry=[_outline(d[1], d[2]) for d in done], crs=net.crs)
    result["area_km2"] = result.geometry.area / 1e6
    return result.sort_values("facility").reset_index(drop=True)


def _batch_areas(reach: NetworkReach, samples: _EdgeSamples, node_edges: tuple[np.ndarray, np.ndarray],
                 batch: np.ndarray, window: np.ndarray, node_d: np.ndarray, limit: float,
                 cell: float) -> list[tuple[int, np.ndarray, Affine, float]]:
    """Service areas of one batch: (facility, traced grid, its transform, street km) each."""
    net, snap = reach.network, reach.access_snap
    local = np.full(net.n_nodes, -1, dtype=np.int64)
    local[window] = np.arange(len(window))
    width = node_d.shape[1] + 1
    flat = np.hstack((node_d, np.full((len(batch), 1), np.inf))).ravel()  # last column: outside

    def dist(rows: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        ln = local[nodes]
        return flat[rows * width + np.where(ln >= 0, ln, width - 1)]

    # (row, edge) for every edge touching a reached node; an edge reached from both ends once.
    reached = node_d <= limit
    r, ln = np.nonzero(reached)
    j, edge = expand_csr(node_edges, window[ln])
    row, node = r[j], window[ln][j]
    du_all = dist(row, net.edge_u[edge])
    keep = (net.edge_u[edge] == node) | ~(du_all <= limit)
    row, edge = row[keep], edge[keep]
    du, dv = du_all[keep], dist(row, net.edge_v[edge])
    length = net.edge_length[edge]
    from_u, from_v = np.clip(limit - du, 0, None), np.clip(limit - dv, 0, None)
    street = np.bincount(row, weights=np.minimum(from_u + from_v, length), minlength=len(batch))
    p, sid = expand_csr((samples.ptr, np.arange(len(samples.pos))), edge)
    pos = samples.pos[sid]
    ok = np.minimum(du[p] + pos, dv[p] + (length[p] - pos)) <= limit
    pts_row, pts_sid = row[p][ok], sid[ok]
    # Along the facility's own street the walk starts at the foot of its access point.
    slot = np.full(reach.n_facilities, -1, dtype=np.int64)
    slot[batch] = np.arange(len(batch))
    acc = np.flatnonzero(snap.ok & (slot[reach.access.owner] >= 0))
    a_row, a_edge = slot[reach.access.owner[acc]], snap.edge[acc]
    budget, along = limit - snap.offset[acc], snap.along[acc]
    q, qsid = expand_csr((samples.ptr, np.arange(len(samples.pos))), a_edge)
    near = np.abs(samples.pos[qsid] - along[q]) <= budget[q]
    pts_row = np.concatenate((pts_row, a_row[q][near]))
    pts_sid = np.concatenate((pts_sid, qsid[near]))
    for k, e in set(zip(a_row.tolist(), a_edge.tolist())):
        mine = (a_row == k) & (a_edge == e)
        length_e = float(net.edge_length[e])
        fu = max(limit - float(dist(np.array([k]), net.edge_u[[e]])[0]), 0.0)
        fv = max(limit - float(dist(np.array([k]), net.edge_v[[e]])[0]), 0.0)
        spans = [(0.0, fu), (length_e - fv, length_e)]
        spans += [(lo, hi) for lo, hi in zip(along[mine] - budget[mine], along[mine] + budget[mine]) if hi > lo]
        street[k] += _union_length(spans, length_e) - min(fu + fv, length_e)
    order = np.argsort(pts_row, kind="stable")
    pts_row, pts_sid = pts_row[order], pts_sid[order]
    bounds = np.searchsorted(pts_row, np.arange(len(batch) + 1))
    out = []
    for k, f in enumerate(batch):
        chosen = pts_sid[bounds[k]:bounds[k + 1]]
        own = acc[a_row == k]
        xs = np.concatenate((samples.x[chosen], reach.access.x[own]))
        ys = np.concatenate((samples.y[chosen], reach.access.y[own]))
        out.append((int(f), *_trace(xs, ys, cell), float(street[k]) / 1000.0))
    return out

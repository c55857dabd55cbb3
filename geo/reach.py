"""Distances from facilities to residents: along the walking network, or in a straight line.

:class:`NetworkReach` joins one facility set to one demand set over a
:class:`~geo.network.WalkNetwork`.  Every facility becomes one extra *source node* with
edges to both ends of every street edge one of its access points snaps to (weight: the
walk to the street plus the walk along the edge to that end), so a single multi-source
Dijkstra (:func:`scipy.sparse.csgraph.dijkstra` with ``min_only=True`` and ``limit=``)
gives every node its distance to the nearest open facility.  A demand cell on edge
``(u, v)`` then walks ``offset + min(d[u] + along, d[v] + length - along)``; a facility on
the same edge may also be reached directly along it.  Subsets of facilities (one layer,
the ones open at 19:00) are just different source lists over the same graph.

:class:`StraightLineReach` answers the same questions with straight-line distance to a
facility's geometry (0 inside a polygon), exactly.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from geo.errors import AnalysisError
from geo.geometry_kinds import AREAS, kind_is
from geo.network import DEFAULT_MAX_SNAP_M, Snap, WalkNetwork
from geo.notes import ProgressFn, report
from geo.segments import SegmentIndex


@dataclass(frozen=True)
class AccessPoints:
    """Points where facilities can be entered, each belonging to one facility.

    ``owner[i]`` is the facility (0 … ``n_facilities - 1``) access point ``i`` opens.
    """

    x: np.ndarray
    y: np.ndarray
    owner: np.ndarray
    n_facilities: int


@dataclass(frozen=True)
class Nearest:
    """Distance (metres; ``inf`` beyond the cutoff) and nearest facility (-1: none) per demand cell."""

    distance: np.ndarray
    facility: np.ndarray


@dataclass(frozen=True)
class Catchments:
    """Which demand cells each facility reaches within ``limit`` metres, and how far.

    ``matrix`` is a ``n_facilities × n_demand`` CSR matrix whose stored entries are the
    distances of the reachable pairs (a distance of exactly 0 is stored too).
    """

    matrix: sparse.csr_matrix
    limit: float

    def cells_of(self, facility: int) -> tuple[np.ndarray, np.ndarray]:
        """Demand cells reached by ``facility`` and their distances."""
        lo, hi = self.matrix.indptr[facility], self.matrix.indptr[facility + 1]
        return self.matrix.indices[lo:hi], self.matrix.data[lo:hi]


def _as_mask(mask: np.ndarray | None, n: int) -> np.ndarray:
    if mask is None:
        return np.ones(n, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise AnalysisError(f"The facility mask has shape {mask.shape}; expected ({n},).")
    return mask


class NetworkReach:
    """Walking distances between one facility set and one demand set.

    Parameters
    ----------
    network : WalkNetwork
    access : AccessPoints
        Facility access points in ``network.crs``.
    demand_x, demand_y : ndarray
        Demand locations in ``network.crs``.
    max_snap_m : float
        Bound on the walk from an access point to the street; facilities none of whose
        access points is that close are listed in :attr:`off_network_facilities`.
    max_demand_snap_m : float
        The same bound for demand cells; cells beyond it are unreachable by network.
    demand_snap : Snap, optional
        The demand already snapped to this network (by another reach): reused as it is.
    demand_index : optional
        That reach's demand cells by edge end (``_cells_by_end``), so a reach of a few new places (a what-if site)
        finds the cells on their edges and near them without going through every cell.
    """

    def __init__(self, network: WalkNetwork, access: AccessPoints, demand_x: np.ndarray,
                 demand_y: np.ndarray, *, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 max_demand_snap_m: float = DEFAULT_MAX_SNAP_M, demand_snap: Snap | None = None,
                 demand_index: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
                 ) -> None:
        self.network = network
        self.access = access
        self.max_demand_snap_m = float(max_demand_snap_m)
        self.n_facilities = access.n_facilities
        self.access_snap: Snap = network.snap(access.x, access.y, max_distance=max_snap_m)
        if demand_snap is not None and len(demand_snap) != len(demand_x):
            raise AnalysisError(f"The demand snap holds {len(demand_snap)} places, not {len(demand_x)}.")
        self.demand_snap: Snap = demand_snap if demand_snap is not None else network.snap(
            demand_x, demand_y, max_distance=max_demand_snap_m)
        ok = self.access_snap.ok
        snapped_facilities = np.zeros(self.n_facilities, dtype=bool)
        snapped_facilities[access.owner[ok]] = True
        self.facility_snapped = snapped_facilities
        best = np.full(self.n_facilities, np.inf)
        np.minimum.at(best, access.owner, np.where(ok, self.access_snap.offset, np.inf))
        self.facility_snap_m = best
        self._bucket_size: float | None = None  # the window grid of catchments, built for a limit on demand
        # the demand cells by their edge's end nodes: shared with the reach whose ``demand_snap`` this is
        self._by_end: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = \
            demand_index if demand_snap is not None else None
        self._build_graph()
        self._build_same_edge_pairs()

    @property
    def off_network_facilities(self) -> np.ndarray:
        """Facilities with no access point within the snap bound."""
        return np.flatnonzero(~self.facility_snapped)

    @property
    def n_nodes(self) -> int:
        """Street nodes (facility source nodes come after them)."""
        return self.network.n_nodes

    def _build_graph(self) -> None:
        net, snap, acc = self.network, self.access_snap, self.access
        ok = snap.ok
        edge = snap.edge[ok]
        owner = acc.owner[ok]
        along = snap.along[ok]
        offset = snap.offset[ok]
        length = net.edge_length[edge]
        rows = np.concatenate((owner, owner))
        cols = np.concatenate((net.edge_u[edge], net.edge_v[edge]))
        weight = np.concatenate((offset + along, offset + (length - along)))
        order = np.lexsort((weight, cols, rows))
        rows, cols, weight = rows[order], cols[order], weight[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        n, f = net.n_nodes, self.n_facilities
        virtual = sparse.csr_matrix((weight[first], (rows[first], cols[first])), shape=(f, n + f))
        base = net.graph
        street = sparse.csr_matrix((base.data, base.indices, base.indptr), shape=(n, n + f))
        self.graph = sparse.vstack((street, virtual), format="csr")

    def _build_same_edge_pairs(self) -> None:
        """Demand cells and access points on the same edge: the direct walk along it."""
        a_ok = np.flatnonzero(self.access_snap.ok)
        a_edge = self.access_snap.edge[a_ok]
        order = np.argsort(a_edge, kind="stable")
        a_ok, a_edge = a_ok[order], a_edge[order]
        ds, asn = self.demand_snap, self.access_snap
        if self._by_end is not None and len(a_ok) * 50 < len(ds.edge):  # a few places: the cells of their edges
            tags, cells = expand_csr(self._by_end[0], self.network.edge_u[a_edge])
            same = ds.edge[cells] == a_edge[tags]
            dem, acc = cells[same], a_ok[tags[same]]
            self._pair_demand = dem
            self._pair_facility = self.access.owner[acc]
            self._pair_distance = ds.offset[dem] + asn.offset[acc] + np.abs(ds.along[dem] - asn.along[acc])
            return
        d_ok = np.flatnonzero(self.demand_snap.ok)
        d_edge = self.demand_snap.edge[d_ok]
        lo = np.searchsorted(a_edge, d_edge, "left")
        hi = np.searchsorted(a_edge, d_edge, "right")
        count = hi - lo
        has = count > 0
        dem = np.repeat(d_ok[has], count[has])
        acc = a_ok[expand_ranges(lo[has], count[has])]
        ds, asn = self.demand_snap, self.access_snap
        self._pair_demand = dem
        self._pair_facility = self.access.owner[acc]
        self._pair_distance = ds.offset[dem] + asn.offset[acc] + np.abs(ds.along[dem] - asn.along[acc])

    def node_distances(self, facilities: np.ndarray | None = None, *,
                       cutoff: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Distance from every street node to its nearest facility among ``facilities``.

        Returns the distances (``inf`` beyond ``cutoff`` or where nothing is reachable)
        and the nearest facility per node (-1 where none).
        """
        mask = _as_mask(facilities, self.n_facilities) & self.facility_snapped
        n = self.n_nodes
        if not mask.any():
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        sources = n + np.flatnonzero(mask)
        dist, _pred, src = dijkstra(self.graph, directed=True, indices=sources, min_only=True,
                                    limit=cutoff, return_predecessors=True)
        dist = dist[:n]
        src = np.where(src[:n] >= n, src[:n] - n, -1)
        return dist, src

    def nearest(self, facilities: np.ndarray | None = None, *, cutoff: float = np.inf) -> Nearest:
        """Walking distance from each demand cell to its nearest facility among ``facilities``.

        ``facilities`` is a boolean mask over the facilities (all when ``None``).  Cells
        beyond ``cutoff`` get ``inf`` and facility -1.
        """
        mask = _as_mask(facilities, self.n_facilities)
        node_d, node_f = self.node_distances(mask, cutoff=cutoff)
        return self._demand_from_nodes(node_d, node_f, mask, cutoff)

    def _demand_from_nodes(self, node_d: np.ndarray, node_f: np.ndarray, mask: np.ndarray,
                           cutoff: float) -> Nearest:
        snap = self.demand_snap
        reached = np.flatnonzero(np.isfinite(node_d))
        if len(reached) * 20 < len(node_d):
            # A few sources' neighbourhoods: only the cells on edges touching a reached node can be reached.
            by_u, by_v = self._cells_by_end()
            cells = np.unique(np.concatenate((expand_csr(by_u, reached)[1], expand_csr(by_v, reached)[1])))
            dist, fac = np.full(len(snap.edge), np.inf), np.full(len(snap.edge), -1, dtype=np.int64)
            dist[cells], fac[cells] = self._through_ends(node_d, node_f, snap.edge[cells], snap.along[cells],
                                                         snap.offset[cells])
        else:
            ok = snap.ok
            dist, fac = self._through_ends(node_d, node_f, np.where(ok, snap.edge, 0), snap.along, snap.offset)
            dist[~ok] = np.inf
            fac[~ok] = -1
        if len(self._pair_demand):
            active = mask[self._pair_facility]
            pd_, pf, pdist = self._pair_demand[active], self._pair_facility[active], self._pair_distance[active]
            better = pdist < dist[pd_]
            if better.any():
                frame = pd.DataFrame({"d": pd_[better], "f": pf[better], "x": pdist[better]})
                best = frame.sort_values(["d", "x"]).drop_duplicates("d")
                dist[best["d"].to_numpy()] = best["x"].to_numpy()
                fac[best["d"].to_numpy()] = best["f"].to_numpy()
        beyond = ~(dist <= cutoff)
        dist[beyond] = np.inf
        fac[beyond] = -1
        return Nearest(distance=dist, facility=fac)

    def _through_ends(self, node_d: np.ndarray, node_f: np.ndarray, edge: np.ndarray, along: np.ndarray,
                      offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance and nearest facility of places on ``edge`` (``along`` it, ``offset`` off it), through the nearer
        of the edge's two end nodes."""
        net = self.network
        du = node_d[net.edge_u[edge]] + along
        dv = node_d[net.edge_v[edge]] + (net.edge_length[edge] - along)
        via_v = dv < du
        return offset + np.where(via_v, dv, du), np.where(via_v, node_f[net.edge_v[edge]], node_f[net.edge_u[edge]])

    def catchments(self, facilities: np.ndarray | None = None, *, limit: float,
                   chunk: int = 32, workers: int | None = None, progress: ProgressFn | None = None) -> Catchments:
        """Every demand cell each facility reaches within ``limit`` metres.

        Facilities are taken in small batches of neighbours (Morton order); each batch
        runs Dijkstra on the part of the graph within ``limit`` (straight line) of its
        access points — exact, since no walk of ``limit`` metres leaves that window — so
        the cost follows the catchments' size, not the city's.
        """
        if not np.isfinite(limit) or limit <= 0:
            raise AnalysisError(f"A catchment limit must be a positive number of metres, not {limit}.")
        mask = _as_mask(facilities, self.n_facilities) & self.facility_snapped
        self._cells_by_end()

        def one(job: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            batch, window = job
            fac, cell, dist = self._cells_reached(batch, window, self.window_distances(batch, window, limit), limit)
            order = np.argsort(fac, kind="stable")
            return fac[order], cell[order], dist[order]

        # Batches are independent and numpy/scipy release the GIL in their inner loops.
        jobs = list(self.batches(np.flatnonzero(mask), limit, chunk))
        parts = []
        with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, 8))) as pool:
            for k, part in enumerate(pool.map(one, jobs), start=1):
                parts.append(part)
                report(progress, k / max(len(jobs), 1), "progress.catchments", k=k, n=len(jobs))
        # Each facility is in exactly one batch (sorted by facility): scatter into one CSR matrix.
        counts = np.zeros(self.n_facilities, dtype=np.int64)
        for fac, _cell, _dist in parts:
            counts += np.bincount(fac, minlength=self.n_facilities)
        indptr = np.concatenate(([0], np.cumsum(counts)))
        indices = np.empty(indptr[-1], dtype=np.int64)
        data = np.empty(indptr[-1])
        for fac, cell, dist in parts:
            if len(fac) == 0:
                continue
            start = np.flatnonzero(np.concatenate(([True], fac[1:] != fac[:-1])))
            run = np.diff(np.concatenate((start, [len(fac)])))
            pos = indptr[fac] + np.arange(len(fac)) - np.repeat(start, run)
            indices[pos] = cell
            data[pos] = dist
        matrix = sparse.csr_matrix((data, indices, indptr), shape=(self.n_facilities, len(self.demand_snap)))
        return Catchments(matrix=matrix, limit=float(limit))

    def _facility_boxes(self) -> np.ndarray:
        ok = self.access_snap.ok
        box = np.full((self.n_facilities, 4), np.nan)
        frame = pd.DataFrame({"f": self.access.owner[ok], "x": self.access.x[ok], "y": self.access.y[ok]})
        agg = frame.groupby("f").agg(x0=("x", "min"), y0=("y", "min"), x1=("x", "max"), y1=("y", "max"))
        box[agg.index.to_numpy()] = agg.to_numpy()
        return box

    def _bucket_index(self, size: float) -> None:
        """Nodes sorted by a square bucket grid, for cheap window look-ups."""
        net = self.network
        self._bx0, self._by0, self._bucket_size = float(net.node_x.min()), float(net.node_y.min()), size
        bx = ((net.node_x - self._bx0) // size).astype(np.int64)
        by = ((net.node_y - self._by0) // size).astype(np.int64)
        self._bnx, self._bny = int(bx.max()) + 1, int(by.max()) + 1
        key = by * self._bnx + bx
        self._border = np.argsort(key, kind="stable")
        self._bptr = np.searchsorted(key[self._border], np.arange(self._bnx * self._bny + 1))

    def _window(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        s = self._bucket_size
        i0, i1 = max(int((x0 - self._bx0) // s), 0), min(int((x1 - self._bx0) // s), self._bnx - 1)
        j0, j1 = max(int((y0 - self._by0) // s), 0), min(int((y1 - self._by0) // s), self._bny - 1)
        if i0 > i1 or j0 > j1:
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(j0, j1 + 1) * self._bnx
        lo, hi = self._bptr[rows + i0], self._bptr[rows + i1 + 1]
        cand = self._border[expand_ranges(lo, hi - lo)]
        net = self.network
        cx, cy = net.node_x[cand], net.node_y[cand]
        inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
        return np.sort(cand[inside])

    def batches(self, facilities: np.ndarray, limit: float, chunk: int):
        """Yield ``(facility batch, node window)`` pairs of nearby facilities.

        The window holds every street node within ``limit`` (straight line) of the
        batch's access points: all a walk of ``limit`` metres can touch.
        """
        if len(facilities) == 0:
            return
        if self._bucket_size != limit / 2:
            self._bucket_index(limit / 2)
        box = self._facility_boxes()[facilities]
        cx = ((box[:, 0] + box[:, 2]) / 2 - self._bx0) // 100
        cy = ((box[:, 1] + box[:, 3]) / 2 - self._by0) // 100
        order = np.argsort(_morton(cx.astype(np.int64), cy.astype(np.int64)), kind="stable")
        facilities, box = facilities[order], box[order]
        for start in range(0, len(facilities), chunk):
            part = slice(start, start + chunk)
            b = box[part]
            window = self._window(b[:, 0].min() - limit, b[:, 1].min() - limit,
                                  b[:, 2].max() + limit, b[:, 3].max() + limit)
            yield facilities[part], window

    def window_distances(self, batch: np.ndarray, window: np.ndarray, limit: float) -> np.ndarray:
        """Distances (batch × window nodes) from each batch facility, ``inf`` beyond ``limit``."""
        n = self.n_nodes
        idx = np.concatenate((window, n + batch))
        local = np.full(self.graph.shape[0], -1, dtype=np.int64)
        local[idx] = np.arange(len(idx))
        g = self.graph
        lo, hi = g.indptr[idx], g.indptr[idx + 1]
        count = hi - lo
        pos = expand_ranges(lo, count)
        cols = local[g.indices[pos]]
        keep = cols >= 0
        # Entries are already grouped by row (idx order): build the CSR arrays directly.
        kept_per_row = np.bincount(np.repeat(np.arange(len(idx)), count)[keep], minlength=len(idx))
        indptr = np.concatenate(([0], np.cumsum(kept_per_row)))
        sub = sparse.csr_matrix((g.data[pos][keep], cols[keep], indptr), shape=(len(idx), len(idx)))
        dist = dijkstra(sub, directed=True, indices=np.arange(len(window), len(idx)), limit=limit)
        return dist[:, :len(window)]

    def _cells_reached(self, batch: np.ndarray, window: np.ndarray, node_d: np.ndarray,
                       limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(facility, cell, distance) for every cell within ``limit`` of a batch facility.

        Works from the nodes each facility reaches: a cell is a candidate for a row when
        its edge's ``u`` is reached, or its ``v`` is reached and its ``u`` is not (so no
        pair is listed twice), and its distance takes the better of the two ends.
        """
        net, snap = self.network, self.demand_snap
        by_u, by_v = self._cells_by_end()
        local = np.full(self.n_nodes, -1, dtype=np.int64)
        local[window] = np.arange(len(window))
        reached = node_d <= limit
        r, ln = np.nonzero(reached)
        gn = window[ln]
        ru, cu = expand_csr(by_u, gn, r)
        rv, cv = expand_csr(by_v, gn, r)
        lu_v = local[net.edge_u[snap.edge[cv]]]
        keep_v = (lu_v < 0) | ~reached[rv, np.maximum(lu_v, 0)]
        rows = np.concatenate((ru, rv[keep_v]))
        cells = np.concatenate((cu, cv[keep_v]))
        e = snap.edge[cells]
        lu, lv = local[net.edge_u[e]], local[net.edge_v[e]]
        width = node_d.shape[1] + 1
        padded = np.hstack((node_d, np.full((len(batch), 1), np.inf))).ravel()  # column -1: outside
        base = rows * width
        along = snap.along[cells]
        d = np.minimum(padded[base + np.where(lu >= 0, lu, width - 1)] + along,
                       padded[base + np.where(lv >= 0, lv, width - 1)] + (net.edge_length[e] - along))
        d += snap.offset[cells]
        ok = d <= limit
        fac, cell, dist = batch[rows[ok]], cells[ok], d[ok]
        if len(self._pair_demand):
            near = np.isin(self._pair_facility, batch) & (self._pair_distance <= limit)
            if near.any():
                fac, cell, dist = self._merge_same_edge(fac, cell, dist, self._pair_facility[near],
                                                        self._pair_demand[near], self._pair_distance[near])
        return fac, cell, dist

    def _merge_same_edge(self, fac: np.ndarray, cell: np.ndarray, dist: np.ndarray, pf: np.ndarray,
                         pc: np.ndarray, pdist: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add direct same-edge walks (few) to the node-based pairs, keeping the shorter."""
        n_cells = len(self.demand_snap)
        key = pf * n_cells + pc
        order = np.lexsort((pdist, key))
        key, pf, pc, pdist = key[order], pf[order], pc[order], pdist[order]
        first = np.concatenate(([True], key[1:] != key[:-1]))
        key, pf, pc, pdist = key[first], pf[first], pc[first], pdist[first]
        have = fac * n_cells + cell
        hit = np.flatnonzero(np.isin(have, key))
        if len(hit):
            at = np.searchsorted(key, have[hit])
            dist = dist.copy()
            dist[hit] = np.minimum(dist[hit], pdist[at])
        new = ~np.isin(key, have[hit])
        return (np.concatenate((fac, pf[new])), np.concatenate((cell, pc[new])),
                np.concatenate((dist, pdist[new])))

    def _cells_by_end(self) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Snapped demand cells grouped by their edge's ``u`` node and by its ``v`` node (CSR)."""
        if self._by_end is None:
            snap, net = self.demand_snap, self.network
            ok = np.flatnonzero(snap.ok)
            groups = []
            for ends in (net.edge_u, net.edge_v):
                nodes = ends[snap.edge[ok]]
                order = np.argsort(nodes, kind="stable")
                groups.append((np.searchsorted(nodes[order], np.arange(net.n_nodes + 1)), ok[order]))
            self._by_end = (groups[0], groups[1])
        return self._by_end


def expand_ranges(lo: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Every index of the ranges ``[lo[k], lo[k] + count[k])``, one after another (one vector op)."""
    total = int(count.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(lo, count) + np.arange(total) - np.repeat(np.cumsum(count) - count, count)


def expand_csr(csr: tuple[np.ndarray, np.ndarray], nodes: np.ndarray,
               tags: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each node (with its tag; default its position), every item a CSR ``(ptr, items)``
    lists under it: ``(tags, items)``."""
    ptr, items = csr
    tags = np.arange(len(nodes)) if tags is None else tags
    lo, hi = ptr[nodes], ptr[nodes + 1]
    count = hi - lo
    if int(count.sum()) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.repeat(tags, count), items[expand_ranges(lo, count)]


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order key of non-negative integer grid coordinates (up to 2**21 each)."""
    def spread(v: np.ndarray) -> np.ndarray:
        v = np.clip(v, 0, (1 << 21) - 1).astype(np.uint64)
        v = (v | (v << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
        v = (v | (v << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
        v = (v | (v << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
        v = (v | (v << np.uint64(2))) & np.uint64(0x1249249249249249)
        return v
    return spread(x) | (spread(y) << np.uint64(1))


class StraightLineReach:
    """Straight-line distance from demand points to facility geometries (0 inside a polygon).

    Parameters
    ----------
    geometries : array of shapely geometries
        One per facility, in the same metric CRS as the demand.
    demand_x, demand_y : ndarray
    """

    def __init__(self, geometries: np.ndarray, demand_x: np.ndarray, demand_y: np.ndarray) -> None:
        geoms = np.asarray(geometries, dtype=object)
        self.n_facilities = len(geoms)
        self.demand_x = np.asarray(demand_x, dtype=np.float64)
        self.demand_y = np.asarray(demand_y, dtype=np.float64)
        boundary = np.where(kind_is(geoms, AREAS), shapely.boundary(geoms), geoms)
        coords, which = shapely.get_coordinates(shapely.get_parts(boundary), return_index=True)
        part_owner = np.repeat(np.arange(len(geoms)), shapely.get_num_geometries(boundary))[which]
        # Segments: consecutive vertices of the same part; a one-vertex part is a point.
        same = np.zeros(len(coords), dtype=bool)
        same[:-1] = which[1:] == which[:-1]
        starts = np.flatnonzero(same)
        lone = np.flatnonzero(np.bincount(which, minlength=which.max() + 1 if len(which) else 0) == 1)
        lone_rows = np.flatnonzero(np.isin(which, lone))
        self._x0 = np.concatenate((coords[starts, 0], coords[lone_rows, 0]))
        self._y0 = np.concatenate((coords[starts, 1], coords[lone_rows, 1]))
        self._x1 = np.concatenate((coords[starts + 1, 0], coords[lone_rows, 0]))
        self._y1 = np.concatenate((coords[starts + 1, 1], coords[lone_rows, 1]))
        self._owner = np.concatenate((part_owner[starts], part_owner[lone_rows]))
        polys = np.flatnonzero(kind_is(geoms, AREAS))
        if len(polys) and len(self.demand_x):
            tree = shapely.STRtree(shapely.points(self.demand_x, self.demand_y))
            pi, di = tree.query(geoms[polys], predicate="intersects")
            self._inside_fac, self._inside_dem = polys[pi], di
        else:
            self._inside_fac = self._inside_dem = np.zeros(0, dtype=np.int64)

    def nearest(self, facilities: np.ndarray | None = None, *, cutoff: float = np.inf) -> Nearest:
        """Straight-line distance to the nearest facility among ``facilities`` (mask)."""
        mask = _as_mask(facilities, self.n_facilities)
        n = len(self.demand_x)
        keep = mask[self._owner]
        if not keep.any():
            return Nearest(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
        index = SegmentIndex(self._x0[keep], self._y0[keep], self._x1[keep], self._y1[keep])
        near = index.nearest(self.demand_x, self.demand_y, max_distance=cutoff)
        owner = self._owner[keep]
        fac = np.where(near.segment >= 0, owner[np.maximum(near.segment, 0)], -1)
        dist = near.distance.copy()
        inside = mask[self._inside_fac]
        dist[self._inside_dem[inside]] = 0.0
        fac[self._inside_dem[inside]] = self._inside_fac[inside]
        return Nearest(distance=dist, facility=fac)

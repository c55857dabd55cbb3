"""Benchmark: ambulance times from 200 hospitals to 5,000 venues on a 500,000-node directed drive network (a
grid with one-way avenues), one multi-source pass, against networkx's multi-source Dijkstra on the same directed
graph in the same run; the two agree.  Prints figures; asserts nothing.

Then every venue's nearest AED on foot on a city-scale walk network in one pass, against a search from
each venue.  Targets (issue 18): ambulance times under 2 s and at least 10x faster than networkx; the
nearest AED for every venue under 1 s.

    make bench-emergency
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np

from geo.drive import drive_network_from_segments, drive_times

SIDE = 708  # 708 x 708 = 501,264 nodes
STEP = 120.0
HOSPITALS, VENUES = 200, 5_000


def grid_network():
    """A street grid: every 5th row a one-way avenue at 60 km/h (alternating direction), the rest 30 km/h."""
    ids = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    x = np.tile(np.arange(SIDE) * STEP, SIDE) + 500_000.0
    y = np.repeat(np.arange(SIDE) * STEP, SIDE) + 3_300_000.0
    east_u, east_v = ids[:, :-1].ravel(), ids[:, 1:].ravel()
    row = np.repeat(np.arange(SIDE), SIDE - 1)
    avenue = row % 5 == 0
    north_u, north_v = ids[:-1, :].ravel(), ids[1:, :].ravel()
    u = np.concatenate((east_u, north_u))
    v = np.concatenate((east_v, north_v))
    kmh = np.concatenate((np.where(avenue, 60.0, 30.0), np.full(len(north_u), 30.0)))
    direction = np.concatenate((np.where(avenue, np.where(row % 10 == 0, 1, -1), 0), np.zeros(len(north_u))))
    return drive_network_from_segments(x, y, u, v, kmh, direction, crs="EPSG:4547")


def main() -> None:
    """Build, time both ways, compare."""
    t = time.perf_counter()
    net = grid_network()
    build = time.perf_counter() - t
    rng = np.random.default_rng(18)
    two_way = np.flatnonzero((net.seg_forward >= 0) & (net.seg_backward >= 0))
    hosp_seg = rng.choice(two_way, HOSPITALS, replace=False)
    venue_seg = rng.choice(two_way, VENUES, replace=False)
    frac = rng.uniform(0.05, 0.95, VENUES)

    def on(segs, f):
        u, v = net.seg_u[segs], net.seg_v[segs]
        return np.column_stack([net.node_x[u] + f * (net.node_x[v] - net.node_x[u]),
                                net.node_y[u] + f * (net.node_y[v] - net.node_y[u])])

    drive_times(net, on(hosp_seg[:2], 0.5), on(venue_seg[:2], 0.5))  # build the segment index once
    t = time.perf_counter()
    got = drive_times(net, on(hosp_seg, 0.5), on(venue_seg, frac))
    ours = time.perf_counter() - t
    t = time.perf_counter()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_seconds.tolist()))
    for k, seg in enumerate(hosp_seg):  # each hospital halfway along its street, both ways
        f, b = net.seg_forward[seg], net.seg_backward[seg]
        g.add_edge(("hospital", k), int(net.edge_v[f]), weight=0.5 * float(net.edge_seconds[f]))
        g.add_edge(("hospital", k), int(net.edge_v[b]), weight=0.5 * float(net.edge_seconds[b]))
    nx_build = time.perf_counter() - t
    t = time.perf_counter()
    dist = nx.multi_source_dijkstra_path_length(g, {("hospital", k) for k in range(HOSPITALS)})
    f, b = net.seg_forward[venue_seg], net.seg_backward[venue_seg]
    want = np.minimum(
        np.array([dist.get(int(n), np.inf) for n in net.edge_u[f]]) + frac * net.edge_seconds[f],
        np.array([dist.get(int(n), np.inf) for n in net.edge_u[b]]) + (1 - frac) * net.edge_seconds[b])
    nx_time = time.perf_counter() - t
    diff = float(np.max(np.abs(got.seconds - want)))
    print(f"drive network {net.n_nodes:,} nodes, {len(net.edge_u):,} directed edges ({net.n_one_way:,} one-way "
          f"segments), built in {build:.2f} s")
    print(f"{HOSPITALS} hospitals -> {VENUES:,} venues: {ours:.2f} s (target < 2 s); networkx multi-source Dijkstra "
          f"{nx_time:.2f} s (+ {nx_build:.1f} s to build its graph): {nx_time / ours:.1f}x (target >= 10x); "
          f"largest difference {diff:.1e} s; median ambulance time {np.median(got.seconds) / 60:.1f} min")


def nearest_aed_walk(side: int = 708, n_venues: int = 5_000) -> None:
    """Every venue's nearest AED on foot on a city-scale walk network: one multi-source pass against the
    nearby finder's search from each venue (timed on a sample and scaled)."""
    from bench.bench_coverage import METRIC, synthetic_city, synthetic_demand, synthetic_facilities
    from geo.coverage import CoverageEngine
    from geo.nearby import NearbyFinder, Origin
    from geo.network import network_from_edges

    x, y, u, v = synthetic_city(side)
    net = network_from_edges(x, y, u, v, crs=METRIC)
    extent = (side - 1) * 50.0
    engine = CoverageEngine(synthetic_demand(400_000, 3_300_000, extent, 100),
                            synthetic_facilities(400_000, 3_300_000, extent), network=net)
    finder = NearbyFinder(engine)
    aeds = np.flatnonzero((finder.facilities.table["layer"] == "venues").to_numpy())  # 2,000 points stand in
    rng = np.random.default_rng(5)
    vx, vy = rng.uniform(400_000, 400_000 + extent, n_venues), rng.uniform(3_300_000, 3_300_000 + extent, n_venues)
    limit = 2_000.0
    finder.nearest_from_many(vx[:2], vy[:2], aeds, limit_m=limit)  # warm the indexes
    t = time.perf_counter()
    best, _who = finder.nearest_from_many(vx, vy, aeds, limit_m=limit)
    one_pass = time.perf_counter() - t
    sample = 200
    t = time.perf_counter()
    each = np.array([finder.distances(Origin(float(a), float(b), 0.0, 0.0, "v"), limit_m=limit)[aeds].min()
                     for a, b in zip(vx[:sample], vy[:sample])])
    per_venue = (time.perf_counter() - t) / sample * n_venues
    same = np.allclose(np.where(np.isfinite(each), each, -1), np.where(np.isfinite(best[:sample]), best[:sample], -1))
    print(f"walk network {net.n_nodes:,} nodes: {n_venues:,} venues' nearest of {len(aeds):,} AEDs in one pass "
          f"{one_pass:.2f} s (target < 1 s); a search from each venue {per_venue:.1f} s (from {sample}, scaled): "
          f"{per_venue / one_pass:.0f}x; identical on the {sample}: {same}")


if __name__ == "__main__":
    main()
    nearest_aed_walk()

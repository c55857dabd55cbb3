"""Walking distances checked against networkx on graphs where every route is written out."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString

from geo.errors import NetworkError
from geo.network import build_walk_network, network_from_edges
from geo.reach import AccessPoints, NetworkReach

CRS = "EPSG:4547"


def _random_city(seed: int, n_side: int = 30, spacing: float = 60.0, drop: float = 0.25):
    """A jittered grid with a quarter of the streets removed and a separate island."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x = (jj * spacing + rng.normal(0, 8, ii.shape)).ravel() + 400_000
    y = (ii * spacing + rng.normal(0, 8, ii.shape)).ravel() + 3_300_000
    idx = np.arange(n_side * n_side).reshape(n_side, n_side)
    u = np.concatenate((idx[:, :-1].ravel(), idx[:-1, :].ravel()))
    v = np.concatenate((idx[:, 1:].ravel(), idx[1:, :].ravel()))
    keep = rng.random(len(u)) > drop
    u, v = u[keep], v[keep]
    # An island far away: a triangle no one can walk to.
    k = len(x)
    x = np.concatenate((x, [x.max() + 5000, x.max() + 5100, x.max() + 5050]))
    y = np.concatenate((y, [y.min(), y.min(), y.min() + 80]))
    u = np.concatenate((u, [k, k + 1, k + 2]))
    v = np.concatenate((v, [k + 1, k + 2, k]))
    # Streets are bent: a length up to 30 % above the straight distance.
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, len(u))
    return x, y, u, v, length


def _networkx_nearest(net, reach: NetworkReach, facilities: np.ndarray, cutoff: float):
    """Independent answer: split edges at every snapped point, then networkx Dijkstra."""
    g = nx.Graph()
    for a, b, w in zip(net.edge_u, net.edge_v, net.edge_length):
        g.add_edge(int(a), int(b), weight=float(w))
    inserted: dict[int, list[tuple[float, str]]] = {}
    for i in np.flatnonzero(reach.access_snap.ok):
        if facilities[reach.access.owner[i]]:
            inserted.setdefault(int(reach.access_snap.edge[i]), []).append((reach.access_snap.along[i], f"a{i}"))
    for i in np.flatnonzero(reach.demand_snap.ok):
        inserted.setdefault(int(reach.demand_snap.edge[i]), []).append((reach.demand_snap.along[i], f"d{i}"))
    for e, pts in inserted.items():
        a, b, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        g.remove_edge(a, b)
        chain = [(0.0, a)] + sorted(pts) + [(length, b)]
        for (t0, n0), (t1, n1) in zip(chain[:-1], chain[1:]):
            w = t1 - t0
            if g.has_edge(n0, n1):
                w = min(w, g[n0][n1]["weight"])
            g.add_edge(n0, n1, weight=w)
    sources = []
    for i in np.flatnonzero(reach.access_snap.ok):
        if facilities[reach.access.owner[i]]:
            g.add_edge(f"A{i}", f"a{i}", weight=float(reach.access_snap.offset[i]))
            sources.append(f"A{i}")
    got = nx.multi_source_dijkstra_path_length(g, sources, cutoff=cutoff) if sources else {}
    out = np.full(len(reach.demand_snap), np.inf)
    for i in np.flatnonzero(reach.demand_snap.ok):
        d = got.get(f"d{i}")
        if d is not None and d + reach.demand_snap.offset[i] <= cutoff:
            out[i] = d + reach.demand_snap.offset[i]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_network_distances_equal_networkx_with_disconnected_parts(seed):
    x, y, u, v, length = _random_city(seed)
    net = network_from_edges(x, y, u, v, length, crs=CRS)
    assert net.report.n_components >= 2  # the island at least
    rng = np.random.default_rng(seed + 100)
    n_fac = 25
    ax = rng.uniform(x.min(), x.max() + 5100, 60)
    ay = rng.uniform(y.min(), y.max(), 60)
    ax[:3], ay[:3] = x[-3] + 10, y[-3] + 5  # access points on the island
    owner = rng.integers(0, n_fac, 60)
    dx = rng.uniform(x.min() - 100, x.max() + 5200, 3000)
    dy = rng.uniform(y.min() - 100, y.max() + 100, 3000)
    reach = NetworkReach(net, AccessPoints(ax, ay, owner, n_fac), dx, dy, max_snap_m=150,
                         max_demand_snap_m=120)
    assert (~reach.demand_snap.ok).any() and reach.demand_snap.ok.any()
    for facilities, cutoff in ((np.ones(n_fac, bool), np.inf), (rng.random(n_fac) < 0.4, 800.0)):
        ours = reach.nearest(facilities, cutoff=cutoff)
        theirs = _networkx_nearest(net, reach, facilities, cutoff)
        np.testing.assert_array_equal(np.isinf(ours.distance), np.isinf(theirs))
        fin = np.isfinite(theirs)
        np.testing.assert_allclose(ours.distance[fin], theirs[fin], rtol=0, atol=1e-6)
        # The nearest facility is one at exactly that distance.
        assert (ours.facility[fin] >= 0).all() and facilities[ours.facility[fin]].all()


def test_node_distances_equal_networkx_multi_source():
    x, y, u, v, length = _random_city(7, n_side=40)
    net = network_from_edges(x, y, u, v, length, crs=CRS)
    connected = np.flatnonzero(np.diff(net.graph.indptr) > 0)
    nodes = np.random.default_rng(0).choice(connected, 30, replace=False)
    reach = NetworkReach(net, AccessPoints(net.node_x[nodes], net.node_y[nodes], np.arange(30), 30),
                         np.zeros(0), np.zeros(0))
    ours, _ = reach.node_distances(cutoff=1000.0)
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length.tolist()))
    theirs = nx.multi_source_dijkstra_path_length(g, set(nodes.tolist()), cutoff=1000.0)
    expect = np.full(net.n_nodes, np.inf)
    expect[list(theirs)] = list(theirs.values())
    np.testing.assert_allclose(ours, expect, rtol=0, atol=1e-9)


def test_catchments_equal_per_facility_networkx():
    x, y, u, v, length = _random_city(11, n_side=35)
    net = network_from_edges(x, y, u, v, length, crs=CRS)
    rng = np.random.default_rng(5)
    n_fac = 40
    ax, ay = rng.uniform(x.min(), x.max(), 80), rng.uniform(y.min(), y.max(), 80)
    owner = np.repeat(np.arange(n_fac), 2)
    dx, dy = rng.uniform(x.min(), x.max(), 2000), rng.uniform(y.min(), y.max(), 2000)
    reach = NetworkReach(net, AccessPoints(ax, ay, owner, n_fac), dx, dy)
    catch = reach.catchments(limit=500.0, chunk=7)
    for f in range(0, n_fac, 3):
        only = np.zeros(n_fac, bool)
        only[f] = True
        expect = reach.nearest(only, cutoff=500.0).distance
        cells, dist = catch.cells_of(f)
        got = np.full(len(dx), np.inf)
        got[cells] = dist
        np.testing.assert_allclose(got, expect, rtol=0, atol=1e-9)


def test_walkable_lines_only_and_shared_vertices_join():
    lines = gpd.GeoDataFrame(
        {"highway": ["residential", "motorway", "footway", "motorway_link", None, "steps"]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 0), (0, 100)]),
                  LineString([(100, 0), (100, 100)]), LineString([(100, 100), (0, 100)]),
                  LineString([(0, 100), (0, 0)]),
                  MultiLineString([[(100, 100), (200, 100)], [(300, 0), (400, 0)]])],
        crs=CRS)
    net = build_walk_network(lines, crs=CRS)
    assert net.report.excluded == {"motorway": 1, "motorway_link": 1, "(no highway value)": 1}
    assert net.n_edges == 4 and net.report.n_components == 2
    assert net.report.total_length_km == pytest.approx(0.4)
    auto = build_walk_network(lines.translate(500_000, 3_300_000).to_crs(4326).to_frame("geometry")
                              .assign(highway=lines["highway"]))  # metric CRS chosen from the extent
    assert auto.crs.is_projected and auto.report.total_length_km == pytest.approx(0.4, rel=1e-3)


def test_network_bad_input_is_named():
    empty = gpd.GeoDataFrame({"highway": []}, geometry=[], crs=CRS)
    with pytest.raises(NetworkError, match="empty"):
        build_walk_network(empty)
    only_motorways = gpd.GeoDataFrame({"highway": ["motorway"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=CRS)
    with pytest.raises(NetworkError, match="No walkable line.*motorway"):
        build_walk_network(only_motorways)
    no_column = gpd.GeoDataFrame({"kind": ["road"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=CRS)
    with pytest.raises(NetworkError, match="no 'highway' column"):
        build_walk_network(no_column)


def test_facility_far_from_streets_is_reported_not_snapped():
    lines = gpd.GeoDataFrame({"highway": ["residential"]}, geometry=[LineString([(0, 0), (1000, 0)])], crs=CRS)
    net = build_walk_network(lines, crs=CRS)
    access = AccessPoints(np.array([500.0, 500.0]), np.array([50.0, 300.0]), np.array([0, 1]), 2)
    reach = NetworkReach(net, access, np.array([700.0]), np.array([10.0]), max_snap_m=200)
    assert reach.off_network_facilities.tolist() == [1]
    got = reach.nearest()
    assert got.distance[0] == pytest.approx(50 + 200 + 10) and got.facility[0] == 0

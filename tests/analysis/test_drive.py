"""Drive times equal networkx shortest paths on the same directed graph (places split into their roads), on a
synthetic grid whose one-way streets make some routes strictly longer, and on the Chengdu extract's real roads."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString

from geo.drive import build_drive_network, drive_route, drive_times, parse_maxspeed
from layers.osm import parse_other_tags

CRS = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E, metres


def _reference(net, sources, targets, factor: float = 1.0, access_kmh: float = 5.0) -> np.ndarray:
    """networkx: every place made a node of its road (the segment split where it stands), multi-source Dijkstra."""
    g = nx.DiGraph()
    for u, v, s in zip(net.edge_u, net.edge_v, net.edge_seconds * factor):
        if not g.has_edge(u, v) or g[u][v]["weight"] > s:
            g.add_edge(int(u), int(v), weight=float(s))
    access = access_kmh / 3.6
    places = {}
    for kind, xy in (("s", sources), ("t", targets)):
        snap = net.snap(xy[:, 0], xy[:, 1])
        for k in range(len(xy)):
            places[(kind, k)] = (int(snap.edge[k]), float(snap.along[k]), float(snap.offset[k]))
    by_segment: dict[int, list] = {}
    for key, (seg, along, _off) in places.items():
        by_segment.setdefault(seg, []).append((along, key))
    for seg, on in by_segment.items():
        a, b = int(net.seg_u[seg]), int(net.seg_v[seg])
        length = float(np.hypot(net.node_x[b] - net.node_x[a], net.node_y[b] - net.node_y[a]))
        chain = [(0.0, a)] + sorted((al, key) for al, key in on) + [(length, b)]
        for e, forward in ((net.seg_forward[seg], True), (net.seg_backward[seg], False)):
            if e < 0:
                continue
            sec = float(net.edge_seconds[e]) * factor
            steps = chain if forward else chain[::-1]
            for (p0, n0), (p1, n1) in zip(steps[:-1], steps[1:]):
                g.add_edge(n0, n1, weight=abs(p1 - p0) / length * sec)
    for key, (_seg, _al, off) in places.items():  # the walk from the place to its road
        hub = ("hub",) + key
        if key[0] == "s":
            g.add_edge(hub, key, weight=off / access)
        else:
            g.add_edge(key, hub, weight=off / access)
    dist = nx.multi_source_dijkstra_path_length(g, [("hub", "s", k) for k in range(len(sources))])
    return np.array([dist.get(("hub", "t", j), np.inf) for j in range(len(targets))])


def _grid(n: int = 8, step: float = 200.0, one_way_rows=(2, 5)) -> gpd.GeoDataFrame:
    """A grid of two-way residential streets; some east-west rows one-way eastward (primary, 60 km/h)."""
    rows = []
    x0, y0 = 500_000.0, 3_300_000.0
    for i in range(n):
        for j in range(n - 1):
            east = LineString([(x0 + j * step, y0 + i * step), (x0 + (j + 1) * step, y0 + i * step)])
            north = LineString([(x0 + i * step, y0 + j * step), (x0 + i * step, y0 + (j + 1) * step)])
            oneway = "yes" if i in one_way_rows else None
            rows.append({"highway": "primary" if oneway else "residential", "oneway": oneway,
                         "maxspeed": "60" if oneway else None, "geometry": east})
            rows.append({"highway": "residential", "oneway": None, "maxspeed": None, "geometry": north})
    rows.append({"highway": "footway", "oneway": None, "maxspeed": None,  # not drivable: left out
                 "geometry": LineString([(x0, y0), (x0 + step * (n - 1), y0 + step * (n - 1))])})
    return gpd.GeoDataFrame(rows, crs=CRS)


def test_maxspeed_reads_numbers_units_and_refuses_words():
    assert parse_maxspeed("50") == 50 and parse_maxspeed("50 km/h") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed("signals") is None and parse_maxspeed(None) is None and parse_maxspeed("0") is None


def test_drive_times_equal_networkx_on_a_grid_with_one_way_streets():
    roads = _grid()
    net = build_drive_network(roads, crs=CRS)
    assert net.n_one_way == 2 * 7
    rng = np.random.default_rng(3)
    x0, y0, step = 500_000.0, 3_300_000.0, 200.0
    # places part-way along streets (and a few metres off them), hospitals among them on the same rows
    sources = np.array([[x0 + 3.3 * step, y0 + 5 * step + 4], [x0 + 0.5 * step, y0 + 1 * step - 6]])
    targets = np.column_stack([x0 + rng.uniform(0, 7, 40) * step, y0 + rng.integers(0, 8, 40) * step
                               + rng.uniform(-8, 8, 40)])
    targets = np.vstack([targets, [[x0 + 3.8 * step, y0 + 5 * step], [x0 + 2.1 * step, y0 + 5 * step]]])
    for hour in (None, 8):
        got = drive_times(net, sources, targets, hour=hour)
        want = _reference(net, sources, targets, factor=got.factor)
        np.testing.assert_allclose(got.seconds, want, rtol=0, atol=1e-6)
    assert drive_times(net, sources, targets, hour=8).factor == pytest.approx(1.7)
    # Westward on a one-way row the ambulance must go round: strictly longer than if it were two-way.
    two_way = build_drive_network(roads.assign(oneway=None, maxspeed="60").assign(
        highway=np.where(roads["oneway"].notna(), "primary", roads["highway"])), crs=CRS)
    west = np.array([[x0 + 2.1 * step, y0 + 5 * step]])  # behind the hospital on row 5
    hospital = sources[:1]
    assert drive_times(net, hospital, west).seconds[0] > drive_times(two_way, hospital, west).seconds[0] + 1.0


def _chengdu_roads(path) -> gpd.GeoDataFrame:
    lines = pyogrio.read_dataframe(path, layer="lines", columns=["highway", "other_tags"])
    tags = lines["other_tags"].map(parse_other_tags)
    for key in ("oneway", "maxspeed", "junction"):
        lines[key] = tags.map(lambda t, key=key: t.get(key))
    return lines.drop(columns="other_tags")


def test_drive_times_equal_networkx_on_chengdu_with_its_one_ways(chengdu_osm):
    roads = _chengdu_roads(chengdu_osm)
    net = build_drive_network(roads)
    assert net.n_one_way > 100  # the extract has real one-way streets
    rng = np.random.default_rng(11)
    pick = rng.choice(len(net.seg_u), 60, replace=False)
    mid = lambda segs, f: np.column_stack([  # noqa: E731
        net.node_x[net.seg_u[segs]] + f * (net.node_x[net.seg_v[segs]] - net.node_x[net.seg_u[segs]]),
        net.node_y[net.seg_u[segs]] + f * (net.node_y[net.seg_v[segs]] - net.node_y[net.seg_u[segs]])])
    sources = mid(pick[:3], 0.5)
    targets = mid(pick[3:], rng.uniform(0.1, 0.9, len(pick) - 3))
    got = drive_times(net, sources, targets)
    want = _reference(net, sources, targets)
    assert np.isfinite(want).sum() > 40
    np.testing.assert_allclose(got.seconds, want, rtol=0, atol=1e-6)
    assert set(got.source[np.isfinite(got.seconds)]) <= {0, 1, 2}


def test_a_layer_without_drivable_roads_is_refused_with_the_classes():
    from geo.errors import NetworkError

    paths = gpd.GeoDataFrame({"highway": ["footway"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=CRS)
    with pytest.raises(NetworkError, match="drivable classes are motorway"):
        build_drive_network(paths)
    with pytest.raises(NetworkError, match="highway"):
        build_drive_network(pd.DataFrame().pipe(lambda _: gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])],
                                                                          crs=CRS)))


def test_the_drawn_drive_route_keeps_the_one_ways_and_takes_the_same_time():
    """The route drawn for a hospital → venue drive: starts and ends at the two places, follows the directed
    edges (never against a one-way), and its edges' seconds add up to the drive time."""
    roads = _grid()
    net = build_drive_network(roads, crs=CRS)
    x0, y0, step = 500_000.0, 3_300_000.0, 200.0
    hospital, behind = (x0 + 3.3 * step, y0 + 5 * step + 4), (x0 + 2.1 * step, y0 + 5 * step)
    route = drive_route(net, hospital, behind, hour=8)
    assert route is not None
    assert route.seconds == pytest.approx(drive_times(net, np.array([hospital]), np.array([behind]), hour=8).seconds[0])
    assert (route.x[0], route.y[0]) == hospital and (route.x[-1], route.y[-1]) == behind
    # the nodes passed, in order: each step is an edge of the directed graph, and their times add up
    g = net.graph(1.7)
    nodes = [int(np.flatnonzero((net.node_x == px) & (net.node_y == py))[0]) for px, py in zip(route.x[2:-2],
                                                                                           route.y[2:-2])]
    assert len(nodes) >= 3
    along_edges = sum(g[a, b] for a, b in zip(nodes[:-1], nodes[1:]))
    assert all(g[a, b] > 0 for a, b in zip(nodes[:-1], nodes[1:]))
    ends = route.seconds - along_edges  # the partial edges at both ends and the last metres on foot
    assert 0 < ends < 200
    # it goes round: the drawn line is longer than the straight way back along the one-way row
    assert route.metres > 3 * abs(hospital[0] - behind[0])
    assert route.lonlat().is_valid and len(route.lonlat().coords) == len(route.x)

"""Benchmark: the nearby finder and the evaluation indicators on the demo city.

Prints, in one run on the same data:

- nearby queries (15-minute walk, any time) from every health station and from 300
  random residents' cells, once the network is loaded: median, 95th percentile and
  maximum per query (the ranked table) and for the distances alone; the same walks with
  networkx's single-source Dijkstra on the same graph (the standard way), the ratio, and
  whether the distances agree; then the same on a synthetic city of 250,000 street nodes;
- indicators for all street units (coverage at three life circles, per-capita area,
  open rate and hours, satisfaction, the health + fitness link, league table): with the
  engine already loaded, and from the store alone (reading every layer and building the
  engine first); the standard way for their heaviest part (networkx multi-source
  Dijkstra per facility layer and a geopandas spatial join of residents to units), the
  ratio and whether the coverage rates agree;
- peak memory.

Run: ``make bench-operations`` or ``python -m bench.bench_operations``.
"""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.bench_store_write import timed  # noqa: E402
from bench.demo import demo_engine  # noqa: E402
from demo.city import write_demo_city  # noqa: E402
from geo.definitions import metres_for
from geo.indicators import compute_indicators, indicators_from  # noqa: E402
from geo.nearby import NearbyFinder, Origin  # noqa: E402
from geo.units import assign_units, coverage_by_unit  # noqa: E402
from layers.stores.geopackage import GeoPackageStore  # noqa: E402
from layers.stores.snapshot import current_snapshot  # noqa: E402


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def nearby_networkx(graph, finder: NearbyFinder, origin: Origin, limit: float) -> np.ndarray:
    """The finder's distances the standard way: networkx from the origin's street edge."""
    import networkx as nx

    net = finder.reach.network
    snap = finder._snap(origin)
    out = np.full(len(finder.facilities), np.inf)
    if not snap.ok[0]:
        return out
    e, along, offset = int(snap.edge[0]), float(snap.along[0]), float(snap.offset[0])
    u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
    node_d = np.full(net.n_nodes, np.inf)
    for start, extra in ((u, along), (v, length - along)):
        got = nx.single_source_dijkstra_path_length(graph, start, cutoff=limit - offset - extra, weight="weight")
        for node, d in got.items():
            node_d[node] = min(node_d[node], offset + extra + d)
    cand = np.minimum(node_d[finder._acc_u] + finder._acc_to_u, node_d[finder._acc_v] + finder._acc_to_v)
    same = finder._acc_edge == e
    cand[same] = np.minimum(cand[same], offset + finder._acc_offset[same] + np.abs(along - finder._acc_along[same]))
    np.minimum.at(out, finder._acc_owner, cand)
    out[~(out <= limit)] = np.inf
    return out


def coverage_networkx(engine, boundaries: gpd.GeoDataFrame, thresholds: list[float]) -> pd.Series:
    """Street coverage rates (any layer) with networkx multi-source Dijkstra and a geopandas join."""
    import networkx as nx

    reach = engine.network_reach
    graph = nx.from_scipy_sparse_array(reach.graph, create_using=nx.DiGraph)
    n = reach.n_nodes
    open_now = engine.facilities.open_mask()
    best = np.full(len(engine.demand), np.inf)
    for layer in engine.facilities.layers:
        mask = engine.facilities.layer_mask(layer) & open_now & reach.facility_snapped
        sources = [n + int(f) for f in np.flatnonzero(mask)]
        if not sources:
            continue
        got = nx.multi_source_dijkstra_path_length(graph, sources, cutoff=max(thresholds), weight="weight")
        node_d = np.full(n, np.inf)
        for node, d in got.items():
            if node < n:
                node_d[node] = d
        near = reach._demand_from_nodes(node_d, np.zeros(n, dtype=np.int64), mask, max(thresholds))
        best = np.minimum(best, near.distance)
    cells = gpd.GeoDataFrame({"pop": engine.demand.population, "d": best},
                             geometry=gpd.points_from_xy(engine.demand.x, engine.demand.y), crs=engine.demand.crs)
    streets = boundaries[boundaries["level"] == "street"].to_crs(engine.demand.crs)[["code", "geometry"]]
    joined = gpd.sjoin(cells, streets, predicate="within", how="inner")
    rates = {}
    for t in thresholds:
        g = joined.assign(cov=joined["pop"] * (joined["d"] <= t)).groupby("code")
        rates[t] = g["cov"].sum() / g["pop"].sum()
    return pd.DataFrame(rates)


def time_nearby(engine, finder: NearbyFinder, origins: list[Origin], title: str, *, n_networkx: int = 60) -> None:
    """Print query times (the whole ranked table, and the distances alone) against networkx."""
    import networkx as nx

    limit = metres_for(15)
    finder.query(origins[0], minutes=15)  # warm caches
    query = np.array([timed(lambda o=o: finder.query(o, minutes=15))[0] for o in origins]) * 1000
    dist = np.array([timed(lambda o=o: finder.distances(o, limit_m=limit))[0] for o in origins]) * 1000
    graph = nx.from_scipy_sparse_array(engine.network_reach.network.graph)
    slow, agree = [], True
    for o in origins[:n_networkx]:
        dt, ref = timed(lambda o=o: nearby_networkx(graph, finder, o, limit))
        slow.append(dt)
        mine = finder.distances(o, limit_m=limit)
        agree &= bool(np.allclose(np.where(np.isfinite(mine), mine, -1), np.where(np.isfinite(ref), ref, -1)))
    slow = np.array(slow) * 1000
    print(f"\nNearby query, 15-minute walk, {title}: {len(origins)} origins, "
          f"{engine.network_reach.n_nodes:,} street nodes, {len(engine.facilities):,} facilities")
    print(f"  whole query (ranked table) median {np.median(query):7.2f} ms  p95 {np.percentile(query, 95):7.2f} ms  "
          f"max {query.max():7.2f} ms   (target < 100 ms)")
    print(f"  distances, scipy limit=   median {np.median(dist):7.2f} ms  p95 {np.percentile(dist, 95):7.2f} ms")
    print(f"  distances, networkx       median {np.median(slow):7.2f} ms  p95 {np.percentile(slow, 95):7.2f} ms  "
          f"({len(slow)} origins)")
    print(f"  ratio networkx / scipy    {np.median(slow) / np.median(dist):7.1f} x   distances identical: {agree}")


def city_scale_nearby(side: int = 500) -> None:
    """The same queries on a synthetic city of side² street nodes and 5,000 facilities."""
    from bench.bench_coverage import METRIC, synthetic_city, synthetic_demand, synthetic_facilities
    from geo.coverage import CoverageEngine
    from geo.network import network_from_edges

    x, y, u, v = synthetic_city(side)
    net = network_from_edges(x, y, u, v, crs=METRIC)
    extent = (side - 1) * 50.0
    engine = CoverageEngine(synthetic_demand(400_000, 3_300_000, extent, 300),
                            synthetic_facilities(400_000, 3_300_000, extent),
                            network=net)
    finder = NearbyFinder(engine)
    rng = np.random.default_rng(4)
    cells = rng.choice(np.flatnonzero(engine.network_reach.demand_snap.ok), 100, replace=False)
    origins = [Origin(float(engine.demand.x[c]), float(engine.demand.y[c]), 0.0, 0.0, f"cell {c}") for c in cells]
    time_nearby(engine, finder, origins, "synthetic city", n_networkx=30)


def main() -> int:
    print("Building the demo city and its engine …")
    city, engine = demo_engine()
    finder = NearbyFinder(engine, {k: city.layers[k] for k in ("venues", "school_facilities", "greenways")})
    stations = finder.facilities.table.query("layer == 'health_stations'")["feature_id"]
    rng = np.random.default_rng(3)
    cells = rng.choice(np.flatnonzero(engine.network_reach.demand_snap.ok), 300, replace=False)
    origins = [finder.origin_of_station(f) for f in stations] + [
        Origin(float(engine.demand.x[c]), float(engine.demand.y[c]), 0.0, 0.0, f"cell {c}") for c in cells]
    time_nearby(engine, finder, origins, f"demo city ({len(stations)} health stations + 300 residents' cells)")

    with tempfile.TemporaryDirectory() as tmp:
        with GeoPackageStore(Path(tmp) / "demo.gpkg", create=True) as store:
            write_demo_city(store, city)
            survey = store.records.read("satisfaction")
            boundaries = store.layers.read("boundaries")
            venues, schools = store.layers.read("venues"), store.layers.read("school_facilities")
            compute_indicators(engine, boundaries, venues=venues, school_facilities=schools, survey=survey)
            runs = [timed(lambda: compute_indicators(engine, boundaries, venues=venues, school_facilities=schools,
                                                     survey=survey))[0] for _ in range(5)]
            cold, ind = timed(lambda: indicators_from(current_snapshot(store), survey=survey))
    warm = float(np.median(runs))
    thresholds = [300.0, 500.0, 1000.0]

    def coverage_part():
        result = engine.run(thresholds, layers=list(engine.facilities.layers))
        return coverage_by_unit(result, assign_units(engine.demand, boundaries, level="street"), layer="any")

    part = float(np.median([timed(coverage_part)[0] for _ in range(5)]))
    slow_dt, rates = timed(lambda: coverage_networkx(engine, boundaries, thresholds))
    mine = ind.units.set_index("code")[[f"coverage_{t:g}" for t in thresholds]]
    same = bool(np.allclose(mine.loc[rates.index].to_numpy(), rates.to_numpy()))
    print(f"\nIndicators, all {len(ind.units)} street units of the demo city ({len(engine.demand):,} populated cells)")
    print(f"  engine loaded            {warm * 1000:7.0f} ms (median of 5)   (target < 2 s)")
    print(f"  from the store alone     {cold * 1000:7.0f} ms (read layers, build network and engine, indicators)")
    print(f"  its coverage part        {part * 1000:7.0f} ms (4 layers x 3 life circles, residents to streets, rates)")
    print(f"  same part, standard way  {slow_dt * 1000:7.0f} ms (networkx multi-source Dijkstra + geopandas sjoin)")
    print(f"  ratio                    {slow_dt / part:6.1f} x   street coverage rates identical: {same}")
    print(f"\nPeak memory (demo city) {_peak_mb():.0f} MB")
    city_scale_nearby()
    print(f"\nPeak memory {_peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: city-scale coverage against networkx on the same graph, in the same run.

A synthetic city of about 500,000 street nodes (a 50 m grid, jittered, 10 % of streets
missing), 5,000 facilities in four layers and 1,000,000 populated 35 m cells.  Prints:

- setup: network build, snapping 1M cells and 5k facilities (once per network and demand);
- nearest-facility distances and coverage at 300/500/1000 m for four layers;
- networkx multi-source Dijkstra for the same four layers, the ratio, and whether every
  node distance is identical;
- gap areas of one layer and threshold on the 1M-cell grid;
- per-facility catchments of 2,000 facilities within 1 km, and their service areas;
- peak memory (before networkx is loaded).

Run: ``make bench-coverage`` or ``python -m bench.bench_coverage [--side 708]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS

from geo.coverage import CoverageEngine  # noqa: E402
from geo.demand import Demand, Grid  # noqa: E402
from geo.engine_file import load_engine, save_engine  # noqa: E402
from geo.facilities import build_facility_set  # noqa: E402
from geo.gaps import gap_areas  # noqa: E402
from geo.network import network_from_edges  # noqa: E402
from geo.service_areas import service_areas  # noqa: E402

METRIC = CRS.from_epsg(4547)
LAYERS = {"venues": 2000, "school_facilities": 1500, "health_stations": 1000, "greenway_entrances": 500}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_city(side: int, seed: int = 7):
    """Nodes on a jittered ``side × side`` grid (50 m), 10 % of the streets removed."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (400_000 + jj * 50.0 + rng.normal(0, 5, ii.shape)).ravel()
    y = (3_300_000 + ii * 50.0 + rng.normal(0, 5, ii.shape)).ravel()
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate((idx[:, :-1].ravel(), idx[:-1, :].ravel()))
    v = np.concatenate((idx[:, 1:].ravel(), idx[1:, :].ravel()))
    keep = rng.random(len(u)) > 0.10
    return x, y, u[keep], v[keep]


def synthetic_demand(x0: float, y0: float, extent: float, n_side: int, seed: int = 8) -> Demand:
    rng = np.random.default_rng(seed)
    cell = extent / n_side
    rows, cols = np.divmod(np.arange(n_side * n_side), n_side)
    transform = Affine(cell, 0, x0, 0, -cell, y0 + extent)
    cx = x0 + (cols + 0.5) * cell
    cy = y0 + extent - (rows + 0.5) * cell
    pop = rng.integers(1, 60, len(cx)).astype(float)
    return Demand(x=cx, y=cy, population=pop, crs=METRIC, grid=Grid(METRIC, transform, (n_side, n_side)),
                  row=rows, col=cols, label="synthetic population")


def synthetic_facilities(x0: float, y0: float, extent: float, seed: int = 9):
    rng = np.random.default_rng(seed)
    layers = {}
    for name, n in LAYERS.items():
        px, py = rng.uniform(x0, x0 + extent, n), rng.uniform(y0, y0 + extent, n)
        layers[name] = gpd.GeoDataFrame({"feature_id": [f"{name}-{k}" for k in range(n)], "name": None},
                                        geometry=gpd.points_from_xy(px, py), crs=METRIC)
    return build_facility_set(layers, crs=METRIC)


def networkx_nearest(reach, layer_masks: dict[str, np.ndarray], cutoff: float) -> tuple[dict, float, float]:
    """networkx multi-source Dijkstra over the same augmented graph (street + source nodes)."""
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.DiGraph()
    coo = reach.graph.tocoo()
    g.add_nodes_from(range(reach.graph.shape[0]))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    build = time.perf_counter() - t0
    n = reach.n_nodes
    out = {}
    t0 = time.perf_counter()
    for layer, mask in layer_masks.items():
        sources = (n + np.flatnonzero(mask & reach.facility_snapped)).tolist()
        got = nx.multi_source_dijkstra_path_length(g, sources, cutoff=cutoff)
        d = np.full(n, np.inf)
        keys = np.fromiter((k for k in got if k < n), dtype=np.int64)
        d[keys] = [got[k] for k in keys.tolist()]
        out[layer] = d
    return out, build, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=708, help="grid nodes per side (708 → 501k nodes)")
    parser.add_argument("--cells", type=int, default=1000, help="demand cells per side (1000 → 1M)")
    parser.add_argument("--catchments", type=int, default=2000, help="facilities for catchments/service areas")
    parser.add_argument("--skip-networkx", action="store_true")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    x, y, u, v = synthetic_city(args.side)
    net = network_from_edges(x, y, u, v, crs=METRIC)
    t_net = time.perf_counter() - t
    extent = (args.side - 1) * 50.0
    demand = synthetic_demand(400_000, 3_300_000, extent, args.cells)
    facilities = synthetic_facilities(400_000, 3_300_000, extent)
    print(f"city: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {len(facilities):,} facilities in "
          f"{len(LAYERS)} layers, {len(demand):,} populated cells; network build {t_net:.2f} s")

    t = time.perf_counter()
    engine = CoverageEngine(demand, facilities, network=net)
    t_setup = time.perf_counter() - t
    print(f"setup (snap 1M cells + 5k facilities, source graph; once per network+demand): {t_setup:.2f} s")

    # A restart: the engine kept on disk (signed) and read back, then its first coverage (geo/engine_file.py).
    with tempfile.TemporaryDirectory() as folder:
        path, secret = Path(folder) / "city.engine", b"bench-secret-key-of-32-bytes...."
        t = time.perf_counter()
        save_engine(engine, path, secret)
        t_save = time.perf_counter() - t
        t = time.perf_counter()
        loaded = load_engine(path, secret)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        first = loaded.run()
        t_first = time.perf_counter() - t
        size = path.stat().st_size / 1e6
    del loaded
    print(f"restart: engine file {size:,.0f} MB written in {t_save:.2f} s; read back {t_load:.2f} s + first coverage "
          f"{t_first:.2f} s = {t_load + t_first:.2f} s (target <= 1.5 s) against building it again "
          f"{t_net + t_setup:.2f} s + the same run: {(t_net + t_setup + t_first) / (t_load + t_first):.1f}x faster")

    engine.run()  # warm caches once, as the app would after loading
    t = time.perf_counter()
    result = engine.run()
    t_cov = time.perf_counter() - t
    cov = result.summary()
    assert first.summary().equals(cov), "the engine read back from its file answers differently"
    print(f"nearest distances + coverage, 3 thresholds x {len(LAYERS)} layers: {t_cov:.2f} s (target < 3 s)")
    print(cov[cov.layer != "any"].pivot(index="layer", columns="threshold_m", values="rate").round(3).to_string())

    t = time.perf_counter()
    gaps = gap_areas(result, "venues", 500.0)
    t_gaps = time.perf_counter() - t
    print(f"gap areas (venues, 500 m) on the 1M-cell grid: {t_gaps:.2f} s, {len(gaps):,} gaps, largest "
          f"{gaps['uncovered_residents'].iloc[0]:,.0f} residents")

    reach = engine.network_reach
    masks = {layer: facilities.layer_mask(layer) for layer in LAYERS}
    t = time.perf_counter()
    ours = {layer: reach.node_distances(m, cutoff=1000.0)[0] for layer, m in masks.items()}
    t_dij = time.perf_counter() - t
    print(f"  of which multi-source Dijkstra (scipy, 4 layers): {t_dij:.2f} s")

    rng = np.random.default_rng(3)
    chosen = np.zeros(len(facilities), dtype=bool)
    chosen[rng.choice(len(facilities), args.catchments, replace=False)] = True
    t = time.perf_counter()
    catch = reach.catchments(chosen, limit=1000.0)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    catch = reach.catchments(chosen, limit=1000.0)
    t_catch = time.perf_counter() - t
    print(f"catchments of {args.catchments:,} facilities within 1 km: {t_catch:.2f} s (target < 1 s; first call "
          f"{t_first:.2f} s builds the node and cell indexes); {catch.matrix.nnz:,} facility-cell pairs")
    t = time.perf_counter()
    areas = service_areas(reach, limit=1000.0, facilities=chosen)
    t_sa = time.perf_counter() - t
    print(f"service-area polygons of {len(areas):,} facilities within 1 km: {t_sa:.2f} s (target < 10 s); "
          f"mean {areas['area_km2'].mean():.2f} km2")
    peak = _peak_mb()
    print(f"peak memory (ours, before networkx): {peak:,.0f} MB (target < 3,000 MB)")

    if not args.skip_networkx:
        theirs, t_build, t_nx = networkx_nearest(reach, masks, 1000.0)
        same = all(np.array_equal(np.isinf(ours[k]), np.isinf(theirs[k])) and
                   np.allclose(ours[k][np.isfinite(ours[k])], theirs[k][np.isfinite(theirs[k])], rtol=0, atol=1e-6)
                   for k in LAYERS)
        worst = max(float(np.max(np.abs(ours[k][np.isfinite(ours[k])] - theirs[k][np.isfinite(ours[k])]),
                                  initial=0.0)) for k in LAYERS)
        print(f"networkx multi-source Dijkstra, 4 layers: {t_nx:.2f} s (+ {t_build:.1f} s graph build)")
        print(f"ratio networkx / scipy Dijkstra: {t_nx / t_dij:.1f}x; networkx / our whole coverage run: "
              f"{t_nx / t_cov:.1f}x; identical node distances: {same} (largest difference {worst:.2e} m)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

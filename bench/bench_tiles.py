"""Benchmark: a one-map with a 200,000-segment walk network drawn in Chromium from vector tiles and from GeoJSON.

Builds a GeoPackage with the demo city whose walk network is replaced by a 200,000-segment
street grid over a city-sized square (30 km a side around the demo, streets about 95 m apart),
serves it with the app's own routes (the published maps and their tiles: bench/floor_app.py),
publishes the one-map twice — the big layer from vector tiles (what the page does above
ONEMAP_TILE_MIN_FEATURES) and as GeoJSON (what it did before) — and measures in Debian's
Chromium, from navigation until the map is drawn (the page loaded, every visible tile loaded,
two frames painted), the median of 5 fresh browsers for each; the first visit (tiles made by the
server) is shown among the runs. The ratio is printed, with the HTML sizes and the server's time
per tile. Asserts nothing.

    make bench-tiles     # or: python -m bench.bench_tiles
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = 200_000
RUNS = 5
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def street_grid(bounds, n: int) -> gpd.GeoDataFrame:
    """About ``n`` street segments on a regular grid over ``bounds`` (lon/lat)."""
    side = int(np.sqrt(n / 2))
    xs, ys = np.linspace(bounds[0], bounds[2], side + 1), np.linspace(bounds[1], bounds[3], side + 1)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    i, j = i.ravel(), j.ravel()
    east = shapely.linestrings(np.stack([np.column_stack([xs[i], ys[j]]), np.column_stack([xs[i + 1], ys[j]])], 1))
    north = shapely.linestrings(np.stack([np.column_stack([xs[i], ys[j]]), np.column_stack([xs[i], ys[j + 1]])], 1))
    lines = np.concatenate([east, north])
    return gpd.GeoDataFrame({"feature_id": [f"grid-{k:06d}" for k in range(len(lines))], "highway": "residential",
                             "department": "alliance", "source": "benchmark"}, geometry=lines, crs=4326)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from bench.bench_one_map import VIEWPORT, _serve
    from demo.city import build_demo_city, write_demo_city
    from layers.stores.geopackage import GeoPackageStore
    from webmap.folium_map import build_map
    from webmap.publish import publish, published_path
    from webmap.tiles import TileSource, tile_bounds

    work = Path(tempfile.mkdtemp(prefix="bench-tiles-"))
    os.environ["ONEMAP_INSTANCE_DIR"] = str(work / "instance")
    city = build_demo_city()
    cx, cy = city.layers["walk_network"].geometry.union_all().centroid.coords[0]
    half_lon, half_lat = 15_000 / (111_320 * np.cos(np.radians(cy))), 15_000 / 110_574
    grid = street_grid((cx - half_lon, cy - half_lat, cx + half_lon, cy + half_lat), SEGMENTS)
    city.layers["walk_network"] = grid
    path = work / "city.gpkg"
    t0 = time.perf_counter()
    with GeoPackageStore(path, create=True) as store:
        write_demo_city(store, city)
        frames = {n: store.layers.read(n) for n in ("land_use", "walk_network", "boundaries", "greenways", "venues")}
    print(f"store with {len(grid):,} street segments written in {time.perf_counter() - t0:.1f} s")
    keys = {"tiles": "b" * 23 + "1", "geojson": "b" * 23 + "2"}
    for mode, key in keys.items():
        t0 = time.perf_counter()
        publish(build_map(frames, lang="zh", height="100%", tiled=mode == "tiles"), key)
        size = published_path(key).stat().st_size / 1e6
        print(f"{mode:8s} map published in {time.perf_counter() - t0:5.1f} s, {size:6.1f} MB of HTML")
    source = TileSource("walk_network", grid)
    x0, y0, x1, y1 = grid.to_crs(3857).total_bounds
    z = 12
    size = 2 * np.pi * 6378137 / 2 ** z
    tiles = [(z, x, y) for x in range(int((x0 + np.pi * 6378137) // size), int((x1 + np.pi * 6378137) // size) + 1)
             for y in range(int((np.pi * 6378137 - y1) // size), int((np.pi * 6378137 - y0) // size) + 1)]
    t0 = time.perf_counter()
    made = [source.tile(*t) for t in tiles]
    per = (time.perf_counter() - t0) / len(tiles)
    print(f"server: {len(tiles)} tiles at zoom {z} covering the city, {per * 1000:.0f} ms a tile made, "
          f"{sum(map(len, made)) / 1e6:.1f} MB in all (west edge {tile_bounds(*tiles[0])[0]:.0f} m)")
    env = {**os.environ, "ONEMAP_GPKG": str(path), "PYTHONPATH": str(ROOT)}
    proc, url = _serve("bench/floor_app.py", env)
    results: dict[str, list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            for mode, key in keys.items():
                results[mode] = []
                for _ in range(RUNS):
                    context = browser.new_context(**VIEWPORT)
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{url}/maps/{key}.html", wait_until="load", timeout=300_000)
                    if mode == "tiles":
                        page.wait_for_function("() => (window.onemapTilesDone || 0) >= 1", timeout=300_000,
                                               polling=20)
                    page.evaluate(PAINTED)
                    results[mode].append(time.perf_counter() - t0)
                    context.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(30)
    tiled, plain = statistics.median(results["tiles"]), statistics.median(results["geojson"])
    print(f"\n{len(grid):,}-segment walk network, Chromium, median of {RUNS} fresh browsers:")
    print(f"  vector tiles: {tiled:6.2f} s   (runs {', '.join(f'{v:.2f}' for v in results['tiles'])})  "
          "target < 3 s")
    print(f"  GeoJSON:      {plain:6.2f} s   (runs {', '.join(f'{v:.2f}' for v in results['geojson'])})")
    print(f"  GeoJSON / tiles: {plain / tiled:.1f}×")
    pd.DataFrame(results).to_csv(work / "runs.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

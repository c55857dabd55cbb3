"""Benchmark: time-to-interactive of the one-map page in Chromium, demo city and 10,000 venues.

Builds a GeoPackage with the demo city (and one with 10,000 more venue points), starts the
app on each, and measures in Debian's Chromium (Playwright) the time from navigation to
the moment Leaflet has drawn every feature: the first visit to the freshly started app
(which imports the libraries and publishes the map), reloads in the same browser (its
HTTP cache holds Streamlit's scripts and the published map), and visits from new
browsers with nothing cached.  Prints figures; asserts nothing.

    make bench-one-map     # or: python -m bench.bench_one_map
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

import geopandas as gpd  # noqa: E402

from layers.demo_city import build_demo_city, write_demo_city  # noqa: E402
from layers.stores.geopackage import GeoPackageStore  # noqa: E402
from tests.browser.conftest import COUNT_FEATURES, MAP_IFRAME  # noqa: E402


def _store(path: Path, extra_venues: int) -> int:
    city = build_demo_city()
    if extra_venues:
        v = city.layers["venues"]
        rng = np.random.default_rng(1)
        x0, y0, x1, y1 = v.total_bounds
        more = gpd.GeoDataFrame({"feature_id": [f"bench-{i:05d}" for i in range(extra_venues)],
                                 "name": [f"健身点{i}" for i in range(extra_venues)],
                                 "venue_kind": "park_fitness", "sports_area_m2": 200.0, "is_public": True,
                                 "department": "sports", "source": "benchmark"},
                                geometry=gpd.points_from_xy(rng.uniform(x0, x1, extra_venues),
                                                            rng.uniform(y0, y1, extra_venues)), crs=4326)
        city.layers["venues"] = gpd.GeoDataFrame(
            gpd.pd.concat([v, more], ignore_index=True), geometry="geometry", crs=4326)
    with GeoPackageStore(path, create=True) as store:
        write_demo_city(store, city)
    shown = ("land_use", "walk_network", "boundaries", "greenways", "greenway_entrances", "metro_stations",
             "health_stations", "school_facilities", "venues")
    return sum(len(city.layers[k]) for k in shown)


#: Reloads measured after the first visit (their median is reported).
RELOADS = 5


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(gpkg: Path, expected: int, browser) -> tuple[float, float]:
    port = _port()
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "ONEMAP_GPKG": str(gpkg)}
    # As `make demo` does: publish the default map before the app starts.
    subprocess.run([sys.executable, "-m", "webmap.one_map"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/streamlit"), "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        def visit(context) -> tuple[float, float, float]:
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.locator("h1").first.wait_for(timeout=180_000)
            title = time.perf_counter() - t0
            page.locator(MAP_IFRAME).first.wait_for(timeout=180_000)
            frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
            frame.wait_for_load_state("domcontentloaded")
            document = time.perf_counter() - t0
            frame.wait_for_function(f"({COUNT_FEATURES})() >= {expected}", timeout=180_000, polling=50)
            drawn = time.perf_counter() - t0
            page.close()
            return title, document, drawn

        viewport = {"viewport": {"width": 1400, "height": 1000}}
        user = browser.new_context(**viewport)   # one user's browser: its HTTP cache persists
        first = visit(user)[2]
        reloads = np.array([visit(user) for _ in range(RELOADS)])
        fresh = []
        for _ in range(RELOADS):                  # a new browser each time: nothing cached
            ctx = browser.new_context(**viewport)
            fresh.append(visit(ctx))
            ctx.close()
        fresh = np.array(fresh)
        user.close()
        for name, runs in (("reload, same browser", reloads), ("new browser, app warm", fresh)):
            print(f"    {name:22s} page title {np.median(runs[:, 0]):.2f} s, "
                  f"map document {np.median(runs[:, 1]):.2f} s, "
                  f"all features drawn {np.median(runs[:, 2]):.2f} s (median of {RELOADS}; "
                  f"fastest {runs[:, 2].min():.2f} s, slowest {runs[:, 2].max():.2f} s)")
        return first, float(np.median(reloads[:, 2]))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for extra in (0, 10_000):
            path = Path(tmp) / f"city_{extra}.gpkg"
            expected = _store(path, extra)
            cold, warm = measure(path, expected, browser)
            print(f"one-map page, {expected:,} features ({extra:,} extra venues): interactive after "
                  f"{cold:.2f} s on the first visit to a freshly started app, {warm:.2f} s on a reload "
                  "(median; target < 2 s)")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

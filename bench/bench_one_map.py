"""Benchmark: time-to-interactive of the one-map page in Chromium, demo city and 10,000 venues.

Builds a GeoPackage with the demo city (and one with 10,000 more venue points) and measures
in Debian's Chromium (Playwright), in the same run: the floor — a bare Streamlit page
holding only the published map in an iframe (bench/floor_app.py) — and the one-map,
coverage and planning pages, each as the time from navigation until Leaflet has drawn the
map (every feature for the one-map and the floor; with the coverage figures, or with a
solved plan).  Each is measured on the first visit to a freshly started app, on reloads
in the same browser (its HTTP cache holds Streamlit's scripts and the published map) and
from new browsers with nothing cached; the ratios to the floor are printed.  Asserts
nothing.

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

from demo.city import build_demo_city, write_demo_city  # noqa: E402
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


#: Visits measured per page and browser state (their median is reported).
RELOADS = 5
VIEWPORT = {"viewport": {"width": 1400, "height": 1000}}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/streamlit"), "run", script, "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    return proc, url


def _drawn(page, t0: float, at_least: int) -> float:
    """Seconds from ``t0`` until the page's map frame has drawn ``at_least`` features."""
    page.locator(MAP_IFRAME).first.wait_for(timeout=180_000)
    while True:
        frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
        if frame is not None:
            try:
                frame.wait_for_function(f"({COUNT_FEATURES})() >= {at_least}", timeout=180_000, polling=50)
                return time.perf_counter() - t0
            except Exception:  # noqa: BLE001 — Streamlit replaced the frame while it drew; read the new one
                continue
        page.wait_for_timeout(50)


def visit_map(context, url: str, expected: int) -> float:
    """Navigation to every feature drawn (the one-map page, and the floor)."""
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    took = _drawn(page, t0, expected)
    page.close()
    return took


def visit_coverage(context, url: str) -> float:
    """Navigation to the coverage page's map drawn with its figures (covered residents shown)."""
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url + "/coverage", wait_until="commit")
    page.locator("[data-testid='stMetricValue']").nth(1).wait_for(timeout=180_000)
    took = _drawn(page, t0, 10)
    page.close()
    return took


def visit_planning(context, url: str) -> float:
    """Navigation to the planning page's map drawn with a solved plan (Solve pressed as soon as it shows)."""
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url + "/planning", wait_until="commit")
    page.get_by_role("button", name="求解", exact=True).click(timeout=180_000)
    page.get_by_text("新增覆盖").first.wait_for(timeout=180_000)
    _drawn(page, t0, 10)
    frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
    frame.wait_for_function("() => document.querySelectorAll('.planned-site').length >= 5", timeout=180_000,
                            polling=50)  # the five planned sites are on the map
    took = time.perf_counter() - t0
    page.close()
    return took


def _runs(browser, visit) -> tuple[float, float, float]:
    """First visit, median of reloads in one browser (its cache kept), median of visits from new browsers."""
    user = browser.new_context(**VIEWPORT)
    first = visit(user)
    reload = float(np.median([visit(user) for _ in range(RELOADS)]))
    user.close()
    fresh = []
    for _ in range(RELOADS):
        ctx = browser.new_context(**VIEWPORT)
        fresh.append(visit(ctx))
        ctx.close()
    return first, reload, float(np.median(fresh))


def _line(name: str, got: tuple[float, float, float], floor: tuple[float, float, float] | None, target: str) -> str:
    text = f"  {name:34s} first {got[0]:5.2f} s   reload {got[1]:5.2f} s   new browser {got[2]:5.2f} s"
    if floor is not None:
        text += f"   ratio to floor: reload {got[1] / floor[1]:.2f}×, new browser {got[2] / floor[2]:.2f}× ({target})"
    return text


def bench_city(browser, extra: int, tmp: Path, pages: bool) -> None:
    path = tmp / f"city_{extra}.gpkg"
    expected = _store(path, extra)
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "ONEMAP_GPKG": str(path),
           "ONEMAP_INSTANCE_DIR": str(tmp / f"instance_{extra}")}
    # As `make demo` does: publish the default map before the app starts.
    keys = subprocess.run([sys.executable, "-c", "from layers.stores import open_store\n"
                           "from webmap.one_map import publish_default\n"
                           "with open_store() as s: print(publish_default(s)[0])"],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()
    print(f"demo city with {extra:,} extra venues: {expected:,} features on the one-map")
    floor_proc, floor_url = _serve("bench/floor_app.py", {**env, "ONEMAP_BENCH_MAP_KEY": keys[-1]})
    try:
        floor = _runs(browser, lambda ctx: visit_map(ctx, floor_url, expected))
    finally:
        floor_proc.terminate()
        floor_proc.wait(timeout=20)
    print(_line("floor: bare page + the map iframe", floor, None, ""))
    proc, url = _serve("app.py", env)
    try:
        print(_line("one-map page", _runs(browser, lambda ctx: visit_map(ctx, url, expected)), floor,
                    "target ≤ 1.2×"))
        if pages:
            print(_line("coverage page, map with results", _runs(browser, lambda ctx: visit_coverage(ctx, url)),
                        floor, "target ≤ 1.5×"))
            print(_line("planning page, map with a solved plan",
                        _runs(browser, lambda ctx: visit_planning(ctx, url)), floor, "target ≤ 1.5×"))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    from playwright.sync_api import sync_playwright

    print(f"Seconds from navigation to the map drawn in Chromium; first visit to a freshly started app, then the "
          f"median of {RELOADS} reloads in the same browser and of {RELOADS} visits from new browsers.")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        bench_city(browser, 0, Path(tmp), pages=True)
        bench_city(browser, 10_000, Path(tmp), pages=False)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

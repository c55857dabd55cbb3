"""Benchmark: the one map as a city serves it — ``onemap serve`` (the app, the data exchange server, the booking
API with two worker processes) behind nginx on one port, over PostGIS — with many people at once.

1. N people (own browser contexts in one Chromium, released together) open 覆盖分析 through the proxy: time
   until the page's figures and its map are drawn, median and max, for N = 1, 5, 10, 20; the server's CPU
   seconds per visit (the app's process) and its memory.  The floor is one person alone.
2. A booking burst through the proxy: 50 closed-loop partner clients for 10 s; bookings/s, p50/p99; the floor
   is the same clients asking for the API's document (``/booking/openapi.json``, no store); no slot
   overbooked after.

Prints figures and the server size they suggest; asserts nothing.

    make bench-serve
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.bench_booking import CLIENTS, HOT, SECONDS, WARM_UP, _cpu_seconds, _load, _port, prepare
from config.log_setup import configure_logging
from demo.city import build_demo_city, write_demo_city
from layers.stores.postgis import PostGISStore, normalize_database_url
from layers.stores.postgis.roles import drop_department_roles
from services.deploy import standalone_nginx_conf

USERS = (1, 5, 10, 20)
CHROMIUM = "/usr/bin/chromium"
MAP = "iframe[src*='/maps/']"  # the published coverage map


def _wait(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:g} s")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its children (the app is one process; uvicorn's workers are children)."""
    total = _cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        total += _tree_cpu(int(child))
    return total


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _visits(browser, url: str, n: int) -> list[float]:
    """``n`` people open ``url`` at once; seconds until each sees the figures and the drawn map."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(n)]
    pages = [c.new_page() for c in contexts]
    times: list[float] = []
    start = time.perf_counter()
    for page in pages:  # navigations are issued together; the loads proceed in parallel
        page.goto(url, wait_until="commit")
    for page in pages:
        page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=600_000)
        page.locator(MAP).first.wait_for(timeout=600_000)
        page.frame_locator(MAP).first.locator(".leaflet-container").wait_for(timeout=600_000)
        times.append(time.perf_counter() - start)
    for c in contexts:
        c.close()
    return times


def pages_at_once(base: str, app_pid: int) -> None:
    from playwright.sync_api import sync_playwright

    url = f"{base}/coverage"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        _visits(browser, url, 1)  # the analysis computed and cached once, as on a server that has run a while
        alone = None
        print(f"{'people':>6} {'median s':>9} {'max s':>7} {'× alone':>8} {'server CPU s/visit':>19} "
              f"{'app RSS MB':>11}")
        for n in USERS:
            cpu0 = _cpu_seconds(app_pid)
            times = _visits(browser, url, n)
            cpu = (_cpu_seconds(app_pid) - cpu0) / n
            median = statistics.median(times)
            alone = alone or median
            print(f"{n:>6} {median:>9.2f} {max(times):>7.2f} {median / alone:>8.2f} {cpu:>19.2f} "
                  f"{_rss_mb(app_pid):>11.0f}")
        browser.close()


def bookings_through_the_proxy(base: str, key: str, serve_pid: int, store) -> None:
    asyncio.run(_load(base, key, "/booking/openapi.json", booking=False, seconds=WARM_UP))
    floor_lat, _ = asyncio.run(_load(base, key, "/booking/openapi.json", booking=False))
    asyncio.run(_load(base, key, "", booking=True, seconds=WARM_UP, first=10**8))
    cpu0 = _tree_cpu(serve_pid)
    lat, outcomes = asyncio.run(_load(base, key, "", booking=True))
    cpu = _tree_cpu(serve_pid) - cpu0
    q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1] * 1000  # noqa: E731
    rate, floor_rate = outcomes.get("booked", 0) / SECONDS, len(floor_lat) / SECONDS
    slots = store.bookings.slots()
    over = int((slots["booked"] > slots["capacity"]).sum())
    hot = int(slots.loc[slots["resource_id"] == HOT, "booked"].sum())
    print(f"bookings through nginx → 2 API workers, {CLIENTS} clients, {SECONDS:.0f} s: {rate:.1f} bookings/s "
          f"(p50 {q(lat, 50):.0f} ms, p99 {q(lat, 99):.0f} ms); floor GET /booking/openapi.json "
          f"{floor_rate:.1f} req/s (p99 {q(floor_lat, 99):.0f} ms): {rate / max(floor_rate, 1e-9):.2f} of the floor")
    print(f"  outcomes {dict(sorted(outcomes.items()))}; slots over capacity {over}; the 20-place hot slot holds "
          f"{hot}; serve's CPU {cpu / SECONDS:.0%} of a core")


@contextlib.contextmanager
def served() -> Iterator[tuple[str, int, int, PostGISStore, str, dict[str, str]]]:
    """``onemap serve`` behind nginx over the demo city in its own PostGIS schema: yields (public address, the
    app's pid, serve's pid, the store, a partner key of the booking API, the servers' environment); everything is
    removed after."""
    configure_logging("WARNING")
    url = os.environ.get("ONEMAP_TEST_DATABASE_URL")
    if not url or not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise SystemExit("needs PostGIS (ONEMAP_TEST_DATABASE_URL, set by make bench-serve) and nginx")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostGISStore(url, schema=schema)
    work = Path(tempfile.mkdtemp(prefix="onemap-serve-"))
    procs: list[subprocess.Popen] = []
    try:
        t = time.perf_counter()
        write_demo_city(store, build_demo_city())
        key = prepare(store, store.layers.read("venues"))
        print(f"demo city written to PostGIS schema {schema} in {time.perf_counter() - t:.0f} s")
        listen, app, ogc, booking = (_port() for _ in range(4))
        base = f"http://127.0.0.1:{listen}"
        env = {**os.environ, "DATABASE_URL": url, "ONEMAP_PG_SCHEMA": schema,
               "ONEMAP_INSTANCE_DIR": str(work / "instance"), "ONEMAP_LOG_LEVEL": "WARNING"}
        serve = [sys.executable, "-m", "cli.main", "serve", "--app-port", str(app), "--ogc-port", str(ogc),
                 "--booking-port", str(booking), "--public-url", base]
        subprocess.run([*serve, "--write-config", str(work), "--listen", str(listen)], env=env, check=True,
                       capture_output=True)
        log = open(work / "serve.log", "w")
        procs.append(subprocess.Popen(serve, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        procs.append(subprocess.Popen(["/usr/sbin/nginx", "-c", str(standalone_nginx_conf(work, work /
                                       "onemap-nginx.conf")), "-p", str(work)], start_new_session=True))
        for path in ("/_stcore/health", "/ogc/conformance", "/booking/openapi.json"):
            _wait(base + path)
        app_pid = next(int(c) for c in Path(f"/proc/{procs[0].pid}/task/{procs[0].pid}/children").read_text()
                       .split() if "streamlit" in Path(f"/proc/{c}/cmdline").read_text())
        print(f"onemap serve behind nginx at {base} (app pid {app_pid}); 2 cores shared with the browsers")
        yield base, app_pid, procs[0].pid, store, key, env
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        store.close()
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            drop_department_roles(conn, schema)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Both parts on one server."""
    with served() as (base, app_pid, serve_pid, store, key, _env):
        pages_at_once(base, app_pid)
        bookings_through_the_proxy(base, key, serve_pid, store)


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # a browser thread ending with the run is not news
    main()

"""Benchmark: bookings per second through the partner HTTP API with 50 concurrent clients, on PostGIS and on
the GeoPackage; p50/p99 latency; zero overbooking checked after; the floor is a request that touches no store
(``/conformance``) on the same server with the same clients.  Prints figures; asserts nothing.

Targets (issue 17, 2 cores): PostGIS ≥ 300 bookings/s with p99 < 200 ms; GeoPackage ≥ 50/s.

    make bench-booking
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd
from sqlalchemy import create_engine, text

from config.log_setup import configure_logging
from demo.city import build_demo_city
from layers.stores.geopackage import GeoPackageStore
from layers.stores.postgis import PostGISStore, normalize_database_url
from services.booking_api import issue_key

CLIENTS = 50
SECONDS = 10.0
#: Seconds of load before each measurement (the server's connections opened, plans and caches warm).
WARM_UP = 3.0
#: Resources booked: courts of 30 places, 60-minute slots all day, so the run books many slots.
RESOURCES = 20
HOT = "hot-court"  # one slot of 20 places that every client also tries: exactly 20 must get in


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(store, venues) -> str:
    """Venues, bookable courts and a partner key; returns the key."""
    store.layers.write("venues", venues, user="bench")
    ids = venues["feature_id"].tolist()
    rows = [{"resource_id": f"court-{k:02d}", "place_layer": "venues", "place_id": ids[k],
             "unit": f"{k}号场", "capacity": 30, "slot_minutes": 60, "hours": "Mo-Su 00:00-24:00",
             "who_may_book": "everyone", "area_code": None, "days_ahead": 14, "max_active": 5,
             "cancel_hours": 1, "source": "bench"}
            for k in range(RESOURCES)]
    rows.append({**rows[0], "resource_id": HOT, "capacity": 20})
    store.records.write("bookable", pd.DataFrame(rows), user="bench", source="bench", department="sports")
    return issue_key(store, "bench", per_minute=10_000_000)[1]


async def _load(base: str, key: str, path: str, *, booking: bool, seconds: float = SECONDS,
                first: int = 0) -> tuple[list[float], dict[str, int]]:
    """``CLIENTS`` clients, each sending requests one after another for ``seconds`` (requests numbered from
    ``first``, so a warm-up books other slots than the run)."""
    from datetime import datetime, timedelta

    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    start_day = (datetime.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    deadline = time.perf_counter() + seconds
    counter = iter(range(first, 10**9))

    async def client(c: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={"X-API-Key": key}) as http:
            while time.perf_counter() < deadline:
                n = next(counter)
                t = time.perf_counter()
                if booking:
                    hot = n % 25 == 0 and n < 10**8  # the warm-up leaves the hot slot alone
                    body = {"resource_id": HOT if hot else f"court-{n % RESOURCES:02d}",
                            "starts_at": (start_day + timedelta(hours=0 if hot else (n // RESOURCES) % 24 * 1 +
                                                                24 * ((n // (RESOURCES * 24)) % 10))
                                          ).isoformat(timespec="minutes"),
                            "phone": f"13{n:09d}"}
                    r = await http.post("/booking/bookings", json=body, headers={"Idempotency-Key": f"bench-{n:08d}"})
                    kind = r.json().get("outcome") or r.json().get("code")
                else:
                    r = await http.get(path)
                    kind = str(r.status_code)
                latencies.append(time.perf_counter() - t)
                outcomes[kind] = outcomes.get(kind, 0) + 1

    await asyncio.gather(*(client(c) for c in range(CLIENTS)))
    return latencies, outcomes


def run(label: str, store_arg: str, store, schema: str | None = None) -> None:
    key = prepare(store, build_demo_city().layers["venues"])
    port = _port()
    env = {**os.environ, "ONEMAP_LOG_LEVEL": "WARNING", "ONEMAP_PG_POOL": os.environ.get("ONEMAP_PG_POOL", "30,10"),
           **({"ONEMAP_PG_SCHEMA": schema} if schema else {})}
    server = subprocess.Popen([sys.executable, "-m", "services.ogc_api", "--store", store_arg, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/conformance", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        asyncio.run(_load(base, key, "/conformance", booking=False, seconds=WARM_UP))
        floor_lat, _ = asyncio.run(_load(base, key, "/conformance", booking=False))
        asyncio.run(_load(base, key, "", booking=True, seconds=WARM_UP, first=10**8))  # connections, plans
        cpu0 = _cpu_seconds(server.pid)
        lat, outcomes = asyncio.run(_load(base, key, "", booking=True))
        server_cpu = _cpu_seconds(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(10)
    done = outcomes.get("booked", 0)
    rate, floor_rate = done / SECONDS, len(floor_lat) / SECONDS
    q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1] * 1000  # noqa: E731
    slots = store.bookings.slots()
    rows = store.bookings.list(statuses=("booked",))
    held = rows.groupby("slot_id").size()
    over = int((slots["booked"] > slots["capacity"]).sum())
    mismatch = int((slots.set_index("slot_id")["booked"] != held.reindex(slots["slot_id"]).fillna(0).values).sum())
    hot = slots.loc[slots["resource_id"] == HOT, "booked"].sum()
    print(f"{label:<11} {CLIENTS} clients, {SECONDS:.0f} s: {rate:7.1f} bookings/s (p50 {q(lat, 50):6.1f} ms, "
          f"p99 {q(lat, 99):6.1f} ms); floor GET /conformance {floor_rate:7.1f} req/s (p50 {q(floor_lat, 50):5.1f} ms"
          f", p99 {q(floor_lat, 99):.1f} ms) — booking costs {floor_rate / max(rate, 1e-9):.1f}x the floor")
    print(f"{'':<11} outcomes {dict(sorted(outcomes.items()))}; slots over capacity {over}; slots whose count "
          f"differs from their bookings {mismatch}; the 20-place hot slot holds {int(hot)}; server CPU "
          f"{server_cpu / max(sum(outcomes.values()), 1) * 1000:.1f} ms a request "
          f"({server_cpu / SECONDS:.0%} of a core)")


def main() -> None:
    """Both stores, one after the other."""
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.gpkg"
        store = GeoPackageStore(path, create=True)
        run("GeoPackage", str(path), store)
    url = os.environ.get("ONEMAP_TEST_DATABASE_URL")
    if not url:
        print("PostGIS: ONEMAP_TEST_DATABASE_URL is not set (make bench-booking sets it); skipped")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostGISStore(url, schema=schema)
    try:
        run("PostGIS", url, store, schema)
    finally:
        store.close()
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()

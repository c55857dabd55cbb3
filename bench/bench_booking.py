"""Benchmark: bookings per second through the partner HTTP API with 50 concurrent clients, on PostGIS and on
the GeoPackage; p50/p99 latency; zero overbooking checked after; the floor is a request that touches no store
(``/conformance``) on the same server with the same clients.  Prints figures; asserts nothing.

Then the production server on PostGIS — the booking API alone in several uvicorn worker processes, started as
``onemap serve`` starts it: closed-loop bookings against that server's own floor (``GET /openapi.json``, the same
clients), and open-loop arrivals at a steady rate (each request sent at its planned time whether or not the
earlier ones were answered; its latency counted from the planned time, so a server that falls behind is charged
for the wait), with errors and overbooking counted after.

Targets (issue 17, 2 cores): PostGIS ≥ 300 bookings/s with p99 < 200 ms; GeoPackage ≥ 50/s.  Issue 34: open-loop
200 bookings/s for 30 s with p99 < 300 ms, no error, no overbooking; closed-loop ≥ 0.8 of the floor.

    make bench-booking
"""

from __future__ import annotations

import asyncio
import json
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


#: The production run: worker processes, the steady rate and how long it lasts.
API_WORKERS = int(os.environ.get("ONEMAP_BENCH_API_WORKERS", "3"))
RATE = 200.0
STEADY_SECONDS = 30.0


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


def _booking_body(n: int) -> dict:
    """The ``n``-th booking: courts and hours in turn over ten days; every 25th tries the hot slot, except in
    warm-ups (numbered from 10**8 and 3 * 10**8; runs from 0 and 2 * 10**8)."""
    from datetime import datetime, timedelta

    start_day = (datetime.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    hot = n % 25 == 0 and (n // 10**8) % 2 == 0
    m = n % 10**8
    starts = start_day + timedelta(hours=0 if hot else (m // RESOURCES) % 24 + 24 * ((m // (RESOURCES * 24)) % 10))
    return {"resource_id": HOT if hot else f"court-{m % RESOURCES:02d}",
            "starts_at": starts.isoformat(timespec="minutes"), "phone": f"13{n % 10**9:09d}"}


async def _send(http: httpx.AsyncClient, path: str, n: int | None, prefix: str) -> str:
    """One request: a booking (``n`` numbered) or a GET of ``path``; returns its outcome."""
    if n is None:
        return str((await http.get(path)).status_code)
    r = await http.post(f"{prefix}/bookings", json=_booking_body(n), headers={"Idempotency-Key": f"bench-{n:010d}"})
    if r.status_code >= 500:
        return str(r.status_code)
    return r.json().get("outcome") or r.json().get("code")


async def _load(base: str, key: str, path: str, *, booking: bool, seconds: float = SECONDS,
                first: int = 0, prefix: str = "/booking") -> tuple[list[float], dict[str, int]]:
    """``CLIENTS`` clients, each sending requests one after another for ``seconds`` (requests numbered from
    ``first``, so a warm-up books other slots than the run)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    counter = iter(range(first, 10**11))

    async def client(c: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers={"X-API-Key": key}) as http:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                kind = await _send(http, path, next(counter) if booking else None, prefix)
                latencies.append(time.perf_counter() - t)
                outcomes[kind] = outcomes.get(kind, 0) + 1

    await asyncio.gather(*(client(c) for c in range(CLIENTS)))
    return latencies, outcomes


class _Wire:
    """A small HTTP/1.1 client over kept-alive connections, for the open loop: httpx costs about 4.5 ms of CPU a
    request, so at 200 requests/s the load generator alone would take most of one of the two cores the server
    runs on, and its own queue would be what the latencies measured.  Answers must carry Content-Length (every
    answer of the booking API does)."""

    def __init__(self, port: int, headers: dict[str, str], *, size: int = 64) -> None:
        self.port, self.size, self.opened = port, size, 0
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"127.0.0.1:{port}", **headers}.items())
        self.free: asyncio.Queue = asyncio.Queue()

    async def _connection(self):
        if self.free.empty() and self.opened < self.size:
            self.opened += 1
            return await asyncio.open_connection("127.0.0.1", self.port)
        return await self.free.get()

    async def request(self, method: str, path: str, body: dict | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Status and body of one request (``body`` sent as JSON)."""
        data = b"" if body is None else json.dumps(body).encode()
        reader, writer = await self._connection()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        kind = "Content-Type: application/json\r\n" if body is not None else ""
        writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}{kind}"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        self.free.put_nowait((reader, writer))
        return status, answer

    def close(self) -> None:
        while not self.free.empty():
            self.free.get_nowait()[1].close()


async def _steady(base: str, key: str, *, rate: float, seconds: float, first: int,
                  prefix: str = "") -> tuple[list[float], dict[str, int]]:
    """Open loop: booking ``k`` is sent at ``k / rate`` seconds whatever happened to the others; its latency runs
    from that planned time to its answer (a late send counts against the server, not for it)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    wire = _Wire(int(base.rsplit(":", 1)[1]), {"X-API-Key": key})
    t0 = time.perf_counter() + 0.2

    async def one(k: int) -> None:
        planned = t0 + k / rate
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        n = first + k
        try:
            sent = wire.request("POST", f"{prefix}/bookings", _booking_body(n), {"Idempotency-Key": f"bench-{n:010d}"})
            status, answer = await asyncio.wait_for(sent, 30)
            kind = str(status) if status >= 500 else (json.loads(answer).get("outcome") or json.loads(answer)["code"])
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as exc:  # IndexError: no status line
            kind = type(exc).__name__
        latencies.append(time.perf_counter() - planned)
        outcomes[kind] = outcomes.get(kind, 0) + 1

    await asyncio.gather(*(one(k) for k in range(int(rate * seconds))))
    wire.close()
    return latencies, outcomes


def _floor_then_warm(base: str, key: str, floor: str, *, prefix: str) -> list[float]:
    """Once the server answers ``floor``: its latencies under the clients (after a warm-up), then bookings for a
    while (connections opened, plans and caches warm)."""
    for _ in range(600):
        try:
            if httpx.get(base + floor, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    asyncio.run(_load(base, key, floor, booking=False, seconds=WARM_UP))
    floor_lat, _ = asyncio.run(_load(base, key, floor, booking=False))
    asyncio.run(_load(base, key, "", booking=True, seconds=WARM_UP, first=10**8, prefix=prefix))
    return floor_lat


def _drop_schema(url: str, schema: str) -> None:
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def run(label: str, store_arg: str, store, schema: str | None = None) -> None:
    key = prepare(store, build_demo_city().layers["venues"])
    port = _port()
    env = {**os.environ, "ONEMAP_LOG_LEVEL": "WARNING", "ONEMAP_PG_POOL": os.environ.get("ONEMAP_PG_POOL", "30,10"),
           **({"ONEMAP_PG_SCHEMA": schema} if schema else {})}
    server = subprocess.Popen([sys.executable, "-m", "services.ogc_api", "--store", store_arg, "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        floor_lat = _floor_then_warm(base, key, "/conformance", prefix="/booking")
        cpu0 = _cpu_seconds(server.pid)
        lat, outcomes = asyncio.run(_load(base, key, "", booking=True))
        server_cpu = _cpu_seconds(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(10)
    done = outcomes.get("booked", 0)
    rate, floor_rate = done / SECONDS, len(floor_lat) / SECONDS
    q = _quantile
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


def _children_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (uvicorn's worker processes)."""
    total = _cpu_seconds(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _quantile(xs: list[float], p: int) -> float:
    return statistics.quantiles(xs, n=100)[p - 1] * 1000


def _over_capacity(store) -> tuple[int, int]:
    """(slots over capacity, bookings in the hot slot)."""
    slots = store.bookings.slots()
    return (int((slots["booked"] > slots["capacity"]).sum()),
            int(slots.loc[slots["resource_id"] == HOT, "booked"].sum()))


def production(url: str) -> None:
    """The booking API as ``onemap serve`` runs it (uvicorn, ``API_WORKERS`` processes) on a new PostGIS schema:
    closed-loop against its floor, then open-loop at ``RATE`` for ``STEADY_SECONDS``."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostGISStore(url, schema=schema)
    port = _port()
    env = {**os.environ, "ONEMAP_LOG_LEVEL": "WARNING", "DATABASE_URL": url, "ONEMAP_PG_SCHEMA": schema,
           "ONEMAP_PG_POOL": os.environ.get("ONEMAP_PG_POOL", "10,5")}
    try:
        key = prepare(store, build_demo_city().layers["venues"])
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "services.booking_server:create_app", "--factory",
                                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(API_WORKERS),
                                   "--log-level", "warning", "--no-server-header"],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            floor_lat = _floor_then_warm(base, key, "/openapi.json", prefix="")
            closed_lat, closed = asyncio.run(_load(base, key, "", booking=True, first=10**9 // 2, prefix=""))
            asyncio.run(_steady(base, key, rate=RATE, seconds=WARM_UP, first=3 * 10**8))
            cpu0 = _children_cpu(server.pid)
            lat, outcomes = asyncio.run(_steady(base, key, rate=RATE, seconds=STEADY_SECONDS, first=2 * 10**8))
            cpu = _children_cpu(server.pid) - cpu0
        finally:
            server.terminate()
            server.wait(20)
        over, hot = _over_capacity(store)
        floor_rate, closed_rate = len(floor_lat) / SECONDS, closed.get("booked", 0) / SECONDS
        errors = sum(v for k, v in outcomes.items() if k not in ("booked", "full", "waiting"))
        print(f"production {API_WORKERS} uvicorn workers on PostGIS: closed loop ({CLIENTS} clients, {SECONDS:.0f} s) "
              f"{closed_rate:.1f} bookings/s (p99 {_quantile(closed_lat, 99):.0f} ms) against the floor GET "
              f"/openapi.json {floor_rate:.1f} req/s: {closed_rate / floor_rate:.2f} of the floor (target >= 0.8)")
        print(f"{'':<11} open loop {RATE:.0f}/s for {STEADY_SECONDS:.0f} s ({sum(outcomes.values())} sent): p50 "
              f"{_quantile(lat, 50):.0f} ms, p99 {_quantile(lat, 99):.0f} ms, max {max(lat) * 1000:.0f} ms "
              f"(target p99 < 300 ms); outcomes {dict(sorted(outcomes.items()))}; errors {errors}; slots over "
              f"capacity {over}; the 20-place hot slot holds {hot}; server CPU {cpu / STEADY_SECONDS:.0%} of a core "
              f"({cpu / max(sum(outcomes.values()), 1) * 1000:.1f} ms a booking)")
    finally:
        store.close()
        _drop_schema(url, schema)


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
        production(url)
    finally:
        store.close()
        _drop_schema(url, schema)


if __name__ == "__main__":
    main()

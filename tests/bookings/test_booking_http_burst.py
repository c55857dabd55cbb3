"""200 async clients over HTTP book 20 places of one slot at the same moment, on both stores: exactly 20 get in,
180 are told "full", nothing else (the server process the partners reach, not the Python API)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from services.booking_api import issue_key
from tests.bookings.helpers import CAPACITY, COURT, set_up_court, tomorrow_at
from tests.conftest import ARTIFACTS, _free_port, wait_healthy

CLIENTS = 200


async def _burst(base: str, key: str, starts_at: str) -> list[tuple[int, str]]:
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits, headers={"X-API-Key": key}) as http:
        async def one(k: int) -> tuple[int, str]:
            await go.wait()
            r = await http.post("/booking/bookings", json={"resource_id": COURT, "starts_at": starts_at,
                                                           "phone": f"135{k:08d}"},
                                headers={"Idempotency-Key": f"burst-{k:06d}"})
            return r.status_code, r.json().get("outcome") or r.json().get("code")

        tasks = [asyncio.create_task(one(k)) for k in range(CLIENTS)]
        await asyncio.sleep(0.2)
        go.set()
        return await asyncio.gather(*tasks)


def test_two_hundred_http_clients_at_once_book_exactly_twenty(store, demo_city):
    set_up_court(store, demo_city)
    key = issue_key(store, "burst test", per_minute=100_000)[1]
    port = _free_port()
    env = {**os.environ, "ONEMAP_PG_POOL": "20,10"}
    target = str(store.path) if hasattr(store, "path") else store.url
    if not hasattr(store, "path"):
        env["ONEMAP_PG_SCHEMA"] = store.schema
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "booking_burst_server.log", "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "services.ogc_api", "--store", target, "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", server, path="/conformance")
            answers = asyncio.run(_burst(f"http://127.0.0.1:{port}", key, tomorrow_at(18).isoformat()))
        finally:
            server.terminate()
            server.wait(30)
    assert sorted(set(answers)) == [(201, "booked"), (409, "full")], sorted(set(answers))
    assert answers.count((201, "booked")) == CAPACITY and answers.count((409, "full")) == CLIENTS - CAPACITY
    assert store.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [CAPACITY]
    assert len(store.bookings.list(resource_ids=[COURT])) == CAPACITY

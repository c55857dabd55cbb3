"""A retried booking answers exactly as the first did, and a store that cannot be reached answers 503 with
Retry-After — never 500 — while nothing is lost or doubled (issue: a retried booking answers as the first)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from office.bookings import BookingDesk
from services.booking_api import issue_key
from services.ogc_api import build_app
from tests.bookings.helpers import COURT, set_up_court, tomorrow_at
from tests.conftest import ARTIFACTS, _free_port, stop, wait_healthy
from tests.cut_proxy import CutProxy


def _body(phone: str = "13812345678") -> dict:
    return {"resource_id": COURT, "starts_at": tomorrow_at(18).isoformat(timespec="minutes"), "phone": phone}


def test_a_retry_after_the_answer_was_lost_gets_the_cancel_code_which_cancels_the_booking(store, demo_city,
                                                                                          monkeypatch):
    set_up_court(store, demo_city)
    key = issue_key(store, "青溪健身小程序", per_minute=1000)[1]
    real = BookingDesk.book

    def committed_then_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)  # the booking is committed …
        raise RuntimeError("the handler was interrupted after the commit")  # … and its answer never leaves

    headers = {"X-API-Key": key, "Idempotency-Key": "wx-order-20261207-0001"}
    with TestClient(build_app(store, booking_store=store), raise_server_exceptions=False) as client:
        monkeypatch.setattr(BookingDesk, "book", committed_then_lost)
        lost = client.post("/booking/bookings", json=_body(), headers=headers)
        assert lost.status_code == 500 and lost.json()["code"] == "InternalError" and "Traceback" not in lost.text
        monkeypatch.setattr(BookingDesk, "book", real)
        again = client.post("/booking/bookings", json=_body(), headers=headers)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        answer = again.json()
        assert answer["outcome"] == "booked" and len(answer["cancel_code"]) == 8
        twice = client.post("/booking/bookings", json=_body(), headers=headers).json()
        assert (twice["booking"]["booking_id"], twice["cancel_code"]) == (answer["booking"]["booking_id"],
                                                                          answer["cancel_code"])
        # another partner key, or another body, with the same Idempotency-Key: never the code
        other = issue_key(store, "学校系统", per_minute=1000)[1]
        stranger = client.post("/booking/bookings", json=_body(), headers={**headers, "X-API-Key": other})
        assert stranger.json().get("cancel_code") != answer["cancel_code"]
        reused = client.post("/booking/bookings", json=_body("13912345678"), headers=headers)
        assert reused.status_code == 422 and reused.json()["code"] == "booking.key_reused"
        done = client.post(f"/booking/bookings/{answer['booking']['booking_id']}/cancel",
                           json={"code": answer["cancel_code"]}, headers={"X-API-Key": key})
        assert done.status_code == 200 and done.json()["booking"]["status"] == "cancelled"
    rows = store.bookings.list(resource_ids=[COURT])
    # one booking from the lost answer and its retries, one for the other partner's own key
    assert rows["booking_id"].tolist().count(answer["booking"]["booking_id"]) == 1
    assert store.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [len(rows) - 1]


def test_the_sealed_answer_is_neither_in_the_audit_nor_readable_without_the_partners_key(store, demo_city):
    set_up_court(store, demo_city)
    key = issue_key(store, "小程序", per_minute=1000)[1]
    with TestClient(build_app(store, booking_store=store)) as client:
        got = client.post("/booking/bookings", json=_body(), headers={"X-API-Key": key,
                                                                       "Idempotency-Key": "order-secret-01"}).json()
    code = got["cancel_code"]
    trail = store.audit.trail("bookings", changes_only=False)
    assert code not in trail.to_string() and not any("replay_sealed" in str(v) for v in trail.get("new", []))
    stored = store.bookings._read("SELECT replay_sealed, request_hash FROM onemap_bookings", {})[0]
    assert stored["replay_sealed"] and code not in stored["replay_sealed"] and key not in str(stored)


def test_a_locked_geopackage_answers_503_with_retry_after_then_books_once(tmp_path, demo_city):
    from layers.stores.geopackage import GeoPackageStore

    store = GeoPackageStore(tmp_path / "city.gpkg", create=True, lock_timeout=0.5)
    set_up_court(store, demo_city)
    key = issue_key(store, "小程序", per_minute=1000)[1]
    headers = {"X-API-Key": key, "Idempotency-Key": "order-locked-0001"}
    with TestClient(build_app(store, booking_store=store)) as client:
        client.get("/booking/resources")  # the desk is built before the lock
        holder = sqlite3.connect(store.path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            refused = client.post("/booking/bookings", json=_body(), headers=headers)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503 and refused.json()["code"] == "StoreUnavailable"
        assert int(refused.headers["Retry-After"]) >= 1
        booked = client.post("/booking/bookings", json=_body(), headers=headers)
        assert booked.status_code == 201
    assert len(store.bookings.list(resource_ids=[COURT])) == 1
    store.close()


CLIENTS, EACH = 50, 4


@pytest.mark.postgis
def test_a_database_cut_during_a_burst_answers_only_503_then_books_again_none_lost_none_doubled(pg_store, demo_city,
                                                                                                pg_url):
    set_up_court(pg_store, demo_city, capacity=CLIENTS * EACH)
    key = issue_key(pg_store, "小程序", per_minute=1_000_000)[1]
    url = make_url(pg_url)
    socket_dir = url.query.get("host") or "/var/run/postgresql"
    port = url.query.get("port") or url.port or 5432
    proxy = CutProxy(os.path.join(socket_dir if isinstance(socket_dir, str) else socket_dir[0],
                                  f".s.PGSQL.{port if isinstance(port, (str, int)) else port[0]}"))
    proxied = url.set(host="127.0.0.1", port=proxy.port, query={})
    env = {**os.environ, "ONEMAP_PG_SCHEMA": pg_store.schema, "ONEMAP_PG_POOL": "10,5"}
    server_port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "booking_outage_server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "services.ogc_api", "--store",
                                   proxied.render_as_string(hide_password=False), "--port", str(server_port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    answers: list[tuple[int, str | None, str | None, str, float]] = []  # status, Retry-After, code, booking, when
    lock = threading.Lock()
    restored_at: list[float] = []

    def client(k: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server_port}", timeout=30,
                          headers={"X-API-Key": key}) as http:
            for i in range(EACH):
                idem = f"burst-{k:03d}-{i}"
                while True:  # a careful partner: the same key until the answer is not 503
                    r = http.post("/booking/bookings", json=_body(f"136{k:04d}{i:04d}"),
                                  headers={"Idempotency-Key": idem})
                    body = r.json()
                    with lock:
                        answers.append((r.status_code, r.headers.get("Retry-After"), body.get("code"),
                                        body.get("booking", {}).get("booking_id") or idem, time.monotonic()))
                    if r.status_code != 503:
                        break
                    time.sleep(0.2)

    try:
        wait_healthy(f"http://127.0.0.1:{server_port}", server, path="/conformance?f=json")
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(client, k) for k in range(CLIENTS)]
            while sum(1 for a in answers if a[0] == 201) < CLIENTS // 2:
                time.sleep(0.02)
            proxy.cut()
            time.sleep(0.5)
            with httpx.Client(base_url=f"http://127.0.0.1:{server_port}", timeout=30) as http:
                for path in ("/collections/venues/items?f=json", "/collections/venues/items/venue-004?f=json"):
                    ogc = http.get(path)  # the data exchange server: the same 503 with Retry-After
                    assert ogc.status_code == 503 and int(ogc.headers["Retry-After"]) >= 1, ogc.text
            time.sleep(1.5)
            proxy.restore()
            restored_at.append(time.monotonic())
            for f in futures:
                f.result(timeout=120)
    finally:
        stop(server)
        proxy.close()
    statuses = {a[0] for a in answers}
    assert statuses <= {201, 503}, sorted(statuses)
    outages = [a for a in answers if a[0] == 503]
    assert outages, "the cut was not felt by any request"
    assert all(a[1] and int(a[1]) >= 1 and a[2] == "StoreUnavailable" for a in outages)
    back = min(a[4] for a in answers if a[0] == 201 and a[4] > restored_at[0])
    assert back - restored_at[0] < 5.0  # the server recovers by itself
    booked = {a[3] for a in answers if a[0] == 201}
    assert len(booked) == CLIENTS * EACH
    rows = pg_store.bookings.list(resource_ids=[COURT])
    assert sorted(rows["booking_id"]) == sorted(booked)  # none lost, none doubled
    assert pg_store.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [CLIENTS * EACH]
    text = log_path.read_text()
    assert "Traceback" not in text and text.count("WARNING") <= 3, text[-2000:]  # one line, not one per request


@pytest.mark.postgis
def test_maps_tiles_and_field_reports_answer_503_while_the_database_is_cut(pg_url, pg_schema, demo_city, tmp_path,
                                                                          monkeypatch):
    """The app's own HTTP routes (published maps, their tiles, the map's report form) on a PostGIS store whose
    connection is cut: 503 with Retry-After, then answers again once it is back."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from layers.stores.postgis import PostGISStore
    from office.accounts import create_account
    from services import field_report_route, published_maps
    from webmap.publish import publish, signed_map_url

    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))
    url = make_url(pg_url)
    socket_dir = url.query.get("host") or "/var/run/postgresql"
    port = url.query.get("port") or url.port or 5432
    proxy = CutProxy(os.path.join(socket_dir if isinstance(socket_dir, str) else socket_dir[0],
                                  f".s.PGSQL.{port if isinstance(port, (str, int)) else port[0]}"))
    store = PostGISStore(url.set(host="127.0.0.1", port=proxy.port, query={}).render_as_string(hide_password=False),
                         schema=pg_schema)
    try:
        store.layers.write("venues", demo_city.layers["venues"], user="init")
        create_account(store, "li.si", "青溪-Edu-2026!", role="editor", department="education")
        import folium

        publish(folium.Map(), "ab" * 12)
        monkeypatch.setattr(published_maps, "_store", lambda: store)
        monkeypatch.setattr(field_report_route, "_store", lambda: store)
        app = Starlette(routes=[*published_maps.ROUTES, *field_report_route.ROUTES])
        link = signed_map_url("ab" * 12, "li.si")
        with TestClient(app) as client:
            assert client.get(link).status_code == 200
            proxy.cut()
            for answer in (client.get(link), client.get(link.replace("/maps/", "/tiles/").replace(
                    ".html", "/venues/12/3300/1600.pbf")), client.post("/field-reports" + link[link.index("?"):],
                                                                      data={"category": "broken"})):
                assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1, answer.text
            proxy.restore()
            assert client.get(link).status_code == 200
    finally:
        proxy.close()
        store.close()

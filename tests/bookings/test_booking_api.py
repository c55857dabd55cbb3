"""The partner API, as a partner and as an attacker would call it: keys, retries, refusals, rate, OpenAPI."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from services.booking_api import KEY_CACHE_SECONDS, issue_key
from services.ogc_api import build_app
from tests.bookings.helpers import COURT, set_up_court, tomorrow_at


@pytest.fixture
def api(store, demo_city):
    set_up_court(store, demo_city, capacity=2)
    key_id, key = issue_key(store, "青溪健身小程序", per_minute=30)
    with TestClient(build_app(store, booking_store=store)) as client:
        yield client, store, key_id, key


def _book(client, key, **extra):
    body = {"resource_id": COURT, "starts_at": tomorrow_at(18).isoformat(timespec="minutes"), "phone": "13812345678"}
    body.update(extra.pop("body", {}))
    return client.post("/booking/bookings", json=body, headers={"X-API-Key": key, **extra})


def test_public_reads_list_resources_and_free_slots(api):
    client, *_ = api
    res = client.get("/booking/resources").json()["resources"]
    court = next(r for r in res if r["id"] == COURT)
    assert court["place"]["id"] == "venue-004" and court["capacity"] == 2 and court["rules"]["days_ahead"] == 7
    slots = client.get(f"/booking/resources/{COURT}/slots", params={"days": 2}).json()["slots"]
    assert slots and all(s["free"] == 2 for s in slots)
    assert client.get(f"/booking/resources/{COURT}/slots", params={"days": 99}).status_code == 422
    assert client.get(f"/booking/resources/{COURT}/slots", params={"limit": 5}).status_code == 400
    assert client.get("/booking/resources/nothing-here/slots").status_code == 404
    doc = client.get("/booking/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/bookings" in doc["paths"]
    assert doc["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    assert "503" in doc["paths"]["/bookings"]["post"]["responses"]


def test_book_retry_cancel_and_refusals(api):
    client, store, *_, key = api
    first = _book(client, key, **{"Idempotency-Key": "order-000001"})
    assert first.status_code == 201 and first.json()["outcome"] == "booked"
    booking, code = first.json()["booking"]["booking_id"], first.json()["cancel_code"]
    again = _book(client, key, **{"Idempotency-Key": "order-000001"})  # answered exactly as the first was
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert (again.json()["outcome"], again.json()["booking"]["booking_id"], again.json()["cancel_code"]) == \
        ("booked", booking, code) and "phone" not in again.text
    assert _book(client, key, body={"phone": "13912345678"}).status_code == 201
    full = _book(client, key, body={"phone": "13712345678"})
    assert full.status_code == 409 and full.json()["code"] == "full"
    assert _book(client, key, body={"phone": "13712345678", "waitlist": True}).json()["outcome"] == "waitlisted"
    assert _book(client, key, body={"phone": "13912345670"}, **{"Idempotency-Key": "order-000001"}).status_code == 422
    bad = _book(client, key, body={"phone": "12345"})
    assert bad.status_code == 400 and bad.json()["code"] == "booking.bad_phone"
    assert _book(client, key, body={"starts_at": "tomorrow evening"}).json()["code"] == "booking.bad_time"
    assert _book(client, key, body={"starts_at": tomorrow_at(18).replace(minute=30).isoformat()}).json()[
        "code"] == "booking.no_slot"
    assert client.post("/booking/bookings", content=b"{not json", headers={"X-API-Key": key}).status_code == 422
    assert client.post("/booking/bookings", content=b"x" * 20_000, headers={"X-API-Key": key}).status_code == 413
    wrong = client.post(f"/booking/bookings/{booking}/cancel", json={"code": "AAAAAAAA"}, headers={"X-API-Key": key})
    assert wrong.status_code == 403
    done = client.post(f"/booking/bookings/{booking}/cancel", json={"code": code}, headers={"X-API-Key": key})
    assert done.status_code == 200 and done.json()["moved_up_from_waiting_list"]
    assert client.get(f"/booking/bookings/{booking}", headers={"X-API-Key": key}).json()["booking"]["status"] == \
        "cancelled"


def test_keys_are_required_hashed_revocable_and_rate_limited(api):
    client, store, key_id, key = api
    assert _book(client, "").status_code == 401
    assert _book(client, key + "x").status_code == 401
    assert key not in store.bookings.keys().to_string() and store.bookings.key_by_hash(key) is None
    answers = [client.get("/booking/bookings/B0", headers={"X-API-Key": key}) for _ in range(45)]
    codes = [a.status_code for a in answers]
    assert codes[:30] == [404] * 30  # a burst of 30 a minute, then refilled at one every two seconds
    assert set(codes[30:]) <= {404, 429} and codes[30:].count(429) >= 15 - 2 * 5
    limited = next(a for a in answers if a.status_code == 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 2 and limited.json()["code"] == "RateLimited"
    _, other = issue_key(store, "学校系统")
    assert client.get("/booking/bookings/B0", headers={"X-API-Key": other}).status_code == 404
    assert store.bookings.revoke_key(key_id, now="2026-12-02T10:00")
    time.sleep(KEY_CACHE_SECONDS + 0.1)  # a server keeps a key it looked up for this long
    assert _book(client, key).status_code == 401


def test_json_nested_eight_thousand_deep_is_a_4xx_not_a_500(api):
    client, store, *_, key = api
    deep = b'{"resource_id": ' + b"[" * 8000 + b"]" * 8000 + b"}"
    r = client.post("/booking/bookings", content=deep, headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "TooDeep"
    wide = b'{"phone": "' + b"1" * 20_000 + b'"}'
    assert client.post("/booking/bookings", content=wide, headers={"X-API-Key": key}).status_code == 413

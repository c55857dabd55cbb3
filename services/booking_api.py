"""The booking API for partner systems (a WeChat mini-program's backend, a school's system), JSON over HTTP.

Mounted at ``/booking`` on the same server process as the OGC API (``python -m services.ogc_api``):

- ``GET  /booking/openapi.json``                       this API described (OpenAPI 3.0)
- ``GET  /booking/resources``                          what is bookable: facilities' units and courses (public)
- ``GET  /booking/resources/{id}/slots?from=&days=``  slots with places free and waiting (public)
- ``POST /booking/bookings``                           book; ``X-API-Key``, optional ``Idempotency-Key``
- ``GET  /booking/bookings/{id}``                      a booking's status (no personal data); key
- ``POST /booking/bookings/{id}/cancel``               cancel with the resident's code; key

Keys are issued per partner by ``onemap booking key add`` (only a hash is stored), revoked
by ``onemap booking key revoke`` (in effect within :data:`KEY_CACHE_SECONDS`) and limited to a
number of requests per minute.  A request repeated with the same ``Idempotency-Key`` gets the
first booking back (200) instead of a second one.  Errors are ``{"code": …, "description": …}``
with 400 (bad input), 401 (no or unknown key), 404, 409 (full, limit, already booked, too
late) or 429 (rate, with ``Retry-After``).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import date, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from geo.errors import OneMapError
from i18n import render_note
from layers.bookings import BookingDesk, Resource
from layers.contacts import key_hash
from layers.errors import BookingError
from layers.stores import Store

log = logging.getLogger(__name__)
#: Outcomes of a booking request that are not a new booking, and their HTTP status.
REFUSALS = {"full": 409, "limit": 409, "already": 409}
#: Largest request body read (a booking is a few hundred bytes).
MAX_BODY = 16_384
#: Seconds a looked-up key is trusted before it is looked up again (so a revocation takes effect within this).
KEY_CACHE_SECONDS = 2.0


class _Json(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")


def _error(status: int, code: str, text: str, headers: dict | None = None) -> Response:
    return _Json({"code": code, "description": text}, status_code=status, headers=headers)


class DeskCache:
    """One :class:`BookingDesk` per state of the resources (rebuilt when a record table or place layer changes)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._desk: BookingDesk | None = None
        self._key: tuple | None = None
        self._checked = 0.0

    def get(self, *, max_age: float = 2.0) -> BookingDesk:
        """The desk, its resources at most ``max_age`` seconds old."""
        with self._lock:
            now = time.monotonic()
            if self._desk is not None and now - self._checked < max_age:
                return self._desk
            versions = self.store.last_versions()
            key = tuple(sorted((k, v.get("layer_version")) for k, v in versions.items()))
            if self._desk is None or key != self._key:
                self._desk, self._key = BookingDesk(self.store), key
            self._checked = now
            return self._desk


class RateLimit:
    """A token bucket per key: ``per_minute`` requests in a burst, refilled at ``per_minute`` a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)

    def allow(self, key_id: str, per_minute: int) -> int | None:
        """``None`` when allowed, else the whole seconds until the next request would be."""
        rate = per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return None
            self._buckets[key_id] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))


def resource_doc(res: Resource) -> dict:
    """A resource as the API lists it."""
    doc = {"id": res.resource_id, "kind": res.kind, "title": res.title, "department": res.department,
           "place": {"layer": res.place_layer, "id": res.place_id, "name": res.place_name, "lon": res.lon,
                     "lat": res.lat},
           "unit": res.unit or None, "capacity": res.capacity, "slot_minutes": res.slot_minutes or None,
           "hours": res.hours_text,
           "rules": {"who_may_book": res.who, "area_code": res.area_code, "days_ahead": res.days_ahead,
                     "max_active_per_person": res.max_active, "cancel_hours_before": res.cancel_hours}}
    if res.kind == "course":
        doc["course"] = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in res.course.items()
                         if v is not None and str(v) not in ("nan", "NaT", "<NA>")}
    return doc


def build_booking_app(store: Store) -> Starlette:
    """The booking API over ``store`` (a connection that may write bookings: the app's own)."""
    desks = DeskCache(store)
    limits = RateLimit()
    known: dict[str, tuple[dict, float]] = {}  # key hash → (key row, when looked up): a revoked key stops in 2 s

    def lookup(hashed: str) -> dict | None:
        hit = known.get(hashed)
        if hit is not None and time.monotonic() - hit[1] < KEY_CACHE_SECONDS:
            return hit[0]
        found = store.bookings.key_by_hash(hashed)
        if found is None:
            known.pop(hashed, None)
        else:
            if len(known) > 1000:
                known.clear()
            known[hashed] = (found, time.monotonic())
        return found

    def partner(request: Request) -> dict | Response:
        given = request.headers.get("x-api-key", "").strip()
        if not given:
            return _error(401, "NoKey", "Send the partner's API key in the X-API-Key header.")
        found = lookup(key_hash(given))
        if found is None:
            log.warning("booking API: unknown or revoked key from %s", request.client.host if request.client else "?")
            return _error(401, "BadKey", "This API key is unknown or revoked; ask the alliance for a new one.")
        wait = limits.allow(found["key_id"], int(found["per_minute"]))
        if wait is not None:
            return _error(429, "RateLimited", f"More than {found['per_minute']} requests this minute; "
                          f"try again in {wait} s.", headers={"Retry-After": str(wait)})
        return found

    def refused(exc: OneMapError) -> Response:
        code = exc.note.code if exc.note is not None else "BadRequest"
        text = render_note(exc.note, "en") if exc.note is not None else str(exc)
        status = 404 if code == "booking.no_resource" else 400
        return _error(status, code, text)

    async def body_of(request: Request) -> dict | Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error(413, "TooLarge", f"A request body may have at most {MAX_BODY} bytes.")
        try:
            doc = json.loads(raw or b"{}")
        except ValueError:
            return _error(400, "BadJson", "The body is not JSON; send {\"resource_id\": …, \"starts_at\": …, "
                                          "\"phone\": …}.")
        return doc if isinstance(doc, dict) else _error(400, "BadJson", "The body must be a JSON object.")

    def resources(request: Request) -> Response:
        desk = desks.get()
        return _Json({"resources": [resource_doc(r) for r in desk.resources.values()]})

    def slots(request: Request) -> Response:
        unknown = set(request.query_params) - {"from", "days"}
        if unknown:
            return _error(400, "UnknownParameter", f"Unknown parameter(s) {', '.join(sorted(unknown))}; "
                                                   "use from (YYYY-MM-DD) and days (1 … 60).")
        try:
            first = date.fromisoformat(request.query_params["from"]) if "from" in request.query_params else None
            days = int(request.query_params["days"]) if "days" in request.query_params else None
        except ValueError:
            return _error(400, "BadParameter", "from must be a date (2026-12-05) and days a whole number.")
        if days is not None and not 1 <= days <= 60:
            return _error(400, "BadParameter", "days must be 1 … 60.")
        try:
            table = desks.get().free_slots(request.path_params["resource"], first=first, days=days)
        except BookingError as exc:
            return refused(exc)
        return _Json({"resource": request.path_params["resource"], "slots": table.to_dict("records")})

    def _book(request: Request, doc: dict) -> Response:
        who = partner(request)
        if isinstance(who, Response):
            return who
        missing = [k for k in ("resource_id", "starts_at", "phone") if not doc.get(k)]
        if missing:
            return _error(400, "MissingField", f"Missing {', '.join(missing)}; send resource_id, starts_at "
                                               "(2026-12-05T18:00) and phone (11 digits).")
        key = request.headers.get("idempotency-key")
        if key is not None and not 8 <= len(key) <= 200:
            return _error(400, "BadIdempotencyKey", "An Idempotency-Key has 8 … 200 characters.")
        try:
            got = desks.get().book(str(doc["resource_id"]), str(doc["starts_at"]), str(doc["phone"]),
                                   idempotency_key=f"{who['key_id']}/{key}" if key else None,
                                   area_code=doc.get("area_code"), waitlist=bool(doc.get("waitlist", False)),
                                   channel="partner", actor=f"partner:{who['partner']}")
        except BookingError as exc:
            return refused(exc)
        if got.outcome in REFUSALS:
            return _error(REFUSALS[got.outcome], got.outcome, render_note(_note("booking." + got.outcome), "en"))
        out = {"outcome": got.outcome, "booking": got.row}
        if got.cancel_code:
            out["cancel_code"] = got.cancel_code
        return _Json(out, status_code=201 if got.outcome in ("booked", "waitlisted") else 200)


    def booking(request: Request) -> Response:
        who = partner(request)
        if isinstance(who, Response):
            return who
        row = store.bookings.get(request.path_params["booking"].upper())
        if row is None:
            return _error(404, "booking.not_found", render_note(_note("booking.not_found"), "en"))
        return _Json({"booking": row})

    def _cancel(request: Request, doc: dict) -> Response:
        who = partner(request)
        if isinstance(who, Response):
            return who
        got = desks.get().cancel(request.path_params["booking"], str(doc.get("code") or ""),
                                 actor=f"partner:{who['partner']}")
        status = {"cancelled": 200, "not_found": 404, "wrong_code": 403, "not_active": 409, "too_late": 409}
        if got.outcome != "cancelled":
            return _error(status[got.outcome], got.outcome, render_note(_note("booking." + got.outcome), "en"))
        return _Json({"outcome": "cancelled", "booking": got.row, "moved_up_from_waiting_list": got.promoted})


    def openapi(request: Request) -> Response:
        return _Json(openapi_document())

    def with_body(handler: Callable[[Request, dict], Response]):
        """An endpoint that reads the JSON body on the event loop, then runs ``handler`` in the thread pool."""
        async def endpoint(request: Request) -> Response:
            doc = await body_of(request)
            return doc if isinstance(doc, Response) else await _threaded(handler, request, doc)
        return endpoint

    return Starlette(routes=[
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/resources", resources, methods=["GET"]),
        Route("/resources/{resource}/slots", slots, methods=["GET"]),
        Route("/bookings", with_body(_book), methods=["POST"]),
        Route("/bookings/{booking}", booking, methods=["GET"]),
        Route("/bookings/{booking}/cancel", with_body(_cancel), methods=["POST"]),
    ])


async def _threaded(fn: Callable, *args) -> Response:
    """Run a blocking handler in the thread pool (store calls never block the event loop)."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def _note(code: str):
    from geo.notes import note

    return note(code)


def openapi_document() -> dict:
    """The OpenAPI 3.0 description of the booking API."""
    err = {"$ref": "#/components/schemas/Error"}
    key = [{"apiKey": []}]

    def answer(desc: str, schema: dict | None = None) -> dict:
        out = {"description": desc}
        if schema:
            out["content"] = {"application/json": {"schema": schema}}
        return out

    refusals = {str(s): answer(d, err) for s, d in ((400, "bad input"), (401, "no or unknown key"),
                                                   (404, "unknown resource or booking"),
                                                   (409, "full, over the limit, already booked or too late"),
                                                   (429, "rate limited; see Retry-After"))}
    booking = {"type": "object", "properties": {k: {"type": "string"} for k in (
        "booking_id", "slot_id", "resource_id", "department", "status", "starts_at", "ends_at", "created_at")}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "健身一张图 预约接口 · Fitness One Map booking API", "version": "1.0"},
        "servers": [{"url": "/booking"}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {"Error": {"type": "object", "required": ["code", "description"],
                                  "properties": {"code": {"type": "string"}, "description": {"type": "string"}}},
                        "Booking": booking},
        },
        "paths": {
            "/resources": {"get": {"summary": "What is bookable", "responses": {"200": answer("resources")}}},
            "/resources/{resource}/slots": {"get": {
                "summary": "Slots with free places",
                "parameters": [{"name": "resource", "in": "path", "required": True, "schema": {"type": "string"}},
                               {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                               {"name": "days", "in": "query",
                                "schema": {"type": "integer", "minimum": 1, "maximum": 60}}],
                "responses": {"200": answer("slots"), "400": refusals["400"], "404": refusals["404"]}}},
            "/bookings": {"post": {
                "summary": "Book a place", "security": key,
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string",
                                                                                       "minLength": 8}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["resource_id", "starts_at", "phone"],
                    "properties": {"resource_id": {"type": "string"},
                                   "starts_at": {"type": "string", "example": "2026-12-05T18:00"},
                                   "phone": {"type": "string", "example": "13812345678"},
                                   "area_code": {"type": "string"}, "waitlist": {"type": "boolean"}}}}}},
                "responses": {"201": answer("booked or on the waiting list, with the cancel code",
                                            {"type": "object", "properties": {
                                                "outcome": {"type": "string"}, "cancel_code": {"type": "string"},
                                                "booking": {"$ref": "#/components/schemas/Booking"}}}),
                              "200": answer("the same Idempotency-Key again: the first booking"),
                              **{k: v for k, v in refusals.items() if k != "404"}}}},
            "/bookings/{booking}": {"get": {
                "summary": "A booking's status", "security": key,
                "parameters": [{"name": "booking", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": answer("the booking"), "401": refusals["401"], "404": refusals["404"]}}},
            "/bookings/{booking}/cancel": {"post": {
                "summary": "Cancel with the resident's code", "security": key,
                "parameters": [{"name": "booking", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}}}}},
                "responses": {"200": answer("cancelled"), "403": answer("wrong code", err),
                              "401": refusals["401"], "404": refusals["404"], "409": refusals["409"]}}},
        },
    }


def issue_key(store: Store, partner: str, *, per_minute: int = 600) -> tuple[str, str]:
    """A new key for ``partner``: (key id, the key itself — shown once, only its hash is stored)."""
    import secrets

    key_id = "k-" + secrets.token_hex(4)
    api_key = "omk_" + secrets.token_urlsafe(32)
    store.bookings.add_key(key_id=key_id, partner=partner, key_hash=key_hash(api_key), per_minute=per_minute,
                           now=datetime.now().isoformat(timespec="seconds"))
    return key_id, api_key


__all__ = ["build_booking_app", "openapi_document", "issue_key", "resource_doc", "DeskCache", "RateLimit"]

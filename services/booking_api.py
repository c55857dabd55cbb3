"""The booking API for partner systems (a WeChat mini-program's backend, a school's system), JSON over HTTP.

Mounted at ``/booking`` on the same server process as the OGC API (``python -m services.ogc_api``);
a FastAPI application whose pydantic models are both its validation and its OpenAPI document:

- ``GET  /booking/openapi.json``                       this API described (OpenAPI 3.1, generated)
- ``GET  /booking/resources``                          what is bookable: facilities' units and courses (public)
- ``GET  /booking/resources/{id}/slots?from=&days=``  slots with places free and waiting (public)
- ``POST /booking/bookings``                           book; ``X-API-Key``, optional ``Idempotency-Key``
- ``GET  /booking/bookings/{id}``                      a booking's status (no personal data); key
- ``POST /booking/bookings/{id}/cancel``               cancel with the resident's code; key

Keys are issued per partner by ``onemap booking key add`` (only a hash is stored), revoked
by ``onemap booking key revoke`` (in effect within :data:`KEY_CACHE_SECONDS`) and limited to a
number of requests per minute.

**Retries.** A request repeated with the same ``Idempotency-Key`` and the same body is answered
exactly as the first was — the same status, booking and cancel code, with the header
``Idempotent-Replayed: true`` — whether or not the first answer reached the partner. The cancel
code is kept only sealed with a key made from the partner's API key and the request body, so
the store alone cannot give it back. The same key with another body is refused (422,
``booking.key_reused``).

**Errors** are ``{"code": …, "description": …}``: 400 (a booking rule refused the request), 401
(no or unknown key), 403 (wrong cancel code), 404, 409 (full, limit, already booked, too late),
413 (body over :data:`MAX_BODY` bytes), 422 (the request does not fit the schema, JSON nested
deeper than :data:`MAX_DEPTH`, a reused key), 429 (rate, with ``Retry-After``) and 503 (the store
cannot be reached: try again after ``Retry-After`` seconds; nothing was written).
"""


import json
import logging
import math
import sqlite3
import threading
import time
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import OneMapError
from i18n import render_note
from layers.errors import BookingError, is_outage
from layers.stores import Store
from office.bookings import BookingDesk, Replay, Resource
from office.contacts import key_hash, replay_key, request_fingerprint
from services.outage import OUTAGES, RETRY_AFTER, internal_body, unavailable_body

log = logging.getLogger(__name__)
#: Outcomes of a booking request that are not a new booking, and their HTTP status.
REFUSALS = {"full": 409, "limit": 409, "already": 409}
#: Largest request body read (a booking is a few hundred bytes).
MAX_BODY = 16_384
#: Deepest JSON nesting read (a booking is one flat object).
MAX_DEPTH = 8
#: Seconds a looked-up key is trusted before it is looked up again (so a revocation takes effect within this).
KEY_CACHE_SECONDS = 2.0

#: Text a field may hold: no control characters (a NUL never reaches the store).
_TEXT = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[str, Field(pattern=_TEXT)]


class ApiError(Exception):
    """A refusal answered as ``{"code": …, "description": …}`` with ``status``."""

    def __init__(self, status: int, code: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.code, self.description, self.headers = status, code, description, headers


class ErrorOut(BaseModel):
    """An error: a code a program can act on and a sentence a person can read."""

    code: str
    description: str


class BookingIn(BaseModel):
    """A booking request."""

    model_config = ConfigDict(extra="forbid")
    resource_id: str = Field(min_length=1, max_length=200, pattern=_TEXT, examples=["court-20"])
    starts_at: str = Field(min_length=1, max_length=40, pattern=_TEXT, examples=["2026-12-05T18:00"])
    phone: str = Field(min_length=1, max_length=40, pattern=_TEXT, examples=["13812345678"])
    area_code: str | None = Field(default=None, max_length=40, pattern=_TEXT)
    waitlist: bool = False


class CancelIn(BaseModel):
    """A cancellation with the resident's code."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40, pattern=_TEXT)


class BookingOut(BaseModel):
    """A booking, with no personal data."""

    booking_id: str
    slot_id: str
    resource_id: str
    department: str
    status: Literal["booked", "waitlisted", "cancelled", "checked_in", "no_show"]
    starts_at: str
    ends_at: str
    area_code: str | None = None
    channel: str | None = None
    created_at: str
    changed_at: str
    purged_at: str | None = None


class BookingAnswer(BaseModel):
    """A booking made (or the first answer again, for a retry): keep the cancel code for the resident.

    ``outcome`` ``repeat`` is the answer to a retry of a booking whose first answer is no longer kept
    (made in the app, before this version, or purged): its cancel code cannot be given again."""

    outcome: Literal["booked", "waitlisted", "repeat"]
    booking: BookingOut
    cancel_code: str | None = None


class StatusAnswer(BaseModel):
    """A booking's status."""

    booking: BookingOut


class CancelAnswer(BaseModel):
    """A cancellation done; the booking moved up from the waiting list into the freed place, if any."""

    outcome: Literal["cancelled"]
    booking: BookingOut
    moved_up_from_waiting_list: str | None = None


class Place(BaseModel):
    """Where a resource is."""

    layer: str
    id: str
    name: str
    lon: float | None = None
    lat: float | None = None


class Rules(BaseModel):
    """Who may book a resource, how far ahead, how many at once, until when one may cancel."""

    who_may_book: str
    area_code: str | None = None
    days_ahead: int
    max_active_per_person: int
    cancel_hours_before: int


class ResourceOut(BaseModel):
    """A bookable facility unit or course."""

    id: str
    kind: Literal["facility", "course"]
    title: str
    department: str
    place: Place
    unit: str | None = None
    capacity: int
    slot_minutes: int | None = None
    hours: str
    rules: Rules
    course: dict[str, str | int | float | bool | None] | None = None


class ResourcesAnswer(BaseModel):
    """Every bookable resource."""

    resources: list[ResourceOut]


class SlotOut(BaseModel):
    """A slot with its places."""

    slot_id: str
    resource_id: str
    starts_at: str
    ends_at: str
    capacity: int
    booked: int
    free: int
    waiting: int


class SlotsAnswer(BaseModel):
    """The bookable slots of one resource."""

    resource: str
    slots: list[SlotOut]


def _answers(*statuses: int) -> dict:
    text = {400: "a booking rule refused the request", 401: "no or unknown key", 403: "wrong cancel code",
            404: "unknown resource or booking", 409: "full, over the limit, already booked or too late",
            413: "body too large", 422: "the request does not fit the schema, or an Idempotency-Key reused",
            429: "rate limited; see Retry-After", 503: "the store cannot be reached; see Retry-After"}
    return {s: {"model": ErrorOut, "description": text[s]} for s in statuses}


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


def json_depth(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class BoundedBody:
    """ASGI middleware: a body is read only up to :data:`MAX_BODY` bytes (413 beyond, whatever
    ``Content-Length`` says) and nested at most :data:`MAX_DEPTH` deep (422 beyond), before any parser
    sees it."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Read, bound and hand on the body."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            await _raw_error(send, 413, "TooLarge", f"A request body may have at most {MAX_BODY} bytes.")
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _raw_error(send, 413, "TooLarge", f"A request body may have at most {MAX_BODY} bytes.")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_depth(body) > MAX_DEPTH:
            await _raw_error(send, 422, "TooDeep", f"JSON nested deeper than {MAX_DEPTH} levels is not read; a "
                                                   "booking is one flat object.")
            return
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _raw_error(send, status: int, code: str, text: str) -> None:
    raw = json.dumps({"code": code, "description": text}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})


def _canonical(body: BookingIn) -> str:
    """The request as compared between a first try and a retry."""
    return json.dumps(body.model_dump(), sort_keys=True, ensure_ascii=False)


def _refused(exc: OneMapError) -> ApiError:
    code = exc.note.code if exc.note is not None else "BadRequest"
    text = render_note(exc.note, "en") if exc.note is not None else str(exc)
    status = {"booking.no_resource": 404, "booking.key_reused": 422}.get(code, 400)
    return ApiError(status, code, text)


def _note_text(code: str) -> str:
    from geo.notes import note

    return render_note(note(code), "en")


BookingId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")]
ResourceId = Annotated[str, Path(min_length=1, max_length=200, pattern=_TEXT)]


def _partner_check(store: Store):
    """The dependency that names the partner of a request from its ``X-API-Key`` (keys looked up at most every
    :data:`KEY_CACHE_SECONDS`, so a revoked key stops within them) and holds it to its rate."""
    limits = RateLimit()
    known: dict[str, tuple[dict, float]] = {}  # key hash → (key row, when looked up)
    api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the partner's API key")

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

    def partner(request: Request, given: Annotated[str | None, Depends(api_key)]) -> dict:
        given = (given or "").strip()
        if not given:
            raise ApiError(401, "NoKey", "Send the partner's API key in the X-API-Key header.")
        found = lookup(key_hash(given))
        if found is None:
            log.warning("booking API: unknown or revoked key from %s", request.client.host if request.client else "?")
            raise ApiError(401, "BadKey", "This API key is unknown or revoked; ask the alliance for a new one.")
        wait = limits.allow(found["key_id"], int(found["per_minute"]))
        if wait is not None:
            raise ApiError(429, "RateLimited", f"More than {found['per_minute']} requests this minute; "
                           f"try again in {wait} s.", headers={"Retry-After": str(wait)})
        return {**found, "api_key": given}

    return partner


def _answer_errors(app: FastAPI) -> None:
    """Every error in the API's one JSON shape: refusals as they are, a request that cannot be read as 422, an
    unreachable store as 503 with ``Retry-After`` (one log line), anything else as 500 with a reference."""

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "description": exc.description}, status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not even text: refused like any body that is not JSON
            return JSONResponse({"code": "BadJson", "description": "The body cannot be read as JSON; send a JSON "
                                                                   "object."}, status_code=422)
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse({"code": code, "description": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg')}")
        text = "; ".join(parts) + ". See /booking/openapi.json."
        return JSONResponse({"code": "InvalidRequest", "description": text}, status_code=422)

    def _store_failure(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            OUTAGES.record(exc, "booking API")
            return JSONResponse(unavailable_body(), status_code=503, headers={"Retry-After": str(RETRY_AFTER)})
        reference = uuid.uuid4().hex[:12]
        log.error("booking API: %s on %s %s (reference %s)", type(exc).__name__, request.method, request.url.path,
                  reference, exc_info=exc)
        return JSONResponse(internal_body(reference), status_code=500)

    # Store errors are answered here (no traceback per request); anything else reaches Starlette's last
    # handler, which answers with the same JSON and logs the traceback of what is then a bug.
    for kind in (OneMapError, SQLAlchemyError, sqlite3.Error, OSError, Exception):
        app.add_exception_handler(kind, _store_failure)


def build_booking_app(store: Store) -> BoundedBody:
    """The booking API over ``store`` (a connection that may write bookings: the app's own), its bodies bounded;
    the FastAPI application itself is its ``app``."""
    desks = DeskCache(store)
    app = FastAPI(title="健身一张图 预约接口 · Fitness One Map booking API", version="2.0",
                  description=__doc__.split("\n\n", 1)[1], docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    _answer_errors(app)
    Partner = Annotated[dict, Depends(_partner_check(store))]  # noqa: N806 (a type alias for the endpoints below)

    @app.get("/resources", response_model=ResourcesAnswer, responses=_answers(503), summary="What is bookable")
    def resources() -> dict:
        return {"resources": [resource_doc(r) for r in desks.get().resources.values()]}

    @app.get("/resources/{resource}/slots", response_model=SlotsAnswer, responses=_answers(400, 404, 422, 503),
             summary="Slots with free places")
    def slots(request: Request, resource: ResourceId,
              first: Annotated[date | None, Query(alias="from", description="first day (YYYY-MM-DD)")] = None,
              days: Annotated[int | None, Query(ge=1, le=60, description="how many days (1 … 60)")] = None) -> dict:
        unknown = set(request.query_params) - {"from", "days"}
        if unknown:
            raise ApiError(400, "UnknownParameter", f"Unknown parameter(s) {', '.join(sorted(unknown))}; "
                                                    "use from (YYYY-MM-DD) and days (1 … 60).")
        try:
            table = desks.get().free_slots(resource, first=first, days=days)
        except BookingError as exc:
            raise _refused(exc) from None
        return {"resource": resource, "slots": table.to_dict("records")}

    @app.post("/bookings", response_model=BookingAnswer, status_code=201,
              responses={200: {"model": BookingAnswer, "description": "a retry of a booking whose first answer is "
                                                                       "no longer kept"},
                         **_answers(400, 401, 404, 409, 413, 422, 429, 503)},
              summary="Book a place")
    def book(body: BookingIn, who: Partner,
             idempotency_key: Annotated[str, Header(
                 alias="Idempotency-Key", min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$",
                 description="the same key and body again: the first answer again")] = None) -> JSONResponse:
        canonical = _canonical(body)
        replay = Replay(request_fingerprint(who["key_id"], canonical), replay_key(who["api_key"], canonical))
        try:
            got = desks.get().book(body.resource_id, body.starts_at, body.phone,
                                   idempotency_key=f"{who['key_id']}/{idempotency_key}" if idempotency_key else None,
                                   area_code=body.area_code, waitlist=body.waitlist, channel="partner",
                                   actor=f"partner:{who['partner']}", replay=replay if idempotency_key else None)
        except BookingError as exc:
            raise _refused(exc) from None
        if got.outcome in REFUSALS:
            raise ApiError(REFUSALS[got.outcome], got.outcome, _note_text("booking." + got.outcome))
        if got.outcome == "repeat" and got.cancel_code is None:
            return JSONResponse({"outcome": "repeat", "booking": got.row, "cancel_code": None}, status_code=200,
                                headers={"Idempotent-Replayed": "true"})
        outcome = got.first_outcome or got.outcome
        headers = {"Idempotent-Replayed": "true"} if got.outcome == "repeat" else {}
        return JSONResponse({"outcome": outcome, "booking": got.row, "cancel_code": got.cancel_code}, status_code=201,
                            headers=headers)

    @app.get("/bookings/{booking}", response_model=StatusAnswer, responses=_answers(401, 404, 422, 429, 503),
             summary="A booking's status")
    def booking(booking: BookingId, who: Partner) -> dict:
        row = store.bookings.get(booking.upper())
        if row is None:
            raise ApiError(404, "booking.not_found", _note_text("booking.not_found"))
        return {"booking": row}

    @app.post("/bookings/{booking}/cancel", response_model=CancelAnswer,
              responses=_answers(401, 403, 404, 409, 413, 422, 429, 503), summary="Cancel with the resident's code")
    def cancel(booking: BookingId, body: CancelIn, who: Partner) -> dict:
        got = desks.get().cancel(booking, body.code, actor=f"partner:{who['partner']}")
        status = {"not_found": 404, "wrong_code": 403, "not_active": 409, "too_late": 409}
        if got.outcome != "cancelled":
            raise ApiError(status[got.outcome], got.outcome, _note_text("booking." + got.outcome))
        return {"outcome": "cancelled", "booking": got.row, "moved_up_from_waiting_list": got.promoted}

    return BoundedBody(app)


def issue_key(store: Store, partner: str, *, per_minute: int = 600) -> tuple[str, str]:
    """A new key for ``partner``: (key id, the key itself — shown once, only its hash is stored)."""
    import secrets

    key_id = "k-" + secrets.token_hex(4)
    api_key = "omk_" + secrets.token_urlsafe(32)
    store.bookings.add_key(key_id=key_id, partner=partner, key_hash=key_hash(api_key), per_minute=per_minute,
                           now=datetime.now().isoformat(timespec="seconds"))
    return key_id, api_key


__all__ = ["build_booking_app", "issue_key", "resource_doc", "DeskCache", "RateLimit",
           "BoundedBody", "json_depth", "MAX_BODY", "MAX_DEPTH", "KEY_CACHE_SECONDS"]

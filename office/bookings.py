"""Booking open school fields, venues (and their courts, lanes, pitches) and fitness courses.

What is bookable is the departments' own data, kept as record tables (imported, versioned,
audited and owned per row like usage records, see :mod:`layers.records`):

- ``bookable``: a resource at a stored place (a venue's court, a school's field) with its
  places per slot, slot length, booking hours (else the place's opening hours) and rules
  (who may book, how many days ahead, active bookings per person, cancellation deadline);
- ``courses``: a course at a place with its schedule (each span one session), places,
  exercise type, intensity, target group and instructor — bookable per session;
- ``closures``: days closed (exams, school events, maintenance) and the school calendar
  (school and public holidays, which switch the hours' ``SH`` / ``PH`` rules).

:class:`BookingDesk` turns those into slots and books, cancels, checks in and marks no-shows
through ``store.bookings``, which enforces capacity atomically.  Times are the city's local
time, naive (``2026-12-05T18:00``).
"""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from geo.hours import OpeningHours, parse_osm_opening_hours
from geo.slots import Slot, calendar_from_ranges, slot_at, slots_between
from layers.errors import BookingError
from layers.stores.booking_table import Cancellation, SlotRequest
from office.contacts import (
    code_hash,
    code_matches,
    encrypt_phone,
    mask_phone,
    new_cancel_code,
    normalize_phone,
    open_answer,
    person_key,
    seal_answer,
)

log = logging.getLogger(__name__)

#: Defaults of a resource's rules where its row leaves them empty.
DEFAULT_RULES = {"who": "everyone", "days_ahead": 7, "max_active": 2, "cancel_hours": 2}
#: Days after its slot that a booking's personal fields are kept (the purge command's default).
RETENTION_DAYS = 90
#: The prefix of a course's resource id.
COURSE_PREFIX = "course-"


@dataclass(frozen=True)
class Resource:
    """One bookable thing: a facility unit or a course, with where it is and its rules."""

    resource_id: str
    kind: str  # "facility" or "course"
    place_layer: str
    place_id: str
    place_name: str
    department: str
    capacity: int
    slot_minutes: int  # 0: each span of the hours is one slot (a course session)
    hours: OpeningHours
    hours_text: str
    unit: str = ""
    who: str = "everyone"
    area_code: str | None = None
    days_ahead: int = 7
    max_active: int = 2
    cancel_hours: int = 2
    lon: float | None = None
    lat: float | None = None
    course: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """What a resident reads: the course title, or the place and its unit."""
        if self.kind == "course":
            return str(self.course.get("title") or self.resource_id)
        return f"{self.place_name} {self.unit}".strip()


@dataclass(frozen=True)
class Booked:
    """A booking made: the outcome, the booking row, its cancel code (for a new booking, and for a partner's
    repeat of the same request) and the outcome the first answer said (``booked`` or ``waitlisted``)."""

    outcome: str
    row: dict | None
    cancel_code: str | None = None
    first_outcome: str | None = None


@dataclass(frozen=True)
class Replay:
    """What lets a partner's retry be answered as the first request was: the request's keyed hash
    (:func:`office.contacts.request_fingerprint`) and the key made from the partner's API key and the body
    (:func:`office.contacts.replay_key`)."""

    request_hash: str
    key: bytes


def _now() -> datetime:
    return datetime.now().replace(second=0, microsecond=0)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M")


def _int(value: object, default: int) -> int:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return default
    return int(value)


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or str(value) == "":
        return None
    return str(value)


class BookingDesk:
    """Bookings over one store: resources from its records and layers, slots, and every booking action.

    Building one reads the three record tables and the places' names, hours and positions;
    the app and the API keep one per state of those (bookings themselves are always read
    live from ``store.bookings``).
    """

    def __init__(self, store, *, places: dict[str, pd.DataFrame] | None = None) -> None:
        self.store = store
        self._places = places
        self._stored: set[str] | None = None
        self.resources = self._load()
        self._calendars: dict[str, dict[date, str]] = {}

    # ----- what is bookable -------------------------------------------------------------------

    def _place_table(self, layer: str) -> pd.DataFrame:
        if self._places is not None and layer in self._places:
            return self._places[layer]
        if self._stored is None:
            self._stored = {i.name for i in self.store.layers.list()}
        if layer not in self._stored:
            return pd.DataFrame(columns=["feature_id", "name", "opening_hours", "lon", "lat"])
        gdf = self.store.layers.read(layer)
        pts = gdf.geometry.to_crs(4326).representative_point()
        names = gdf["name"] if "name" in gdf.columns else gdf.get("school")
        out = pd.DataFrame({"feature_id": gdf["feature_id"].astype(str), "name": names,
                            "opening_hours": gdf.get("opening_hours"), "lon": pts.x, "lat": pts.y})
        if self._places is None:
            self._places = {}
        self._places[layer] = out
        return out

    def _place(self, layer: str, feature_id: str) -> dict | None:
        t = self._place_table(layer)
        hit = t[t["feature_id"] == str(feature_id)]
        return None if hit.empty else hit.iloc[0].to_dict()

    def _load(self) -> dict[str, Resource]:
        out: dict[str, Resource] = {}
        for row in self.store.records.read("bookable", with_department=True).to_dict("records"):
            place = self._place(row["place_layer"], row["place_id"])
            if place is None:
                log.warning("bookable %s names %s %s, which is not stored; left out", row["resource_id"],
                            row["place_layer"], row["place_id"])
                continue
            hours_text = _text(row.get("hours")) or _text(place.get("opening_hours"))
            if hours_text is None:
                log.warning("bookable %s has no hours and its place none; left out", row["resource_id"])
                continue
            out[str(row["resource_id"])] = Resource(
                str(row["resource_id"]), "facility", row["place_layer"], str(row["place_id"]),
                str(place.get("name") or row["place_id"]), str(row["department"]), int(row["capacity"]),
                int(row["slot_minutes"]), parse_osm_opening_hours(hours_text), hours_text,
                unit=_text(row.get("unit")) or "", who=_text(row.get("who_may_book")) or DEFAULT_RULES["who"],
                area_code=_text(row.get("area_code")),
                days_ahead=_int(row.get("days_ahead"), DEFAULT_RULES["days_ahead"]),
                max_active=_int(row.get("max_active"), DEFAULT_RULES["max_active"]),
                cancel_hours=_int(row.get("cancel_hours"), DEFAULT_RULES["cancel_hours"]),
                lon=place.get("lon"), lat=place.get("lat"))
        for row in self.store.records.read("courses", with_department=True).to_dict("records"):
            place = self._place(row["place_layer"], row["place_id"])
            if place is None:
                log.warning("course %s names %s %s, which is not stored; left out", row["course_id"],
                            row["place_layer"], row["place_id"])
                continue
            rid = COURSE_PREFIX + str(row["course_id"])
            out[rid] = Resource(
                rid, "course", row["place_layer"], str(row["place_id"]), str(place.get("name") or row["place_id"]),
                str(row["department"]), int(row["capacity"]), 0, parse_osm_opening_hours(str(row["schedule"])),
                str(row["schedule"]), days_ahead=14, max_active=3, cancel_hours=DEFAULT_RULES["cancel_hours"],
                lon=place.get("lon"), lat=place.get("lat"),
                course={k: row.get(k) for k in ("course_id", "title", "exercise_type", "intensity", "target_group",
                                                "instructor_type", "first_day", "last_day")})
        return out

    def resource(self, resource_id: str) -> Resource:
        """One resource; a coded error naming a few that exist."""
        if resource_id not in self.resources:
            raise BookingError.coded("booking.no_resource", resource=resource_id,
                                     known=", ".join(list(self.resources)[:5]) or "—")
        return self.resources[resource_id]

    def calendar(self, res: Resource) -> dict[date, str]:
        """Day → kind for ``res``: its own closures and its department's ``*`` ones."""
        if res.resource_id not in self._calendars:
            if not hasattr(self, "_closures"):
                self._closures = self.store.records.read("closures", with_department=True)
            c = self._closures
            # only the resource's own department closes it (another's row naming it changes nothing)
            mine = c[((c["resource_id"] == res.resource_id) | (c["resource_id"] == "*"))
                     & (c["department"] == res.department)]
            self._calendars[res.resource_id] = calendar_from_ranges(
                [(pd.Timestamp(r["first_day"]).date(), pd.Timestamp(r["last_day"]).date(), r["day_kind"])
                 for r in mine.to_dict("records")])
        return self._calendars[res.resource_id]

    def _within_term(self, res: Resource, day: date) -> bool:
        first, last = res.course.get("first_day"), res.course.get("last_day")
        if _text(first) is not None and day < pd.Timestamp(first).date():
            return False
        return not (_text(last) is not None and day > pd.Timestamp(last).date())

    def slots(self, resource_id: str, *, first: date, days: int) -> list[Slot]:
        """The slots of a resource over ``days`` days from ``first`` (closures and term applied)."""
        res = self.resource(resource_id)
        last = first + timedelta(days=max(days, 1) - 1)
        out = slots_between(res.hours, first, last, slot_minutes=res.slot_minutes, calendar=self.calendar(res))
        return [s for s in out if self._within_term(res, s.starts_at.date())] if res.kind == "course" else out

    def free_slots(self, resource_id: str, *, first: date | None = None, days: int | None = None,
                   now: datetime | None = None) -> pd.DataFrame:
        """Bookable slots from now to the rule's horizon: start, end, places, taken, free, waiting."""
        res = self.resource(resource_id)
        now = now or _now()
        first = first or now.date()
        horizon = (now.date() + timedelta(days=res.days_ahead))
        days = days if days is not None else (horizon - first).days + 1
        slots = [s for s in self.slots(resource_id, first=first, days=days)
                 if s.starts_at > now and s.starts_at.date() <= horizon]
        cols = ["slot_id", "resource_id", "starts_at", "ends_at", "capacity", "booked", "free", "waiting"]
        if not slots:
            return pd.DataFrame(columns=cols)
        taken = self.store.bookings.slots(resource_ids=[resource_id], first=_iso(slots[0].starts_at),
                                          last=_iso(slots[-1].starts_at + timedelta(minutes=1)))
        taken = taken.set_index("slot_id")["booked"].to_dict()
        waits = self.store.bookings.list(resource_ids=[resource_id], first=_iso(slots[0].starts_at),
                                         last=_iso(slots[-1].starts_at + timedelta(minutes=1)),
                                         statuses=("waitlisted",))
        waiting = waits.groupby("slot_id").size().to_dict() if len(waits) else {}
        rows = []
        for s in slots:
            sid = slot_id(resource_id, s)
            booked = int(taken.get(sid, 0))
            rows.append((sid, resource_id, _iso(s.starts_at), _iso(s.ends_at), res.capacity, booked,
                         max(res.capacity - booked, 0), int(waiting.get(sid, 0))))
        return pd.DataFrame(rows, columns=cols)

    # ----- booking ----------------------------------------------------------------------------

    def book(self, resource_id: str, starts_at: str | datetime, phone: str, *, idempotency_key: str | None = None,
             area_code: str | None = None, waitlist: bool = False, channel: str = "app",
             now: datetime | None = None, actor: str = "resident", replay: Replay | None = None) -> Booked:
        """Book a place in the slot of ``resource_id`` starting at ``starts_at``.

        Outcomes (``Booked.outcome``): ``booked``, ``waitlisted``, ``repeat`` (this
        idempotency key booked before: the first booking is returned), ``full``, ``limit``,
        ``already``.  With ``replay`` (a partner's retry material, :class:`Replay`), the first
        answer is sealed with the booking, and a repeat of the same request gets it back
        (``Booked.first_outcome`` and its cancel code), however the first answer was lost.
        Refusals of the rules raise a coded :class:`~layers.errors.BookingError` (unknown
        resource or slot, too far ahead, in the past, not a resident of the area, group only,
        bad phone; the same idempotency key with another request: ``booking.key_reused``).
        """
        now = now or _now()
        res = self.resource(resource_id)
        start = _parse_time(starts_at)
        phone = normalize_phone(phone)
        if start <= now:
            raise BookingError.coded("booking.past", start=_iso(start))
        if start.date() > now.date() + timedelta(days=res.days_ahead):
            raise BookingError.coded("booking.too_far", start=_iso(start), days=res.days_ahead)
        if res.who in ("street", "community") and res.area_code and not str(area_code or "").startswith(
                res.area_code):
            raise BookingError.coded("booking.area_only", area=res.area_code)
        if res.who == "group" and channel != "partner":
            raise BookingError.coded("booking.group_only")
        slot = slot_at(res.hours, start, slot_minutes=res.slot_minutes, calendar=self.calendar(res))
        if slot is None or (res.kind == "course" and not self._within_term(res, start.date())):
            raise BookingError.coded("booking.no_slot", start=_iso(start), resource=res.title)
        booking_id = "B" + uuid.uuid4().hex[:11].upper()
        code = new_cancel_code()
        request = SlotRequest(slot_id(resource_id, slot), resource_id, res.department, _iso(slot.starts_at),
                              _iso(slot.ends_at), res.capacity)
        sealed = None
        if replay is not None and idempotency_key:
            sealed = seal_answer({"code": code}, replay.key)
        got = self.store.bookings.reserve(
            request, booking_id=booking_id, cancel_hash=code_hash(booking_id, code), person_key=person_key(phone),
            idempotency_key=idempotency_key, max_active=res.max_active, waitlist=waitlist, now=_iso(now),
            area_code=area_code, channel=channel, contact=(encrypt_phone(phone), mask_phone(phone)), actor=actor,
            request_hash=replay.request_hash if replay is not None and idempotency_key else None,
            replay_sealed=sealed)
        if got.outcome in ("booked", "waitlisted"):
            return Booked(got.outcome, got.row, code, got.outcome)
        if got.outcome == "repeat":
            return self._repeat(got, replay)
        return Booked(got.outcome, got.row)

    def _repeat(self, got, replay: Replay | None) -> Booked:
        """The first answer again for a repeat of the same request; a coded refusal for another request."""
        first = got.replay or {}
        if replay is None or not first.get("request_hash"):
            return Booked("repeat", got.row)  # booked in the app, or before answers were kept
        if not hmac.compare_digest(first["request_hash"], replay.request_hash):
            raise BookingError.coded("booking.key_reused")
        answer = open_answer(first.get("replay_sealed"), replay.key)
        if answer is None:  # purged after the retention period
            return Booked("repeat", got.row)
        events = self.store.bookings.events(got.row["booking_id"])
        inserted = events.loc[events["action"] == "insert", "new_status"]
        outcome = str(inserted.iloc[0]) if len(inserted) else str(got.row["status"])
        return Booked("repeat", got.row, answer.get("code"), outcome)

    def cancel(self, booking_id: str, code: str, *, now: datetime | None = None, staff: bool = False,
               actor: str = "resident") -> Cancellation:
        """Cancel with the booking's code (before the resource's deadline unless ``staff``)."""
        now = now or _now()
        booking_id = str(booking_id or "").strip().upper()

        def in_time(row: dict) -> bool:
            res = self.resources.get(row["resource_id"])
            hours = res.cancel_hours if res is not None else DEFAULT_RULES["cancel_hours"]
            return _parse_time(row["starts_at"]) - timedelta(hours=hours) >= now

        return self.store.bookings.cancel(booking_id, check_code=lambda stored: code_matches(booking_id, code, stored),
                                          now=_iso(now), deadline=None if staff else in_time, actor=actor)

    def check_in(self, booking_id: str, *, department: str | None, now: datetime | None = None,
                 actor: str = "staff", through=None) -> dict:
        """Staff of the resource's department check a booked resident in.

        ``through``: the store to write through (a department's database role), else the desk's.
        """
        row = (through or self.store).bookings.set_status(str(booking_id).strip().upper(), "checked_in",
                                             allowed_from=("booked", "no_show"), department=department,
                                             now=_iso(now or _now()), actor=actor)
        if row is None:
            raise BookingError.coded("booking.cannot_check_in", booking=booking_id)
        return row

    def mark_no_shows(self, *, now: datetime | None = None, grace_minutes: int = 15) -> int:
        """Bookings still open ``grace_minutes`` after their slot ended become no-shows; how many."""
        now = now or _now()
        return self.store.bookings.mark_no_shows(ended_before=_iso(now - timedelta(minutes=grace_minutes)),
                                                 now=_iso(now))

    # ----- what bookings tell -----------------------------------------------------------------

    def usage_records(self, *, first: date, last: date) -> pd.DataFrame:
        """Venue-usage rows measured by the booking system, per venue and day from ``first`` to ``last``:
        ``visits`` (check-ins) and ``bookings`` (every booking that held a place: booked, checked in,
        no-show) — a row, 0 included, for every day one of the venue's bookable units was open."""
        cols = ["venue_id", "date", "period", "measure", "count", "source"]
        units: dict[str, list[str]] = {}
        for r in self.resources.values():
            if r.place_layer == "venues":
                units.setdefault(r.place_id, []).append(r.resource_id)
        if not units:
            return pd.DataFrame(columns=cols)
        b = self.store.bookings.list(resource_ids=[u for us in units.values() for u in us], first=first.isoformat(),
                                     last=(last + timedelta(days=1)).isoformat(),
                                     statuses=("booked", "checked_in", "no_show"))
        b["day"] = b["starts_at"].str[:10]
        n_days = (last - first).days + 1
        rows = []
        for venue, ids in sorted(units.items()):
            open_days = sorted({s.starts_at.date().isoformat() for rid in ids
                                for s in self.slots(rid, first=first, days=n_days)})
            mine = b[b["resource_id"].isin(ids)]
            held = mine.groupby("day").size()
            came = mine[mine["status"] == "checked_in"].groupby("day").size()
            for day in sorted(set(open_days) | set(held.index)):
                when = date.fromisoformat(day)
                rows.append((venue, when, "day", "bookings", int(held.get(day, 0)), "booking system"))
                rows.append((venue, when, "day", "visits", int(came.get(day, 0)), "booking system"))
        return pd.DataFrame(rows, columns=cols)

    def sync_usage(self, *, first: date, last: date, user: str) -> int:
        """Write :meth:`usage_records` (upsert by venue, day and measure); the record table's new version,
        or 0 when there was nothing to write."""
        rows = self.usage_records(first=first, last=last)
        if rows.empty:
            return 0
        return self.store.records.write("venue_usage", rows, mode="upsert", user=user, source="booking system")

    def no_show_rates(self, *, first: date | None = None, last: date | None = None) -> pd.DataFrame:
        """Per resource: slots held (checked in + no-show), no-shows and their rate, over past bookings."""
        b = self.store.bookings.list(first=first.isoformat() if first else None,
                                     last=(last + timedelta(days=1)).isoformat() if last else None,
                                     statuses=("checked_in", "no_show"))
        cols = ["resource_id", "title", "held", "no_shows", "rate"]
        if b.empty:
            return pd.DataFrame(columns=cols)
        g = b.groupby("resource_id")["status"].agg(held="size", no_shows=lambda s: int((s == "no_show").sum()))
        g = g.reset_index()
        g["title"] = [self.resources[r].title if r in self.resources else r for r in g["resource_id"]]
        g["rate"] = g["no_shows"] / g["held"]
        return g[cols].sort_values("rate", ascending=False).reset_index(drop=True)


def slot_id(resource_id: str, slot: Slot) -> str:
    """A slot's identity: the resource and its start."""
    return f"{resource_id}@{slot.key}"


def _parse_time(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return datetime.fromisoformat(str(value).strip().replace(" ", "T")).replace(second=0, microsecond=0,
                                                                                     tzinfo=None)
    except ValueError:
        raise BookingError.coded("booking.bad_time", value=str(value)) from None


def purge_personal_data(store, *, retention_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """Delete the personal fields of bookings whose slot began more than ``retention_days`` ago; how many.

    The anonymous rows (resource, slot, status) stay, so usage and no-show counts do not change.
    """
    if retention_days < 0:
        raise BookingError.coded("booking.bad_retention", days=retention_days)
    now = now or _now()
    return store.bookings.purge(slots_before=_iso(now - timedelta(days=retention_days)), now=_iso(now))


__all__ = ["BookingDesk", "Resource", "Booked", "Replay", "purge_personal_data", "slot_id", "RETENTION_DAYS",
           "COURSE_PREFIX", "DEFAULT_RULES"]

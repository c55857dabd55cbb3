"""The health + fitness service package: after a fitness test, the courses near the resident, ranked, with free
slots at the times they can come, a printable sheet with a QR code per course, and a text message for the outbox.

Staff at a health station enter only the outcome category (recommended exercise types, the
highest intensity, the group: hypertension, 60+ …) and where the resident starts (their
community or a point they choose) — no name, no ID number, no measurements.  The walk is the
nearby finder's, so the sheet and the coverage map never disagree on a distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from geo.definitions import metres_for, minutes_for
from geo.nearby import NearbyFinder, Origin
from layers.records import EXERCISE_TYPES, INTENSITIES, TARGET_GROUPS
from office.bookings import BookingDesk, Resource
from office.contacts import encrypt_phone, normalize_phone

#: Parts of the day a resident can come: (first hour, last hour) of a slot's start.
DAY_PARTS: dict[str, tuple[int, int]] = {"morning": (5, 12), "afternoon": (12, 18), "evening": (18, 23)}
#: Longest text message (the gateway's single-message limit in Chinese characters).
SMS_LIMIT = 70
#: Days ahead searched for free slots.
HORIZON_DAYS = 14
#: Slots listed per course.
SLOTS_SHOWN = 3


@dataclass(frozen=True)
class Outcome:
    """A fitness test's outcome as staff enter it: what to do, how hard, for whom."""

    exercise_types: tuple[str, ...]
    max_intensity: str = "moderate"
    target_group: str = "general"

    def __post_init__(self) -> None:
        bad = [x for x in self.exercise_types if x not in EXERCISE_TYPES]
        if bad or self.max_intensity not in INTENSITIES or self.target_group not in TARGET_GROUPS:
            raise ValueError(f"outcome: exercise types from {EXERCISE_TYPES}, intensity from {INTENSITIES}, "
                             f"group from {TARGET_GROUPS}; got {self}")


@dataclass
class CoursePlan:
    """Ranked courses for one outcome and place: ``table`` has one row per course (best first)."""

    origin: Origin
    outcome: Outcome
    minutes: float
    weekdays: tuple[int, ...]
    parts: tuple[str, ...]
    table: pd.DataFrame
    issued_at: datetime
    issuer: str = ""
    notes: list[str] = field(default_factory=list)


COLUMNS = ["rank", "resource_id", "title", "place_name", "place_layer", "department", "walk_m", "walk_min",
           "schedule", "exercise_type", "intensity", "target_group", "instructor_type", "next_slots", "free_next",
           "link", "lon", "lat"]


def place_index(finder: NearbyFinder) -> dict[tuple[str, str], int]:
    """(layer, feature id) → the facility's index in the finder's set (for walks to a course's or resource's place)."""
    t = finder.facilities.table
    return {(str(layer), str(fid)): i for i, (layer, fid) in enumerate(zip(t["layer"], t["feature_id"]))}


def recommend_courses(desk: BookingDesk, finder: NearbyFinder, origin: Origin, outcome: Outcome, *,
                      minutes: float = 15.0, weekdays: tuple[int, ...] = tuple(range(7)),
                      parts: tuple[str, ...] = tuple(DAY_PARTS), now: datetime | None = None,
                      booking_url: str = "", issuer: str = "") -> CoursePlan:
    """Courses that suit ``outcome`` within ``minutes`` of walking, with free slots at the resident's times.

    A course suits when its exercise type is one recommended (any, if none is), its intensity
    is at most ``max_intensity``, and it is for the outcome's group or for everyone.  Ranked by
    group (the outcome's own first), then walk, then the earliest free slot.  ``link`` is the
    booking page for the course's first free slot (``booking_url`` + query), for the QR code.
    """
    now = now or datetime.now().replace(second=0, microsecond=0)
    dist = finder.distances(origin, limit_m=metres_for(minutes))
    where = place_index(finder)
    level = {k: i for i, k in enumerate(INTENSITIES)}
    rows = []
    for res in desk.resources.values():
        if res.kind != "course":
            continue
        c = res.course
        if outcome.exercise_types and c.get("exercise_type") not in outcome.exercise_types:
            continue
        if level.get(str(c.get("intensity")), 99) > level[outcome.max_intensity]:
            continue
        if c.get("target_group") not in (outcome.target_group, "general"):
            continue
        i = where.get((res.place_layer, res.place_id))
        if i is None or not np.isfinite(dist[i]):
            continue
        slots = _slots_at_times(desk, res, weekdays, parts, now)
        if slots.empty:
            continue
        first = slots.iloc[0]
        rows.append({"resource_id": res.resource_id, "title": res.title, "place_name": res.place_name,
                     "place_layer": res.place_layer, "department": res.department, "walk_m": float(dist[i]),
                     "walk_min": minutes_for(float(dist[i])), "schedule": res.hours_text,
                     "exercise_type": c.get("exercise_type"), "intensity": c.get("intensity"),
                     "target_group": c.get("target_group"), "instructor_type": c.get("instructor_type"),
                     "next_slots": slots["starts_at"].head(SLOTS_SHOWN).tolist(), "free_next": int(first["free"]),
                     "link": booking_link(booking_url, res.resource_id, first["starts_at"]),
                     "lon": res.lon, "lat": res.lat,
                     "_group": 0 if c.get("target_group") == outcome.target_group else 1,
                     "_first": first["starts_at"]})
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=COLUMNS)
    else:
        table = table.sort_values(["_group", "walk_m", "_first", "resource_id"]).reset_index(drop=True)
        table["rank"] = np.arange(1, len(table) + 1)
        table = table[COLUMNS]
    return CoursePlan(origin, outcome, minutes, tuple(weekdays), tuple(parts), table, now, issuer)


def _slots_at_times(desk: BookingDesk, res: Resource, weekdays: tuple[int, ...], parts: tuple[str, ...],
                    now: datetime) -> pd.DataFrame:
    free = desk.free_slots(res.resource_id, now=now, first=now.date(),
                           days=min(HORIZON_DAYS, res.days_ahead + 1))
    if free.empty:
        return free
    starts = pd.to_datetime(free["starts_at"])
    hours = starts.dt.hour
    in_part = np.zeros(len(free), dtype=bool)
    for p in parts:
        lo, hi = DAY_PARTS[p]
        in_part |= ((hours >= lo) & (hours < hi)).to_numpy()
    keep = starts.dt.day_of_week.isin(list(weekdays)).to_numpy() & in_part & (free["free"] > 0).to_numpy()
    return free[keep].reset_index(drop=True)


def booking_link(base: str, resource_id: str, starts_at: str) -> str:
    """The booking page for one slot: ``<base>?resource=…&slot=…`` (``base``: the app's booking page URL)."""
    return f"{base.rstrip('?')}?{urlencode({'resource': resource_id, 'slot': starts_at})}"


def sms_text(plan: CoursePlan) -> str:
    """A message of at most :data:`SMS_LIMIT` characters naming the best courses, their place and first slot."""
    head, tail = "【健身一张图】推荐课程：", "。扫推荐单二维码预约。"
    if plan.table.empty:
        return "【健身一张图】附近暂无符合的课程，请咨询健康驿站。"
    parts = []
    for row in plan.table.itertuples():
        when = datetime.fromisoformat(row.next_slots[0])
        piece = f"{row.title}({row.place_name}，周{'一二三四五六日'[when.weekday()]}{when:%H:%M})"
        candidate = head + "；".join([*parts, piece]) + tail
        if len(candidate) > SMS_LIMIT:
            break
        parts.append(piece)
    if not parts:  # even one course is too long: its title and time only
        row = plan.table.iloc[0]
        when = datetime.fromisoformat(row["next_slots"][0])
        text = f"{head}{row['title']}，周{'一二三四五六日'[when.weekday()]}{when:%H:%M}{tail}"
        return text[:SMS_LIMIT]
    return head + "；".join(parts) + tail


def queue_message(store, plan: CoursePlan, phone: str, *, department: str = "health") -> tuple[int, str]:
    """Put the plan's text message in the outbox for ``phone`` (encrypted); (message id, text)."""
    text = sms_text(plan)
    mid = store.bookings.add_message(department=department, booking_id=None,
                                     phone_enc=encrypt_phone(normalize_phone(phone)), body=text,
                                     now=datetime.now().isoformat(timespec="seconds"))
    return mid, text


__all__ = ["place_index", "Outcome", "CoursePlan", "recommend_courses", "booking_link", "sms_text",
           "queue_message", "DAY_PARTS", "SMS_LIMIT", "COLUMNS"]

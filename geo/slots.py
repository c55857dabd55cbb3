"""Bookable time slots from opening hours: a slot length, closed days and the school calendar.

A resource (a school field, a venue's court, a course) is bookable in the spans of its
opening hours (:mod:`geo.hours`); each span is cut into slots of ``slot_minutes`` (a slot
that would run past the span's end is not offered), or is one slot whole when
``slot_minutes`` is 0 (a course session).  Calendar days change what holds:

- ``closed`` (exams, school events, maintenance): no slot that day;
- ``school_holiday`` / ``public_holiday``: the day reads the hours' ``SH`` / ``PH`` rules
  (a school field open all day in the summer holidays, closed on public holidays);
- ``teaching``: an ordinary day (the default).

Spans past midnight end at midnight here: nobody books a field at 2 am.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from geo.hours import OpeningHours

#: What a calendar day may be.
DAY_KINDS = ("teaching", "school_holiday", "public_holiday", "closed")


@dataclass(frozen=True)
class Slot:
    """One bookable slot: its start and end (local time, naive)."""

    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        """The slot's start as text (``2026-12-05T18:00``), its identity within a resource."""
        return self.starts_at.strftime("%Y-%m-%dT%H:%M")


def slots_between(hours: OpeningHours, first: date, last: date, *, slot_minutes: int,
                  calendar: dict[date, str] | None = None) -> list[Slot]:
    """Every slot of ``hours`` from ``first`` to ``last`` (both included), in time order.

    Parameters
    ----------
    slot_minutes : int
        Length of one slot; 0 makes each opening span one slot.
    calendar : dict, optional
        Day → one of :data:`DAY_KINDS` (days not named are ordinary).
    """
    if slot_minutes < 0:
        raise ValueError(f"slot_minutes must be 0 or more, not {slot_minutes}")
    calendar = calendar or {}
    out: list[Slot] = []
    day = first
    while day <= last:
        kind = calendar.get(day, "teaching")
        if kind not in DAY_KINDS:
            raise ValueError(f"calendar day {day}: {kind!r} is not one of {', '.join(DAY_KINDS)}")
        if kind != "closed":
            rule = hours.rule_for(day.weekday(), on=day, public_holiday=kind == "public_holiday",
                                  school_holiday=kind == "school_holiday")
            midnight = datetime.combine(day, datetime.min.time())
            for start, end in (rule.spans if rule is not None else ()):
                end = min(end if end > start else 24 * 60, 24 * 60)
                step = slot_minutes or (end - start)
                at = start
                while at + step <= end:
                    out.append(Slot(midnight + timedelta(minutes=at), midnight + timedelta(minutes=at + step)))
                    at += step
        day += timedelta(days=1)
    out.sort(key=lambda s: s.starts_at)
    return out


def slot_at(hours: OpeningHours, starts_at: datetime, *, slot_minutes: int,
            calendar: dict[date, str] | None = None) -> Slot | None:
    """The slot of ``hours`` starting exactly at ``starts_at``, or ``None`` when there is none."""
    for slot in slots_between(hours, starts_at.date(), starts_at.date(), slot_minutes=slot_minutes,
                              calendar=calendar):
        if slot.starts_at == starts_at:
            return slot
    return None


def calendar_from_ranges(ranges: list[tuple[date, date, str]]) -> dict[date, str]:
    """Day → kind from (first day, last day, kind) ranges; a ``closed`` range wins over a holiday."""
    out: dict[date, str] = {}
    for first, last, kind in ranges:
        day = first
        while day <= last:
            if out.get(day) != "closed":
                out[day] = kind
            day += timedelta(days=1)
    return out


__all__ = ["Slot", "DAY_KINDS", "slots_between", "slot_at", "calendar_from_ranges"]

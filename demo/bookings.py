"""The demo city's bookings: bookable courts, lanes and school fields, fitness courses, a school
calendar, and three weeks of bookings with check-ins and no-shows, made through the real desk.

Dates follow the day the demo is built (the last three weeks and the next one), so every
view has something past and something to book.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from office.bookings import BookingDesk

DEMO_SOURCE = "demo city (synthetic)"
#: Weeks of past bookings made for the demo.
PAST_DAYS = 21


def booking_records(today: date) -> dict[tuple[str, str], pd.DataFrame]:
    """(record kind, department) → rows: what each department makes bookable, its courses and closed days."""
    bookable = {
        "sports": [
            ("venue-004-c1", "venues", "venue-004", "1号篮球场", 10, 60, None, "everyone", None, 7, 2, 2),
            ("venue-004-c2", "venues", "venue-004", "2号篮球场", 10, 60, None, "everyone", None, 7, 2, 2),
            ("venue-003-lane", "venues", "venue-003", "泳道（共 6 道）", 24, 90, None, "everyone", None, 7, 2, 4),
            ("venue-036-pitch", "venues", "venue-036", "5人制足球场", 12, 120, None, "everyone", None, 14, 1, 24),
            ("venue-010-hall", "venues", "venue-010", "羽毛球馆", 16, 60, "Tu-Su 09:00-21:00", "everyone", None, 7,
             2, 2),
        ],
        "education": [
            ("school-001-track", "school_facilities", "school-001-track", "田径场", 40, 60, None, "everyone", None, 7,
             2, 2),
            ("school-001-court", "school_facilities", "school-001-court", "体育馆", 20, 60, None, "everyone", None, 7,
             2, 2),
            ("school-007-track", "school_facilities", "school-007-track", "田径场", 40, 60, None, "street",
             "990101002", 7, 2, 2),
            ("school-009-track", "school_facilities", "school-009-track", "田径场", 30, 120, None, "everyone", None, 7,
             1, 12),
        ],
    }
    cols = ["resource_id", "place_layer", "place_id", "unit", "capacity", "slot_minutes", "hours", "who_may_book",
            "area_code", "days_ahead", "max_active", "cancel_hours"]
    courses = {
        "health": [
            ("C-HT-01", "高血压运动干预（健步走+抗阻）", "health_stations", "health-001", "Tu,Th 09:00-10:00", 15,
             "aerobic", "low", "hypertension", "health_coach"),
            ("C-DM-01", "糖尿病运动处方小组课", "health_stations", "health-005", "Mo,We 16:00-17:00", 12,
             "aerobic", "moderate", "diabetes", "health_coach"),
            ("C-HT-02", "高血压人群八段锦", "health_stations", "health-011", "Mo,We,Fr 08:30-09:30", 20, "taichi",
             "low", "hypertension", "social_instructor"),
        ],
        "sports": [
            ("C-TJ-01", "老年人太极拳", "venues", "venue-008", "Tu,Th,Sa 07:30-08:30", 30, "taichi", "low", "elderly",
             "social_instructor"),
            ("C-BL-01", "老年人平衡与防跌倒", "venues", "venue-020", "We,Fr 09:30-10:30", 20, "balance", "low",
             "elderly", "social_instructor"),
            ("C-WK-01", "滨河健步走", "greenways", "greenway-01", "Sa,Su 07:00-08:00", 40, "aerobic", "low", "general",
             "social_instructor"),
            ("C-WL-01", "减重有氧操", "venues", "venue-024", "Mo,We,Fr 19:00-20:00", 25, "aerobic", "moderate",
             "overweight", "health_coach"),
        ],
        "education": [
            ("C-YT-01", "青少年体能训练营", "school_facilities", "school-001-track", "Sa 09:00-10:30", 30, "strength",
             "vigorous", "youth", "pe_teacher"),
        ],
    }
    ccols = ["course_id", "title", "place_layer", "place_id", "schedule", "capacity", "exercise_type", "intensity",
             "target_group", "instructor_type"]
    exams = today + timedelta(days=10)
    closures = {
        "education": [("*", exams, exams + timedelta(days=1), "closed", "期末考试，学校场地暂停开放"),
                      ("*", date(today.year + (today.month > 1), 1, 24), date(today.year + (today.month > 1), 2, 22),
                       "school_holiday", "寒假"),
                      ("*", date(today.year, 7, 10), date(today.year, 8, 31), "school_holiday", "暑假")],
        "sports": [("venue-003-lane", today + timedelta(days=5), today + timedelta(days=5), "closed", "泳池换水维护")],
    }
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for dept, rows in bookable.items():
        out[("bookable", dept)] = pd.DataFrame(rows, columns=cols).assign(source=DEMO_SOURCE)
    for dept, rows in courses.items():
        frame = pd.DataFrame(rows, columns=ccols).assign(source=DEMO_SOURCE)
        frame["first_day"] = today - timedelta(days=60)
        frame["last_day"] = today + timedelta(days=120)
        out[("courses", dept)] = frame
    for dept, rows in closures.items():
        out[("closures", dept)] = pd.DataFrame(rows, columns=["resource_id", "first_day", "last_day", "day_kind",
                                                              "reason"]).assign(source=DEMO_SOURCE)
    return out


def write_booking_records(store, today: date, *, user: str = "demo-builder") -> None:
    """Write the demo's bookable resources, courses and closures, each department its own rows."""
    for (kind, dept), rows in booking_records(today).items():
        store.records.write(kind, rows, mode="upsert", user=user, source=DEMO_SOURCE, department=dept)


def _phone(rng: np.random.Generator) -> str:
    return "1" + str(rng.choice([3, 5, 7, 8, 9])) + "".join(map(str, rng.integers(0, 10, 9)))


def book_demo(store, *, now: datetime, seed: int = 7, user: str = "demo-builder") -> dict[str, int]:
    """Three weeks of past bookings (checked in or no-show, a few cancelled) and some for the coming week.

    Every booking goes through :class:`~office.bookings.BookingDesk` at the time it would
    have been made; usage records follow from the check-ins.
    """
    rng = np.random.default_rng(seed)
    desk = BookingDesk(store)
    people = [_phone(rng) for _ in range(400)]
    counts = {"booked": 0, "checked_in": 0, "no_show": 0, "cancelled": 0}
    start = (now - timedelta(days=PAST_DAYS)).date()
    with store.bookings.batch():
        _book_weeks(desk, rng, people, counts, start=start, now=now, user=user)
    counts["no_show"] = desk.mark_no_shows(now=now)
    desk.sync_usage(first=start, last=now.date() - timedelta(days=1), user=user)
    return counts


def _book_weeks(desk: BookingDesk, rng: np.random.Generator, people: list[str], counts: dict[str, int], *,
                start: date, now: datetime, user: str) -> None:
    for rid in sorted(desk.resources):
        res = desk.resources[rid]
        for slot in desk.slots(rid, first=start, days=PAST_DAYS + 7):
            if rng.random() > 0.25:
                continue
            past = slot.starts_at < now
            made_at = min(slot.starts_at - timedelta(hours=int(rng.integers(3, 48))), now)
            n = int(rng.integers(1, max(2, int(res.capacity * (0.6 if past else 0.4)))))
            area = "990101002003" if res.who == "street" else None
            for _ in range(n):
                got = desk.book(rid, slot.starts_at, str(rng.choice(people)), now=made_at, area_code=area,
                                actor=user)
                if got.outcome != "booked":
                    continue
                counts["booked"] += 1
                if rng.random() < 0.06:
                    desk.cancel(got.row["booking_id"], got.cancel_code, now=made_at, actor=user)
                    counts["cancelled"] += 1
                elif past and rng.random() < 0.85:
                    desk.check_in(got.row["booking_id"], department=None, now=slot.starts_at, actor=user)
                    counts["checked_in"] += 1


__all__ = ["booking_records", "write_booking_records", "book_demo", "PAST_DAYS"]

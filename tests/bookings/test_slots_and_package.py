"""Slots from hours, calendar and slot length; course imports as departments write them; the service package's
ranking, its 70-character message and its sheet read back (course names, times, QR codes that decode)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import zxingcpp
from pypdf import PdfReader

from demo.bookings import write_booking_records
from exports.course_sheet import write_course_sheet
from exports.sheets import outbox_csv
from geo.hours import parse_opening_hours
from geo.nearby import NearbyFinder
from geo.slots import calendar_from_ranges, slot_at, slots_between
from layers.records import check_records
from office.bookings import BookingDesk
from office.service_package import SMS_LIMIT, Outcome, queue_message, recommend_courses, sms_text
from tests.bookings.helpers import pdf_bitmaps

MONDAY = date(2026, 12, 7)


def test_slots_follow_hours_length_and_calendar():
    hours = parse_opening_hours("周一至周五 18:00-21:00；周六、周日 08:00-12:00；学校假期 08:00-20:00")
    week = slots_between(hours, MONDAY, MONDAY + timedelta(days=6), slot_minutes=60)
    assert [s.starts_at.strftime("%a %H") for s in week[:3]] == ["Mon 18", "Mon 19", "Mon 20"]
    assert len(week) == 5 * 3 + 2 * 4
    ninety = slots_between(hours, MONDAY, MONDAY, slot_minutes=90)  # 18:00-19:30 fits, 19:30-21:00 fits
    assert [(s.starts_at.hour, s.starts_at.minute) for s in ninety] == [(18, 0), (19, 30)]
    calendar = calendar_from_ranges([(MONDAY, MONDAY + timedelta(days=1), "closed"),
                                     (MONDAY + timedelta(days=2), MONDAY + timedelta(days=2), "school_holiday"),
                                     (MONDAY + timedelta(days=1), MONDAY + timedelta(days=1), "school_holiday")])
    days = slots_between(hours, MONDAY, MONDAY + timedelta(days=2), slot_minutes=60, calendar=calendar)
    assert {s.starts_at.date() for s in days} == {MONDAY + timedelta(days=2)}  # closed wins over a holiday
    assert len(days) == 12  # the school holiday's 08:00-20:00
    assert slot_at(hours, datetime(2026, 12, 7, 18, 30), slot_minutes=60) is None
    sessions = slots_between(parse_opening_hours("周二、周四 09:00-10:00"), MONDAY, MONDAY + timedelta(days=6),
                             slot_minutes=0)
    assert [(s.starts_at.weekday(), s.ends_at.hour) for s in sessions] == [(1, 10), (3, 10)]
    with pytest.raises(ValueError, match="closed"):
        slots_between(hours, MONDAY, MONDAY, slot_minutes=60, calendar={MONDAY: "exam"})


def test_a_course_list_with_chinese_headers_and_bad_rows_is_reported_by_row_and_field():
    table = pd.DataFrame({
        "课程编号": ["C1", "C2", "C2", "C4"],
        "课程名称": ["老年人太极拳", "减重操", "减重操", "青少年体能"],
        "场所类型": ["venues", "venues", "venues", "操场"],
        "场所编号": ["venue-008", "venue-024", "venue-024", "school-001-track"],
        "上课时间": ["周二、周四 07:30-08:30", "周一 19:00-20:00", "周一 19:00-20:00", "随时"],
        "名额": ["30", "0", "25", "30"],
        "运动类型": ["taichi", "aerobic", "aerobic", "strength"],
        "强度": ["low", "moderate", "moderate", "vigorous"],
        "适用人群": ["elderly", "overweight", "overweight", "youth"],
    }).astype(str)
    plan = check_records(table, "courses", source="课程.xlsx")
    found = {(p.row, p.field) for p in plan.report.problems}
    assert (3, "capacity") in found  # 0 places (row 3 of the file: header is row 1)
    assert (3, "course_id") in found and (4, "course_id") in found  # the same id twice
    assert (5, "place_layer") in found and (5, "schedule") in found
    assert plan.frame.loc[0, "schedule"] == "Tu,Th 07:30-08:30"
    assert not any(p.row == 2 for p in plan.report.problems)


@pytest.fixture
def package_city(gpkg_store, demo_city, demo_analysis):
    for name in ("venues", "school_facilities", "health_stations", "greenways"):
        gpkg_store.layers.write(name, demo_city.layers[name], user="test")
    write_booking_records(gpkg_store, date.today())
    return gpkg_store, NearbyFinder(demo_analysis.engine)


def test_courses_are_ranked_for_the_outcome_with_free_slots_at_the_residents_times(package_city):
    store, finder = package_city
    desk = BookingDesk(store)
    origin = finder.origin_of_station("health-001")
    plan = recommend_courses(desk, finder, origin, Outcome((), "low", "hypertension"), minutes=40,
                             booking_url="http://onemap.local/booking")
    assert len(plan.table) >= 2
    assert set(plan.table["target_group"]) <= {"hypertension", "general"}
    assert (plan.table["intensity"] == "low").all()
    first_general = np.flatnonzero(plan.table["target_group"].to_numpy() == "general")
    if len(first_general):  # the outcome's own group first, then everyone's courses
        assert (plan.table["target_group"].iloc[:first_general[0]] == "hypertension").all()
    own = plan.table[plan.table["target_group"] == "hypertension"]
    assert own["walk_m"].is_monotonic_increasing
    assert plan.table.iloc[0]["link"].startswith("http://onemap.local/booking?resource=course-")
    mornings = recommend_courses(desk, finder, origin, Outcome(("aerobic",), "low", "hypertension"), minutes=40,
                                 weekdays=(1, 3), parts=("morning",))
    for slots in mornings.table["next_slots"]:
        for s in slots:
            when = datetime.fromisoformat(s)
            assert when.weekday() in (1, 3) and 5 <= when.hour < 12
    text = sms_text(plan)
    assert len(text) <= SMS_LIMIT and plan.table.iloc[0]["title"] in text
    mid, body = queue_message(store, plan, "13812345678")
    queued = store.bookings.messages(department="health")
    assert queued.set_index("message_id").loc[mid, "body"] == body
    assert "13812345678" not in queued.to_string()  # the phone is queued encrypted
    with pytest.raises(ValueError):
        Outcome(("yoga",), "low", "general")
    data, ids = outbox_csv(store, department="health")  # what the SMS gateway gets: phone and text
    assert ids == [mid] and data.decode("utf-8-sig").splitlines()[1] == f"{mid},13812345678,{body}"
    store.bookings.mark_exported(ids, now="2026-12-02T12:00")
    assert outbox_csv(store, department="health")[1] == []


def test_the_sheet_reads_back_with_names_times_and_qr_codes_that_open_the_booking_page(package_city, tmp_path):
    store, finder = package_city
    plan = recommend_courses(BookingDesk(store), finder, finder.origin_of_station("health-001"),
                             Outcome((), "low", "hypertension"), minutes=40, booking_url="http://onemap.local/booking")
    pdf = write_course_sheet(plan, tmp_path / "推荐单.pdf")
    page = PdfReader(pdf).pages[0]
    text = page.extract_text()
    for row in plan.table.head(6).itertuples():
        assert row.title in text
        when = datetime.fromisoformat(row.next_slots[0])
        assert f"{when:%m-%d}" in text and f"{when:%H:%M}" in text
    links = [r.text for image in pdf_bitmaps(pdf) for r in zxingcpp.read_barcodes(image)]
    assert sorted(links) == sorted(plan.table.head(6)["link"])

"""A department acts only in its own lane, tried with real LOGIN roles on PostGIS (a department's QGIS or psql,
around the app) and through the Python API on both stores: identity and times come from the session and the
clock, places and resources from their owners, a slot's held places from its counter, k from the database."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import text

from layers.errors import AccessDeniedError
from office.bookings import BookingDesk
from tests.bookings.helpers import COURT, set_up_court, tomorrow_at
from tests.conftest import try_sql

DENIED, CHECK, LIMIT = "42501", "23514", "54000"


def _report(**over) -> str:
    doc = {"report_id": "FR-20261012-FORGED01", "category": "broken", "lon": 114.3, "lat": 30.6,
           "place_layer": "venues", "place_id": "venue-004", "department": "education", "reporter": "体育局局长",
           "created_at": "2020-01-01 00:00:00", "due_at": "2099-12-31 23:59:59", "changed_at": "2020-01-01 00:00:00"}
    return json.dumps({**doc, **over}, ensure_ascii=False)


@pytest.mark.postgis
def test_a_login_filing_directly_cannot_forge_who_when_where_it_goes_or_a_raw_photo(city_db, login_as):
    viewer, s = login_as("viewer"), city_db.schema
    photo = try_sql(viewer, f'SELECT "{s}".onemap_file_report(CAST(:p AS jsonb), ARRAY[CAST(:b AS bytea)], '
                            "ARRAY[10], ARRAY[10])", p=_report(report_id="FR-20261012-PHOTO001"), b=b"MZ\x90 not a jpeg")
    assert photo == DENIED
    assert try_sql(viewer, f'SELECT "{s}".onemap_file_report(CAST(:p AS jsonb), NULL, NULL, NULL)',
                   p=_report()).startswith("ok")
    row = city_db.field_reports.get("FR-20261012-FORGED01")
    login = f"{s}_viewer_login"
    assert row["reporter"] == login and row["changed_by"] == login  # the session's, not 体育局局长
    assert row["department"] == "sports"  # venue-004's owner, not the education bureau it named
    filed = dt.datetime.strptime(row["created_at"], "%Y-%m-%d %H:%M:%S")
    assert abs((filed - dt.datetime.now()).total_seconds()) < 120  # the database's clock, not 2020
    due = dt.datetime.strptime(row["due_at"], "%Y-%m-%d %H:%M:%S")
    assert due - filed == dt.timedelta(hours=168)  # "broken": the policy's hours, not 2099
    assert city_db.field_reports.photos("FR-20261012-FORGED01") == []


@pytest.mark.postgis
def test_filing_by_a_login_is_rate_bounded(city_db, login_as):
    viewer, s = login_as("viewer"), city_db.schema
    got = [try_sql(viewer, f'SELECT "{s}".onemap_file_report(CAST(:p AS jsonb), NULL, NULL, NULL)',
                   p=_report(report_id=f"FR-20261012-FLOOD{k:03d}")) for k in range(12)]
    assert got[:10] == ["ok -1"] * 10 or all(g.startswith("ok") for g in got[:10])
    assert got[10:] == [LIMIT, LIMIT]


@pytest.mark.postgis
def test_a_workflow_step_is_stamped_by_the_database_clock(city_db, login_as):
    s = city_db.schema
    viewer, sports = login_as("viewer"), login_as("sports")
    assert try_sql(viewer, f'SELECT "{s}".onemap_file_report(CAST(:p AS jsonb), NULL, NULL, NULL)',
                   p=_report()).startswith("ok")
    created = city_db.field_reports.get("FR-20261012-FORGED01")["created_at"]
    assert try_sql(sports, f"UPDATE \"{s}\".onemap_field_reports SET status = 'resolved', changed_at = :t "
                           "WHERE report_id = 'FR-20261012-FORGED01'", t="2020-01-01 00:00:00") == "ok 1"
    row = city_db.field_reports.get("FR-20261012-FORGED01")
    assert row["status"] == "resolved" and row["changed_at"] >= created  # not "at" a moment of its choosing


@pytest.mark.postgis
def test_the_education_login_cannot_close_a_sports_court_nor_record_at_sports_places(city_db, login_as, demo_city):
    set_up_court(city_db, demo_city)
    edu, s = login_as("education"), city_db.schema
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    closure = (f'INSERT INTO "{s}".onemap_records_closures (resource_id, first_day, last_day, day_kind, '
               "record_version, department) VALUES (:r, :d, :d, 'closed', 1, 'education')")
    assert try_sql(edu, closure, r=COURT, d=tomorrow) == DENIED
    assert try_sql(edu, closure, r="*", d=tomorrow).startswith("ok")  # its own resources, all of them: allowed
    bookable = (f'INSERT INTO "{s}".onemap_records_bookable (resource_id, place_layer, place_id, capacity, '
                "slot_minutes, record_version, department) VALUES ('court-x', 'venues', 'venue-004', 9, 60, 1, "
                "'education')")
    assert try_sql(edu, bookable) == DENIED
    incident = (f'INSERT INTO "{s}".onemap_records_incidents (incident_id, place_layer, place_id, occurred_at, '
                "incident_kind, record_version, department) VALUES ('INC-x', 'venues', 'venue-004', "
                "'2026-12-02 19:00', 'injury', 1, 'education')")
    assert try_sql(edu, incident) == DENIED
    desk = BookingDesk(city_db)
    assert len(desk.slots(COURT, first=dt.date.today() + dt.timedelta(days=1), days=1)) == 16  # still open


def test_a_department_cannot_close_another_departments_resource_through_the_app(store, demo_city):
    set_up_court(store, demo_city)
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    row = pd.DataFrame([{"resource_id": COURT, "first_day": tomorrow, "last_day": tomorrow, "day_kind": "closed",
                         "reason": "考试"}])
    with pytest.raises(AccessDeniedError, match="court-20"):
        store.records.write("closures", row, mode="upsert", user="教育局", department="education")
    with pytest.raises(AccessDeniedError, match="venue-004"):
        store.records.write("bookable", pd.DataFrame([{
            "resource_id": "court-x", "place_layer": "venues", "place_id": "venue-004", "unit": None, "capacity": 9,
            "slot_minutes": 60, "hours": None, "who_may_book": None, "area_code": None, "days_ahead": None,
            "max_active": None, "cancel_hours": None}]), mode="upsert", user="教育局", department="education")
    assert len(BookingDesk(store).slots(COURT, first=tomorrow, days=1)) == 16


@pytest.mark.postgis
def test_a_department_cannot_push_its_full_slot_past_capacity_by_updating_a_status(city_db, login_as, demo_city):
    set_up_court(city_db, demo_city, capacity=2)
    desk = BookingDesk(city_db)
    start = tomorrow_at(18)
    first = desk.book(COURT, start, "13800000001")
    desk.book(COURT, start, "13800000002")
    assert desk.cancel(first.row["booking_id"], first.cancel_code).outcome == "cancelled"
    desk.book(COURT, start, "13800000003")
    sports, s = login_as("sports"), city_db.schema
    revive = f"UPDATE \"{s}\".onemap_bookings SET status = 'booked' WHERE booking_id = :b"
    assert try_sql(sports, revive, b=first.row["booking_id"]) == DENIED
    waiting = desk.book(COURT, start, "13800000004", waitlist=True)
    assert try_sql(sports, revive, b=waiting.row["booking_id"]) == DENIED
    held = city_db.bookings.list(resource_ids=[COURT], statuses=("booked", "checked_in", "no_show"))
    assert len(held) == 2 and city_db.bookings.slots(resource_ids=[COURT])["booked"].tolist() == [2]
    # the steps a department does take still work, stamped by the clock
    checked = f"UPDATE \"{s}\".onemap_bookings SET status = 'checked_in', changed_at = '2000-01-01T00:00' " \
              "WHERE booking_id = :b"
    assert try_sql(sports, checked, b=held["booking_id"].iloc[0]) == "ok 1"
    assert city_db.bookings.get(held["booking_id"].iloc[0])["changed_at"] > "2026"


@pytest.mark.postgis
def test_a_health_row_below_k_is_refused_by_the_database_itself(city_db, login_as):
    health, s = login_as("health"), city_db.schema
    insert = (f'INSERT INTO "{s}".onemap_records_health_indicators (unit_code, period, indicator, count, rate, '
              "denominator, record_version, department) VALUES ('990101001001', '2026Q3', 'hypertension_managed', "
              ":c, :r, :d, 1, 'health')")
    assert try_sql(health, insert, c=3, r=None, d=None) == CHECK
    assert try_sql(health, insert, c=None, r=0.05, d=60) == CHECK  # a rate whose numerator is 3 people
    assert try_sql(health, insert, c=42, r=None, d=None).startswith("ok")
    with city_db.engine.begin() as conn:  # k follows the installation's setting
        assert conn.execute(text(f'SELECT value FROM "{s}".onemap_policy WHERE name = \'health_min_count\''))\
            .scalar() == "10"

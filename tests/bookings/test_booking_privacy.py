"""A booking's phone, tried as another department and after the retention period: unreadable, masked, purged;
personal data outside bookings still refused at import."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from layers.errors import BookingError, PersonalDataError
from layers.records import check_records
from office.bookings import BookingDesk, purge_personal_data
from office.contacts import decrypt_phone
from tests.bookings.helpers import COURT, set_up_court, tomorrow_at
from tests.conftest import try_sql

PHONE = "13812345678"


@pytest.fixture
def booked_db(city_db, demo_city):
    """A PostGIS store with roles, the court and one booking by phone."""
    set_up_court(city_db, demo_city)
    got = BookingDesk(city_db).book(COURT, tomorrow_at(18), PHONE)
    assert got.outcome == "booked"
    return city_db, got.row["booking_id"]


def test_the_phone_is_stored_encrypted_and_only_the_owning_department_reads_it(booked_db, login_as):
    store, booking = booked_db
    with store.engine.connect() as conn:  # at rest: neither the number nor its digits in any booking table
        dump = conn.execute(text(f'SELECT row_to_json(c)::text FROM "{store.schema}".onemap_booking_contacts c '
                                 f'UNION ALL SELECT row_to_json(b)::text FROM "{store.schema}".onemap_bookings b '
                                 f"UNION ALL SELECT coalesce(new::text, '') FROM \"{store.schema}\".onemap_audit "
                                 "WHERE layer = 'bookings'")).scalars().all()
    assert dump and not any(PHONE in row or "12345678" in row for row in dump)
    contacts = f'SELECT phone_enc FROM "{store.schema}".onemap_booking_contacts'
    sports, education, viewer = login_as("sports"), login_as("education"), login_as("viewer")
    with sports.connect() as conn:
        own = conn.execute(text(contacts)).scalars().all()
    assert len(own) == 1 and decrypt_phone(own[0]) == PHONE
    for other in (education, viewer):  # another department's login: no row at all
        with other.connect() as conn:
            assert conn.execute(text(contacts)).scalars().all() == []
            assert conn.execute(text(f'SELECT count(*) FROM "{store.schema}".onemap_bookings')).scalar() == 1
    # the anonymous booking is public; the partners' key hashes are not, to any department
    assert try_sql(education, f'SELECT * FROM "{store.schema}".onemap_api_keys') == "42501"
    # a department cannot write bookings, slots or contacts directly, nor check in another's booking
    assert try_sql(education, f'INSERT INTO "{store.schema}".onemap_booking_contacts VALUES '
                              "('x', 'education', 'y', 'z')") == "42501"
    assert try_sql(education, f'UPDATE "{store.schema}".onemap_booking_slots SET booked = 0') == "42501"
    assert try_sql(education, f'UPDATE "{store.schema}".onemap_bookings SET status = \'checked_in\'') == "ok 0"
    assert try_sql(sports, f'UPDATE "{store.schema}".onemap_bookings SET status = \'checked_in\' '
                           "WHERE booking_id = :b", b=booking) == "ok 1"
    assert try_sql(sports, f'UPDATE "{store.schema}".onemap_bookings SET person_key = NULL') == "42501"
    changes = store.bookings.events(booking)
    assert changes["action"].tolist() == ["insert", "update"]
    assert changes["new_status"].tolist() == ["booked", "checked_in"]


def test_the_purge_removes_personal_fields_after_retention_and_keeps_the_counts(store, demo_city):
    set_up_court(store, demo_city)
    desk = BookingDesk(store)
    long_ago = datetime.now() - timedelta(days=120)
    old_slot = (long_ago + timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    old = desk.book(COURT, old_slot, PHONE, now=long_ago)
    desk.check_in(old.row["booking_id"], department="sports", now=old_slot)
    recent = desk.book(COURT, tomorrow_at(18), "13912345678")
    store.bookings.add_message(department="sports", booking_id=old.row["booking_id"],
                               phone_enc=store.bookings.contacts([old.row["booking_id"]])[old.row["booking_id"]][
                                   "phone_enc"], body="提醒", now=long_ago.isoformat())
    before = store.bookings.list(resource_ids=[COURT])
    assert purge_personal_data(store, retention_days=90) == 1
    assert purge_personal_data(store, retention_days=90) == 0  # once only
    after = store.bookings.list(resource_ids=[COURT])
    pd.testing.assert_frame_equal(before.drop(columns="purged_at"), after.drop(columns="purged_at"))
    assert store.bookings.contacts([old.row["booking_id"]]) == {}
    assert set(store.bookings.contacts([recent.row["booking_id"]])) == {recent.row["booking_id"]}
    assert store.bookings.messages()["phone_enc"].isna().all()
    assert "purge" in store.bookings.events(old.row["booking_id"])["action"].tolist()
    # the usage counted from bookings is the same after the purge
    assert desk.usage_records(first=old_slot.date(), last=old_slot.date())["count"].tolist() == [1, 1]
    with pytest.raises(BookingError, match="negative"):
        purge_personal_data(store, retention_days=-1)


def test_phones_outside_bookings_are_still_refused_at_import():
    rows = pd.DataFrame({"课程编号": ["C1"], "课程名称": ["太极"], "联系电话": ["13812345678"]})
    with pytest.raises(PersonalDataError, match="13"):
        check_records(rows, "courses", source="课程.csv")


def test_a_bad_phone_is_refused_with_what_is_accepted(gpkg_store, demo_city):
    set_up_court(gpkg_store, demo_city)
    with pytest.raises(BookingError, match="11-digit"):
        BookingDesk(gpkg_store).book(COURT, tomorrow_at(18), "12345")
    assert gpkg_store.bookings.list().empty

"""Field reports in PostgreSQL, tried as an attacker holding a department's own login: it moves only the
reports its department holds, never rewrites what was reported, never writes the steps, the photos or
the audit, and cannot file a report that skips the inbox."""

from __future__ import annotations

import datetime as dt

import pytest

from layers.stores.postgis.roles import role_name
from office.accounts import Account
from office.field_reports import act, file_report, locate
from tests.conftest import try_sql

pytestmark = pytest.mark.postgis
NOW = dt.datetime(2026, 10, 12, 9, 30)
DENIED = "42501"


@pytest.fixture
def reports(city_db):
    school = str(city_db.layers.read("school_facilities")["feature_id"].iloc[0])
    venue = str(city_db.layers.read("venues")["feature_id"].iloc[0])
    out = {}
    for name, layer, fid in (("school", "school_facilities", school), ("venue", "venues", venue)):
        place, dept, area, label = locate(city_db, layer=layer, feature_id=fid)
        out[name] = file_report(city_db, place=place, department=dept, area_code=area, place_name=label,
                                category="broken", body="篮球架损坏", account=Account("网格员", "viewer", "alliance"),
                                now=NOW)["report_id"]
    return out


def test_a_department_moves_its_own_reports_only_and_what_was_reported_stays(city_db, login_as, reports):
    sports, s = login_as("sports"), city_db.schema
    school, venue = reports["school"], reports["venue"]
    # Another department's report: the row is invisible to the update (row-level security).
    assert try_sql(sports, f"UPDATE {s}.onemap_field_reports SET status = 'resolved' WHERE report_id = :r",
                   r=school).startswith("ok 0")
    assert city_db.field_reports.get(school)["status"] == "new"
    # Its own report: the workflow columns move; what was reported cannot be rewritten.
    assert try_sql(sports, f"UPDATE {s}.onemap_field_reports SET status = 'accepted', changed_at = '2026-10-12 10:00:00' "
                   "WHERE report_id = :r", r=venue) == "ok 1"
    assert try_sql(sports, f"UPDATE {s}.onemap_field_reports SET body = '已修好' WHERE report_id = :r", r=venue) == DENIED
    assert try_sql(sports, f"UPDATE {s}.onemap_field_reports SET due_at = '2030-01-01 00:00:00' WHERE report_id = :r",
                   r=venue) == DENIED
    # The steps name who acted as the database knows it, not a name the attacker writes.
    assert try_sql(sports, f"UPDATE {s}.onemap_field_reports SET changed_by = '教育局局长' WHERE report_id = :r",
                   r=venue) == "ok 1"
    steps = city_db.field_reports.steps(venue)
    assert "教育局局长" not in set(steps["actor"]) and steps["actor"].iloc[-1].endswith("sports_login")
    # Bookkeeping: steps, photos and the audit are the owner's; a report cannot be inserted or deleted directly.
    for sql in (f"INSERT INTO {s}.onemap_field_report_steps (report_id, at, status, department, actor) "
                "VALUES ('x', '2026-10-12', 'resolved', 'sports', 'me')",
                f"DELETE FROM {s}.onemap_field_report_steps",
                f"INSERT INTO {s}.onemap_field_report_photos (report_id, position, jpeg, width, height) "
                f"VALUES ('{venue}', 9, '\\x00', 1, 1)",
                f"DELETE FROM {s}.onemap_field_reports",
                f"INSERT INTO {s}.onemap_field_reports (report_id, category, lon, lat, department, status, created_at, "
                "due_at, changed_at, changed_by) VALUES ('FR-x', 'broken', 0, 0, 'sports', 'resolved', '', '', '', '')",
                f"DELETE FROM {s}.onemap_audit WHERE layer = 'field_reports'"):
        assert try_sql(sports, sql) == DENIED, sql


def test_filing_through_the_function_always_lands_in_the_inbox(city_db, login_as):
    viewer, s = login_as("viewer"), city_db.schema
    got = try_sql(viewer, f"SELECT {s}.onemap_file_report(CAST(:p AS jsonb), NULL, NULL, NULL)",
                  p='{"report_id": "FR-20261012-FORGED01", "category": "broken", "lon": 114, "lat": 30, '
                    '"department": "education", "status": "resolved", "created_at": "2026-10-12 09:00:00", '
                    '"due_at": "2026-10-19 09:00:00", "changed_at": "2026-10-12 09:00:00", "photos": 7}')
    assert got.startswith("ok")
    row = city_db.field_reports.get("FR-20261012-FORGED01")
    assert row["status"] == "new" and row["photos"] == 0  # status and photo count are the function's own
    assert try_sql(viewer, f"UPDATE {s}.onemap_field_reports SET status = 'accepted'") == DENIED


def test_the_app_acting_as_a_department_role_is_held_to_it(city_db, reports):
    sports_store = city_db.as_role(role_name(city_db.schema, "sports"))
    with pytest.raises(Exception):  # the app's own check first: not the holder
        act(sports_store, Account("体育局编辑", "editor", "sports"), reports["school"], "accept")
    # Even if the app's check were wrong, the database moves nothing of another department's.
    assert sports_store.field_reports.move(reports["school"], allowed_from=("new",), status="accepted",
                                           department=None, now="2026-10-12 10:00:00", actor="x") is None
    moved = act(sports_store, Account("体育局编辑", "editor", "sports"), reports["venue"], "reassign",
                reason="属学校设施", to_department="education", now=NOW)
    assert moved["department"] == "education"
    # Handed over, it is no longer the sports bureau's to move.
    assert sports_store.field_reports.move(reports["venue"], allowed_from=("new",), status="accepted",
                                           department=None, now="2026-10-12 11:00:00", actor="x") is None

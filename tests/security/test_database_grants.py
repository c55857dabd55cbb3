"""A department's own LOGIN role on PostGIS, tried as an attacker would: the version log, the audit and the
history are beyond its reach, and who did what is recorded by the database, not taken from the caller."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from layers.errors import AccessDeniedError, SchemaError
from layers.stores.postgis import PostGISStore
from layers.stores.postgis.roles import role_name
from tests.conftest import try_sql

pytestmark = pytest.mark.postgis


def _usage(ids, day: str, counts) -> pd.DataFrame:
    return pd.DataFrame({"venue_id": ids, "date": [pd.Timestamp(day).date()] * len(ids), "period": "day",
                         "measure": "visits", "count": counts})


def _survey(codes, period: str, score: float) -> pd.DataFrame:
    return pd.DataFrame({"unit_code": codes, "period": period, "score": score, "respondents": 120})


@pytest.fixture
def records_db(city_db):
    ids = list(city_db.layers.read("venues")["feature_id"][:3])
    city_db.records.write("venue_usage", _usage(ids, "2026-09-01", [10, 20, 30]), user="体育局")
    city_db.records.write("venue_usage", _usage(ids[:1], "2026-09-01", [11]), user="体育局")  # ends one row
    city_db.records.write("satisfaction", _survey(["Q01", "Q02"], "2026Q3", 80.0), user="联盟办")
    return city_db


def test_bookkeeping_tables_are_not_writable_by_a_department(city_db, login_as):
    s = city_db.schema
    edu = login_as("education")
    attacks = [
        f"INSERT INTO \"{s}\".onemap_layer_versions (kind, layer, layer_version, action, changed_by, changed_at, "
        "n_written, n_total) VALUES ('vector', 'venues', 2147483647, 'replace', 'x', now(), 0, 0)",
        f"UPDATE \"{s}\".onemap_layer_versions SET changed_by = 'sports-bureau-chief'",
        f"DELETE FROM \"{s}\".onemap_layer_versions",
        f"INSERT INTO \"{s}\".onemap_audit (txid, layer, feature_id, action, changed_by, changed_at) "
        "VALUES ('1', 'venues', 'venue-001', 'update', 'sports-bureau-chief', now())",
        f"UPDATE \"{s}\".onemap_audit SET changed_by = 'nobody'",
        f"DELETE FROM \"{s}\".onemap_audit",
        f"INSERT INTO \"{s}\".school_facilities__archive SELECT * FROM \"{s}\".school_facilities__archive",
        f"DELETE FROM \"{s}\".school_facilities__archive",
        f"TRUNCATE \"{s}\".onemap_audit",
        # the owner's functions check the calling role themselves
        f"SELECT \"{s}\".onemap_begin_write('vector', 'venues', 'replace', 'forged')",
        f"SELECT \"{s}\".onemap_record_refused('venues', 'venue-001', '{{}}'::jsonb)",
    ]
    for sql in attacks:
        assert try_sql(edu, sql) == "42501", sql
    # and nothing broke for the owner of venues
    sports = city_db.as_role(role_name(s, "sports"))
    try:
        v = sports.layers.read("venues").iloc[[0]].copy()
        v["capacity"] = 777
        got = sports.layers.edit("venues", v, expected_versions={v["feature_id"].iloc[0]: 1}, user="体育局-王五")
        assert got.layer_version == 2
    finally:
        sports.close()


def test_a_forged_user_name_does_not_change_who_is_recorded(city_db, login_as):
    s = city_db.schema
    edu = login_as("education")
    login = f"{s}_education_login"
    with edu.begin() as conn:
        conn.execute(text("SELECT set_config('onemap.user', 'sports-bureau-chief', false)"))
        conn.execute(text(f'UPDATE "{s}".school_facilities SET area_m2 = 4321 WHERE feature_id = :f'),
                     {"f": "school-001-track"})
    last = city_db.audit.trail("school_facilities", "school-001-track").iloc[-1]
    assert (last["changed_by"], last["db_role"]) == (login, role_name(s, "education"))
    log = city_db.history("school_facilities").iloc[-1]
    assert log["changed_by"] == login and log["action"] == "direct edit"
    # the app's own login vouches for its signed-in user, and the role is kept beside it
    edu_store = city_db.as_role(role_name(s, "education"))
    try:
        rows = edu_store.layers.read("school_facilities")
        row = rows[rows["feature_id"] == "school-002-track"].copy()
        row["opening_hours"] = "Sa,Su 08:00-18:00"
        edu_store.layers.edit("school_facilities", row, expected_versions={"school-002-track": 1}, user="教育局-李四")
    finally:
        edu_store.close()
    last = city_db.audit.trail("school_facilities", "school-002-track").iloc[-1]
    assert (last["changed_by"], last["db_role"]) == ("教育局-李四", role_name(s, "education"))


def test_a_department_cannot_stamp_a_version_of_its_choosing(city_db, login_as):
    s = city_db.schema
    edu = login_as("education")
    forged = (f'INSERT INTO "{s}".school_facilities (feature_id, department, school, facility_kind, open_to_public, '
              "version, layer_version, updated_at, geom) VALUES ('school-x', 'education', 'x', 'court', true, 1, "
              "2147483647, now(), 'SRID=4326;POINT(114.3 30.6)')")
    assert try_sql(edu, forged) == "42501"
    assert city_db.history("school_facilities")["layer_version"].max() == 1


def test_record_rows_belong_to_their_department_and_history_never_changes(records_db, login_as):
    s = records_db.schema
    usage = f'"{s}".onemap_records_venue_usage'
    survey = f'"{s}".onemap_records_satisfaction'
    edu, sports = login_as("education"), login_as("sports")
    # another department's rows: no grant at all, or invisible under row-level security
    assert try_sql(edu, f"UPDATE {usage} SET count = 0") == "42501"
    assert try_sql(edu, f"UPDATE {survey} SET score = 0") == "ok 0"
    assert try_sql(edu, f"DELETE FROM {survey}") == "42501"
    # its own rows: history rows never change, live rows are never edited in place
    assert try_sql(sports, f"UPDATE {usage} SET valid_to = 1 WHERE valid_to IS NOT NULL") == "ok 0"  # not visible
    assert try_sql(sports, f"UPDATE {usage} SET count = count + 1 WHERE valid_to IS NULL") == "42501"
    assert try_sql(sports, f"UPDATE {usage} SET valid_to = 99 WHERE valid_to IS NULL") == "42501"
    assert try_sql(sports, f"DELETE FROM {usage}") == "42501"
    with records_db.engine.begin() as conn:  # even the owner cannot rewrite an ended row
        with pytest.raises(Exception, match="never change"):
            with conn.begin_nested():
                conn.execute(text(f"UPDATE {usage} SET valid_to = 7 WHERE valid_to IS NOT NULL"))
    assert records_db.records.read("venue_usage", version=1)["count"].tolist() == [10, 20, 30]


def test_a_departments_own_record_changes_are_audited(records_db):
    s = records_db.schema
    edu = records_db.as_role(role_name(s, "education"))
    try:
        edu.records.write("satisfaction", _survey(["Q01"], "2026Q3", 91.0), user="教育局-李四", department="education")
        with pytest.raises(AccessDeniedError):
            edu.records.write("venue_usage", _usage(["venue-001"], "2026-09-02", [5]), user="教育局-李四")
    finally:
        edu.close()
    trail = records_db.audit.trail("onemap_records_satisfaction")
    mine = trail[trail["db_role"] == role_name(s, "education")]
    assert len(mine) == 1 and mine.iloc[0]["changed_by"] == "教育局-李四" and mine.iloc[0]["action"] == "insert"
    assert mine.iloc[0]["new"]["department"] == "education"
    # the alliance's own score for Q01 is untouched (education added its own row beside it)
    scores = records_db.records.read("satisfaction")
    assert sorted(scores.loc[scores["unit_code"] == "Q01", "score"]) == [80.0, 91.0]


def test_a_schema_name_is_never_pasted_into_sql(pg_url):
    for bad in ('onemap"; DROP SCHEMA public CASCADE; --', "Onemap", "a b", "1st"):
        with pytest.raises(SchemaError, match="Schema name"):
            PostGISStore(pg_url, schema=bad)


def test_record_writes_are_audited_in_the_geopackage_too(gpkg_store):
    gpkg_store.records.write("venue_usage", _usage(["venue-001", "venue-002"], "2026-09-01", [10, 20]), user="体育局")
    gpkg_store.records.write("venue_usage", _usage(["venue-001"], "2026-09-01", [12]), user="体育局-张三")
    trail = gpkg_store.audit.trail("onemap_records_venue_usage")
    assert list(trail["action"]) == ["insert", "insert", "end", "insert"]
    ended = trail[trail["action"] == "end"].iloc[0]
    assert ended["changed_by"] == "体育局-张三" and ended["old"]["count"] == 10 and ended["new"]["valid_to"] == 2


def test_a_department_records_incidents_at_its_own_places_only(city_db, login_as):
    """Through its own database role, the sports bureau records an incident at a venue; it cannot file one
    as the education bureau's, and the education bureau cannot see or end the sports bureau's incident."""
    import datetime as dt

    from office.accounts import Account
    from office.incidents import record_incident

    s = city_db.schema
    sports_store = city_db.as_role(role_name(s, "sports"))
    try:
        row = record_incident(sports_store, Account("体育局值班员", "editor", "sports"), place_layer="venues",
                              place_id="venue-000", occurred_at=dt.datetime(2026, 12, 2, 19, 30),
                              incident_kind="cardiac_arrest", now=dt.datetime(2026, 12, 2, 19, 40))
    finally:
        sports_store.close()
    table = f'"{s}".onemap_records_incidents'
    sports, edu = login_as("sports"), login_as("education")
    forged = (f"INSERT INTO {table} (incident_id, place_layer, place_id, occurred_at, incident_kind, record_version, "
              "department) VALUES ('INC-x', 'school_facilities', 'school-001-track', '2026-12-02 19:00', 'injury', "
              "1, 'education')")
    assert try_sql(sports, forged) == "42501"  # not as another department's row
    assert try_sql(edu, f"UPDATE {table} SET valid_to = 99") == "ok 0"  # another department's row: not visible
    assert try_sql(edu, f"DELETE FROM {table}") == "42501"
    stored = city_db.records.read("incidents", with_department=True)
    assert stored["incident_id"].tolist() == [row["incident_id"]] and stored["department"].tolist() == ["sports"]
    trail = city_db.audit.trail("onemap_records_incidents")
    assert trail["db_role"].tolist() == [role_name(s, "sports")] and trail["changed_by"].tolist() == ["体育局值班员"]

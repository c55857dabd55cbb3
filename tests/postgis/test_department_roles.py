"""Departments enforced by PostgreSQL: grants and row-level security, checked by connecting as each role."""

from __future__ import annotations

import pytest

from layers.errors import AccessDeniedError
from layers.stores.postgis.roles import role_name
from tests.conftest import try_sql as _try

pytestmark = pytest.mark.postgis


def test_education_cannot_touch_venues_but_edits_its_school_facilities(city_db, login_as):
    s = city_db.schema
    edu = login_as("education")
    assert _try(edu, f'SELECT count(*) FROM "{s}".venues') == "ok 1"  # reads everything
    assert _try(edu, f'UPDATE "{s}".venues SET capacity = 1') == "42501"
    assert _try(edu, f'DELETE FROM "{s}".venues') == "42501"
    assert _try(edu, f'INSERT INTO "{s}".venues (feature_id, department, name, venue_kind, version, layer_version, '
                     "updated_at, geom) VALUES ('x', 'education', 'x', 'gym', 1, 1, now(), 'SRID=4326;POINT(114 30)')") \
        == "42501"
    assert _try(edu, f'UPDATE "{s}".school_facilities SET area_m2 = 4321 '
                     "WHERE feature_id = 'school-001-track'") == "ok 1"
    # The update is in the audit with the role it ran as.
    last = city_db.audit.trail("school_facilities", "school-001-track").iloc[-1]
    assert last["db_role"] == role_name(s, "education") and last["new"]["area_m2"] == 4321


def test_each_department_changes_its_own_layer_and_the_viewer_nothing(city_db, login_as):
    s = city_db.schema
    sports, viewer = login_as("sports"), login_as("viewer")
    assert _try(sports, f'UPDATE "{s}".venues SET capacity = capacity + 1') == f"ok {len(city_db.layers.read('venues'))}"
    assert _try(sports, f'UPDATE "{s}".school_facilities SET area_m2 = 1') == "42501"
    for table in ("venues", "school_facilities", "boundaries", "onemap_layer_versions", "onemap_audit"):
        assert _try(viewer, f'DELETE FROM "{s}"."{table}"') == "42501", table
    assert _try(viewer, f'SELECT count(*) FROM "{s}".school_facilities') == "ok 1"
    for who in (sports, viewer, login_as("admin")):
        assert _try(who, f'SELECT password_hash FROM "{s}".onemap_accounts') == "42501"  # hashes stay with the app


@pytest.mark.parametrize("dept, layer, other", [
    ("sports", "venues", "health_stations"), ("education", "school_facilities", "venues"),
    ("health", "health_stations", "greenways"), ("parks", "greenways", "school_facilities"),
    ("alliance", "boundaries", "venues")])
def test_each_department_changes_its_own_layer_only(city_db, login_as, dept, layer, other):
    s = city_db.schema
    engine = login_as(dept)
    own = int((city_db.layers.read(layer)["department"] == dept).sum())
    assert own > 0
    assert _try(engine, f'UPDATE "{s}"."{layer}" SET source = \'核对\' WHERE department = :d', d=dept) == f"ok {own}"
    assert _try(engine, f'UPDATE "{s}"."{other}" SET source = \'越权\'') == "42501"


def test_shared_layer_rows_belong_to_their_department(city_db, login_as):
    s = city_db.schema
    health = login_as("health")
    # Boundaries are the alliance's: health may add its own rows, not change the alliance's.
    assert _try(health, f'UPDATE "{s}".boundaries SET name = \'x\'') == "ok 0"  # invisible to its policy
    # As QGIS would: the version fields are left to the database (it numbers the edit itself).
    assert _try(health, f'INSERT INTO "{s}".boundaries (feature_id, department, name, code, level, geom) '
                        "VALUES ('h-1', 'health', '驿站服务片区', 'H1', 'community', "
                        "'SRID=4326;POLYGON((114 30,114.01 30,114.01 30.01,114 30))')") == "ok 1"
    assert _try(health, f'INSERT INTO "{s}".boundaries (feature_id, department, name, code, level, geom) '
                        "VALUES ('h-2', 'sports', '冒名', 'H2', 'community', "
                        "'SRID=4326;POLYGON((114 30,114.01 30,114.01 30.01,114 30))')") == "42501"


def test_the_store_as_a_department_role(city_db, demo_city):
    edu = city_db.as_role(role_name(city_db.schema, "education"))
    try:
        venues = edu.layers.read("venues")
        assert len(venues) == len(demo_city.layers["venues"])
        row = venues[venues["feature_id"] == "venue-001"].copy()
        row["capacity"] = 1
        with pytest.raises(AccessDeniedError, match="permission denied for table venues"):
            edu.layers.edit("venues", row, expected_versions={"venue-001": 1}, user="教育局-李四")
        schools = edu.layers.read("school_facilities")
        mine = schools[schools["feature_id"] == "school-002-track"].copy()
        mine["opening_hours"] = "Sa,Su 08:00-18:00"
        edu.layers.edit("school_facilities", mine, expected_versions={"school-002-track": 1}, user="教育局-李四")
        last = city_db.audit.trail("school_facilities", "school-002-track").iloc[-1]
        assert last["changed_by"] == "教育局-李四" and last["db_role"] == role_name(city_db.schema, "education")
    finally:
        edu.close()
    assert city_db.layers.read("venues").set_index("feature_id").loc["venue-001", "capacity"] != 1

"""Feature edits with a version check, the audit trail, and restoring an earlier version (both stores)."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Point

from layers.errors import EditConflictError, StoreError


@pytest.fixture
def venues_store(store, demo_city):
    store.layers.write("venues", demo_city.layers["venues"], user="体育局-初始")
    return store


def _feature(store, fid):
    v = store.layers.read("venues")
    return v[v["feature_id"] == fid].copy()


def test_update_is_audited_and_restore_brings_back_attributes_and_geometry(venues_store):
    store = venues_store
    before = _feature(store, "venue-010")
    edited = before.copy()
    edited["name"] = "青溪全民健身中心（改建）"
    edited["capacity"] = 999
    edited["geometry"] = [Point(114.01, 30.01)]
    store.layers.edit("venues", edited, expected_versions={"venue-010": 1}, user="张三（体育局）")
    trail = store.audit.trail("venues", "venue-010")
    assert list(trail["action"]) == ["insert", "update"]
    change = trail.iloc[-1]
    assert change["changed_by"] == "张三（体育局）" and change["layer_version"] == 2
    assert change["old"]["name"] == before["name"].iloc[0] and change["new"]["name"] == "青溪全民健身中心（改建）"
    assert change["old"]["capacity"] == before["capacity"].iloc[0] and change["new"]["capacity"] == 999
    assert change["new"]["geometry"]["coordinates"] == pytest.approx([114.01, 30.01])

    store.layers.restore_feature("venues", "venue-010", version=1, user="管理员")
    now = _feature(store, "venue-010")
    assert now["name"].iloc[0] == before["name"].iloc[0] and now["capacity"].iloc[0] == before["capacity"].iloc[0]
    assert shapely.equals_exact(now.geometry.iloc[0], before.geometry.iloc[0], tolerance=1e-9)
    assert now["version"].iloc[0] == 3  # history is not rewritten: the restore is a new version
    assert list(store.layers.feature_versions("venues", "venue-010")["version"]) == [1, 2, 3]
    assert list(store.audit.trail("venues", "venue-010")["action"]) == ["insert", "update", "update"]
    with pytest.raises(StoreError, match="no version 7"):
        store.layers.restore_feature("venues", "venue-010", version=7, user="管理员")


def test_second_concurrent_save_is_refused_and_both_versions_stay_in_the_audit(venues_store):
    store = venues_store
    read_by_both = _feature(store, "venue-020")          # two editors open version 1
    first, second = read_by_both.copy(), read_by_both.copy()
    first["name"] = "甲改的名称"
    second["name"] = "乙改的名称"
    store.layers.edit("venues", first, expected_versions={"venue-020": 1}, user="甲")
    with pytest.raises(EditConflictError, match=r"venue-020 \(you edited version 1; version 2 was saved by 甲"):
        store.layers.edit("venues", second, expected_versions={"venue-020": 1}, user="乙")
    assert _feature(store, "venue-020")["name"].iloc[0] == "甲改的名称"  # nothing overwritten silently
    trail = store.audit.trail("venues", "venue-020")
    assert list(trail["action"]) == ["insert", "update", "refused"]
    assert trail.iloc[1]["new"]["name"] == "甲改的名称" and trail.iloc[1]["changed_by"] == "甲"
    refused = trail.iloc[2]
    assert refused["changed_by"] == "乙" and refused["new"]["name"] == "乙改的名称"
    assert refused["new"]["_based_on_version"] == 1 and refused["new"]["_stored_version"] == 2


def test_delete_is_audited_and_a_deleted_feature_can_come_back(venues_store):
    store = venues_store
    n = len(store.layers.read("venues"))
    with pytest.raises(EditConflictError, match="venue-030"):
        store.layers.delete("venues", ["venue-030"], expected_versions={"venue-030": 5}, user="甲")
    store.layers.delete("venues", ["venue-030"], expected_versions={"venue-030": 1}, user="甲")
    assert len(store.layers.read("venues")) == n - 1
    gone = store.audit.trail("venues", "venue-030").iloc[-1]
    assert gone["action"] == "delete" and gone["old"]["feature_id"] == "venue-030" and gone["new"] is None
    store.layers.restore_feature("venues", "venue-030", version=1, user="管理员")
    assert len(store.layers.read("venues")) == n and _feature(store, "venue-030")["version"].iloc[0] == 2


def test_a_replace_that_changes_nothing_adds_no_audit_noise(venues_store, demo_city):
    store = venues_store
    before = len(store.audit.trail("venues"))
    store.layers.write("venues", demo_city.layers["venues"], user="体育局-重导")
    assert len(store.audit.trail("venues")) == before


@pytest.mark.postgis
def test_a_change_made_in_sql_is_audited_by_the_trigger(pg_store, demo_city):
    from sqlalchemy import text

    pg_store.layers.write("venues", demo_city.layers["venues"], user="init")
    with pg_store.engine.begin() as conn:
        conn.execute(text(f'UPDATE "{pg_store.schema}".venues SET capacity = 7 WHERE feature_id = :f'),
                     {"f": "venue-005"})
    last = pg_store.audit.trail("venues", "venue-005").iloc[-1]
    assert last["action"] == "update" and last["new"]["capacity"] == 7 and last["old"]["capacity"] != 7
    assert last["changed_by"] and last["db_role"]  # the database user, since no app user was named


def test_a_layer_restored_to_an_earlier_version(venues_store):
    store = venues_store
    first = store.layers.read("venues")
    changed = first[first["feature_id"].isin(["venue-001", "venue-002"])].copy()
    changed["capacity"] = 5
    store.layers.write("venues", changed, mode="upsert", user="甲")
    store.layers.delete("venues", ["venue-003"], expected_versions={"venue-003": 1}, user="甲")
    result = store.layers.restore("venues", layer_version=1, user="管理员")
    assert result.layer_version == 4
    now = store.layers.read("venues")
    cols = ["feature_id", "name", "capacity", "fee"]
    assert now[cols].reset_index(drop=True).equals(first[cols].reset_index(drop=True))
    assert store.history("venues")["source"].iloc[-1] == "restore of layer version 1"
    with pytest.raises(StoreError, match="no layer version 9"):
        store.layers.restore("venues", layer_version=9, user="管理员")

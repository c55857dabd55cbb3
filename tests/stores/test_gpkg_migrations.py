"""A GeoPackage store made by each earlier release opens in this one: upgraded once, in one transaction, with
everything it held; a file from a newer release is refused, unchanged.  The files in tests/data/stores were made
by the releases' own demo builders (the commits of 2026-11-30 and 2026-12-03), then cut to three features per
layer and five rows per table."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from layers.errors import StoreUnavailableError
from layers.stores.geopackage import GeoPackageStore
from layers.stores.geopackage.migrations import SCHEMA_VERSION, schema_version

RELEASES = sorted((Path(__file__).parents[1] / "data" / "stores").glob("release-*.gpkg"))


def _columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                           "'rtree%' AND name NOT LIKE 'gpkg%' AND name NOT LIKE 'sqlite%'")]
        return {n: {r[1] for r in con.execute(f'PRAGMA table_info("{n}")')} for n in names}


def _rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()


def test_there_is_a_file_of_each_earlier_release():
    assert [p.stem for p in RELEASES] == ["release-2026-11-30", "release-2026-12-03"]


@pytest.mark.parametrize("release", RELEASES, ids=lambda p: p.stem)
def test_an_earlier_release_opens_upgraded_with_all_it_held(release, tmp_path, gpkg_store):
    path = tmp_path / release.name
    shutil.copyfile(release, path)
    before = {t: _rows(path, t) for t in _columns(path) if t.startswith("onemap_") and t != "onemap_meta"}
    venues = _rows(path, "venues")
    with sqlite3.connect(path) as con:
        assert schema_version(con) == 1
    with GeoPackageStore(path) as store:
        read = store.layers.read("venues")
        assert "phone" in store.layers.read("health_stations").columns  # a field the catalogue gained since
        satisfaction = store.records.read("satisfaction")
    with sqlite3.connect(path) as con:
        assert schema_version(con) == SCHEMA_VERSION
    # nothing it held was lost or changed: every row of ours is there, with the values it had
    for table, rows in before.items():
        got = _rows(path, table)
        assert [r[:len(rows[0])] for r in got] == rows if rows else got == [], table
    old_names = {r[8] for r in venues}  # fid, geom, feature_id, source, department, updated_at, version, lv, name
    assert set(read["name"]) == old_names
    assert len(satisfaction) == len(before["onemap_records_satisfaction"])
    # the upgraded file has every column a new store has, in each table both hold
    fresh = _columns(gpkg_store.path)
    upgraded = _columns(path)
    for table in set(fresh) & set(upgraded):
        assert fresh[table] <= upgraded[table], (table, fresh[table] - upgraded[table])
    # and it keeps working: a write, then opening again runs no step
    with GeoPackageStore(path) as store:
        store.layers.write("venues", store.layers.read("venues"), mode="replace", user="upgrade-test")
        assert store.history("venues")["changed_by"].iloc[-1] == "upgrade-test"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    GeoPackageStore(path).close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_file_from_a_newer_release_is_refused_unchanged(tmp_path):
    path = tmp_path / "newer.gpkg"
    shutil.copyfile(RELEASES[-1], path)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE onemap_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreUnavailableError, match="newer release"):
        GeoPackageStore(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_new_store_carries_the_current_schema_number(gpkg_store):
    with sqlite3.connect(gpkg_store.path) as con:
        assert schema_version(con) == SCHEMA_VERSION

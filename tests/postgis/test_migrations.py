"""Alembic migrations: databases at every earlier revision (and the first release's runner) upgrade with
their data intact, and a catalogue field with no revision is refused."""

from __future__ import annotations

import dataclasses

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.schema import CreateSchema

from layers import catalogue
from layers.catalogue import FieldSpec
from layers.errors import SchemaError
from layers.stores.postgis import PostGISStore, normalize_database_url
from layers.stores.postgis.migrations.versions import r0001_baseline
from layers.stores.postgis.schema import (
    alembic_config,
    catalogue_differences,
    check_catalogue,
    current_revision,
    head_revision,
)

pytestmark = pytest.mark.postgis

VENUE = ("INSERT INTO {s}.venues (feature_id, source, department, updated_at, version, layer_version, name, "
         "venue_kind, capacity, geom) VALUES ('venue-legacy', 'first release', 'sports', now(), 1, 1, "
         "'老体育馆', 'gymnasium', 800, 'SRID=4326;POINT(114.3 30.6)')")
LOG = ("INSERT INTO {s}.onemap_layer_versions (kind, layer, layer_version, action, changed_by, changed_at, "
       "source, n_written, n_total) VALUES ('vector', 'venues', 1, 'replace', '体育局', now(), 'first release', 1, 1)")
USAGE = ("INSERT INTO {s}.onemap_records_venue_usage (venue_id, date, period, measure, count, source, "
         "record_version) VALUES ('venue-legacy', '2026-09-01', 'day', 'visits', 321, 'gate counter', 1)")


@pytest.fixture
def engine(pg_url):
    eng = create_engine(normalize_database_url(pg_url))
    yield eng
    eng.dispose()


def _upgrade(engine, schema: str, to: str) -> None:
    with engine.begin() as conn:
        conn.execute(CreateSchema(schema, if_not_exists=True))
        command.upgrade(alembic_config(conn, schema), to)


def _old_data(conn, schema: str, revision: str = "0001") -> None:
    s = f'"{schema}"'
    if revision == "0001":  # the baseline: the app wrote the version log itself
        for sql in (VENUE, LOG, USAGE):
            conn.execute(text(sql.format(s=s)))
        return
    # from 0002 on, versions are opened by the owner's functions and the triggers check them
    conn.execute(text("SELECT set_config('onemap.user', '体育局', true)"))
    conn.execute(text(f"SELECT {s}.onemap_begin_write('vector', 'venues', 'replace', 'first release')"))
    conn.execute(text(VENUE.format(s=s)))
    conn.execute(text(f"SELECT {s}.onemap_end_write('vector', 'venues', 1)"))
    conn.execute(text(f"SELECT {s}.onemap_begin_write('records', 'venue_usage', 'append', 'gate counter')"))
    conn.execute(text(USAGE.format(s=s).replace("source, record_version)", "source, record_version, department)")
                      .replace("'gate counter', 1)", "'gate counter', 1, 'sports')")))


def _check_intact(store: PostGISStore) -> None:
    venues = store.layers.read("venues")
    row = venues.set_index("feature_id").loc["venue-legacy"]
    assert (row["name"], int(row["capacity"]), row["department"]) == ("老体育馆", 800, "sports")
    assert list(store.history("venues")["changed_by"]) == ["体育局"]
    usage = store.records.read("venue_usage")
    assert usage["count"].tolist() == [321]
    with store.engine.connect() as conn:  # the new fields are there, filled for the old rows
        dept = conn.execute(text(f'SELECT department FROM "{store.schema}".onemap_records_venue_usage')).scalar()
        cols = {r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
            "AND table_name = 'onemap_layer_versions'"), {"s": store.schema})}
        assert current_revision(conn, store.schema) == head_revision()
    assert dept == "sports" and {"db_role", "xact"} <= cols


def test_every_earlier_revision_upgrades_with_its_data(pg_url, pg_schema, engine):
    """Built at the baseline with data in it, then opened by this program: upgraded, data intact."""
    from alembic.script import ScriptDirectory

    from layers.stores.postgis.schema import MIGRATIONS_DIR

    revisions = [s.revision for s in reversed(list(ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()))]
    assert revisions[0] == "0001" and len(revisions) >= 2
    for k, rev in enumerate(revisions[:-1]):
        schema = f"{pg_schema}_{k}"
        try:
            _upgrade(engine, schema, rev)
            with engine.begin() as conn:
                _old_data(conn, schema, rev)
            store = PostGISStore(pg_url, schema=schema)
            try:
                _check_intact(store)
                # and it writes: a new version numbered after the old one
                v = store.layers.read("venues")
                v.loc[0, "capacity"] = 900
                got = store.layers.edit("venues", v.iloc[[0]], expected_versions={"venue-legacy": 1}, user="体育局")
                assert got.layer_version == 2
            finally:
                store.close()
        finally:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_a_first_release_database_is_stamped_not_rebuilt(pg_url, pg_schema, engine):
    """The first release's runner left ``onemap_schema_migrations`` at 5 and no Alembic table."""
    with engine.begin() as conn:
        conn.execute(CreateSchema(pg_schema))
        conn.execute(text(f'CREATE TABLE "{pg_schema}".onemap_schema_migrations (version integer PRIMARY KEY, '
                          "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"))
        for v in range(1, 6):
            conn.execute(text(f'INSERT INTO "{pg_schema}".onemap_schema_migrations (version, description) '
                              "VALUES (:v, 'first release')"), {"v": v})
        # the tables as the runner made them: the frozen baseline, applied without Alembic
        from alembic.migration import MigrationContext
        from alembic.operations import Operations

        with Operations.context(MigrationContext.configure(conn)):
            r0001_baseline.upgrade(pg_schema)
        _old_data(conn, pg_schema)
        oid_before = conn.execute(text("SELECT to_regclass(:t)::oid"), {"t": f'"{pg_schema}".venues'}).scalar()
    store = PostGISStore(pg_url, schema=pg_schema)
    try:
        _check_intact(store)
        with store.engine.connect() as conn:
            oid_after = conn.execute(text("SELECT to_regclass(:t)::oid"), {"t": f'"{pg_schema}".venues'}).scalar()
        assert oid_after == oid_before  # the same table, not a rebuilt one
    finally:
        store.close()


def test_a_half_migrated_first_release_database_is_refused(pg_url, pg_schema, engine):
    with engine.begin() as conn:
        conn.execute(CreateSchema(pg_schema))
        conn.execute(text(f'CREATE TABLE "{pg_schema}".onemap_schema_migrations (version integer PRIMARY KEY, '
                          "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"))
        conn.execute(text(f'INSERT INTO "{pg_schema}".onemap_schema_migrations VALUES (3, \'x\', now())'))
    with pytest.raises(SchemaError, match="left at step 3"):
        PostGISStore(pg_url, schema=pg_schema)


def test_a_catalogue_field_without_a_revision_is_refused(pg_store, monkeypatch):
    with pg_store.engine.connect() as conn:
        assert catalogue_differences(conn, pg_store.schema) == []
    venues = catalogue.CATALOGUE["venues"]
    grown = dataclasses.replace(venues, fields=venues.fields + (FieldSpec("lighting", "bool", "夜间照明", "Lighting"),))
    monkeypatch.setitem(catalogue.CATALOGUE, "venues", grown)
    with pg_store.engine.connect() as conn, pytest.raises(SchemaError) as info:
        check_catalogue(conn, pg_store.schema)
    message = str(info.value)
    assert f"{pg_store.schema}.venues.lighting" in message and f"{pg_store.schema}.venues__archive.lighting" in message
    assert "Alembic revision" in message

"""PostGIS specifics: schema, indexes, migrations, connection and permission errors."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from layers.catalogue import CATALOGUE
from layers.errors import SchemaError, StoreUnavailableError
from layers.stores import open_store
from layers.stores.postgis import PostGISStore, normalize_database_url
from layers.stores.postgis.schema import archive_name, current_revision, head_revision, migrate

pytestmark = pytest.mark.postgis


def test_tables_match_catalogue_with_srid_and_gist(pg_store):
    insp = inspect(pg_store.engine)
    for name, spec in CATALOGUE.items():
        for table in (name, archive_name(name)):
            cols = {c["name"] for c in insp.get_columns(table, schema=pg_store.schema)}
            assert {f.name for f in spec.all_fields} | {"geom", "fid"} <= cols, table
        with pg_store.engine.connect() as conn:
            srid = conn.execute(text("SELECT srid FROM geometry_columns WHERE f_table_schema = :s "
                                     "AND f_table_name = :t"), {"s": pg_store.schema, "t": name}).scalar()
            methods = conn.execute(text(
                "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am am ON am.oid = c.relam JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = :s AND t.relname = :t"),
                {"s": pg_store.schema, "t": name}).scalars().all()
        assert srid == 4326 and "gist" in methods, name


def test_migrations_are_recorded_and_idempotent(pg_store):
    with pg_store.engine.begin() as conn:
        assert migrate(conn, pg_store.schema) == []
        assert current_revision(conn, pg_store.schema) == head_revision()


def test_newer_schema_is_refused(pg_url, pg_store):
    with pg_store.engine.begin() as conn:
        conn.execute(text(f'UPDATE "{pg_store.schema}".alembic_version SET version_num = \'9999_future\''))
    with pytest.raises(SchemaError, match="newer than this program"):
        PostGISStore(pg_url, schema=pg_store.schema)


def test_unreachable_database_url():
    with pytest.raises(StoreUnavailableError, match="Cannot reach the database.*unset DATABASE_URL"):
        open_store("postgresql://onemap:secret@127.0.0.1:1/nowhere")


def test_password_is_not_shown(pg_url):
    with pytest.raises(StoreUnavailableError) as info:
        open_store("postgresql://onemap:hunter2@127.0.0.1:1/nowhere")
    assert "hunter2" not in str(info.value)


def test_database_without_postgis(pg_url):
    """A user who may not create the extension gets told who must."""
    admin = create_engine(normalize_database_url(pg_url), isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    db, role, password = f"onemap_nopostgis_{suffix}", f"onemap_plain_{suffix}", uuid.uuid4().hex
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN PASSWORD \'{password}\''))
        conn.execute(text(f'CREATE DATABASE "{db}" OWNER "{role}"'))
    try:
        port = make_url(normalize_database_url(pg_url)).query.get("port") or 5432
        url = f"postgresql://{role}:{password}@127.0.0.1:{port}/{db}"
        with pytest.raises(SchemaError, match="no PostGIS extension.*CREATE EXTENSION postgis"):
            open_store(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_failed_write_rolls_back(pg_store, demo_city):
    """A database-level failure in the middle of a write leaves the previous rows."""
    from layers.errors import StoreError

    pg_store.layers.write("venues", demo_city.layers["venues"], source="demo")
    before = pg_store.layers.read("venues")
    with pg_store.engine.begin() as conn:  # make the COPY fail after archive+delete ran
        conn.execute(text(f'ALTER TABLE "{pg_store.schema}".venues ADD CONSTRAINT no_new_rows '
                          "CHECK (layer_version < 2) NOT VALID"))
    with pytest.raises(StoreError, match="nothing was written"):
        pg_store.layers.write("venues", demo_city.layers["venues"].iloc[:5], source="demo")
    after = pg_store.layers.read("venues")
    assert after["feature_id"].tolist() == before["feature_id"].tolist()
    assert len(pg_store.history("venues")) == 1
    with pg_store.engine.connect() as conn:
        archived = conn.execute(text(f'SELECT count(*) FROM "{pg_store.schema}".venues__archive')).scalar()
    assert archived == 0

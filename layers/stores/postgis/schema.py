"""The PostGIS schema: tables derived from the catalogue, and the migrations that build it.

Migrations are numbered and applied in order, each in its own transaction under an
advisory lock, and recorded in ``onemap_schema_migrations``; a database whose schema is
newer than this program knows is refused rather than written wrongly.  A change to the
catalogue ships with a new migration (``tests/postgis/test_schema.py`` fails otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Column, Connection, Date, DateTime, Float, Index,
                        Integer, LargeBinary, MetaData, Table, Text, func, select, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateSchema

from layers.errors import SchemaError
from layers.catalogue import CATALOGUE, FieldSpec, LayerSpec
from layers.records import RECORDS, RecordSpec

VERSIONS_TABLE = "onemap_layer_versions"
RASTERS_TABLE = "onemap_rasters"
SCENARIOS_TABLE = "onemap_scenarios"
MIGRATIONS_TABLE = "onemap_schema_migrations"
AUDIT_TABLE = "onemap_audit"
ACCOUNTS_TABLE = "onemap_accounts"
GEOMETRY_COLUMN = "geom"
#: Advisory-lock key serialising migrations (any fixed 64-bit number).
_MIGRATION_LOCK = 4_104_202_511


def _column_type(f: FieldSpec):
    if f.type == "float":
        return Float(precision=53)
    if f.type == "datetime":
        return DateTime(timezone=True)
    if f.type == "date":
        return Date()
    return {"text": Text, "hours": Text, "int": BigInteger, "bool": Boolean}[f.type]()


def _layer_columns(spec: LayerSpec) -> list[Column]:
    cols = [Column(f.name, _column_type(f), nullable=not (f.required or f.name in (
        "version", "layer_version", "updated_at"))) for f in spec.all_fields]
    cols.append(Column(GEOMETRY_COLUMN, Geometry("GEOMETRY", srid=4326, spatial_index=True),
                       nullable=False))
    return cols


def archive_name(layer: str) -> str:
    """Name of the table holding a layer's earlier feature states."""
    return f"{layer}__archive"


def records_table(spec: RecordSpec) -> str:
    """Name of the table holding a record kind's rows (every version of them)."""
    return f"onemap_records_{spec.name}"


def build_metadata(schema: str) -> MetaData:
    """SQLAlchemy tables of the whole store in ``schema``."""
    md = MetaData(schema=schema)
    for spec in CATALOGUE.values():
        Table(spec.name, md, Column("fid", BigInteger, primary_key=True, autoincrement=True),
              *_layer_columns(spec),
              Index(f"uq_{spec.name}_feature_id", "feature_id", unique=True))
        Table(archive_name(spec.name), md,
              Column("fid", BigInteger, primary_key=True, autoincrement=True),
              *_layer_columns(spec), Column("valid_to", Integer, nullable=False),
              Index(f"ix_{spec.name}_archive_fid", "feature_id"),
              Index(f"ix_{spec.name}_archive_span", "layer_version", "valid_to"))
    Table(VERSIONS_TABLE, md,
          Column("kind", Text, primary_key=True), Column("layer", Text, primary_key=True),
          Column("layer_version", Integer, primary_key=True),
          Column("action", Text, nullable=False), Column("changed_by", Text, nullable=False),
          Column("changed_at", DateTime(timezone=True), nullable=False),
          Column("source", Text), Column("n_written", BigInteger, nullable=False),
          Column("n_total", BigInteger, nullable=False))
    Table(RASTERS_TABLE, md,
          Column("name", Text, primary_key=True), Column("layer_version", Integer, primary_key=True),
          Column("content", LargeBinary, nullable=False))
    Table(SCENARIOS_TABLE, md,
          Column("name", Text, primary_key=True), Column("saved_by", Text, nullable=False),
          Column("saved_at", DateTime(timezone=True), nullable=False), Column("payload", JSONB, nullable=False))
    Table(AUDIT_TABLE, md, Column("audit_id", BigInteger, primary_key=True, autoincrement=True),
          Column("txid", Text, nullable=False), Column("layer", Text, nullable=False),
          Column("feature_id", Text, nullable=False), Column("action", Text, nullable=False),
          Column("changed_by", Text, nullable=False), Column("db_role", Text),
          Column("changed_at", DateTime(timezone=True), nullable=False), Column("layer_version", Integer),
          Column("old", JSONB), Column("new", JSONB),
          Column("old_geom", Geometry("GEOMETRY", srid=4326, spatial_index=False)),
          Column("new_geom", Geometry("GEOMETRY", srid=4326, spatial_index=False)),
          Index("ix_audit_feature", "layer", "feature_id"))
    Table(ACCOUNTS_TABLE, md, Column("username", Text, primary_key=True),
          Column("password_hash", Text, nullable=False), Column("role", Text, nullable=False),
          Column("department", Text), Column("failed_attempts", Integer, nullable=False, server_default="0"),
          Column("locked_until", Text), Column("created_at", Text, nullable=False), Column("last_sign_in", Text))
    for spec in RECORDS.values():
        Table(records_table(spec), md, Column("rid", BigInteger, primary_key=True, autoincrement=True),
              *[Column(f.name, _column_type(f), nullable=not f.required) for f in spec.fields],
              Column("record_version", Integer, nullable=False), Column("valid_to", Integer),
              Index(f"ix_{spec.name}_records_key", *spec.key))
    return md


def _migrations_table(schema: str) -> Table:
    return Table(MIGRATIONS_TABLE, MetaData(schema=schema),
                 Column("version", Integer, primary_key=True),
                 Column("description", Text, nullable=False),
                 Column("applied_at", DateTime(timezone=True), nullable=False,
                        server_default=func.now()))


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema."""

    version: int
    description: str
    apply: Callable[[Connection, str], None]


def _initial(conn: Connection, schema: str) -> None:
    md = build_metadata(schema)
    later = {SCENARIOS_TABLE, AUDIT_TABLE, ACCOUNTS_TABLE} | {records_table(r) for r in RECORDS.values()}
    md.create_all(conn, tables=[t for t in md.sorted_tables if t.name not in later])


def _scenarios(conn: Connection, schema: str) -> None:
    build_metadata(schema).tables[f"{schema}.{SCENARIOS_TABLE}"].create(conn, checkfirst=True)


def _records(conn: Connection, schema: str) -> None:
    md = build_metadata(schema)
    for spec in RECORDS.values():
        md.tables[f"{schema}.{records_table(spec)}"].create(conn, checkfirst=True)


def _state(spec: LayerSpec, alias: str) -> str:
    """A row of a layer table as the audit keeps it: its fields (the geometry goes in its own column)."""
    pairs = ", ".join(f"'{f.name}', {alias}.{f.name}" for f in spec.all_fields)
    return f"jsonb_build_object({pairs})"


def audit_function_sql(schema: str, spec: LayerSpec) -> str:
    """The statement-level trigger function that records every row a statement on ``spec``'s
    table inserts, updates or deletes: one INSERT … SELECT over the transition tables.

    Who: the app's signed-in user (``onemap.user``, set per transaction by the store) or
    else the database user; ``db_role`` is the role the statement ran as.
    """
    who = "coalesce(nullif(current_setting('onemap.user', true), ''), session_user)"
    head = (f'INSERT INTO "{schema}".{AUDIT_TABLE} (txid, layer, feature_id, action, changed_by, db_role, '
            "changed_at, layer_version, old, new, old_geom, new_geom) ")
    return f"""
CREATE OR REPLACE FUNCTION "{schema}".onemap_audit_{spec.name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {head}SELECT txid_current()::text, TG_TABLE_NAME, n.feature_id, 'insert', {who}, current_user, now(),
      n.layer_version, NULL, {_state(spec, 'n')}, NULL, n.geom FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    {head}SELECT txid_current()::text, TG_TABLE_NAME, o.feature_id, 'delete', {who}, current_user, now(),
      o.layer_version, {_state(spec, 'o')}, NULL, o.geom, NULL FROM old_rows o;
  ELSE
    {head}SELECT txid_current()::text, TG_TABLE_NAME, n.feature_id, 'update', {who}, current_user, now(),
      n.layer_version, {_state(spec, 'o')}, {_state(spec, 'n')}, o.geom, n.geom
      FROM new_rows n JOIN old_rows o ON o.fid = n.fid;
  END IF;
  RETURN NULL;
END $$;"""


def _audit(conn: Connection, schema: str) -> None:
    build_metadata(schema).tables[f"{schema}.{AUDIT_TABLE}"].create(conn, checkfirst=True)
    for spec in CATALOGUE.values():
        conn.execute(text(audit_function_sql(schema, spec)))
        for op, ref in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            conn.execute(text(
                f'CREATE TRIGGER onemap_audit_{op.lower()} AFTER {op} ON "{schema}"."{spec.name}" '
                f'REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".onemap_audit_{spec.name}()'))


def _accounts(conn: Connection, schema: str) -> None:
    build_metadata(schema).tables[f"{schema}.{ACCOUNTS_TABLE}"].create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "catalogue layers, archives, version log, rasters", _initial),
    Migration(2, "saved planning scenarios", _scenarios),
    Migration(3, "record tables: venue usage, satisfaction surveys", _records),
    Migration(4, "audit trail: every row inserted, updated or deleted, by triggers", _audit),
    Migration(5, "accounts for sign-in (password hashes only)", _accounts),
)


def schema_version(conn: Connection, schema: str) -> int:
    """The highest migration applied in ``schema`` (0 for none)."""
    exists = conn.execute(text("SELECT to_regclass(:t)"),
                          {"t": f'"{schema}".{MIGRATIONS_TABLE}'}).scalar()
    if exists is None:
        return 0
    table = _migrations_table(schema)
    return int(conn.execute(select(func.coalesce(func.max(table.c.version), 0))).scalar())


def migrate(conn: Connection, schema: str) -> list[int]:
    """Apply the migrations ``schema`` lacks; returns the versions applied.

    Runs inside the caller's transaction (use ``engine.begin()``).

    Raises
    ------
    SchemaError
        When the schema was made by a newer version of this program.
    """
    conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
    conn.execute(CreateSchema(schema, if_not_exists=True))
    table = _migrations_table(schema)
    table.create(conn, checkfirst=True)
    have = schema_version(conn, schema)
    newest = MIGRATIONS[-1].version
    if have > newest:
        raise SchemaError(
            f"Schema {schema!r} is at version {have}, newer than this program's {newest}. "
            "Upgrade the program (git pull; make setup) before using this database."
        )
    applied = []
    for m in MIGRATIONS:
        if m.version > have:
            m.apply(conn, schema)
            conn.execute(table.insert().values(version=m.version, description=m.description))
            applied.append(m.version)
    return applied

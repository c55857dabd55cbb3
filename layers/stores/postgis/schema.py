"""The PostGIS schema: the tables the store queries (derived from the catalogue), and migrating to them.

Migrations are Alembic revisions (``layers/stores/postgis/migrations/versions``), applied in
one transaction under an advisory lock when a store opens; each store schema keeps its own
``alembic_version``.  A database built by the first release's numbered runner is recognised
and stamped at the baseline, not rebuilt.  After upgrading, the catalogue is compared with
the database: a catalogue field that no revision created is an error, so a change to the
catalogue always ships with its revision.
"""

from __future__ import annotations

import re
from pathlib import Path

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateSchema

from layers.catalogue import CATALOGUE, FieldSpec, LayerSpec
from layers.errors import SchemaError
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
          Column("n_total", BigInteger, nullable=False), Column("db_role", Text), Column("xact", Text))
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
              Column("department", Text, nullable=False),
              Index(f"ix_{spec.name}_records_key", *spec.key))
    return md


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The last revision of the first release's own runner, recognised in old databases.
OLD_RUNNER_LAST = 5
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    """Refuse a schema name that is not a plain lower-case identifier (it names roles too)."""
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise SchemaError(f"Schema name {schema!r}: use lower-case letters, digits and '_' (at most 63), "
                          "starting with a letter or '_'.")
    return schema


def alembic_config(conn: Connection, schema: str):
    """An Alembic configuration that migrates ``schema`` on ``conn`` (inside its transaction)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    cfg.attributes["schema"] = schema
    return cfg


def head_revision() -> str:
    """The newest revision this program knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(conn: Connection, schema: str) -> str | None:
    """The revision ``schema`` is at (``None`` before the first)."""
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": f'"{schema}".alembic_version'}).scalar() is None:
        return None
    return conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()


def _old_runner_version(conn: Connection, schema: str) -> int | None:
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": f'"{schema}".{MIGRATIONS_TABLE}'}).scalar() is None:
        return None
    return int(conn.execute(text(f'SELECT coalesce(max(version), 0) FROM "{schema}".{MIGRATIONS_TABLE}')).scalar())


def migrate(conn: Connection, schema: str) -> list[str]:
    """Bring ``schema`` to the head revision; returns the revisions applied (oldest first).

    Runs inside the caller's transaction (use ``engine.begin()``).

    Raises
    ------
    SchemaError
        A schema made by a newer program, an old-runner schema left half-way, or a
        catalogue field that no revision created.
    """
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    check_schema_name(schema)
    conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
    conn.execute(CreateSchema(schema, if_not_exists=True))
    cfg = alembic_config(conn, schema)
    script = ScriptDirectory.from_config(cfg)
    have = current_revision(conn, schema)
    if have is None:
        old = _old_runner_version(conn, schema)
        if old is not None:
            if old != OLD_RUNNER_LAST:
                raise SchemaError(f"Schema {schema!r} was left at step {old} of the first release's runner; open it "
                                  "once with that release to finish, then with this one.")
            command.stamp(cfg, "0001")
            have = "0001"
    elif have not in {s.revision for s in script.walk_revisions()}:
        raise SchemaError(f"Schema {schema!r} is at revision {have}, newer than this program knows "
                          f"(head {script.get_current_head()}). Upgrade the program (git pull; make setup) "
                          "before using this database.")
    pending = [s.revision for s in reversed(list(script.walk_revisions(have or "base", "heads")))
               if s.revision != have]
    try:
        command.upgrade(cfg, "head")
    except CommandError as exc:
        raise SchemaError(f"Cannot migrate schema {schema!r}: {exc}") from None
    check_catalogue(conn, schema)
    return pending


def known_revisions() -> set[str]:
    """Every Alembic revision this program has (a store at another was made by a newer release)."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def catalogue_differences(conn: Connection, schema: str) -> list[str]:
    """Tables and columns the catalogue has and the database lacks (``schema.table.column``)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def include_name(name, type_, parent_names):
        return name == schema if type_ == "schema" else True

    ctx = MigrationContext.configure(conn, opts={"include_schemas": True, "include_name": include_name,
                                                 "compare_type": False})
    missing = []
    for diff in compare_metadata(ctx, build_metadata(schema)):
        step = diff[0] if isinstance(diff, tuple) else diff[0][0]
        if step == "add_table":
            missing.append(f"{schema}.{diff[1].name}")
        elif step == "add_column":
            missing.append(f"{schema}.{diff[2]}.{diff[3].name}")
    return missing


def check_catalogue(conn: Connection, schema: str) -> None:
    """Refuse a catalogue that the head revision does not match.

    Raises
    ------
    SchemaError
        Naming each table or column that has no revision creating it.
    """
    missing = catalogue_differences(conn, schema)
    if missing:
        raise SchemaError("The layer catalogue has table(s) or column(s) that no migration creates: "
                          + ", ".join(missing) + ". Add an Alembic revision in layers/stores/postgis/migrations/"
                          "versions for them.")

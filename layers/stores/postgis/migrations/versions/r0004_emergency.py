"""Emergency linkage: the ``aeds`` and ``hospitals`` layers, one-way and speed on the road network, a
phone for health stations, and the ``incidents`` record table.

- ``aeds`` / ``hospitals``: layer tables like the others (archive, indexes, the triggers that
  archive, version and audit every change: ``onemap_attach_layer``).
- ``walk_network`` gains ``oneway`` and ``maxspeed`` (OSM's tags; the drive network reads them,
  walking ignores them); ``health_stations`` gains ``phone``; archives too.
- ``onemap_records_incidents``: incidents at a place (no personal data), a department per row,
  rows added and never edited, audited like every record table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The system columns every layer carries: (name, SQL type, not null).
SYSTEM = [("feature_id", "text", True), ("source", "text", False), ("department", "text", True),
          ("updated_at", "timestamptz", True), ("version", "bigint", True), ("layer_version", "bigint", True)]
#: New layers and their own columns.
LAYERS = {
    "aeds": [("name", "text", True), ("building", "text", False), ("floor", "text", False),
             ("opening_hours", "text", False), ("owner", "text", False), ("last_inspection", "date", False),
             ("phone", "text", False)],
    "hospitals": [("name", "text", True), ("grade", "text", False), ("emergency", "boolean", True),
                  ("chest_pain_centre", "boolean", False), ("stroke_centre", "boolean", False),
                  ("phone", "text", False), ("address", "text", False)],
}
#: Columns added to existing layers (and their archives).
ADDED = {"walk_network": [("oneway", "text"), ("maxspeed", "text")], "health_stations": [("phone", "text")]}
RECORDS = {
    "incidents": ([("incident_id", "text", True), ("place_layer", "text", True), ("place_id", "text", True),
                   ("occurred_at", "text", True), ("incident_kind", "text", True), ("where_in_place", "text", False),
                   ("source", "text", False)], ("incident_id",)),
}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _columns(cols: list[tuple[str, str, bool]]) -> str:
    return ", ".join(f"{q(n)} {t}{' NOT NULL' if req else ''}" for n, t, req in cols)


def upgrade(schema: str) -> None:
    """Create the new layer and record tables with their triggers; add the new columns."""
    s = q(schema)
    for layer, own in LAYERS.items():
        cols = _columns(SYSTEM + own)
        archive = layer + "__archive"
        op.execute(f"CREATE TABLE {s}.{q(layer)} (fid bigserial PRIMARY KEY, {cols}, "
                   "geom geometry(Geometry, 4326) NOT NULL)")
        op.execute(f"CREATE UNIQUE INDEX {q('uq_' + layer + '_feature_id')} ON {s}.{q(layer)} (feature_id)")
        op.execute(f"CREATE INDEX {q('idx_' + layer + '_geom')} ON {s}.{q(layer)} USING gist (geom)")
        op.execute(f"CREATE TABLE {s}.{q(archive)} (fid bigserial PRIMARY KEY, {cols}, "
                   "geom geometry(Geometry, 4326) NOT NULL, valid_to integer NOT NULL)")
        op.execute(f"CREATE INDEX {q('ix_' + layer + '_archive_fid')} ON {s}.{q(archive)} (feature_id)")
        op.execute(f"CREATE INDEX {q('ix_' + layer + '_archive_span')} ON {s}.{q(archive)} (layer_version, valid_to)")
        op.execute(f"CREATE INDEX {q('idx_' + archive + '_geom')} ON {s}.{q(archive)} USING gist (geom)")
        op.execute(f"SELECT {s}.onemap_attach_layer('{layer}')")
    for layer, cols in ADDED.items():
        for table in (layer, layer + "__archive"):
            op.execute(f"ALTER TABLE {s}.{q(table)} " + ", ".join(f"ADD COLUMN {q(n)} {t}" for n, t in cols))
    for kind, (cols, key) in RECORDS.items():
        table = f"{s}.{q('onemap_records_' + kind)}"
        op.execute(f"CREATE TABLE {table} (rid bigserial PRIMARY KEY, {_columns(cols)}, "
                   "record_version integer NOT NULL, valid_to integer, department text NOT NULL)")
        op.execute(f"CREATE INDEX {q('ix_' + kind + '_records_key')} ON {table} ({', '.join(q(k) for k in key)})")
        op.execute(f"SELECT {s}.onemap_attach_records('{kind}')")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

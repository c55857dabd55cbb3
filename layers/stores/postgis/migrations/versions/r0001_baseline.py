"""Baseline: the schema the first release built with its own numbered runner (its migrations 1–5).

Frozen here as data, not read from today's catalogue: a field added to the catalogue later
reaches existing databases only through a revision of its own.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The system columns every layer carried: (name, SQL type, nullable).
SYSTEM = [("feature_id", "text", False), ("source", "text", True), ("department", "text", False),
          ("updated_at", "timestamptz", False), ("version", "bigint", False), ("layer_version", "bigint", False)]
#: Each layer's own columns then.
LAYERS = {
    "venues": [("name", "text", False), ("venue_kind", "text", False), ("sports_area_m2", "float8", True),
               ("capacity", "bigint", True), ("opening_hours", "text", True), ("is_public", "boolean", True),
               ("fee", "text", True), ("address", "text", True)],
    "greenways": [("name", "text", False), ("length_m", "float8", True), ("width_m", "float8", True),
                  ("surface", "text", True)],
    "greenway_entrances": [("greenway_id", "text", False), ("name", "text", True)],
    "school_facilities": [("school", "text", False), ("facility_kind", "text", False), ("area_m2", "float8", True),
                          ("open_to_public", "boolean", False), ("opening_hours", "text", True),
                          ("booking_required", "boolean", True)],
    "health_stations": [("name", "text", False), ("station_kind", "text", False), ("services", "text", True),
                        ("opening_hours", "text", True)],
    "population": [("population", "float8", False), ("is_estimate", "boolean", True)],
    "boundaries": [("name", "text", False), ("code", "text", False), ("level", "text", False),
                   ("parent_code", "text", True)],
    "walk_network": [("name", "text", True), ("highway", "text", True)],
    "metro_stations": [("name", "text", False), ("line", "text", True)],
    "candidate_sites": [("name", "text", False), ("site_kind", "text", True), ("area_m2", "float8", True),
                        ("capacity", "bigint", True)],
    "land_use": [("name", "text", True), ("land_use", "text", False)],
}
#: Record tables: columns and key.
RECORDS = {
    "venue_usage": ([("venue_id", "text", False), ("date", "date", False), ("period", "text", False),
                     ("measure", "text", False), ("count", "bigint", False), ("source", "text", True)],
                    ("venue_id", "date", "period", "measure")),
    "satisfaction": ([("unit_code", "text", False), ("period", "text", False), ("score", "float8", False),
                      ("respondents", "bigint", False), ("source", "text", True)], ("unit_code", "period")),
}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _columns(cols: list[tuple[str, str, bool]]) -> str:
    return ", ".join(f"{q(n)} {t}{'' if null else ' NOT NULL'}" for n, t, null in cols)


def _audit_function(s: str, layer: str, fields: list[str]) -> str:
    pairs = ", ".join(f"'{f}', {{a}}.{q(f)}" for f in fields)
    state = f"jsonb_build_object({pairs})"
    who = "coalesce(nullif(current_setting('onemap.user', true), ''), session_user)"
    head = (f"INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, "
            "changed_at, layer_version, old, new, old_geom, new_geom) ")
    return f"""
CREATE OR REPLACE FUNCTION {s}.{q('onemap_audit_' + layer)}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {head}SELECT txid_current()::text, TG_TABLE_NAME, n.feature_id, 'insert', {who}, current_user, now(),
      n.layer_version, NULL, {state.format(a='n')}, NULL, n.geom FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    {head}SELECT txid_current()::text, TG_TABLE_NAME, o.feature_id, 'delete', {who}, current_user, now(),
      o.layer_version, {state.format(a='o')}, NULL, o.geom, NULL FROM old_rows o;
  ELSE
    {head}SELECT txid_current()::text, TG_TABLE_NAME, n.feature_id, 'update', {who}, current_user, now(),
      n.layer_version, {state.format(a='o')}, {state.format(a='n')}, o.geom, n.geom
      FROM new_rows n JOIN old_rows o ON o.fid = n.fid;
  END IF;
  RETURN NULL;
END $$"""


def upgrade(schema: str) -> None:
    """Create the first release's tables, indexes and audit triggers in ``schema``."""
    s = q(schema)
    system = [n for n, _t, _null in SYSTEM]
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
    op.execute(f"""CREATE TABLE {s}.onemap_layer_versions (
        kind text NOT NULL, layer text NOT NULL, layer_version integer NOT NULL, action text NOT NULL,
        changed_by text NOT NULL, changed_at timestamptz NOT NULL, source text, n_written bigint NOT NULL,
        n_total bigint NOT NULL, PRIMARY KEY (kind, layer, layer_version))""")
    op.execute(f"""CREATE TABLE {s}.onemap_rasters (name text NOT NULL, layer_version integer NOT NULL,
        content bytea NOT NULL, PRIMARY KEY (name, layer_version))""")
    op.execute(f"""CREATE TABLE {s}.onemap_scenarios (name text PRIMARY KEY, saved_by text NOT NULL,
        saved_at timestamptz NOT NULL, payload jsonb NOT NULL)""")
    for kind, (cols, key) in RECORDS.items():
        table = "onemap_records_" + kind
        op.execute(f"CREATE TABLE {s}.{q(table)} (rid bigserial PRIMARY KEY, {_columns(cols)}, "
                   "record_version integer NOT NULL, valid_to integer)")
        op.execute(f"CREATE INDEX {q('ix_' + kind + '_records_key')} ON {s}.{q(table)} "
                   f"({', '.join(q(k) for k in key)})")
    op.execute(f"""CREATE TABLE {s}.onemap_audit (audit_id bigserial PRIMARY KEY, txid text NOT NULL,
        layer text NOT NULL, feature_id text NOT NULL, action text NOT NULL, changed_by text NOT NULL,
        db_role text, changed_at timestamptz NOT NULL, layer_version integer, old jsonb, new jsonb,
        old_geom geometry(Geometry, 4326), new_geom geometry(Geometry, 4326))""")
    op.execute(f"CREATE INDEX ix_audit_feature ON {s}.onemap_audit (layer, feature_id)")
    for layer, own in LAYERS.items():
        op.execute(_audit_function(s, layer, system + [n for n, _t, _null in own]))
        for trig, ref in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
            op.execute(f"CREATE TRIGGER {q('onemap_audit_' + trig.lower())} AFTER {trig} ON {s}.{q(layer)} "
                       f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION {s}.{q('onemap_audit_' + layer)}()")
    op.execute(f"""CREATE TABLE {s}.onemap_accounts (username text PRIMARY KEY, password_hash text NOT NULL,
        role text NOT NULL, department text, failed_attempts integer NOT NULL DEFAULT 0, locked_until text,
        created_at text NOT NULL, last_sign_in text)""")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

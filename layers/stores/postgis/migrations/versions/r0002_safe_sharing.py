"""Safe sharing: the version log, archives and audit written only by owner-defined functions and
triggers; record tables get a department, an audit and immutable history.

- ``onemap_begin_write(kind, name, action, source)`` opens a version: it checks that the
  calling role may write that layer (or record table, or raster), computes the next version
  itself under an advisory lock, and logs it with the acting user and the database role;
  ``onemap_end_write(kind, name, n_written)`` closes it with the counts.  Department roles
  get no INSERT on the version log, the archives or the audit (``onemap roles``).
- The acting user shown is the app's signed-in account (``onemap.user``) only when the
  session is the schema owner's (the app's own login); any other login is recorded as
  itself, whatever it sets.  The role the statement ran as is recorded beside it.
- Statement triggers on every layer table archive replaced rows, write the audit and
  refuse rows whose ``layer_version`` is not the transaction's version; an edit made in
  another tool (QGIS) opens a version of its own.
- Record tables: a ``department`` column, audit triggers, rows never edited in place (only
  ended, with the transaction's version), ended rows immutable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LAYERS = ("venues", "greenways", "greenway_entrances", "school_facilities", "health_stations", "population",
          "boundaries", "walk_network", "metro_stations", "candidate_sites", "land_use")
#: Record kinds then, and the department that owned their rows.
RECORDS = {"venue_usage": "sports", "satisfaction": "alliance"}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def functions(schema: str) -> list[str]:
    """The owner-defined functions (SECURITY DEFINER ones pin their search path)."""
    s = q(schema)
    lit = "'" + schema.replace("'", "''") + "'"
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    return [
        # The role the calling statement runs as (SET ROLE survives a SECURITY DEFINER call).
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_invoker() RETURNS text LANGUAGE sql STABLE
        SET search_path = pg_catalog AS $$
          SELECT coalesce(nullif(current_setting('role'), 'none'), session_user::text) $$""",
        # Who acts: the app's signed-in user, vouched for only by the schema owner's session.
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_actor() RETURNS text LANGUAGE sql STABLE
        SET search_path = pg_catalog AS $$
          SELECT CASE WHEN pg_has_role(session_user, n.nspowner, 'MEMBER')
                      THEN coalesce(nullif(current_setting('onemap.user', true), ''), session_user::text)
                      ELSE session_user::text END
          FROM pg_namespace n WHERE n.nspname = {lit} $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_target(p_kind text, p_name text) RETURNS regclass
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
        DECLARE t regclass;
        BEGIN
          t := to_regclass(format('%I.%I', {lit}, CASE p_kind WHEN 'vector' THEN p_name
                 WHEN 'records' THEN 'onemap_records_' || p_name WHEN 'raster' THEN 'onemap_rasters' END));
          IF t IS NULL OR p_kind NOT IN ('vector', 'records', 'raster') THEN
            RAISE EXCEPTION 'no % table for %', p_kind, p_name USING ERRCODE = '42P01';
          END IF;
          RETURN t;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_begin_write(p_kind text, p_name text, p_action text,
            p_source text) RETURNS integer LANGUAGE plpgsql {definer} AS $$
        DECLARE t regclass := {s}.onemap_target(p_kind, p_name); v integer; who text := {s}.onemap_invoker();
        BEGIN
          IF NOT has_table_privilege(who, t, 'INSERT') THEN
            RAISE EXCEPTION 'permission denied for table %', (SELECT relname FROM pg_class WHERE oid = t)
              USING ERRCODE = '42501';
          END IF;
          PERFORM pg_advisory_xact_lock(hashtextextended({lit} || '/' || p_kind || '/' || p_name, 0));
          SELECT layer_version INTO v FROM {s}.onemap_layer_versions
            WHERE kind = p_kind AND layer = p_name AND xact = pg_current_xact_id()::text;
          IF v IS NOT NULL THEN
            RETURN v;  -- one version per layer and transaction
          END IF;
          SELECT coalesce(max(layer_version), 0) + 1 INTO v FROM {s}.onemap_layer_versions
            WHERE kind = p_kind AND layer = p_name;
          INSERT INTO {s}.onemap_layer_versions (kind, layer, layer_version, action, changed_by, changed_at,
              source, n_written, n_total, db_role, xact)
            VALUES (p_kind, p_name, v, p_action, {s}.onemap_actor(), now(), p_source, 0, 0, who,
                    pg_current_xact_id()::text);
          RETURN v;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_txn_version(p_kind text, p_name text) RETURNS integer
        LANGUAGE plpgsql {definer} AS $$
        DECLARE v integer;
        BEGIN
          SELECT layer_version INTO v FROM {s}.onemap_layer_versions
            WHERE kind = p_kind AND layer = p_name AND xact = pg_current_xact_id()::text;
          IF v IS NULL THEN  -- a change made outside the app (QGIS, psql): it gets a version of its own
            v := {s}.onemap_begin_write(p_kind, p_name, 'direct edit', 'SQL by ' || session_user);
          END IF;
          RETURN v;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_end_write(p_kind text, p_name text, p_written bigint)
        RETURNS integer LANGUAGE plpgsql {definer} AS $$
        DECLARE t regclass := {s}.onemap_target(p_kind, p_name); v integer; total bigint;
        BEGIN
          SELECT layer_version INTO v FROM {s}.onemap_layer_versions
            WHERE kind = p_kind AND layer = p_name AND xact = pg_current_xact_id()::text;
          IF v IS NULL THEN
            RAISE EXCEPTION 'no write of % % is open in this transaction', p_kind, p_name;
          END IF;
          IF p_kind = 'vector' THEN
            EXECUTE format('SELECT count(*) FROM %s', t) INTO total;
          ELSIF p_kind = 'records' THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE valid_to IS NULL', t) INTO total;
          ELSE
            total := 1;
          END IF;
          UPDATE {s}.onemap_layer_versions SET n_written = p_written, n_total = total
            WHERE kind = p_kind AND layer = p_name AND layer_version = v;
          RETURN v;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_record_refused(p_layer text, p_feature_id text,
            p_attempted jsonb) RETURNS void LANGUAGE plpgsql {definer} AS $$
        DECLARE t regclass := {s}.onemap_target('vector', p_layer);
        BEGIN
          IF NOT has_table_privilege({s}.onemap_invoker(), t, 'INSERT') THEN
            RAISE EXCEPTION 'permission denied for table %', (SELECT relname FROM pg_class WHERE oid = t)
              USING ERRCODE = '42501';
          END IF;
          INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
              layer_version, old, new)
            VALUES ('refused-' || pg_current_xact_id()::text, p_layer, p_feature_id, 'refused',
                    {s}.onemap_actor(), {s}.onemap_invoker(), now(), NULL, NULL, p_attempted);
        END $$""",
        # Layer tables: archive what is replaced, check the version stamped on new rows, audit everything.
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_layer_changed() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        DECLARE v integer; cols text; bad bigint;
          who text := {s}.onemap_actor(); role_ text := {s}.onemap_invoker();
        BEGIN
          v := {s}.onemap_txn_version('vector', TG_TABLE_NAME);
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT count(*) INTO bad FROM new_rows WHERE layer_version IS DISTINCT FROM v;
            IF bad > 0 THEN
              RAISE EXCEPTION '% row(s) of % carry a layer_version other than this write''s %', bad,
                TG_TABLE_NAME, v USING ERRCODE = '42501';
            END IF;
          END IF;
          IF TG_OP IN ('DELETE', 'UPDATE') THEN
            SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
              WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped AND attname <> 'fid';
            EXECUTE format('INSERT INTO %I.%I (%s, valid_to) SELECT %s, $1 FROM old_rows', TG_TABLE_SCHEMA,
                           TG_TABLE_NAME || '__archive', cols, cols) USING v;
          END IF;
          IF TG_OP = 'INSERT' THEN
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new, old_geom, new_geom)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, n.feature_id, 'insert', who, role_, now(),
                v, NULL, to_jsonb(n) - 'geom' - 'fid', NULL, n.geom FROM new_rows n;
          ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new, old_geom, new_geom)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, o.feature_id, 'delete', who, role_, now(),
                v, to_jsonb(o) - 'geom' - 'fid', NULL, o.geom, NULL FROM old_rows o;
          ELSE
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new, old_geom, new_geom)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, n.feature_id, 'update', who, role_, now(),
                v, to_jsonb(o) - 'geom' - 'fid', to_jsonb(n) - 'geom' - 'fid', o.geom, n.geom
              FROM new_rows n JOIN old_rows o ON o.fid = n.fid;
          END IF;
          RETURN NULL;
        END $$""",
        # An edit in another tool that leaves the version fields out gets them filled in.
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_fill_versions() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          NEW.layer_version := {s}.onemap_txn_version('vector', TG_TABLE_NAME);
          IF TG_OP = 'UPDATE' THEN
            NEW.version := OLD.version + 1;
          ELSE
            NEW.version := coalesce(NEW.version, 1);
          END IF;
          NEW.updated_at := coalesce(NEW.updated_at, now());
          RETURN NEW;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_attach_layer(p_layer text) RETURNS void LANGUAGE plpgsql
        SET search_path = pg_catalog AS $$
        DECLARE t text := format('%I.%I', {lit}, p_layer);
        BEGIN
          EXECUTE format('DROP TRIGGER IF EXISTS onemap_audit_insert ON %s', t);
          EXECUTE format('DROP TRIGGER IF EXISTS onemap_audit_delete ON %s', t);
          EXECUTE format('DROP TRIGGER IF EXISTS onemap_audit_update ON %s', t);
          EXECUTE format('DROP FUNCTION IF EXISTS %I.%I()', {lit}, 'onemap_audit_' || p_layer);
          EXECUTE format('CREATE TRIGGER onemap_changed_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS '
                         'new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.onemap_layer_changed()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_changed_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS '
                         'old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.onemap_layer_changed()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_changed_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS '
                         'old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION '
                         '%I.onemap_layer_changed()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_fill_insert BEFORE INSERT ON %s FOR EACH ROW WHEN '
                         '(NEW.layer_version IS NULL OR NEW.version IS NULL OR NEW.updated_at IS NULL) '
                         'EXECUTE FUNCTION %I.onemap_fill_versions()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_fill_update BEFORE UPDATE ON %s FOR EACH ROW WHEN '
                         '(NEW.layer_version IS NOT DISTINCT FROM OLD.layer_version) '
                         'EXECUTE FUNCTION %I.onemap_fill_versions()', t, {lit});
        END $$""",
        # Record tables: rows are added and ended, never edited; ended rows never change.
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_record_changed() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        DECLARE kind text := substr(TG_TABLE_NAME, length('onemap_records_') + 1); v integer; bad bigint;
          who text := {s}.onemap_actor(); role_ text := {s}.onemap_invoker();
        BEGIN
          v := {s}.onemap_txn_version('records', kind);
          IF TG_OP = 'INSERT' THEN
            SELECT count(*) INTO bad FROM new_rows WHERE record_version IS DISTINCT FROM v OR valid_to IS NOT NULL;
            IF bad > 0 THEN
              RAISE EXCEPTION '% new % row(s) do not carry this write''s version %', bad, kind, v
                USING ERRCODE = '42501';
            END IF;
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, n.rid::text, 'insert', who, role_, now(), v,
                NULL, to_jsonb(n) FROM new_rows n;
          ELSIF TG_OP = 'UPDATE' THEN
            SELECT count(*) INTO bad FROM new_rows n JOIN old_rows o ON o.rid = n.rid
              WHERE o.valid_to IS NOT NULL OR n.valid_to IS DISTINCT FROM v
                 OR (to_jsonb(n) - 'valid_to') <> (to_jsonb(o) - 'valid_to');
            IF bad > 0 THEN
              RAISE EXCEPTION 'refused: % % row(s) would be rewritten; rows are only ended by a new delivery, '
                'and ended rows never change', bad, kind USING ERRCODE = '42501';
            END IF;
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, n.rid::text, 'end', who, role_, now(), v,
                to_jsonb(o), to_jsonb(n) FROM new_rows n JOIN old_rows o ON o.rid = n.rid;
          ELSE
            INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
                layer_version, old, new)
              SELECT pg_current_xact_id()::text, TG_TABLE_NAME, o.rid::text, 'delete', who, role_, now(), v,
                to_jsonb(o), NULL FROM old_rows o;
          END IF;
          RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.onemap_attach_records(p_kind text) RETURNS void LANGUAGE plpgsql
        SET search_path = pg_catalog AS $$
        DECLARE t text := format('%I.%I', {lit}, 'onemap_records_' || p_kind);
        BEGIN
          EXECUTE format('CREATE TRIGGER onemap_changed_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS '
                         'new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.onemap_record_changed()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_changed_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS '
                         'old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION '
                         '%I.onemap_record_changed()', t, {lit});
          EXECUTE format('CREATE TRIGGER onemap_changed_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS '
                         'old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.onemap_record_changed()', t, {lit});
        END $$""",
    ]


def upgrade(schema: str) -> None:
    """Add the functions and triggers, the version log's role and transaction, record departments."""
    s = q(schema)
    op.execute(f"ALTER TABLE {s}.onemap_layer_versions ADD COLUMN db_role text, ADD COLUMN xact text")
    op.execute(f"CREATE INDEX ix_versions_xact ON {s}.onemap_layer_versions (xact)")
    for kind, dept in RECORDS.items():
        table = f"{s}.{q('onemap_records_' + kind)}"
        op.execute(f"ALTER TABLE {table} ADD COLUMN department text")
        op.execute(f"UPDATE {table} SET department = '{dept}'")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN department SET NOT NULL")
    for sql in functions(schema):
        op.execute(sql)
    for layer in LAYERS:
        op.execute(f"SELECT {s}.onemap_attach_layer('{layer}')")
    for kind in RECORDS:
        op.execute(f"SELECT {s}.onemap_attach_records('{kind}')")
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

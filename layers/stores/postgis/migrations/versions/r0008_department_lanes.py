"""Department lanes in the database: identity and times from the session, places and resources from their owners,
the health k rule, all held by the database itself — what a department's own LOGIN (QGIS, psql) could do around
the app.

- ``onemap_policy``: the installation's policies the database needs (k, hours to due per field-report
  category), written by the owner (the app keeps them equal to its settings), read by everyone.
- ``onemap_place_department(layer, id)`` and ``onemap_resource_department(resource)``: who owns a place
  or a bookable resource (owner-defined, so row-level security can ask).
- ``onemap_file_report``: a caller the app does not vouch for (a department's own login) files as itself,
  now, with the due time the policy gives, to the department owning the place (a bare point: the
  alliance's office), without photos (photos enter only through the app, which re-encodes them), and at
  most :data:`FILINGS_PER_MINUTE` a minute; the app's own photos must be JPEG within the size it makes.
- ``onemap_field_report_guard``: a step taken by such a login is stamped with the database clock.
- ``onemap_health_k``: no health-indicator row counts fewer than k people (count, or rate × denominator).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import json

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: Filings a login the app does not vouch for may make in a minute.
FILINGS_PER_MINUTE = 10
#: The largest side of a photo the app stores (office.photos.MAX_SIDE).
PHOTO_SIDE = 1600
PLACE_LAYERS = ("venues", "school_facilities", "greenways", "health_stations")
DUE_HOURS = {"unsafe": 24, "closed": 48, "broken": 168, "crowded": 336, "data_wrong": 240}
REPORTED = ("report_id", "category", "body", "lon", "lat", "place_layer", "place_id", "place_name", "area_code",
            "reporter", "created_at", "due_at", "photos")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade(schema: str) -> None:
    """Create the policy table and functions; replace the filing function and the report guard; add the k rule."""
    s = q(schema)
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    owner = f"(SELECT nspowner FROM pg_namespace WHERE nspname = {_lit(schema)})"
    vouched = f"pg_has_role(session_user, {owner}, 'MEMBER')"
    op.execute(f"CREATE TABLE {s}.onemap_policy (name text PRIMARY KEY, value text NOT NULL)")
    op.execute(f"INSERT INTO {s}.onemap_policy VALUES ('health_min_count', '10'), "
               f"('report_due_hours', {_lit(json.dumps(DUE_HOURS))})")
    layers = ", ".join(_lit(x) for x in PLACE_LAYERS)
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_place_department(p_layer text, p_id text) RETURNS text
        LANGUAGE plpgsql STABLE {definer} AS $$
        DECLARE d text;
        BEGIN
          IF p_layer IS NULL OR p_layer NOT IN ({layers}) OR to_regclass(format('%I.%I', {_lit(schema)}, p_layer))
              IS NULL THEN
            RETURN NULL;
          END IF;
          EXECUTE format('SELECT department FROM %I.%I WHERE feature_id = $1 LIMIT 1', {_lit(schema)}, p_layer)
            INTO d USING p_id;
          RETURN d;
        END $$""")
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_resource_department(p_resource text) RETURNS text
        LANGUAGE sql STABLE {definer} AS $$
          SELECT department FROM {s}.onemap_records_bookable WHERE resource_id = p_resource AND valid_to IS NULL
          UNION ALL
          SELECT department FROM {s}.onemap_records_courses WHERE 'course-' || course_id = p_resource
            AND valid_to IS NULL
          LIMIT 1 $$""")
    kept = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in REPORTED)
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_field_report_guard() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND ({kept}) THEN
            RAISE EXCEPTION 'what was reported in % cannot be changed', OLD.report_id
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          NEW.changed_by := {s}.onemap_actor();
          IF TG_OP = 'UPDATE' AND NOT {vouched} THEN  -- a department's own login: the database's clock
            NEW.changed_at := to_char(localtimestamp(0), 'YYYY-MM-DD HH24:MI:SS');
          END IF;
          RETURN NEW;
        END $$""")
    cols = [c for c in REPORTED if c != "photos"] + ["department", "changed_at", "reason"]
    op.execute(f"DROP FUNCTION IF EXISTS {s}.onemap_file_report(jsonb, bytea[], integer[], integer[])")
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_file_report(p jsonb, p_photos bytea[], p_width integer[],
            p_height integer[]) RETURNS void LANGUAGE plpgsql {definer} AS $$
        DECLARE k integer; n integer; r jsonb := p; stamp text; hours integer; dept text;
        BEGIN
          IF NOT {vouched} THEN
            IF coalesce(cardinality(p_photos), 0) > 0 THEN
              RAISE EXCEPTION 'photos are filed through the one map, which re-encodes them'
                USING ERRCODE = 'insufficient_privilege';
            END IF;
            SELECT count(*) INTO n FROM {s}.onemap_field_reports WHERE reporter = session_user::text
              AND created_at >= to_char(localtimestamp(0) - interval '1 minute', 'YYYY-MM-DD HH24:MI:SS');
            IF n >= {FILINGS_PER_MINUTE} THEN
              RAISE EXCEPTION 'more than {FILINGS_PER_MINUTE} reports a minute from %', session_user
                USING ERRCODE = 'program_limit_exceeded';
            END IF;
            hours := ((SELECT value FROM {s}.onemap_policy WHERE name = 'report_due_hours')::jsonb
                      ->> (p->>'category'))::integer;
            IF hours IS NULL THEN
              RAISE EXCEPTION 'unknown category %', p->>'category' USING ERRCODE = 'check_violation';
            END IF;
            stamp := to_char(localtimestamp(0), 'YYYY-MM-DD HH24:MI:SS');
            dept := coalesce({s}.onemap_place_department(p->>'place_layer', p->>'place_id'), 'alliance');
            r := p || jsonb_build_object('reporter', session_user::text, 'department', dept, 'created_at', stamp,
                                         'changed_at', stamp, 'due_at',
                                         to_char(localtimestamp(0) + make_interval(hours => hours),
                                                 'YYYY-MM-DD HH24:MI:SS'));
          ELSE
            FOR k IN 1 .. coalesce(cardinality(p_photos), 0) LOOP
              IF substring(p_photos[k] FROM 1 FOR 3) <> '\\xffd8ff'::bytea OR p_width[k] > {PHOTO_SIDE}
                  OR p_height[k] > {PHOTO_SIDE} THEN
                RAISE EXCEPTION 'photo % is not one the one map made', k USING ERRCODE = 'check_violation';
              END IF;
            END LOOP;
          END IF;
          INSERT INTO {s}.onemap_field_reports ({', '.join(cols)}, status, changed_by, photos)
            SELECT {', '.join(cols)}, 'new', '', coalesce(cardinality(p_photos), 0)
            FROM jsonb_populate_record(NULL::{s}.onemap_field_reports, r);
          FOR k IN 1 .. coalesce(cardinality(p_photos), 0) LOOP
            INSERT INTO {s}.onemap_field_report_photos (report_id, position, jpeg, width, height)
              VALUES (r->>'report_id', k - 1, p_photos[k], p_width[k], p_height[k]);
          END LOOP;
        END $$""")
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_health_k() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        DECLARE k integer := (SELECT value::integer FROM {s}.onemap_policy WHERE name = 'health_min_count');
                people numeric := coalesce(NEW.count::numeric, round(NEW.rate::numeric * NEW.denominator));
        BEGIN
          IF people > 0 AND people < k THEN
            RAISE EXCEPTION 'a health indicator cell counts % people, fewer than k = %', people, k
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$""")
    op.execute(f"CREATE TRIGGER onemap_health_k BEFORE INSERT OR UPDATE ON {s}.onemap_records_health_indicators "
               f"FOR EACH ROW EXECUTE FUNCTION {s}.onemap_health_k()")
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

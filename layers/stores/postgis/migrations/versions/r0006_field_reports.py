"""Field reports: problems reported on the ground, their photos and the steps of their handling.

- ``onemap_field_reports``: one row per report, routed to one department; a department's role
  updates its own rows only (row-level security, :mod:`layers.stores.postgis.roles`) and only
  the workflow's columns: a BEFORE trigger refuses any change to what was reported (text,
  place, photos, times filed and due) and names the acting user itself (``onemap_actor()``).
- ``onemap_file_report(jsonb, bytea[], int[], int[])``: the owner's function every role calls to
  file a report (status ``new``) with its photos in one statement.
- ``onemap_field_report_steps``: written by the owner's AFTER trigger only, one row per insert or
  update, and mirrored into ``onemap_audit`` (layer ``field_reports``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: What a report's holder may change; everything else is what was reported and stays.
WORKFLOW = ("department", "status", "changed_at", "changed_by", "reason")
REPORTED = ("report_id", "category", "body", "lon", "lat", "place_layer", "place_id", "place_name", "area_code",
            "reporter", "created_at", "due_at", "photos")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def upgrade(schema: str) -> None:
    """Create the tables, the triggers and the filing function."""
    s = q(schema)
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    op.execute(f"""CREATE TABLE {s}.onemap_field_reports (report_id text PRIMARY KEY, category text NOT NULL,
        body text, lon float8 NOT NULL, lat float8 NOT NULL, place_layer text, place_id text, place_name text,
        area_code text, department text NOT NULL, status text NOT NULL, reporter text, created_at text NOT NULL,
        due_at text NOT NULL, changed_at text NOT NULL, changed_by text NOT NULL, reason text,
        photos integer NOT NULL DEFAULT 0,
        CONSTRAINT field_report_status CHECK (status IN ('new', 'accepted', 'in_progress', 'resolved', 'rejected')))""")
    op.execute(f"CREATE INDEX ix_field_reports_department ON {s}.onemap_field_reports (department, status)")
    op.execute(f"CREATE INDEX ix_field_reports_place ON {s}.onemap_field_reports (place_layer, place_id)")
    op.execute(f"""CREATE TABLE {s}.onemap_field_report_photos (report_id text NOT NULL
        REFERENCES {s}.onemap_field_reports (report_id), position integer NOT NULL, jpeg bytea NOT NULL,
        width integer NOT NULL, height integer NOT NULL, PRIMARY KEY (report_id, position))""")
    op.execute(f"""CREATE TABLE {s}.onemap_field_report_steps (step_id bigserial PRIMARY KEY, report_id text NOT NULL,
        at text NOT NULL, status text NOT NULL, department text NOT NULL, actor text NOT NULL, reason text,
        db_role text)""")
    op.execute(f"CREATE INDEX ix_field_report_steps ON {s}.onemap_field_report_steps (report_id)")
    kept = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in REPORTED)
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_field_report_guard() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND ({kept}) THEN
            RAISE EXCEPTION 'what was reported in % cannot be changed', OLD.report_id
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          NEW.changed_by := {s}.onemap_actor();
          RETURN NEW;
        END $$""")
    op.execute(f"CREATE TRIGGER onemap_field_report_guard BEFORE INSERT OR UPDATE ON {s}.onemap_field_reports "
               f"FOR EACH ROW EXECUTE FUNCTION {s}.onemap_field_report_guard()")
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_field_report_changed() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          INSERT INTO {s}.onemap_field_report_steps (report_id, at, status, department, actor, reason, db_role)
            VALUES (NEW.report_id, NEW.changed_at, NEW.status, NEW.department, NEW.changed_by, NEW.reason,
                    {s}.onemap_invoker());
          INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
              layer_version, old, new)
            VALUES (pg_current_xact_id()::text, 'field_reports', NEW.report_id, lower(TG_OP), NEW.changed_by,
                    {s}.onemap_invoker(), now(), NULL, CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END,
                    to_jsonb(NEW));
          RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER onemap_field_report_changed AFTER INSERT OR UPDATE ON {s}.onemap_field_reports "
               f"FOR EACH ROW EXECUTE FUNCTION {s}.onemap_field_report_changed()")
    cols = [c for c in REPORTED if c != "photos"] + ["department", "changed_at", "reason"]
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_file_report(p jsonb, p_photos bytea[], p_width integer[],
            p_height integer[]) RETURNS void LANGUAGE plpgsql {definer} AS $$
        DECLARE k integer;
        BEGIN
          INSERT INTO {s}.onemap_field_reports ({', '.join(cols)}, status, changed_by, photos)
            SELECT {', '.join(cols)}, 'new', '', coalesce(cardinality(p_photos), 0)
            FROM jsonb_populate_record(NULL::{s}.onemap_field_reports, p);
          FOR k IN 1 .. coalesce(cardinality(p_photos), 0) LOOP
            INSERT INTO {s}.onemap_field_report_photos (report_id, position, jpeg, width, height)
              VALUES (p->>'report_id', k - 1, p_photos[k], p_width[k], p_height[k]);
          END LOOP;
        END $$""")
    for table in ("onemap_field_reports", "onemap_field_report_photos", "onemap_field_report_steps"):
        op.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

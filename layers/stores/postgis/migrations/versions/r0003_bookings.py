"""Bookings: record tables for courses, bookable resources and closed days; slots, bookings,
contacts, the outbox and partner keys; an audit trigger on bookings.

- ``onemap_records_courses`` / ``_bookable`` / ``_closures``: record tables like the others
  (a department per row, audit, history never rewritten).
- ``onemap_booking_slots``: one row per slot booked at least once, ``CHECK (booked <= capacity)``.
- ``onemap_bookings``: no personal data but an HMAC of the phone (``person_key``) until purged;
  every insert and update is written to ``onemap_audit`` (layer ``bookings``) by a trigger.
- ``onemap_booking_contacts`` / ``onemap_booking_outbox``: the encrypted phone; row-level
  security lets a department's role read its own rows only (set up by ``onemap roles``).
- ``onemap_api_keys``: partners' keys, hashed; no department role reads them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Record kinds added here: (column, type, not null) and the key.
RECORDS = {
    "courses": ([("course_id", "text", True), ("title", "text", True), ("place_layer", "text", True),
                 ("place_id", "text", True), ("schedule", "text", True), ("capacity", "bigint", True),
                 ("exercise_type", "text", True), ("intensity", "text", True), ("target_group", "text", True),
                 ("instructor_type", "text", False), ("first_day", "date", False), ("last_day", "date", False),
                 ("source", "text", False)],
                ("course_id",)),
    "bookable": ([("resource_id", "text", True), ("place_layer", "text", True), ("place_id", "text", True),
                  ("unit", "text", False), ("capacity", "bigint", True), ("slot_minutes", "bigint", True),
                  ("hours", "text", False), ("who_may_book", "text", False), ("area_code", "text", False),
                  ("days_ahead", "bigint", False), ("max_active", "bigint", False), ("cancel_hours", "bigint", False),
                  ("source", "text", False)],
                 ("resource_id",)),
    "closures": ([("resource_id", "text", True), ("first_day", "date", True), ("last_day", "date", True),
                  ("day_kind", "text", True), ("reason", "text", False), ("source", "text", False)],
                 ("resource_id", "first_day")),
}


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def upgrade(schema: str) -> None:
    """Create the tables, the audit trigger and the row-level security switches."""
    s = q(schema)
    for kind, (cols, key) in RECORDS.items():
        table = f"{s}.{q('onemap_records_' + kind)}"
        body = ", ".join(f"{q(n)} {t}{' NOT NULL' if req else ''}" for n, t, req in cols)
        op.execute(f"CREATE TABLE {table} (rid bigserial PRIMARY KEY, {body}, record_version integer NOT NULL, "
                   "valid_to integer, department text NOT NULL)")
        op.execute(f"CREATE INDEX {q('ix_' + kind + '_records_key')} ON {table} ({', '.join(q(k) for k in key)})")
        op.execute(f"SELECT {s}.onemap_attach_records('{kind}')")
    op.execute(f"""CREATE TABLE {s}.onemap_booking_slots (slot_id text PRIMARY KEY, resource_id text NOT NULL,
        department text NOT NULL, starts_at text NOT NULL, ends_at text NOT NULL, capacity integer NOT NULL,
        booked integer NOT NULL DEFAULT 0,
        CONSTRAINT slot_within_capacity CHECK (booked >= 0 AND booked <= capacity))""")
    op.execute(f"CREATE INDEX ix_booking_slots_resource ON {s}.onemap_booking_slots (resource_id, starts_at)")
    op.execute(f"""CREATE TABLE {s}.onemap_bookings (booking_id text PRIMARY KEY, slot_id text NOT NULL,
        resource_id text NOT NULL, department text NOT NULL, status text NOT NULL, idempotency_key text UNIQUE,
        person_key text, area_code text, cancel_hash text NOT NULL, channel text, created_at text NOT NULL,
        changed_at text NOT NULL, starts_at text NOT NULL, ends_at text NOT NULL, purged_at text,
        CONSTRAINT booking_status CHECK (status IN ('booked', 'waitlisted', 'cancelled', 'checked_in', 'no_show')))""")
    op.execute(f"CREATE INDEX ix_bookings_slot ON {s}.onemap_bookings (slot_id, status, created_at)")
    op.execute(f"CREATE INDEX ix_bookings_person ON {s}.onemap_bookings (person_key, status)")
    op.execute(f"CREATE INDEX ix_bookings_resource ON {s}.onemap_bookings (resource_id, starts_at)")
    op.execute(f"""CREATE TABLE {s}.onemap_booking_contacts (booking_id text PRIMARY KEY, department text NOT NULL,
        phone_enc text NOT NULL, phone_mask text NOT NULL)""")
    op.execute(f"""CREATE TABLE {s}.onemap_booking_outbox (message_id bigint GENERATED ALWAYS AS IDENTITY
        PRIMARY KEY, created_at text NOT NULL, department text NOT NULL, booking_id text, phone_enc text,
        body text NOT NULL, exported_at text)""")
    op.execute(f"""CREATE TABLE {s}.onemap_api_keys (key_id text PRIMARY KEY, partner text NOT NULL,
        key_hash text NOT NULL UNIQUE, per_minute integer NOT NULL, created_at text NOT NULL, revoked_at text)""")
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_booking_changed() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
              layer_version, old, new)
            VALUES (pg_current_xact_id()::text, 'bookings', NEW.booking_id, lower(TG_OP), {s}.onemap_actor(),
                    {s}.onemap_invoker(), now(), NULL,
                    CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) - 'person_key' - 'cancel_hash' END,
                    to_jsonb(NEW) - 'person_key' - 'cancel_hash');
          RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER onemap_booking_changed AFTER INSERT OR UPDATE ON {s}.onemap_bookings "
               f"FOR EACH ROW EXECUTE FUNCTION {s}.onemap_booking_changed()")
    op.execute(reserve_function(schema))
    for table in ("onemap_booking_contacts", "onemap_booking_outbox"):
        op.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def reserve_function(schema: str) -> str:
    """``onemap_reserve(…)``: a whole booking in one call (the same steps as the GeoPackage's transaction).

    Locks per retry key and per person (advisory), then the slot's row; takes a place with
    ``booked < capacity`` or joins the waiting list; returns ``{"outcome": …, "row": …}``.
    """
    s = q(schema)
    ns = "'" + schema.replace("'", "''") + "/booking/'"
    return f"""CREATE OR REPLACE FUNCTION {s}.onemap_reserve(p_slot text, p_resource text, p_department text,
        p_starts text, p_ends text, p_capacity integer, p_booking text, p_cancel_hash text, p_person text,
        p_idem text, p_max_active integer, p_waitlist boolean, p_now text, p_area text, p_channel text,
        p_phone_enc text, p_phone_mask text, p_actor text) RETURNS jsonb LANGUAGE plpgsql
        SET search_path = pg_catalog, public AS $$
    DECLARE r {s}.onemap_bookings; n integer; took integer; st text;
    BEGIN
      PERFORM set_config('onemap.user', p_actor, true);
      IF p_idem IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended({ns} || 'idem/' || p_idem, 0));
        SELECT * INTO r FROM {s}.onemap_bookings WHERE idempotency_key = p_idem;
        IF FOUND THEN
          RETURN jsonb_build_object('outcome', 'repeat', 'row', to_jsonb(r));
        END IF;
      END IF;
      PERFORM pg_advisory_xact_lock(hashtextextended({ns} || 'person/' || p_person, 0));
      SELECT count(*), count(*) FILTER (WHERE slot_id = p_slot) INTO n, took FROM {s}.onemap_bookings
        WHERE person_key = p_person AND status IN ('booked', 'waitlisted') AND starts_at >= p_now;
      IF took > 0 THEN
        RETURN jsonb_build_object('outcome', 'already');
      ELSIF n >= p_max_active THEN
        RETURN jsonb_build_object('outcome', 'limit');
      END IF;
      INSERT INTO {s}.onemap_booking_slots (slot_id, resource_id, department, starts_at, ends_at, capacity, booked)
        VALUES (p_slot, p_resource, p_department, p_starts, p_ends, p_capacity, 0) ON CONFLICT (slot_id) DO NOTHING;
      PERFORM 1 FROM {s}.onemap_booking_slots WHERE slot_id = p_slot FOR UPDATE;
      UPDATE {s}.onemap_booking_slots SET booked = booked + 1 WHERE slot_id = p_slot AND booked < capacity
        RETURNING booked INTO took;
      IF took IS NOT NULL THEN
        st := 'booked';
      ELSIF p_waitlist THEN
        st := 'waitlisted';
      ELSE
        RETURN jsonb_build_object('outcome', 'full');
      END IF;
      INSERT INTO {s}.onemap_bookings (booking_id, slot_id, resource_id, department, status, idempotency_key,
          person_key, area_code, cancel_hash, channel, created_at, changed_at, starts_at, ends_at)
        VALUES (p_booking, p_slot, p_resource, p_department, st, p_idem, p_person, p_area, p_cancel_hash,
          p_channel, to_char(clock_timestamp(), 'YYYY-MM-DD"T"HH24:MI:SS.US'), p_now, p_starts, p_ends)
        RETURNING * INTO r;
      IF p_phone_enc IS NOT NULL THEN
        INSERT INTO {s}.onemap_booking_contacts (booking_id, department, phone_enc, phone_mask)
          VALUES (p_booking, p_department, p_phone_enc, p_phone_mask);
      END IF;
      RETURN jsonb_build_object('outcome', st, 'row', to_jsonb(r));
    END $$"""


def downgrade(schema: str) -> None:
    """Stores are upgraded only; restore a backup to go back."""
    raise NotImplementedError("the store's schema is upgraded only; restore a backup to go back")

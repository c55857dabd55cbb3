"""A retried booking is answered as the first was; a booking's status moves only along the desk's steps.

- ``onemap_bookings`` gains ``request_hash`` (a keyed hash of the partner's request body) and
  ``replay_sealed`` (the first answer — outcome and cancel code — sealed with a key made from the
  partner's own API key and the request body; the database cannot open it). Neither reaches the
  audit trail.
- ``onemap_reserve`` takes and keeps both, and gives them back on a repeat.
- ``onemap_booking_guard``: a status change by any role but the owner's own session (a department
  checking in or marking a no-show) is one of booked → checked_in, booked → no_show,
  no_show → checked_in, none of which moves the slot's counter of held places; and a department's
  own login gets the database clock as ``changed_at``, not a time of its choosing. Every other
  change of status (a cancellation, a move up from the waiting list) goes through the owner's
  transaction, which keeps the counter.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Status changes a department may make (none changes how many places a slot holds).
STAFF_STEPS = (("booked", "checked_in"), ("booked", "no_show"), ("no_show", "checked_in"))
#: Columns of a booking that never reach the audit trail.
SECRET = ("person_key", "cancel_hash", "request_hash", "replay_sealed")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade(schema: str) -> None:
    """Add the columns, replace the reserve function and the audit trigger, add the status guard."""
    s = q(schema)
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
    op.execute(f"ALTER TABLE {s}.onemap_bookings ADD COLUMN IF NOT EXISTS request_hash text, "
               "ADD COLUMN IF NOT EXISTS replay_sealed text")
    hidden = " - ".join(_lit(c) for c in SECRET)
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_booking_changed() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          INSERT INTO {s}.onemap_audit (txid, layer, feature_id, action, changed_by, db_role, changed_at,
              layer_version, old, new)
            VALUES (pg_current_xact_id()::text, 'bookings', NEW.booking_id, lower(TG_OP), {s}.onemap_actor(),
                    {s}.onemap_invoker(), now(), NULL,
                    CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) - {hidden} END, to_jsonb(NEW) - {hidden});
          RETURN NULL;
        END $$""")
    steps = " OR ".join(f"(OLD.status = {_lit(a)} AND NEW.status = {_lit(b)})" for a, b in STAFF_STEPS)
    owner = f"(SELECT nspowner FROM pg_namespace WHERE nspname = {_lit(schema)})"
    op.execute(f"""CREATE OR REPLACE FUNCTION {s}.onemap_booking_guard() RETURNS trigger LANGUAGE plpgsql
        {definer} AS $$
        BEGIN
          IF {s}.onemap_invoker() = session_user::text AND pg_has_role(session_user, {owner}, 'MEMBER') THEN
            RETURN NEW;  -- the owner's own transactions (book, cancel, move up, purge) keep the counter
          END IF;
          IF NEW.status IS DISTINCT FROM OLD.status AND NOT ({steps}) THEN
            RAISE EXCEPTION 'booking %: % → % is not a step a department takes (check in, no-show)',
              OLD.booking_id, OLD.status, NEW.status USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF NOT pg_has_role(session_user, {owner}, 'MEMBER') THEN
            NEW.changed_at := to_char(localtimestamp(0), 'YYYY-MM-DD"T"HH24:MI');
          END IF;
          RETURN NEW;
        END $$""")
    op.execute(f"DROP TRIGGER IF EXISTS onemap_booking_guard ON {s}.onemap_bookings")
    op.execute(f"CREATE TRIGGER onemap_booking_guard BEFORE UPDATE ON {s}.onemap_bookings "
               f"FOR EACH ROW EXECUTE FUNCTION {s}.onemap_booking_guard()")
    op.execute(f"DROP FUNCTION IF EXISTS {s}.onemap_reserve(text, text, text, text, text, integer, text, text, "
               "text, text, integer, boolean, text, text, text, text, text, text)")
    op.execute(reserve_function(schema))
    op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM PUBLIC")


def reserve_function(schema: str) -> str:
    """``onemap_reserve(…)``: a whole booking in one call (the same steps as the GeoPackage's transaction).

    Locks per retry key and per person (advisory), then the slot's row; takes a place with
    ``booked < capacity`` or joins the waiting list; returns ``{"outcome": …, "row": …}`` (on a
    repeat, the first row with its request hash and sealed answer).
    """
    s = q(schema)
    ns = _lit(schema + "/booking/")
    return f"""CREATE OR REPLACE FUNCTION {s}.onemap_reserve(p_slot text, p_resource text, p_department text,
        p_starts text, p_ends text, p_capacity integer, p_booking text, p_cancel_hash text, p_person text,
        p_idem text, p_max_active integer, p_waitlist boolean, p_now text, p_area text, p_channel text,
        p_phone_enc text, p_phone_mask text, p_actor text, p_request_hash text, p_replay text)
        RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
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
          person_key, area_code, cancel_hash, channel, created_at, changed_at, starts_at, ends_at, request_hash,
          replay_sealed)
        VALUES (p_booking, p_slot, p_resource, p_department, st, p_idem, p_person, p_area, p_cancel_hash,
          p_channel, to_char(clock_timestamp(), 'YYYY-MM-DD"T"HH24:MI:SS.US'), p_now, p_starts, p_ends,
          p_request_hash, p_replay)
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

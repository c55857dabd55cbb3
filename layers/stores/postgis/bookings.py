"""``store.bookings`` in PostGIS: row locks on the slot, advisory locks per person and per retry key.

The tables are created by revision 0003 with a ``CHECK (booked <= capacity)`` on each slot,
an audit trigger on the bookings (the acting user as the app vouches for it, the database
role beside it) and row-level security on contacts and the outbox: a department's role
reads the phones of its own bookings only (see :mod:`layers.stores.postgis.roles`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from layers.stores.booking_table import BookingTable, Reservation, Run, SlotRequest, _public, _replay
from layers.stores.postgis.schema import AUDIT_TABLE

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore

#: The layer name booking changes carry in the audit trail.
AUDIT_LAYER = "bookings"


class PgBookings(BookingTable):
    """Bookings in the store's PostGIS schema."""

    _store: "PostGISStore"

    def _search_path(self, conn) -> None:
        conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": f'"{self._store.schema}", public'})

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        db = self._store.db
        try:
            with db.engine.begin() as conn:
                self._search_path(conn)
                db.as_user(conn, self.actor)

                def run(sql: str, params: dict[str, Any]) -> list[dict]:
                    result = conn.execute(text(sql), params)
                    return [dict(r) for r in result.mappings().all()] if result.returns_rows else []

                yield run
        except DBAPIError as exc:
            raise db.refusal(exc, "the booking change") from None

    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        with self._store.db.engine.connect() as conn:
            self._search_path(conn)
            return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]

    #: Who the audit names for changes through this part (the app sets it per request).
    actor: str = "resident"

    def _lock(self, run: Run, key: str) -> None:
        run("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))", {"k": f"{self._store.schema}/booking/{key}"})

    def _lock_slot(self, run: Run, slot_id: str) -> None:
        run("SELECT slot_id FROM onemap_booking_slots WHERE slot_id = :s FOR UPDATE", {"s": slot_id})

    def reserve(self, slot: SlotRequest, *, booking_id: str, cancel_hash: str, person_key: str,
                idempotency_key: str | None, max_active: int, waitlist: bool, now: str,
                area_code: str | None = None, channel: str = "app", contact: tuple[str, str] | None = None,
                actor: str = "resident", request_hash: str | None = None,
                replay_sealed: str | None = None) -> Reservation:
        """Book a place in one call of the database's ``onemap_reserve`` (the same steps as the base class)."""
        db = self._store.db
        params = {"slot": slot.slot_id, "res": slot.resource_id, "dep": slot.department, "a": slot.starts_at,
                  "e": slot.ends_at, "cap": slot.capacity, "b": booking_id, "h": cancel_hash, "p": person_key,
                  "k": idempotency_key, "m": max_active, "w": waitlist, "now": now, "area": area_code, "ch": channel,
                  "pe": contact[0] if contact else None, "pm": contact[1] if contact else None, "who": actor,
                  "rh": request_hash, "rs": replay_sealed}
        sql = text(f'SELECT "{db.schema}".onemap_reserve(:slot, :res, :dep, :a, :e, :cap, :b, :h, :p, :k, :m, :w, '
                   ":now, :area, :ch, :pe, :pm, :who, :rh, :rs)")
        try:
            with db.one_statement.connect() as conn:  # the function is one statement: atomic on its own
                got = conn.execute(sql, params).scalar_one()
        except DBAPIError as exc:
            raise db.refusal(exc, "the booking") from None
        row = got.get("row")
        return Reservation(got["outcome"], _public(row) if row else None,
                           _replay(row) if row and got["outcome"] == "repeat" else None)

    def events(self, booking_id: str) -> pd.DataFrame:
        """The changes of one booking from the audit trail, oldest first."""
        rows = self._read(f"SELECT changed_at AS at, action, old->>'status' AS old_status, "
                          f"new->>'status' AS new_status, changed_by AS actor FROM {AUDIT_TABLE} "
                          "WHERE layer = :l AND feature_id = :b ORDER BY audit_id", {"l": AUDIT_LAYER, "b": booking_id})
        frame = pd.DataFrame(rows, columns=["at", "action", "old_status", "new_status", "actor"])
        purge = frame["action"].eq("update") & frame["old_status"].eq(frame["new_status"])
        frame.loc[purge, "action"] = "purge"
        return frame


__all__ = ["PgBookings", "AUDIT_LAYER"]

"""``store.bookings``: slots with their places taken, bookings, their encrypted contacts, the outbox, partner keys.

Every change is one transaction of SQL that both backends run alike; what differs is how a
transaction is opened and locked (:meth:`BookingTable._transaction`, :meth:`BookingTable._lock`):

- **Capacity**: a slot's row holds ``capacity`` and ``booked`` with ``CHECK (booked <=
  capacity)``; a booking locks the slot's row (PostgreSQL ``SELECT … FOR UPDATE``; SQLite
  ``BEGIN IMMEDIATE`` holds the file's write lock) and takes a place with ``UPDATE … SET
  booked = booked + 1 WHERE booked < capacity``; a cancellation under the same lock hands the
  place to the first on the waiting list or gives it back.  No read–check–write in Python.
- **Retries**: a request's idempotency key is unique; the same key again returns the first
  booking (locked per key, so two copies arriving together book once).
- **Personal data**: the contact phone lives in its own table, encrypted by the caller
  (:mod:`office.contacts`), readable in PostgreSQL by the owning department's role only
  (row-level security); :meth:`purge` deletes contacts after the retention period and
  leaves the anonymous booking rows.
- **Audit**: PostgreSQL writes every booking change into the audit trail by trigger; the
  GeoPackage keeps ``onemap_booking_events`` in the same transaction.
"""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd

if TYPE_CHECKING:
    from layers.stores.base import Store

#: Statuses of a booking; the first two hold (or wait for) a place.
ACTIVE = ("booked", "waitlisted")
STATUSES = ("booked", "waitlisted", "cancelled", "checked_in", "no_show")
BOOKING_COLUMNS = ["booking_id", "slot_id", "resource_id", "department", "status", "starts_at", "ends_at",
                   "area_code", "channel", "created_at", "changed_at", "purged_at"]
SLOT_COLUMNS = ["slot_id", "resource_id", "department", "starts_at", "ends_at", "capacity", "booked"]

SLOTS = "onemap_booking_slots"
BOOKINGS = "onemap_bookings"
CONTACTS = "onemap_booking_contacts"
OUTBOX = "onemap_booking_outbox"
API_KEYS = "onemap_api_keys"
EVENTS = "onemap_booking_events"

#: One statement: SQL with ``:name`` parameters → the rows it returns, as dicts.
Run = Callable[[str, dict[str, Any]], list[dict]]


@dataclass(frozen=True)
class SlotRequest:
    """What a booking asks for: a slot of a resource as the caller checked it against the rules."""

    slot_id: str
    resource_id: str
    department: str
    starts_at: str
    ends_at: str
    capacity: int


@dataclass(frozen=True)
class Reservation:
    """What :meth:`BookingTable.reserve` did: ``outcome`` and the booking row (when there is one).

    ``outcome``: ``booked``, ``waitlisted``, ``full`` (no place, no waiting), ``repeat`` (the
    idempotency key was seen: ``row`` is the first booking), ``limit`` (the person holds
    ``max_active`` bookings), ``already`` (the person holds a place in this slot).
    """

    outcome: str
    row: dict | None = None
    replay: dict | None = None  # for ``repeat``: the first request's ``request_hash`` and ``replay_sealed``


@dataclass(frozen=True)
class Cancellation:
    """What :meth:`BookingTable.cancel` did: ``outcome`` (``cancelled``, ``not_found``, ``wrong_code``,
    ``not_active``, ``too_late``), the booking row, and the booking moved up from the waiting list."""

    outcome: str
    row: dict | None = None
    promoted: str | None = None


class BookingTable(abc.ABC):
    """The booking tables of one store (module docstring)."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    # ----- what a backend provides ------------------------------------------------------------

    @abc.abstractmethod
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        """One write transaction (tables created if missing); yields the statement runner."""

    @abc.abstractmethod
    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        """A read outside any write (empty when the tables do not exist yet)."""

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes in as few transactions as the backend allows (here: each its own)."""
        yield

    def _lock(self, run: Run, key: str) -> None:
        """Serialise transactions on ``key`` (a person, an idempotency key) until commit."""

    def _lock_slot(self, run: Run, slot_id: str) -> None:
        """Lock the slot's row until commit."""

    def _event(self, run: Run, booking_id: str, action: str, old: str | None, new: str | None, *,
               actor: str, at: str) -> None:
        """Record a change of a booking (PostgreSQL does it by trigger)."""

    # ----- bookings ---------------------------------------------------------------------------

    def reserve(self, slot: SlotRequest, *, booking_id: str, cancel_hash: str, person_key: str,
                idempotency_key: str | None, max_active: int, waitlist: bool, now: str,
                area_code: str | None = None, channel: str = "app", contact: tuple[str, str] | None = None,
                actor: str = "resident", request_hash: str | None = None,
                replay_sealed: str | None = None) -> Reservation:
        """Book a place in ``slot`` (or a place on its waiting list), atomically.

        ``contact`` is (encrypted phone, masked phone).  ``now`` is local ISO time; bookings
        of the person that start after it count against ``max_active``.  With an
        ``idempotency_key``, ``request_hash`` (the request's keyed hash) and ``replay_sealed``
        (the answer sealed for its retry) are kept with the booking, so that a retry is told
        the first answer again (``Reservation.replay``).
        """
        with self._transaction() as run:
            if idempotency_key:
                self._lock(run, "idem/" + idempotency_key)
                first = run(f"SELECT * FROM {BOOKINGS} WHERE idempotency_key = :k", {"k": idempotency_key})
                if first:
                    return Reservation("repeat", _public(first[0]), _replay(first[0]))
            self._lock(run, "person/" + person_key)
            mine = run(f"SELECT slot_id FROM {BOOKINGS} WHERE person_key = :p AND status IN ('booked', "
                       "'waitlisted') AND starts_at >= :now", {"p": person_key, "now": now})
            if any(r["slot_id"] == slot.slot_id for r in mine):
                return Reservation("already")
            if len(mine) >= max_active:
                return Reservation("limit")
            run(f"INSERT INTO {SLOTS} (slot_id, resource_id, department, starts_at, ends_at, capacity, booked) "
                "VALUES (:s, :r, :d, :a, :e, :c, 0) ON CONFLICT (slot_id) DO NOTHING",
                {"s": slot.slot_id, "r": slot.resource_id, "d": slot.department, "a": slot.starts_at,
                 "e": slot.ends_at, "c": slot.capacity})
            self._lock_slot(run, slot.slot_id)
            took = run(f"UPDATE {SLOTS} SET booked = booked + 1 WHERE slot_id = :s AND booked < capacity "
                       "RETURNING booked", {"s": slot.slot_id})
            created = datetime.now().isoformat(timespec="microseconds")  # under the slot's lock: arrival order
            if took:
                status = "booked"
            elif waitlist:
                status = "waitlisted"
            else:
                return Reservation("full")
            row = {"booking_id": booking_id, "slot_id": slot.slot_id, "resource_id": slot.resource_id,
                   "department": slot.department, "status": status, "idempotency_key": idempotency_key,
                   "person_key": person_key, "area_code": area_code, "cancel_hash": cancel_hash,
                   "channel": channel, "created_at": created, "changed_at": now, "starts_at": slot.starts_at,
                   "ends_at": slot.ends_at, "request_hash": request_hash, "replay_sealed": replay_sealed}
            run(f"INSERT INTO {BOOKINGS} ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})", row)
            if contact is not None:
                run(f"INSERT INTO {CONTACTS} (booking_id, department, phone_enc, phone_mask) "
                    "VALUES (:b, :d, :p, :m)", {"b": booking_id, "d": slot.department, "p": contact[0],
                                                "m": contact[1]})
            self._event(run, booking_id, "insert", None, status, actor=actor, at=now)
            return Reservation(status, _public(row))

    def cancel(self, booking_id: str, *, check_code: Callable[[str], bool], now: str,
               deadline: Callable[[dict], bool] | None = None, actor: str = "resident") -> Cancellation:
        """Cancel a booking whose code ``check_code`` accepts (given the stored hash).

        ``deadline(row)`` says whether it is still allowed (``None``: always, for staff).  A
        place freed goes to the first on the slot's waiting list, else back to the slot.
        """
        with self._transaction() as run:
            found = run(f"SELECT * FROM {BOOKINGS} WHERE booking_id = :b", {"b": booking_id})
            if not found:
                return Cancellation("not_found")
            row = found[0]
            if not check_code(row["cancel_hash"]):
                return Cancellation("wrong_code")
            if row["status"] not in ACTIVE:
                return Cancellation("not_active", _public(row))
            if deadline is not None and not deadline(row):
                return Cancellation("too_late", _public(row))
            self._lock_slot(run, row["slot_id"])
            done = run(f"UPDATE {BOOKINGS} SET status = 'cancelled', changed_at = :now WHERE booking_id = :b "
                       "AND status = :old RETURNING booking_id", {"b": booking_id, "old": row["status"], "now": now})
            if not done:  # changed since it was read (only possible without the slot lock): say so
                return Cancellation("not_active", _public(row))
            self._event(run, booking_id, "update", row["status"], "cancelled", actor=actor, at=now)
            promoted = None
            if row["status"] == "booked":
                promoted = self._move_up(run, row["slot_id"], now=now, actor=actor)
                if promoted is None:
                    run(f"UPDATE {SLOTS} SET booked = booked - 1 WHERE slot_id = :s", {"s": row["slot_id"]})
            row = {**row, "status": "cancelled", "changed_at": now}
            return Cancellation("cancelled", _public(row), promoted)

    def _move_up(self, run: Run, slot_id: str, *, now: str, actor: str) -> str | None:
        first = run(f"SELECT booking_id FROM {BOOKINGS} WHERE slot_id = :s AND status = 'waitlisted' "
                    "ORDER BY created_at, booking_id LIMIT 1", {"s": slot_id})
        if not first:
            return None
        bid = first[0]["booking_id"]
        run(f"UPDATE {BOOKINGS} SET status = 'booked', changed_at = :now WHERE booking_id = :b",
            {"b": bid, "now": now})
        self._event(run, bid, "update", "waitlisted", "booked", actor=actor, at=now)
        return bid

    def set_status(self, booking_id: str, new: str, *, allowed_from: tuple[str, ...], department: str | None,
                   now: str, actor: str) -> dict | None:
        """Staff move a booking to ``new`` (check-in, no-show) from one of ``allowed_from``; the row or ``None``.

        ``department``: only a booking of this department (``None``: the administrator).
        """
        if new not in STATUSES:
            raise ValueError(f"{new!r} is not a booking status ({', '.join(STATUSES)})")
        with self._transaction() as run:
            found = run(f"SELECT * FROM {BOOKINGS} WHERE booking_id = :b", {"b": booking_id})
            if not found or found[0]["status"] not in allowed_from or (
                    department is not None and found[0]["department"] != department):
                return None
            run(f"UPDATE {BOOKINGS} SET status = :new, changed_at = :now WHERE booking_id = :b",
                {"b": booking_id, "new": new, "now": now})
            self._event(run, booking_id, "update", found[0]["status"], new, actor=actor, at=now)
            return _public({**found[0], "status": new, "changed_at": now})

    def mark_no_shows(self, *, ended_before: str, now: str, actor: str = "system") -> int:
        """Bookings still ``booked`` whose slot ended before ``ended_before`` become ``no_show``; how many."""
        with self._transaction() as run:
            rows = run(f"UPDATE {BOOKINGS} SET status = 'no_show', changed_at = :now WHERE status = 'booked' "
                       "AND ends_at < :t RETURNING booking_id", {"t": ended_before, "now": now})
            for r in rows:
                self._event(run, r["booking_id"], "update", "booked", "no_show", actor=actor, at=now)
            return len(rows)

    def purge(self, *, slots_before: str, now: str, actor: str = "system") -> int:
        """Delete the personal fields of bookings whose slot started before ``slots_before``; how many.

        Contacts and outbox phones (of those bookings, and of messages queued before the
        cut-off) are deleted, the person key and area cleared; the booking rows (resource,
        slot, status) stay for the counts.
        """
        with self._transaction() as run:
            rows = run(f"UPDATE {BOOKINGS} SET person_key = NULL, area_code = NULL, replay_sealed = NULL, "
                       "purged_at = :now "
                       "WHERE starts_at < :t AND purged_at IS NULL RETURNING booking_id",
                       {"t": slots_before, "now": now})
            run(f"DELETE FROM {CONTACTS} WHERE booking_id IN (SELECT booking_id FROM {BOOKINGS} "
                "WHERE starts_at < :t)", {"t": slots_before})
            run(f"UPDATE {OUTBOX} SET phone_enc = NULL WHERE phone_enc IS NOT NULL AND (created_at < :t OR "
                f"booking_id IN (SELECT booking_id FROM {BOOKINGS} WHERE starts_at < :t))", {"t": slots_before})
            for r in rows:
                self._event(run, r["booking_id"], "purge", None, None, actor=actor, at=now)
            return len(rows)

    # ----- reads ------------------------------------------------------------------------------

    def get(self, booking_id: str) -> dict | None:
        """One booking without its personal fields, or ``None``."""
        rows = self._read(f"SELECT {', '.join(BOOKING_COLUMNS)} FROM {BOOKINGS} WHERE booking_id = :b",
                          {"b": booking_id})
        return rows[0] if rows else None

    def list(self, *, resource_ids: list[str] | None = None, first: str | None = None, last: str | None = None,
             statuses: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Bookings (no personal fields) of ``resource_ids`` with slots starting in [first, last)."""
        where, params = _filters(resource_ids, first, last)
        if statuses:
            where.append("status IN (" + ", ".join(f":st{i}" for i in range(len(statuses))) + ")")
            params.update({f"st{i}": s for i, s in enumerate(statuses)})
        sql = (f"SELECT {', '.join(BOOKING_COLUMNS)} FROM {BOOKINGS}"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY starts_at, created_at, booking_id")
        return pd.DataFrame(self._read(sql, params), columns=BOOKING_COLUMNS)

    def slots(self, *, resource_ids: list[str] | None = None, first: str | None = None,
              last: str | None = None) -> pd.DataFrame:
        """Slot rows (places taken) of ``resource_ids`` starting in [first, last); only slots booked once."""
        where, params = _filters(resource_ids, first, last)
        sql = (f"SELECT {', '.join(SLOT_COLUMNS)} FROM {SLOTS}" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY starts_at, slot_id")
        return pd.DataFrame(self._read(sql, params), columns=SLOT_COLUMNS)

    def waiting(self, slot_id: str) -> list[str]:
        """Booking ids on the slot's waiting list, first first."""
        return [r["booking_id"] for r in self._read(
            f"SELECT booking_id FROM {BOOKINGS} WHERE slot_id = :s AND status = 'waitlisted' "
            "ORDER BY created_at, booking_id", {"s": slot_id})]

    def contacts(self, booking_ids: list[str]) -> dict[str, dict]:
        """Booking id → encrypted and masked phone, of the bookings this connection may read."""
        if not booking_ids:
            return {}
        params = {f"b{i}": b for i, b in enumerate(booking_ids)}
        rows = self._read(f"SELECT booking_id, phone_enc, phone_mask FROM {CONTACTS} WHERE booking_id IN ("
                          + ", ".join(":" + k for k in params) + ")", params)
        return {r["booking_id"]: r for r in rows}

    def events(self, booking_id: str) -> pd.DataFrame:
        """The changes of one booking, oldest first: at, action, old status, new status, actor."""
        rows = self._read(f"SELECT at, action, old_status, new_status, actor FROM {EVENTS} "
                          "WHERE booking_id = :b ORDER BY event_id", {"b": booking_id})
        return pd.DataFrame(rows, columns=["at", "action", "old_status", "new_status", "actor"])

    # ----- the outbox -------------------------------------------------------------------------

    def add_message(self, *, department: str, booking_id: str | None, phone_enc: str | None, body: str,
                    now: str) -> int:
        """Queue a text message for the city's SMS gateway (nothing is sent from here); its id."""
        with self._transaction() as run:
            got = run(f"INSERT INTO {OUTBOX} (created_at, department, booking_id, phone_enc, body) "
                      "VALUES (:t, :d, :b, :p, :body) RETURNING message_id",
                      {"t": now, "d": department, "b": booking_id, "p": phone_enc, "body": body})
            return int(got[0]["message_id"])

    def messages(self, *, department: str | None = None, unexported_only: bool = False) -> pd.DataFrame:
        """Queued messages (phone still encrypted) of ``department``."""
        where, params = [], {}
        if department:
            where.append("department = :d")
            params["d"] = department
        if unexported_only:
            where.append("exported_at IS NULL")
        cols = ["message_id", "created_at", "department", "booking_id", "phone_enc", "body", "exported_at"]
        sql = f"SELECT {', '.join(cols)} FROM {OUTBOX}" + (" WHERE " + " AND ".join(where) if where else "")
        return pd.DataFrame(self._read(sql + " ORDER BY message_id", params), columns=cols)

    def mark_exported(self, message_ids: list[int], *, now: str) -> None:
        """Note that these messages went to the gateway's file."""
        if not message_ids:
            return
        with self._transaction() as run:
            params = {f"m{i}": int(m) for i, m in enumerate(message_ids)}
            run(f"UPDATE {OUTBOX} SET exported_at = :now WHERE message_id IN ("
                + ", ".join(":" + k for k in params) + ")", {**params, "now": now})

    # ----- partner keys -----------------------------------------------------------------------

    def add_key(self, *, key_id: str, partner: str, key_hash: str, per_minute: int, now: str) -> None:
        """Store a partner's API key (its hash only)."""
        with self._transaction() as run:
            run(f"INSERT INTO {API_KEYS} (key_id, partner, key_hash, per_minute, created_at) "
                "VALUES (:i, :p, :h, :n, :t)", {"i": key_id, "p": partner, "h": key_hash, "n": per_minute, "t": now})

    def revoke_key(self, key_id: str, *, now: str) -> bool:
        """Revoke a key; whether there was such an active key."""
        with self._transaction() as run:
            return bool(run(f"UPDATE {API_KEYS} SET revoked_at = :t WHERE key_id = :i AND revoked_at IS NULL "
                            "RETURNING key_id", {"i": key_id, "t": now}))

    def key_by_hash(self, key_hash: str) -> dict | None:
        """The active key with this hash (id, partner, rate), or ``None``."""
        rows = self._read(f"SELECT key_id, partner, per_minute FROM {API_KEYS} WHERE key_hash = :h "
                          "AND revoked_at IS NULL", {"h": key_hash})
        return rows[0] if rows else None

    def keys(self) -> pd.DataFrame:
        """Every key without its hash."""
        cols = ["key_id", "partner", "per_minute", "created_at", "revoked_at"]
        return pd.DataFrame(self._read(f"SELECT {', '.join(cols)} FROM {API_KEYS} ORDER BY created_at", {}),
                            columns=cols)


def _public(row: dict) -> dict:
    """A booking row without its personal and secret fields."""
    return {c: row.get(c) for c in BOOKING_COLUMNS}


def _replay(row: dict) -> dict:
    """What a retry needs of the first request: its keyed hash and the sealed first answer."""
    return {"request_hash": row.get("request_hash"), "replay_sealed": row.get("replay_sealed")}


def _filters(resource_ids: list[str] | None, first: str | None, last: str | None) -> tuple[list[str], dict]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if resource_ids is not None:
        if not resource_ids:
            return ["1 = 0"], {}
        params.update({f"r{i}": r for i, r in enumerate(resource_ids)})
        where.append("resource_id IN (" + ", ".join(f":r{i}" for i in range(len(resource_ids))) + ")")
    if first:
        where.append("starts_at >= :first")
        params["first"] = first
    if last:
        where.append("starts_at < :last")
        params["last"] = last
    return where, params


#: The tables as both backends create them (PostgreSQL swaps the outbox key for an identity).
DDL = (
    f"""CREATE TABLE IF NOT EXISTS {SLOTS} (slot_id TEXT PRIMARY KEY, resource_id TEXT NOT NULL,
        department TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, capacity INTEGER NOT NULL,
        booked INTEGER NOT NULL DEFAULT 0,
        CONSTRAINT slot_within_capacity CHECK (booked >= 0 AND booked <= capacity))""",
    f"CREATE INDEX IF NOT EXISTS ix_booking_slots_resource ON {SLOTS} (resource_id, starts_at)",
    f"""CREATE TABLE IF NOT EXISTS {BOOKINGS} (booking_id TEXT PRIMARY KEY, slot_id TEXT NOT NULL,
        resource_id TEXT NOT NULL, department TEXT NOT NULL, status TEXT NOT NULL, idempotency_key TEXT UNIQUE,
        person_key TEXT, area_code TEXT, cancel_hash TEXT NOT NULL, channel TEXT, created_at TEXT NOT NULL,
        changed_at TEXT NOT NULL, starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, purged_at TEXT,
        request_hash TEXT, replay_sealed TEXT,
        CONSTRAINT booking_status CHECK (status IN ('booked', 'waitlisted', 'cancelled', 'checked_in', 'no_show')))""",
    f"CREATE INDEX IF NOT EXISTS ix_bookings_slot ON {BOOKINGS} (slot_id, status, created_at)",
    f"CREATE INDEX IF NOT EXISTS ix_bookings_person ON {BOOKINGS} (person_key, status)",
    f"CREATE INDEX IF NOT EXISTS ix_bookings_resource ON {BOOKINGS} (resource_id, starts_at)",
    f"""CREATE TABLE IF NOT EXISTS {CONTACTS} (booking_id TEXT PRIMARY KEY, department TEXT NOT NULL,
        phone_enc TEXT NOT NULL, phone_mask TEXT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {OUTBOX} (message_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL,
        department TEXT NOT NULL, booking_id TEXT, phone_enc TEXT, body TEXT NOT NULL, exported_at TEXT)""",
    f"""CREATE TABLE IF NOT EXISTS {API_KEYS} (key_id TEXT PRIMARY KEY, partner TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE, per_minute INTEGER NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)""",
)

__all__ = ["BookingTable", "SlotRequest", "Reservation", "Cancellation", "ACTIVE", "STATUSES",
           "BOOKING_COLUMNS", "SLOT_COLUMNS", "DDL", "SLOTS", "BOOKINGS", "CONTACTS", "OUTBOX", "API_KEYS", "EVENTS"]

"""``store.bookings`` in a GeoPackage: small in-place SQLite transactions (``BEGIN IMMEDIATE``).

SQLite lets one writer in at a time, so a booking's check of capacity and its taking of a
place cannot interleave with another's; these tables are written in place and carried
over a concurrent layer write (see :mod:`layers.stores.geopackage.file`).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Iterator

from layers.stores.booking_table import DDL, EVENTS, BookingTable, Run
from layers.stores.geopackage.file import IN_PLACE_TABLES

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

EVENTS_DDL = (f"""CREATE TABLE IF NOT EXISTS {EVENTS} (event_id INTEGER PRIMARY KEY, booking_id TEXT NOT NULL,
    at TEXT NOT NULL, action TEXT NOT NULL, old_status TEXT, new_status TEXT, actor TEXT NOT NULL)""",
              f"CREATE INDEX IF NOT EXISTS ix_booking_events ON {EVENTS} (booking_id)")
IN_PLACE_TABLES.update({"onemap_booking_slots", "onemap_bookings", "onemap_booking_contacts",
                        "onemap_booking_outbox", "onemap_api_keys", EVENTS})


class GpkgBookings(BookingTable):
    """Bookings in the GeoPackage file."""

    _store: "GeoPackageStore"

    def __init__(self, store: "GeoPackageStore") -> None:
        super().__init__(store)
        # Threads of one process queue here in order instead of in SQLite's busy handler (which
        # sleeps and retries, unfairly); other processes still wait on the file's write lock.
        self._writer = threading.Lock()
        self._made = False
        self._batch = threading.local()

    def _ensure_tables(self, con) -> None:
        made = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'onemap_bookings'").fetchone()
        if not self._made or not made:
            for sql in (*DDL, *EVENTS_DDL):  # an earlier release's tables were upgraded when the file opened
                con.execute(sql)
            self._made = True

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Run]:
        held = getattr(self._batch, "con", None)
        if held is not None:  # inside batch(): the batch's transaction
            yield _runner(held)
            return
        with self._writer, self._store.file.in_place() as con:
            self._ensure_tables(con)
            yield _runner(con)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes from this thread in one transaction (loading past bookings): all or nothing.

        Reads through :meth:`list` and the like do not see the batch until it ends.
        """
        with self._writer, self._store.file.in_place() as con:
            self._ensure_tables(con)
            self._batch.con = con
            try:
                yield
            finally:
                self._batch.con = None

    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        if not self._store.file.has_table("onemap_bookings"):
            return []
        with contextlib.closing(self._store.file.connect_ro()) as con:
            return [dict(r) for r in con.execute(sql, params).fetchall()]

    def _event(self, run: Run, booking_id: str, action: str, old: str | None, new: str | None, *,
               actor: str, at: str) -> None:
        run(f"INSERT INTO {EVENTS} (booking_id, at, action, old_status, new_status, actor) "
            "VALUES (:b, :t, :a, :o, :n, :w)", {"b": booking_id, "t": at, "a": action, "o": old, "n": new, "w": actor})


def _runner(con) -> Run:
    def run(sql: str, params: dict[str, Any]) -> list[dict]:
        return [dict(r) for r in con.execute(sql, params).fetchall()]

    return run


__all__ = ["GpkgBookings"]

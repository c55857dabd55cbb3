"""Numbered migrations of the embedded store: a file made by any earlier release opens in this one.

The store's schema number is ``schema_version`` in the ``onemap_meta`` table (SQLite's ``user_version`` is the
GeoPackage standard's own: GDAL writes the GeoPackage version there).  Opening a file runs, in one transaction
under the writers' lock, every step above its number and records the new number; a file whose number is above
:data:`SCHEMA_VERSION` was made by a newer program and is refused with a message, unchanged.

Tables that a feature adds (bookings, field reports, record tables) are made when first used, with their
current columns; a step here changes what an earlier release already made.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from typing import Callable

from layers.catalogue import CATALOGUE
from layers.errors import StoreUnavailableError
from layers.records import RECORDS
from layers.stores.geopackage.records import SQLITE_TYPES, ensure_department

log = logging.getLogger(__name__)
META = "onemap_meta"


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]


def _records_department(con: sqlite3.Connection) -> None:
    """Record tables of the first release gain ``department`` (each row its table's department)."""
    for spec in RECORDS.values():
        ensure_department(con, spec)


def _booking_replay(con: sqlite3.Connection) -> None:
    """Bookings keep what a retried booking is answered with (its request's hash and the sealed answer)."""
    have = _columns(con, "onemap_bookings")
    for name in ("request_hash", "replay_sealed"):
        if have and name not in have:
            con.execute(f"ALTER TABLE onemap_bookings ADD COLUMN {name} TEXT")


def _catalogue_fields(con: sqlite3.Connection) -> None:
    """Stored layers (and their archives) gain the catalogue's fields added since they were made (a station's
    phone, a street's one-way and speed limit), empty, so every release's file reads with the same columns."""
    for name, spec in CATALOGUE.items():
        for table in (name, f"{name}__archive"):
            have = _columns(con, table)
            if not have:
                continue
            for f in spec.fields:
                if f.name not in have:
                    con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{f.name}" {SQLITE_TYPES[f.type]}')


#: (the number a step brings a file to, what it does).  Release 1 wrote "1"; never renumber a step.  A field the
#: catalogue gains later is a new step running :func:`_catalogue_fields` again.
STEPS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (2, _records_department),
    (3, _booking_replay),
    (4, _catalogue_fields),
)
SCHEMA_VERSION = STEPS[-1][0]


def schema_version(con: sqlite3.Connection) -> int:
    """The file's schema number (1 when it carries none)."""
    with contextlib.suppress(sqlite3.Error):
        row = con.execute(f"SELECT value FROM {META} WHERE key = 'schema_version'").fetchone()
        if row is not None and str(row[0]).strip().isdigit():
            return int(row[0])
    return 1


def check_not_newer(con: sqlite3.Connection, path: object) -> int:
    """The file's schema number; refuses one made by a newer program."""
    have = schema_version(con)
    if have > SCHEMA_VERSION:
        raise StoreUnavailableError(
            f"{path} was made by a newer release of the one map (store schema {have}; this program knows up to "
            f"{SCHEMA_VERSION}). Upgrade the program (pip install the newer wheel, or git pull; make setup) "
            "before opening it; the file was not changed.")
    return have


def upgrade(con: sqlite3.Connection) -> list[int]:
    """Run the steps above the file's number inside the caller's transaction; returns the numbers run."""
    have = schema_version(con)
    ran = [number for number, step in STEPS if number > have and (step(con) or True)]
    if ran:
        con.execute(f"UPDATE {META} SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        if con.execute("SELECT changes()").fetchone()[0] == 0:
            con.execute(f"INSERT INTO {META} (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    return ran

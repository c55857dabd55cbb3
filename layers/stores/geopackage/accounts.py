"""``store.accounts`` in a GeoPackage: the table ``onemap_accounts``, small in-place transactions.

These writes never copy the file and never wait for a layer write: a sign-in while a long
import runs goes through at once (see :mod:`layers.stores.geopackage.file`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from layers.stores.account_table import ACCOUNT_COLUMNS, AccountTable, stamp
from layers.stores.geopackage.file import IN_PLACE_TABLES

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

ACCOUNTS = "onemap_accounts"
ACCOUNTS_DDL = f"""CREATE TABLE IF NOT EXISTS {ACCOUNTS} (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, department TEXT,
        failed_attempts INTEGER NOT NULL DEFAULT 0, locked_until TEXT, created_at TEXT NOT NULL, last_sign_in TEXT)"""
IN_PLACE_TABLES.add(ACCOUNTS)


class GpkgAccounts(AccountTable):
    """Accounts in the GeoPackage file."""

    _store: "GeoPackageStore"

    def _exists(self) -> bool:
        return self._store.file.has_table(ACCOUNTS)

    def get(self, username: str) -> dict | None:
        """One account's row (with its hash), or ``None``."""
        if not self._exists():
            return None
        with contextlib.closing(self._store.file.connect_ro()) as con:
            row = con.execute(f"SELECT * FROM {ACCOUNTS} WHERE username = ?", (username,)).fetchone()
        return None if row is None else dict(row)

    def put(self, row: dict) -> None:
        """Insert or replace one account's row."""
        with self._store.file.in_place() as con:
            con.execute(ACCOUNTS_DDL)
            con.execute(f"INSERT OR REPLACE INTO {ACCOUNTS} ({', '.join(ACCOUNT_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(ACCOUNT_COLUMNS))})", tuple(row.get(c) for c in ACCOUNT_COLUMNS))

    def list(self) -> pd.DataFrame:
        """Every account without its password hash."""
        cols = [c for c in ACCOUNT_COLUMNS if c != "password_hash"]
        if not self._exists():
            return pd.DataFrame(columns=cols)
        with contextlib.closing(self._store.file.connect_ro()) as con:
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {ACCOUNTS} ORDER BY username").fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=cols)

    def count_attempt(self, username: str, *, now: datetime, max_failures: int,
                      lock_for: timedelta) -> dict | None:
        """Count one attempt atomically (see the base class)."""
        with self._store.file.in_place() as con:
            con.execute(ACCOUNTS_DDL)
            row = con.execute(
                f"""UPDATE {ACCOUNTS} SET
                      failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= :now THEN 1
                                             ELSE failed_attempts + 1 END,
                      locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= :now THEN NULL
                                          WHEN failed_attempts + 1 > :max THEN coalesce(locked_until, :until)
                                          ELSE locked_until END
                    WHERE username = :u RETURNING *""",
                {"u": username, "now": stamp(now), "max": max_failures, "until": stamp(now + lock_for)}).fetchall()
            row = row[0] if row else None
        return None if row is None else dict(row)

    def lock_if_failed(self, username: str, *, now: datetime, max_failures: int, lock_for: timedelta) -> None:
        """Lock after the count reached the limit."""
        with self._store.file.in_place() as con:
            con.execute(f"UPDATE {ACCOUNTS} SET locked_until = :until WHERE username = :u AND "
                        "failed_attempts >= :max AND (locked_until IS NULL OR locked_until <= :now)",
                        {"u": username, "max": max_failures, "now": stamp(now), "until": stamp(now + lock_for)})

    def signed_in(self, username: str, *, now: datetime) -> None:
        """Clear the count and lock; note the sign-in."""
        with self._store.file.in_place() as con:
            con.execute(f"UPDATE {ACCOUNTS} SET failed_attempts = 0, locked_until = NULL, last_sign_in = ? "
                        "WHERE username = ?", (stamp(now), username))

    def unlock(self, username: str) -> bool:
        """Clear the count and the lock."""
        if not self._exists():
            return False
        with self._store.file.in_place() as con:
            return con.execute(f"UPDATE {ACCOUNTS} SET failed_attempts = 0, locked_until = NULL WHERE username = ?",
                               (username,)).rowcount == 1


__all__ = ["GpkgAccounts"]

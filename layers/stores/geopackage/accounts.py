"""``store.accounts`` in a GeoPackage: the table ``onemap_accounts``, small in-place transactions."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pandas as pd

from layers.stores.account_table import ACCOUNT_COLUMNS, AccountTable
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

    def get(self, username: str) -> dict | None:
        """One account's row (with its hash), or ``None``."""
        if not self._store.file.has_table(ACCOUNTS):
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
        if not self._store.file.has_table(ACCOUNTS):
            return pd.DataFrame(columns=cols)
        with contextlib.closing(self._store.file.connect_ro()) as con:
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {ACCOUNTS} ORDER BY username").fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=cols)


__all__ = ["GpkgAccounts"]

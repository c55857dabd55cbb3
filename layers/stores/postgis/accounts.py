"""``store.accounts`` in PostGIS: ``onemap_accounts``, readable by the app's own database user only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import insert, select

from layers.stores.account_table import ACCOUNT_COLUMNS, AccountTable
from layers.stores.postgis.schema import ACCOUNTS_TABLE

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgAccounts(AccountTable):
    """Accounts in the store's PostGIS schema."""

    _store: "PostGISStore"

    def get(self, username: str) -> dict | None:
        """One account's row (with its hash), or ``None``."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        with self._store.db.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.username == username)).mappings().first()
        return None if row is None else dict(row)

    def put(self, row: dict) -> None:
        """Insert or replace one account's row."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        with self._store.db.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.username == row["username"]))
            conn.execute(insert(t).values(**{c: row.get(c) for c in ACCOUNT_COLUMNS}))

    def list(self) -> pd.DataFrame:
        """Every account without its password hash."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        cols = [c for c in ACCOUNT_COLUMNS if c != "password_hash"]
        with self._store.db.engine.connect() as conn:
            rows = conn.execute(select(*[t.c[c] for c in cols]).order_by(t.c.username)).all()
        return pd.DataFrame.from_records(rows, columns=cols)


__all__ = ["PgAccounts"]

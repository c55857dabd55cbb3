"""``store.accounts`` in PostGIS: ``onemap_accounts``, readable by the app's own database user only.

Each change of a counter is one ``UPDATE … RETURNING``; an account is written with
``INSERT … ON CONFLICT``, never deleted and inserted again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from layers.stores.account_table import ACCOUNT_COLUMNS, AccountTable, stamp
from layers.stores.postgis.schema import ACCOUNTS_TABLE

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgAccounts(AccountTable):
    """Accounts in the store's PostGIS schema."""

    _store: "PostGISStore"

    @property
    def _qualified(self) -> str:
        return f'"{self._store.schema}".{ACCOUNTS_TABLE}'

    def get(self, username: str) -> dict | None:
        """One account's row (with its hash), or ``None``."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        with self._store.db.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.username == username)).mappings().first()
        return None if row is None else dict(row)

    def put(self, row: dict) -> None:
        """Insert or replace one account's row."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        values = {c: row.get(c) for c in ACCOUNT_COLUMNS}
        stmt = insert(t).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["username"],
                                          set_={c: stmt.excluded[c] for c in ACCOUNT_COLUMNS if c != "username"})
        with self._store.db.engine.begin() as conn:
            conn.execute(stmt)

    def list(self) -> pd.DataFrame:
        """Every account without its password hash."""
        t = self._store.db.table(ACCOUNTS_TABLE)
        cols = [c for c in ACCOUNT_COLUMNS if c != "password_hash"]
        with self._store.db.engine.connect() as conn:
            rows = conn.execute(select(*[t.c[c] for c in cols]).order_by(t.c.username)).all()
        return pd.DataFrame.from_records(rows, columns=cols)

    def count_attempt(self, username: str, *, now: datetime, max_failures: int,
                      lock_for: timedelta) -> dict | None:
        """Count one attempt atomically (see the base class)."""
        sql = text(f"""UPDATE {self._qualified} SET
                 failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until::timestamptz <= :now
                                        THEN 1 ELSE failed_attempts + 1 END,
                 locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until::timestamptz <= :now THEN NULL
                                     WHEN failed_attempts + 1 > :max THEN coalesce(locked_until, :until)
                                     ELSE locked_until END
               WHERE username = :u RETURNING *""")
        with self._store.db.engine.begin() as conn:
            row = conn.execute(sql, {"u": username, "now": now, "max": max_failures,
                                     "until": stamp(now + lock_for)}).mappings().first()
        return None if row is None else dict(row)

    def lock_if_failed(self, username: str, *, now: datetime, max_failures: int, lock_for: timedelta) -> None:
        """Lock after the count reached the limit."""
        sql = text(f"""UPDATE {self._qualified} SET locked_until = :until WHERE username = :u
                       AND failed_attempts >= :max AND (locked_until IS NULL OR locked_until::timestamptz <= :now)""")
        with self._store.db.engine.begin() as conn:
            conn.execute(sql, {"u": username, "max": max_failures, "now": now, "until": stamp(now + lock_for)})

    def signed_in(self, username: str, *, now: datetime) -> None:
        """Clear the count and lock; note the sign-in."""
        with self._store.db.engine.begin() as conn:
            conn.execute(text(f"UPDATE {self._qualified} SET failed_attempts = 0, locked_until = NULL, "
                              "last_sign_in = :t WHERE username = :u"), {"u": username, "t": stamp(now)})

    def unlock(self, username: str) -> bool:
        """Clear the count and the lock."""
        with self._store.db.engine.begin() as conn:
            return conn.execute(text(f"UPDATE {self._qualified} SET failed_attempts = 0, locked_until = NULL "
                                     "WHERE username = :u"), {"u": username}).rowcount == 1


__all__ = ["PgAccounts"]

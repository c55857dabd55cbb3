"""``store.scenarios`` in PostGIS: ``onemap_scenarios`` with the payload as JSONB."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import func, insert, select

from layers.errors import StoreError
from layers.stores.layer_tables import utc_now
from layers.stores.postgis.database import lock_key
from layers.stores.postgis.schema import SCENARIOS_TABLE
from layers.stores.scenarios import Scenarios

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgScenarios(Scenarios):
    """Saved scenarios in the store's PostGIS schema."""

    _store: "PostGISStore"

    def list(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""
        t = self._store.db.table(SCENARIOS_TABLE)
        with self._store.db.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.saved_by, t.c.saved_at).order_by(t.c.saved_at.desc())).all()
        return pd.DataFrame.from_records(rows, columns=["name", "saved_by", "saved_at"])

    def _save(self, name: str, payload: str, *, user: str, overwrite: bool) -> None:
        db = self._store.db
        t = db.table(SCENARIOS_TABLE)
        values = dict(name=name, saved_by=user, saved_at=utc_now(), payload=json.loads(payload))
        with db.engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(lock_key(db.schema, "scenario", name))))
            exists = conn.execute(select(t.c.name).where(t.c.name == name)).first() is not None
            if exists and not overwrite:
                raise StoreError(f"A scenario named {name!r} is already saved; choose another name or overwrite it.")
            if exists:
                conn.execute(t.delete().where(t.c.name == name))
            conn.execute(insert(t).values(**values))

    def _load(self, name: str) -> dict | None:
        t = self._store.db.table(SCENARIOS_TABLE)
        with self._store.db.engine.connect() as conn:
            row = conn.execute(select(t.c.saved_by, t.c.saved_at, t.c.payload).where(t.c.name == name)).first()
        return None if row is None else {"saved_by": row[0], "saved_at": row[1], "payload": row[2]}


__all__ = ["PgScenarios"]

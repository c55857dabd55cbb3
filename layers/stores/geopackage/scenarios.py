"""``store.scenarios`` in a GeoPackage: the table ``onemap_scenarios``, a small in-place transaction per save."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pandas as pd

from layers.errors import StoreError
from layers.stores.geopackage.file import IN_PLACE_TABLES
from layers.stores.layer_tables import utc_now
from layers.stores.scenarios import Scenarios

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

SCENARIOS = "onemap_scenarios"
SCENARIOS_DDL = f"""CREATE TABLE IF NOT EXISTS {SCENARIOS} (
        name TEXT PRIMARY KEY, saved_by TEXT NOT NULL, saved_at TEXT NOT NULL, payload TEXT NOT NULL)"""
IN_PLACE_TABLES.add(SCENARIOS)


class GpkgScenarios(Scenarios):
    """Saved scenarios in the GeoPackage file."""

    _store: "GeoPackageStore"

    def list(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""
        columns = ["name", "saved_by", "saved_at"]
        if not self._store.file.has_table(SCENARIOS):
            return pd.DataFrame(columns=columns)
        with contextlib.closing(self._store.file.connect_ro()) as con:
            rows = con.execute(f"SELECT name, saved_by, saved_at FROM {SCENARIOS} ORDER BY saved_at DESC").fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=columns)

    def _save(self, name: str, payload: str, *, user: str, overwrite: bool) -> None:
        with self._store.file.in_place() as con:
            con.execute(SCENARIOS_DDL)
            if not overwrite and con.execute(f"SELECT 1 FROM {SCENARIOS} WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"A scenario named {name!r} is already saved; choose another name or overwrite it.")
            con.execute(f"INSERT OR REPLACE INTO {SCENARIOS} VALUES (?, ?, ?, ?)",
                        (name, user, utc_now().isoformat(), payload))

    def _load(self, name: str) -> dict | None:
        if not self._store.file.has_table(SCENARIOS):
            return None
        with contextlib.closing(self._store.file.connect_ro()) as con:
            row = con.execute(f"SELECT saved_by, saved_at, payload FROM {SCENARIOS} WHERE name = ?",
                              (name,)).fetchone()
        return None if row is None else {"saved_by": row[0], "saved_at": row[1], "payload": row[2]}


__all__ = ["GpkgScenarios"]

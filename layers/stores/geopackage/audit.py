"""``store.audit`` in a GeoPackage: the table ``onemap_audit``, written in the same transaction as the change."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from layers.catalogue import LayerSpec
from layers.stores.audit import AUDIT_COLUMNS, AuditTrail
from layers.stores.layer_tables import utc_now
from layers.stores.states import feature_texts

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

AUDIT = "onemap_audit"
AUDIT_DDL = f"""CREATE TABLE IF NOT EXISTS {AUDIT} (
        audit_id INTEGER PRIMARY KEY, txid TEXT NOT NULL, layer TEXT NOT NULL, feature_id TEXT NOT NULL,
        action TEXT NOT NULL, changed_by TEXT NOT NULL, db_role TEXT, changed_at TEXT NOT NULL,
        layer_version INTEGER, old TEXT, new TEXT)"""
_INSERT = (f"INSERT INTO {AUDIT} (txid, layer, feature_id, action, changed_by, db_role, changed_at, "
           "layer_version, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class GpkgAudit(AuditTrail):
    """The audit trail in the GeoPackage file."""

    _store: "GeoPackageStore"

    @staticmethod
    def write_changes(con: sqlite3.Connection, spec: LayerSpec, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *,
                      user: str, when: str, version: int) -> None:
        """The audit rows of one layer write: inserts, real updates and deletes, in its transaction."""
        con.execute(AUDIT_DDL)
        olds, old_keys = feature_texts(spec, old)
        news, new_keys = feature_texts(spec, new)
        txid = f"gpkg-{spec.name}-{version}"
        rows = []
        for fid in sorted(set(olds) | set(news)):
            o, n = olds.get(fid), news.get(fid)
            if o is not None and n is not None and old_keys[fid] == new_keys[fid]:
                continue  # rewritten, not changed
            action = "update" if o is not None and n is not None else ("insert" if n is not None else "delete")
            rows.append((txid, spec.name, fid, action, user, None, when, version, o, n))
        con.executemany(_INSERT, rows)

    @staticmethod
    def write_rows(con: sqlite3.Connection, rows: list[tuple]) -> None:
        """Append audit rows ``(txid, layer, feature_id, action, changed_by, db_role, changed_at,
        layer_version, old, new)`` inside the caller's transaction."""
        con.execute(AUDIT_DDL)
        con.executemany(_INSERT, rows)

    def record_refused(self, layer: str, conflicts: list[dict], *, user: str) -> None:
        """Append ``refused`` rows with the attempted values."""
        when = utc_now().isoformat()
        with self._store.file.in_place(join_writers=True) as con:
            self.write_rows(con, [
                (f"refused-{when}", layer, c["feature_id"], "refused", user, None, when, None, None,
                 json.dumps({**(c.get("attempted") or {}), "_based_on_version": c["expected"],
                             "_stored_version": c["current"]}, ensure_ascii=False)) for c in conflicts])

    def _read(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        if not self._store.file.has_table(AUDIT):
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        where, params = [], []
        if layer is not None:
            where.append("layer = ?")
            params.append(layer)
        if feature_id is not None:
            where.append("feature_id = ?")
            params.append(str(feature_id))
        sql = (f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {AUDIT}" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY audit_id")
        with contextlib.closing(self._store.file.connect_ro()) as con:
            rows = [dict(r) for r in con.execute(sql, params).fetchall()]
        frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
        for col in ("old", "new"):
            frame[col] = pd.Series([json.loads(v) if isinstance(v, str) and v else None for v in frame[col]],
                                   index=frame.index, dtype=object)
        return frame


__all__ = ["GpkgAudit", "AUDIT"]

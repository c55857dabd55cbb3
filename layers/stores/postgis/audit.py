"""``store.audit`` in PostGIS: ``onemap_audit``, filled by statement triggers on every layer table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import func, select, text

from layers.stores.audit import AUDIT_COLUMNS, AuditTrail
from layers.stores.postgis.schema import AUDIT_TABLE

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgAudit(AuditTrail):
    """The audit trail in the store's PostGIS schema."""

    _store: "PostGISStore"

    def record_refused(self, layer: str, conflicts: list[dict], *, user: str) -> None:
        """Append ``refused`` rows with the attempted values (through the database's own function)."""
        db = self._store.db
        fn = f'"{db.schema}".onemap_record_refused'
        with db.engine.begin() as conn:
            db.as_user(conn, user)
            for c in conflicts:
                attempted = json.dumps({**(c.get("attempted") or {}), "_based_on_version": c["expected"],
                                        "_stored_version": c["current"]}, default=str, ensure_ascii=False)
                conn.execute(text(f"SELECT {fn}(:layer, :fid, CAST(:new AS jsonb))"),
                             {"layer": layer, "fid": str(c["feature_id"]), "new": attempted})

    def _read(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        au = self._store.db.table(AUDIT_TABLE)
        stmt = select(*[au.c[c] for c in AUDIT_COLUMNS], func.ST_AsGeoJSON(au.c.old_geom),
                      func.ST_AsGeoJSON(au.c.new_geom)).order_by(au.c.audit_id)
        if layer is not None:
            stmt = stmt.where(au.c.layer == layer)
        if feature_id is not None:
            stmt = stmt.where(au.c.feature_id == str(feature_id))
        with self._store.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=AUDIT_COLUMNS + ["old_geom", "new_geom"])
        for col in ("old", "new"):
            # The geometry is kept in its own column; the state carries it as GeoJSON text.
            frame[col] = pd.Series([{**v, "geometry": g} if isinstance(v, dict) and "geometry" not in v else
                                    (v if isinstance(v, dict) else None)
                                    for v, g in zip(frame[col], frame[f"{col}_geom"])], index=frame.index, dtype=object)
        return frame[AUDIT_COLUMNS]


__all__ = ["PgAudit"]

"""``store.records`` in PostGIS: one table per record kind, every version of every row kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import psycopg
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from layers.records import RecordSpec
from layers.stores.layer_tables import utc_now
from layers.stores.postgis.schema import records_table
from layers.stores.record_tables import RecordTables, record_values, superseded

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgRecords(RecordTables):
    """Record tables in the store's PostGIS schema."""

    _store: "PostGISStore"

    def _read_rows(self, spec: RecordSpec, conn=None) -> pd.DataFrame:
        t = self._store.db.table(records_table(spec))
        columns = ["rid", *spec.field_names, "record_version", "valid_to"]
        stmt = select(*[t.c[c] for c in columns]).order_by(t.c.rid)
        if conn is None:
            with self._store.db.engine.connect() as ro:
                rows = ro.execute(stmt).all()
        else:
            rows = conn.execute(stmt.where(t.c.valid_to.is_(None))).all()
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str) -> int:
        db = self._store.db
        t = db.table(records_table(spec))
        now = utc_now()
        try:
            with db.engine.begin() as conn:
                version = db.next_version(conn, "records", spec.name)
                ended = superseded(spec, self._read_rows(spec, conn), rows, mode)
                if len(ended):
                    conn.execute(t.update().where(t.c.rid.in_([int(r) for r in ended])).values(valid_to=version))
                conn.execute(insert(t), [{**v, "record_version": version} for v in record_values(spec, rows)])
                total = conn.execute(select(func.count()).select_from(t).where(t.c.valid_to.is_(None))).scalar()
                db.log_version(conn, kind="records", layer=spec.name, layer_version=version, action=mode,
                               changed_by=user, changed_at=now, source=source, n_written=len(rows), n_total=int(total))
        except (DBAPIError, psycopg.Error) as exc:
            raise db.refusal(exc, f"the {spec.name} rows") from None
        return version


__all__ = ["PgRecords"]

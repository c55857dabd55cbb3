"""``store.records`` in PostGIS: one table per record kind, every version of every row kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import psycopg
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError

from layers.records import RecordSpec
from layers.stores.postgis.schema import records_table
from layers.stores.record_tables import RecordTables, record_values, superseded

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgRecords(RecordTables):
    """Record tables in the store's PostGIS schema."""

    _store: "PostGISStore"

    def _read_rows(self, spec: RecordSpec, conn=None) -> pd.DataFrame:
        t = self._store.db.table(records_table(spec))
        columns = ["rid", *spec.field_names, "record_version", "valid_to", "department"]
        stmt = select(*[t.c[c] for c in columns]).order_by(t.c.rid)
        if conn is None:
            with self._store.db.engine.connect() as ro:
                rows = ro.execute(stmt).all()
        else:
            rows = conn.execute(stmt.where(t.c.valid_to.is_(None))).all()
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str,
                department: str) -> int:
        db = self._store.db
        t = db.table(records_table(spec))
        try:
            with db.engine.begin() as conn:
                db.as_user(conn, user)
                version = db.begin_write(conn, "records", spec.name, action=mode, source=source)
                current = self._read_rows(spec, conn)
                # A department ends only its own rows (the database's row-level security says the same).
                ended = superseded(spec, current[current["department"] == department], rows, mode)
                if len(ended):
                    conn.execute(t.update().where(t.c.rid.in_([int(r) for r in ended])).values(valid_to=version))
                conn.execute(insert(t), [{**v, "record_version": version, "department": department}
                                         for v in record_values(spec, rows)])
                db.end_write(conn, "records", spec.name, len(rows))
        except (DBAPIError, psycopg.Error) as exc:
            raise db.refusal(exc, f"the {spec.name} rows") from None
        return version


__all__ = ["PgRecords"]

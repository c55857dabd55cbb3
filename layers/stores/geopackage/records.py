"""``store.records`` in a GeoPackage: one table per record kind, ``onemap_records_<kind>``, written in place."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from typing import TYPE_CHECKING

import pandas as pd

from layers.records import RecordSpec
from layers.stores.layer_tables import utc_now
from layers.stores.record_tables import RecordTables, record_values, superseded

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

SQLITE_TYPES = {"text": "TEXT", "hours": "TEXT", "date": "TEXT", "datetime": "TEXT", "int": "INTEGER",
                "float": "REAL", "bool": "INTEGER"}


def records_table(spec: RecordSpec) -> str:
    """The table of a record kind."""
    return f"onemap_records_{spec.name}"


def records_ddl(spec: RecordSpec) -> str:
    """``CREATE TABLE IF NOT EXISTS`` of a record kind's table."""
    cols = ", ".join(f"{f.name} {SQLITE_TYPES[f.type]}{' NOT NULL' if f.required else ''}" for f in spec.fields)
    return (f"CREATE TABLE IF NOT EXISTS {records_table(spec)} (rid INTEGER PRIMARY KEY, {cols}, "
            "record_version INTEGER NOT NULL, valid_to INTEGER, department TEXT)")


def ensure_department(con: sqlite3.Connection, spec: RecordSpec) -> None:
    """Give a record table written by the first release its ``department`` column."""
    table = records_table(spec)
    have = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
    if have and "department" not in have:
        con.execute(f"ALTER TABLE {table} ADD COLUMN department TEXT")
        con.execute(f"UPDATE {table} SET department = ?", (spec.department,))


class GpkgRecords(RecordTables):
    """Record tables in the GeoPackage file."""

    _store: "GeoPackageStore"

    def _read_rows(self, spec: RecordSpec, con: sqlite3.Connection | None = None) -> pd.DataFrame:
        columns = ["rid", *spec.field_names, "record_version", "valid_to", "department"]
        table = records_table(spec)
        if con is None:
            if not self._store.file.has_table(table):
                return pd.DataFrame(columns=columns)
            with contextlib.closing(self._store.file.connect_ro()) as ro:
                return self._read_rows(spec, ro)
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            return pd.DataFrame(columns=columns)
        cur = con.execute(f"SELECT * FROM {table} ORDER BY rid")
        frame = pd.DataFrame([tuple(r) for r in cur.fetchall()], columns=[d[0] for d in cur.description])
        if "department" not in frame.columns:
            frame["department"] = spec.department
        frame = frame.reindex(columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str,
                department: str) -> int:
        now = utc_now()
        table = records_table(spec)
        file = self._store.file
        with file.in_place(join_writers=True) as con:
            con.execute(records_ddl(spec))
            version = file.next_version(con, "records", spec.name)
            current = self._read_rows(spec, con)
            current = current[current["valid_to"].isna() & (current["department"] == department)]
            ended = superseded(spec, current, rows, mode)
            con.executemany(f"UPDATE {table} SET valid_to = ? WHERE rid = ?", [(version, int(r)) for r in ended])
            first_new = int(con.execute(f"SELECT coalesce(max(rid), 0) FROM {table}").fetchone()[0]) + 1
            names = spec.field_names
            values = [tuple(str(v[n]) if isinstance(v[n], dt.date) else v[n] for n in names) + (version, department)
                      for v in record_values(spec, rows)]
            con.executemany(f"INSERT INTO {table} ({', '.join(names)}, record_version, department) "
                            f"VALUES ({', '.join('?' * (len(names) + 2))})", values)
            total = con.execute(f"SELECT COUNT(*) FROM {table} WHERE valid_to IS NULL").fetchone()[0]
            self._audit(con, spec, ended, first_new, user=user, when=now.isoformat(), version=version)
            file.log_version(con, "records", spec.name, version, mode, user, now.isoformat(), source, len(rows), total)
        return version


    def _audit(self, con: sqlite3.Connection, spec: RecordSpec, ended, first_new: int, *, user: str, when: str,
               version: int) -> None:
        """Audit rows of one record write: each row ended and each row added, as the PostGIS triggers write them."""
        table = records_table(spec)
        txid = f"gpkg-{table}-{version}"
        cols = ["rid", *spec.field_names, "record_version", "valid_to", "department"]
        rows = []
        ended_ids = [int(r) for r in ended]
        for i in range(0, len(ended_ids), 500):
            chunk = ended_ids[i:i + 500]
            for r in con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE rid IN ({', '.join('?' * len(chunk))})",
                                 chunk):
                new = dict(zip(cols, tuple(r)))
                old = {**new, "valid_to": None}
                rows.append((txid, table, str(new["rid"]), "end", user, None, when, version,
                             json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False)))
        for r in con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE rid >= ?", (first_new,)):
            new = dict(zip(cols, tuple(r)))
            rows.append((txid, table, str(new["rid"]), "insert", user, None, when, version, None,
                         json.dumps(new, ensure_ascii=False)))
        self._store.audit.write_rows(con, rows)


__all__ = ["GpkgRecords", "records_table"]

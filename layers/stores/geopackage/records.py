"""``store.records`` in a GeoPackage: one table per record kind, ``onemap_records_<kind>``, written in place."""

from __future__ import annotations

import contextlib
import datetime as dt
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
            "record_version INTEGER NOT NULL, valid_to INTEGER)")


class GpkgRecords(RecordTables):
    """Record tables in the GeoPackage file."""

    _store: "GeoPackageStore"

    def _read_rows(self, spec: RecordSpec, con: sqlite3.Connection | None = None) -> pd.DataFrame:
        columns = ["rid", *spec.field_names, "record_version", "valid_to"]
        table = records_table(spec)
        if con is None:
            if not self._store.file.has_table(table):
                return pd.DataFrame(columns=columns)
            with contextlib.closing(self._store.file.connect_ro()) as ro:
                return self._read_rows(spec, ro)
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            return pd.DataFrame(columns=columns)
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rid").fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str) -> int:
        now = utc_now()
        table = records_table(spec)
        file = self._store.file
        with file.in_place(join_writers=True) as con:
            con.execute(records_ddl(spec))
            version = file.next_version(con, "records", spec.name)
            current = self._read_rows(spec, con)
            current = current[current["valid_to"].isna()]
            ended = superseded(spec, current, rows, mode)
            con.executemany(f"UPDATE {table} SET valid_to = ? WHERE rid = ?", [(version, int(r)) for r in ended])
            names = spec.field_names
            values = [tuple(str(v[n]) if isinstance(v[n], dt.date) else v[n] for n in names) + (version,)
                      for v in record_values(spec, rows)]
            con.executemany(f"INSERT INTO {table} ({', '.join(names)}, record_version) "
                            f"VALUES ({', '.join('?' * (len(names) + 1))})", values)
            total = con.execute(f"SELECT COUNT(*) FROM {table} WHERE valid_to IS NULL").fetchone()[0]
            file.log_version(con, "records", spec.name, version, mode, user, now.isoformat(), source, len(rows), total)
        return version


__all__ = ["GpkgRecords", "records_table"]

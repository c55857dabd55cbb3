"""``store.field_reports`` in a GeoPackage: small in-place SQLite transactions, steps written alongside."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Iterator

from layers.stores.field_report_table import PHOTOS, REPORTS, STEPS, FieldReportTable, Run
from layers.stores.geopackage.file import IN_PLACE_TABLES

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

_STATUS_CHECK = "CHECK (status IN ('new', 'accepted', 'in_progress', 'resolved', 'rejected'))"
DDL = (
    f"""CREATE TABLE IF NOT EXISTS {REPORTS} (report_id TEXT PRIMARY KEY, category TEXT NOT NULL, body TEXT,
        lon REAL NOT NULL, lat REAL NOT NULL, place_layer TEXT, place_id TEXT, place_name TEXT, area_code TEXT,
        department TEXT NOT NULL, status TEXT NOT NULL {_STATUS_CHECK}, reporter TEXT, created_at TEXT NOT NULL,
        due_at TEXT NOT NULL, changed_at TEXT NOT NULL, changed_by TEXT NOT NULL, reason TEXT,
        photos INTEGER NOT NULL DEFAULT 0)""",
    f"CREATE INDEX IF NOT EXISTS ix_field_reports_department ON {REPORTS} (department, status)",
    f"CREATE INDEX IF NOT EXISTS ix_field_reports_place ON {REPORTS} (place_layer, place_id)",
    f"""CREATE TABLE IF NOT EXISTS {PHOTOS} (report_id TEXT NOT NULL, position INTEGER NOT NULL, jpeg BLOB NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL, PRIMARY KEY (report_id, position))""",
    f"""CREATE TABLE IF NOT EXISTS {STEPS} (step_id INTEGER PRIMARY KEY, report_id TEXT NOT NULL, at TEXT NOT NULL,
        status TEXT NOT NULL, department TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT)""",
    f"CREATE INDEX IF NOT EXISTS ix_field_report_steps ON {STEPS} (report_id)",
)
IN_PLACE_TABLES.update({REPORTS, PHOTOS, STEPS})


class GpkgFieldReports(FieldReportTable):
    """Field reports in the GeoPackage file."""

    _store: "GeoPackageStore"

    def __init__(self, store: "GeoPackageStore") -> None:
        super().__init__(store)
        self._writer = threading.Lock()

    @contextlib.contextmanager
    def _transaction(self, actor: str) -> Iterator[Run]:
        with self._writer, self._store.file.in_place() as con:
            for sql in DDL:
                con.execute(sql)

            def run(sql: str, params: dict[str, Any]) -> list[dict]:
                return [dict(r) for r in con.execute(sql, params).fetchall()]

            yield run

    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        if not self._store.file.has_table(REPORTS):
            return []
        with contextlib.closing(self._store.file.connect_ro()) as con:
            return [dict(r) for r in con.execute(sql, params).fetchall()]

    def _step(self, run: Run, row: dict) -> None:
        run(f"INSERT INTO {STEPS} (report_id, at, status, department, actor, reason) "
            "VALUES (:report_id, :changed_at, :status, :department, :changed_by, :reason)", row)


__all__ = ["GpkgFieldReports"]

"""``store.field_reports`` in PostGIS: filing through the owner's ``onemap_file_report``; steps by trigger.

The tables, triggers and function are made by revision 0006; the grants and row-level security
by :mod:`layers.stores.postgis.roles` (a department's role moves its own reports only).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from layers.stores.field_report_table import REPORT_COLUMNS, FieldReportTable, Run

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


class PgFieldReports(FieldReportTable):
    """Field reports in the store's PostGIS schema."""

    _store: "PostGISStore"

    def _search_path(self, conn) -> None:
        conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": f'"{self._store.schema}", public'})

    @contextlib.contextmanager
    def _transaction(self, actor: str) -> Iterator[Run]:
        db = self._store.db
        try:
            with db.engine.begin() as conn:
                self._search_path(conn)
                db.as_user(conn, actor)

                def run(sql: str, params: dict[str, Any]) -> list[dict]:
                    result = conn.execute(text(sql), params)
                    return [dict(r) for r in result.mappings().all()] if result.returns_rows else []

                yield run
        except DBAPIError as exc:
            raise db.refusal(exc, "the field report change") from None

    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        with self._store.db.engine.connect() as conn:
            self._search_path(conn)
            return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]

    def file(self, row: dict, photos: list[tuple[bytes, int, int]]) -> dict:
        """File a report with its photos in one call of the owner's ``onemap_file_report``."""
        import json

        full = {c: row.get(c) for c in REPORT_COLUMNS} | {"status": "new", "photos": len(photos)}
        with self._transaction(str(row.get("changed_by") or "reporter")) as run:
            run("SELECT onemap_file_report(CAST(:p AS jsonb), CAST(:ph AS bytea[]), CAST(:w AS integer[]), "
                "CAST(:h AS integer[]))",
                {"p": json.dumps(full, ensure_ascii=False), "ph": [p[0] for p in photos],
                 "w": [p[1] for p in photos], "h": [p[2] for p in photos]})
        return self.get(full["report_id"]) or full


__all__ = ["PgFieldReports"]

"""``store.field_reports``: problems reported on the ground, their photos and every step of their handling.

Every change is one transaction of SQL that both backends run alike (like the bookings):

- **Filing**: the report row and its photos are inserted together, status ``new``, routed to
  one department.  In PostgreSQL the owner's function ``onemap_file_report`` does it, so any
  signed-in role (a viewer from a community, a school, a clinic) can file without being
  able to write reports directly.
- **Workflow**: a step is one ``UPDATE … WHERE report_id = :r AND status IN (…) AND
  department = :d RETURNING *``: the report moves only from a status the step allows and only
  for the department that holds it; two editors pressing at once move it once.  In
  PostgreSQL a department's role may update its own rows only (row-level security), so a
  handover to another department is the holder's own last change.
- **Steps**: every insert and update writes a row of ``onemap_field_report_steps`` (who, when,
  status, department, reason) in the same transaction — by an owner's trigger in PostgreSQL
  (nobody else may write it; it goes to the audit trail too), by the transaction itself in
  the GeoPackage.  A report's state at any past moment is read back from its steps.
"""

from __future__ import annotations

import abc
import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd

from config.settings import settings
from layers.errors import InputFileError

if TYPE_CHECKING:
    from layers.stores.base import Store

REPORTS = "onemap_field_reports"
PHOTOS = "onemap_field_report_photos"
STEPS = "onemap_field_report_steps"
STATUSES = ("new", "accepted", "in_progress", "resolved", "rejected")
#: Statuses that end a report.
CLOSED = ("resolved", "rejected")
REPORT_COLUMNS = ["report_id", "category", "body", "lon", "lat", "place_layer", "place_id", "place_name",
                  "area_code", "department", "status", "reporter", "created_at", "due_at", "changed_at",
                  "changed_by", "reason", "photos"]
STEP_COLUMNS = ["step_id", "report_id", "at", "status", "department", "actor", "reason"]

#: One statement: SQL with ``:name`` parameters → the rows it returns, as dicts.
Run = Callable[[str, dict[str, Any]], list[dict]]

#: The kinds of problem a report is about.
CATEGORIES = ("closed", "broken", "unsafe", "crowded", "data_wrong")
#: Hours from filing to due, per category (``ONEMAP_REPORT_DUE_HOURS`` changes them: ``unsafe=12,broken=72``).
DUE_HOURS = {"unsafe": 24, "closed": 48, "broken": 168, "crowded": 336, "data_wrong": 240}


def due_hours() -> dict[str, int]:
    """Hours to due per category: the defaults, changed by ``ONEMAP_REPORT_DUE_HOURS`` (``unsafe=12,…``)."""
    out = dict(DUE_HOURS)
    setting = settings().report_due_hours.strip()
    for part in filter(None, (p.strip() for p in setting.split(","))):
        name, _, value = part.partition("=")
        if name.strip() not in CATEGORIES or not value.strip().isdigit() or int(value) < 1:
            raise InputFileError.coded("report.due_setting", part=part, categories=CATEGORIES)
        out[name.strip()] = int(value)
    return out


class FieldReportTable(abc.ABC):
    """The field-report tables of one store (module docstring)."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    @abc.abstractmethod
    @contextlib.contextmanager
    def _transaction(self, actor: str) -> Iterator[Run]:
        """One write transaction (tables created if missing), the app's ``actor`` named for triggers."""

    @abc.abstractmethod
    def _read(self, sql: str, params: dict[str, Any]) -> list[dict]:
        """A read outside any write (empty when the tables do not exist yet)."""

    def _step(self, run: Run, row: dict) -> None:
        """Record a step of a report (PostgreSQL does it by trigger)."""

    def file(self, row: dict, photos: list[tuple[bytes, int, int]]) -> dict:
        """Insert a new report (``row`` holds :data:`REPORT_COLUMNS` but ``photos``) and its JPEG photos.

        ``photos`` are (JPEG bytes, width, height), already checked and stripped.  Returns the row.
        """
        full = {c: row.get(c) for c in REPORT_COLUMNS} | {"status": "new", "photos": len(photos)}
        cols = ", ".join(REPORT_COLUMNS)
        with self._transaction(str(row.get("changed_by") or "reporter")) as run:
            run(f"INSERT INTO {REPORTS} ({cols}) VALUES ({', '.join(':' + c for c in REPORT_COLUMNS)})", full)
            for k, (jpeg, w, h) in enumerate(photos):
                run(f"INSERT INTO {PHOTOS} (report_id, position, jpeg, width, height) VALUES (:r, :k, :j, :w, :h)",
                    {"r": full["report_id"], "k": k, "j": jpeg, "w": w, "h": h})
            self._step(run, full)
        return full

    def move(self, report_id: str, *, allowed_from: tuple[str, ...], status: str, department: str | None,
             now: str, actor: str, reason: str | None = None, to_department: str | None = None) -> dict | None:
        """Move a report to ``status`` (and to ``to_department``) if it is in ``allowed_from`` and held by
        ``department`` (``None``: the administrator, any department); the new row, or ``None``."""
        if status not in STATUSES:
            raise ValueError(f"{status!r} is not a report status ({', '.join(STATUSES)})")
        held = "" if department is None else " AND department = :d"
        marks = ", ".join(f":s{k}" for k in range(len(allowed_from)))
        params = {"r": report_id, "d": department, "new": status, "now": now, "who": actor, "why": reason,
                  "to": to_department} | {f"s{k}": s for k, s in enumerate(allowed_from)}
        with self._transaction(actor) as run:
            rows = run(f"UPDATE {REPORTS} SET status = :new, changed_at = :now, changed_by = :who, reason = :why, "
                       f"department = COALESCE(:to, department) WHERE report_id = :r AND status IN ({marks}){held} "
                       "RETURNING *", params)
            if rows:
                self._step(run, rows[0])
        return rows[0] if rows else None

    def note_edit(self, report_id: str, *, department: str | None, now: str, actor: str, reason: str) -> dict | None:
        """Record in a report's steps that its feature was edited (status unchanged); the row or ``None``."""
        held = "" if department is None else " AND department = :d"
        with self._transaction(actor) as run:
            rows = run(f"UPDATE {REPORTS} SET changed_at = :now, changed_by = :who, reason = :why "
                       f"WHERE report_id = :r AND status IN ('accepted', 'in_progress'){held} RETURNING *",
                       {"r": report_id, "d": department, "now": now, "who": actor, "why": reason})
            if rows:
                self._step(run, rows[0])
        return rows[0] if rows else None

    def get(self, report_id: str) -> dict | None:
        """One report's row, or ``None``."""
        rows = self._read(f"SELECT * FROM {REPORTS} WHERE report_id = :r", {"r": report_id})
        return {c: rows[0][c] for c in REPORT_COLUMNS} if rows else None

    def list(self) -> pd.DataFrame:
        """Every report now, newest first."""
        rows = self._read(f"SELECT {', '.join(REPORT_COLUMNS)} FROM {REPORTS} ORDER BY created_at DESC, report_id",
                          {})
        return pd.DataFrame(rows, columns=REPORT_COLUMNS)

    def steps(self, report_id: str | None = None) -> pd.DataFrame:
        """The steps of one report (or of all), oldest first."""
        where = " WHERE report_id = :r" if report_id is not None else ""
        rows = self._read(f"SELECT {', '.join(STEP_COLUMNS)} FROM {STEPS}{where} ORDER BY step_id",
                          {"r": report_id})
        return pd.DataFrame(rows, columns=STEP_COLUMNS)

    def photos(self, report_id: str) -> list[bytes]:
        """A report's photos (JPEG bytes), in the order given."""
        rows = self._read(f"SELECT jpeg FROM {PHOTOS} WHERE report_id = :r ORDER BY position", {"r": report_id})
        return [bytes(r["jpeg"]) for r in rows]


__all__ = ["FieldReportTable", "STATUSES", "CLOSED", "REPORT_COLUMNS", "STEP_COLUMNS", "REPORTS", "PHOTOS",
           "STEPS", "Run"]

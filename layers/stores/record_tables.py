"""``store.records``: record tables (venue usage, satisfaction surveys), with every earlier state kept.

Earlier rows are never deleted: a row replaced by a later delivery keeps the version that
superseded it (``valid_to``), so any earlier state can be read again.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from layers.catalogue import DEPARTMENTS
from layers.errors import StoreError
from layers.records import RecordSpec, get_record_spec

if TYPE_CHECKING:
    from layers.stores.base import Store

RECORD_MODES: tuple[str, ...] = ("upsert", "replace", "append")
#: The department whose record kinds every department adds its own rows to.
SHARED = "alliance"


def superseded(spec: RecordSpec, current: pd.DataFrame, new: pd.DataFrame, mode: str) -> np.ndarray:
    """Row ids (``rid``) of current rows that ``new`` ends, by mode; refuses an append clash."""
    if mode == "replace" or current.empty:
        return current["rid"].to_numpy() if mode == "replace" else np.zeros(0, dtype=np.int64)
    key = list(spec.key)
    have = current[key].astype(str).agg("|".join, axis=1)
    incoming = set(new[key].astype(str).agg("|".join, axis=1))
    hit = have.isin(incoming).to_numpy()
    if mode == "append" and hit.any():
        first = current.loc[hit, key].iloc[0].to_dict()
        raise StoreError(f"{int(hit.sum())} {spec.name} row(s) are already stored (e.g. {first}); "
                         "use mode 'upsert' to update them. Nothing was written.")
    return current.loc[hit, "rid"].to_numpy()


def record_values(spec: RecordSpec, rows: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values (dates as ``datetime.date``) for either backend."""
    out = []
    for rec in rows.to_dict("records"):
        clean = {}
        for f in spec.fields:
            v = rec.get(f.name)
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                clean[f.name] = None
            elif f.type == "date":
                clean[f.name] = pd.Timestamp(v).date()
            elif f.type == "int":
                clean[f.name] = int(v)
            elif f.type == "float":
                clean[f.name] = float(v)
            else:
                clean[f.name] = str(v)
        out.append(clean)
    return out


class RecordTables(abc.ABC):
    """The record tables of one store."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    def write(self, kind: str, frame: pd.DataFrame, *, mode: str = "upsert", user: str = "system",
              source: str = "unknown", department: str | None = None) -> int:
        """Write checked rows of record table ``kind`` (see :mod:`layers.records`) in one transaction.

        Parameters
        ----------
        mode : {"upsert", "replace", "append"}
            ``upsert``: rows whose key is stored replace those rows, others are added.
            ``replace``: the table becomes exactly these rows.  ``append``: add rows; a
            key already stored refuses the whole write.
        department : str, optional
            Whose rows these are: the record kind's department by default; for a kind the
            alliance shares (surveys), each department writes and ends its own rows only.

        Returns
        -------
        int
            The new version of the record table (its history lists it under kind ``records``).

        Raises
        ------
        StoreError
            An unknown mode, no rows, or (``append``) a key already stored; nothing written.
        """
        spec = get_record_spec(kind)
        department = department or spec.department
        if department not in DEPARTMENTS or (spec.department != SHARED and department != spec.department):
            raise StoreError(f"{kind} rows belong to {spec.department}; not to {department!r}.")
        if mode not in RECORD_MODES:
            raise StoreError(f"Record write mode {mode!r} is not one of {', '.join(RECORD_MODES)}.")
        missing = [c for c in spec.field_names if c not in frame.columns and c != "source"]
        if missing:
            raise StoreError(f"The {kind} rows lack column(s) {', '.join(missing)}; check them with "
                             "layers.records.check_records first.")
        rows = frame.reindex(columns=spec.field_names).reset_index(drop=True)
        rows["source"] = rows["source"].where(rows["source"].notna(), source)
        if rows.empty:
            raise StoreError(f"No {kind} row to write.")
        foreign = self._foreign(kind, rows, department)
        if foreign:
            from layers.errors import AccessDeniedError

            raise AccessDeniedError.coded("records.not_yours", kind=kind, department=department,
                                          places=", ".join(foreign[:5]))
        if kind == "health_indicators":  # the last guard: no count below k is ever stored
            from layers.health import min_count, numerators

            people = numerators(rows)
            if ((people > 0) & (people < min_count())).any():
                raise StoreError.coded("health.store_below_k", k=min_count())
        return self._commit(spec, rows, mode=mode, user=user, source=source, department=department)

    def _foreign(self, kind: str, rows: pd.DataFrame, department: str) -> list[str]:
        """Places or resources of another department that ``rows`` of ``kind`` name (a department records
        bookables, courses and incidents at its own places — a course may also meet on a greenway, open to
        all — and closes its own resources only)."""
        out: list[str] = []
        if kind in ("bookable", "courses", "incidents"):
            stored = {i.name for i in self._store.layers.list()}
            for layer, ids in rows.groupby("place_layer")["place_id"]:
                if layer not in stored or (kind == "courses" and layer == "greenways"):  # open to every course
                    continue
                places = self._store.layers.read(str(layer))
                owner = dict(zip(places["feature_id"].astype(str), places["department"].astype(str)))
                out += [f"{layer}/{i}" for i in ids.astype(str) if owner.get(i, department) != department]
        elif kind == "closures":
            owner: dict[str, str] = {}
            for other, key in (("bookable", "resource_id"), ("courses", "course_id")):
                held = self.read(other, with_department=True)
                prefix = "course-" if other == "courses" else ""
                owner.update({prefix + str(r): str(d) for r, d in zip(held[key], held["department"])})
            out += [r for r in rows["resource_id"].astype(str) if r != "*" and owner.get(r, department) != department]
        return out

    def read(self, kind: str, *, version: int | None = None, with_department: bool = False) -> pd.DataFrame:
        """Rows of record table ``kind`` now (or as they were at ``version``); empty when none.

        ``with_department`` adds the ``department`` that owns each row."""
        spec = get_record_spec(kind)
        stored = self._read_rows(spec)
        if version is None:
            live = stored["valid_to"].isna()
        else:
            live = (stored["record_version"] <= int(version)) & (stored["valid_to"].isna() |
                                                                 (stored["valid_to"] > int(version)))
        cols = spec.field_names + (["department"] if with_department else [])
        out = stored.loc[live, cols].reset_index(drop=True)
        for f in spec.fields:
            if f.type == "date":
                out[f.name] = pd.to_datetime(out[f.name]).dt.date if len(out) else out[f.name]
            elif f.type == "int":
                out[f.name] = out[f.name].astype("Int64")
            elif f.type == "float":
                out[f.name] = out[f.name].astype(float)
        return out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)

    @abc.abstractmethod
    def _read_rows(self, spec: RecordSpec) -> pd.DataFrame:
        """Every stored row of a record table with ``rid``, ``record_version``, ``valid_to``, ``department``."""

    @abc.abstractmethod
    def _commit(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str,
                department: str) -> int:
        """End superseded rows of ``department`` and insert the new ones atomically; return the new version."""


__all__ = ["RecordTables", "RECORD_MODES", "superseded", "record_values"]

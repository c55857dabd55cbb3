"""``store.layers`` in PostGIS: one table per layer (GiST-indexed SRID 4326 geometry) and its archive.

Bulk rows go in with ``COPY`` (row by row under a department's role, where row-level
security forbids COPY); layer and field names come only from the catalogue, values only
travel as bound parameters or COPY data.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from geo.crs import STORAGE_CRS
from layers.catalogue import LayerSpec
from layers.errors import EditConflictError, ValidationReport
from layers.stores.base import WriteResult
from layers.stores.layer_tables import LayerTables, conform, refuse_appended_ids, utc_now, version_conflicts
from layers.stores.postgis.schema import GEOMETRY_COLUMN, VERSIONS_TABLE, archive_name
from layers.stores.states import stamp_versions

if TYPE_CHECKING:
    from layers.stores.postgis import PostGISStore


def python_values(col: pd.Series) -> list[Any]:
    """Column values as Python objects with None for missing (what COPY rows take)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in col]
    out = col.astype(object).tolist()
    return [None if (v is None or v is pd.NA or v is pd.NaT or
                     (isinstance(v, float) and math.isnan(v))) else
            (v.item() if isinstance(v, np.generic) else v) for v in out]


class PgLayers(LayerTables):
    """Vector layers in the store's PostGIS schema."""

    _store: "PostGISStore"

    @property
    def _db(self):
        return self._store.db

    def select_rows(self, table_name: str, spec: LayerSpec, bounds, where=None) -> gpd.GeoDataFrame:
        """Rows of a layer or archive table, prefiltered with the GiST index when ``bounds`` are given."""
        t = self._db.table(table_name)
        names = [f.name for f in spec.all_fields]
        stmt = select(*[t.c[n] for n in names], func.ST_AsBinary(t.c[GEOMETRY_COLUMN]).label("geom_wkb"))
        if bounds is not None:
            env = func.ST_MakeEnvelope(*[float(b) for b in bounds], 4326)
            stmt = stmt.where(t.c[GEOMETRY_COLUMN].op("&&")(env))
        if where is not None:
            stmt = stmt.where(where(t))
        with self._db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=names + ["geom_wkb"])
        geoms = shapely.from_wkb(np.array([bytes(b) for b in frame.pop("geom_wkb")], dtype=object)) \
            if len(frame) else []
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=STORAGE_CRS),
                                crs=STORAGE_CRS)

    def _read_current(self, spec: LayerSpec, bounds) -> gpd.GeoDataFrame:
        return self.select_rows(spec.name, spec, bounds)

    def _read_version(self, spec: LayerSpec, version: int, bounds) -> gpd.GeoDataFrame:
        current = self.select_rows(spec.name, spec, bounds, lambda t: t.c.layer_version <= version)
        old = self.select_rows(archive_name(spec.name), spec, bounds,
                               lambda t: (t.c.layer_version <= version) & (t.c.valid_to > version))
        parts = [p for p in (current, old) if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else current

    def _copy_rows(self, conn, table_name: str, frame: gpd.GeoDataFrame, names: list[str]) -> None:
        """Bulk-load ``frame`` with COPY on the transaction's own connection (INSERTs under a department role)."""
        columns = [python_values(frame[n]) for n in names]
        geoms = shapely.set_srid(frame.geometry.to_numpy(), 4326)
        columns.append(shapely.to_wkb(geoms, hex=True, include_srid=True).tolist())
        target = sql.SQL("{}.{} ({})").format(
            sql.Identifier(self._db.schema), sql.Identifier(table_name),
            sql.SQL(", ").join(sql.Identifier(n) for n in names + [GEOMETRY_COLUMN]))
        raw = conn.connection.driver_connection
        if self._db.db_role:
            # COPY is not allowed under row-level security: a department's role inserts row by row.
            insert_stmt = sql.SQL("INSERT INTO {} VALUES ({})").format(
                target, sql.SQL(", ").join([sql.Placeholder()] * (len(names) + 1)))
            with raw.cursor() as cur:
                cur.executemany(insert_stmt, list(zip(*columns)))
            return
        with raw.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy:
            for row in zip(*columns):
                copy.write_row(row)

    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        now = utc_now()
        db = self._db
        t = db.table(spec.name)
        a = db.table(archive_name(spec.name))
        names = [f.name for f in spec.all_fields]
        try:
            with db.engine.begin() as conn:
                db.as_user(conn, user)
                version = db.begin_write(conn, "vector", spec.name, action=mode, source=source)
                existing = pd.DataFrame.from_records(
                    conn.execute(select(t.c.feature_id, t.c.version, t.c.layer_version)).all(),
                    columns=["feature_id", "version", "layer_version"])
                conflicts = version_conflicts(expected, dict(zip(existing["feature_id"], existing["version"])))
                if conflicts:
                    self._explain(conn, spec, conflicts, existing)
                    raise EditConflictError(spec.name, conflicts)
                refuse_appended_ids(frame, set(existing["feature_id"]), mode, report)
                if mode == "delete":
                    replaced = sorted(set(frame["feature_id"]) & set(existing["feature_id"]))
                    stamped = frame.iloc[0:0]
                else:
                    gone = pd.DataFrame.from_records(
                        conn.execute(select(a.c.feature_id, func.max(a.c.version)).group_by(a.c.feature_id)).all(),
                        columns=["feature_id", "version"])
                    gone = gone[~gone["feature_id"].isin(set(existing["feature_id"]))]
                    known = pd.concat([existing[["feature_id", "version"]], gone], ignore_index=True)
                    stamped = stamp_versions(frame, known, version, now)
                    replaced = None if mode == "replace" else \
                        sorted(set(stamped["feature_id"]) & set(existing["feature_id"]))
                # The database's trigger archives the rows removed here, with this version.
                if replaced is None:
                    conn.execute(delete(t))
                elif replaced:
                    conn.execute(delete(t).where(t.c.feature_id.in_(replaced)))
                if len(stamped):
                    self._copy_rows(conn, spec.name, stamped, names)
                written = len(replaced) if mode == "delete" else len(stamped)
                total = db.end_write(conn, "vector", spec.name, written)
        except (OperationalError, psycopg.OperationalError) as exc:
            raise db.lost(exc, repr(spec.name)) from None
        except (DBAPIError, psycopg.Error) as exc:
            raise db.refusal(exc, f"the write of {spec.name!r}") from None
        return WriteResult(spec.name, version, mode, written, total, report)

    def _explain(self, conn, spec: LayerSpec, conflicts: list[dict], existing: pd.DataFrame) -> None:
        """Add who saved the conflicting version, and when, from the version log."""
        v = self._db.table(VERSIONS_TABLE)
        lv = dict(zip(existing["feature_id"], existing["layer_version"]))
        for c in conflicts:
            if c["current"] is None:
                continue
            row = conn.execute(select(v.c.changed_by, v.c.changed_at).where(
                (v.c.kind == "vector") & (v.c.layer == spec.name)
                & (v.c.layer_version == int(lv[c["feature_id"]])))).first()
            if row:
                c["changed_by"], c["changed_at"] = row[0], row[1].isoformat()

    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        parts = []
        for name in (spec.name, archive_name(spec.name)):
            got = self.select_rows(name, spec, None, where=lambda t: t.c.feature_id == feature_id)
            if got is not None and len(got):
                parts.append(got)
        if not parts:
            return conform(spec, None)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


__all__ = ["PgLayers"]

"""The PostGIS store, through SQLAlchemy 2 and GeoAlchemy2.

Geometry is stored with SRID 4326 in GiST-indexed columns; the schema is created and
upgraded by :mod:`layers.stores.pg_schema` migrations.  Every write runs in one
transaction (bulk rows go in with ``COPY``), so a refused or failed write leaves the
previous data untouched.  Layer and field names come only from the catalogue, and
values only travel as bound parameters or COPY data.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, delete, func, insert, literal, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError

from geo.crs import STORAGE_CRS
from geo.errors import (AccessDeniedError, EditConflictError, SchemaError, StoreError, StoreUnavailableError,
                        ValidationReport)
from layers.catalogue import LayerSpec
from layers.rasters import check_geotiff
from layers.records import RecordSpec
from layers.stores.base import AUDIT_COLUMNS, HISTORY_COLUMNS, LayerStore, WriteResult, stamp_versions
from layers.stores.pg_schema import (ACCOUNTS_TABLE, AUDIT_TABLE, GEOMETRY_COLUMN, RASTERS_TABLE, SCENARIOS_TABLE, VERSIONS_TABLE,
                                     records_table,
                                     archive_name, build_metadata, migrate)

DEFAULT_SCHEMA = "onemap"


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for ``postgres://`` / ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    digest = hashlib.blake2b("/".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostGISStore(LayerStore):
    """A :class:`LayerStore` in a PostgreSQL/PostGIS database.

    Parameters
    ----------
    url : str
        A SQLAlchemy/libpq URL, e.g. ``postgresql://user:pass@host:5432/db``.
    schema : str
        The PostgreSQL schema holding the store (default ``onemap``, or ``ONEMAP_PG_SCHEMA``).
    migrate_schema : bool
        Create or upgrade the schema on open (default True).
    """

    def __init__(self, url: str, *, schema: str | None = None, migrate_schema: bool = True,
                 connect_timeout: int = 5, db_role: str | None = None) -> None:
        self.url = normalize_database_url(url)
        self.schema = schema or os.environ.get("ONEMAP_PG_SCHEMA") or DEFAULT_SCHEMA
        self.db_role = db_role
        self.description = f"PostGIS {_masked(self.url)} (schema {self.schema}" + \
            (f", as {db_role})" if db_role else ")")
        args: dict[str, Any] = {"connect_timeout": connect_timeout}
        if db_role:
            if not db_role.replace("_", "").isalnum():
                raise StoreError(f"{db_role!r} is not a role name this store uses.")
            args["options"] = f"-c role={db_role}"
            migrate_schema = False  # a department's role may not change the schema
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True, connect_args=args)
        except (ArgumentError, ImportError) as exc:
            raise StoreUnavailableError(f"DATABASE_URL {_masked(url)} is not a usable database URL ({exc}). "
                                        "Write it like postgresql://user:password@host:5432/database.") from None
        self.md = build_metadata(self.schema)
        self._check_server()
        if migrate_schema:
            try:
                with self.engine.begin() as conn:
                    migrate(conn, self.schema)
            except ProgrammingError as exc:
                raise SchemaError(f"Cannot create the store's schema {self.schema!r} in "
                                  f"{_masked(self.url)}: {exc.orig}. Ask the database owner to "
                                  "grant CREATE on the database, or migrate as its owner.") from None

    def _table(self, name: str):
        return self.md.tables[f"{self.schema}.{name}"]

    def _check_server(self) -> None:
        try:
            with self.engine.begin() as conn:
                has = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).scalar()
                if has is None:
                    available = conn.execute(text(
                        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
                    if available is None:
                        raise SchemaError(
                            f"Database {_masked(self.url)} has no PostGIS and the server cannot "
                            "install it. Install the server package (Debian: postgresql-15-postgis-3), "
                            "then run CREATE EXTENSION postgis; in that database.")
                    try:
                        with conn.begin_nested():
                            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                    except ProgrammingError:
                        raise SchemaError(
                            f"Database {_masked(self.url)} has no PostGIS extension and this user "
                            "may not create it. Ask a superuser to run CREATE EXTENSION postgis; in it."
                        ) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise StoreUnavailableError(
                f"Cannot reach the database at {_masked(self.url)}: {reason}. Check DATABASE_URL "
                "(host, port, user, password, database name) and that the server is running; "
                "unset DATABASE_URL to use the embedded GeoPackage instead.") from None

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()

    def setup_department_roles(self) -> list[str]:
        """Create the department, viewer and admin roles with their grants and row-level security.

        Raises
        ------
        SchemaError
            When this database user may not create roles (ask the database owner to run it).
        """
        from layers.stores.pg_roles import setup_department_roles

        try:
            with self.engine.begin() as conn:
                return setup_department_roles(conn, self.schema)
        except (DBAPIError, psycopg.Error) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SchemaError(f"Cannot set up the department roles of {self.schema!r} ({reason}); run "
                              "`python -m ui.cli roles` as the database owner or a user with CREATEROLE.") from None

    def as_role(self, db_role: str) -> "PostGISStore":
        """The same store, every statement run as ``db_role`` (a department's, the viewer's or the admin's)."""
        return PostGISStore(self.url, schema=self.schema, db_role=db_role)

    # ----- reading ----------------------------------------------------------------------
    def _last_versions(self) -> dict[tuple[str, str], dict]:
        v = self._table(VERSIONS_TABLE)
        latest = (select(v.c.kind, v.c.layer, func.max(v.c.layer_version).label("lv"))
                  .group_by(v.c.kind, v.c.layer).subquery())
        stmt = select(v).join(latest, (v.c.kind == latest.c.kind) & (v.c.layer == latest.c.layer)
                              & (v.c.layer_version == latest.c.lv))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return {(r["kind"], r["layer"]): dict(r) for r in rows}

    def _select_rows(self, table_name: str, spec: LayerSpec, bounds, where=None) -> gpd.GeoDataFrame:
        t = self._table(table_name)
        names = [f.name for f in spec.all_fields]
        stmt = select(*[t.c[n] for n in names],
                      func.ST_AsBinary(t.c[GEOMETRY_COLUMN]).label("geom_wkb"))
        if bounds is not None:
            env = func.ST_MakeEnvelope(*[float(b) for b in bounds], 4326)
            stmt = stmt.where(t.c[GEOMETRY_COLUMN].op("&&")(env))
        if where is not None:
            stmt = stmt.where(where(t))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=names + ["geom_wkb"])
        geoms = shapely.from_wkb(np.array([bytes(b) for b in frame.pop("geom_wkb")], dtype=object)) \
            if len(frame) else []
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=STORAGE_CRS),
                                crs=STORAGE_CRS)

    def _read_current(self, spec: LayerSpec, bounds) -> gpd.GeoDataFrame:
        return self._select_rows(spec.name, spec, bounds)

    def _read_version(self, spec: LayerSpec, version: int, bounds) -> gpd.GeoDataFrame:
        current = self._select_rows(spec.name, spec, bounds, lambda t: t.c.layer_version <= version)
        old = self._select_rows(archive_name(spec.name), spec, bounds,
                                lambda t: (t.c.layer_version <= version) & (t.c.valid_to > version))
        parts = [p for p in (current, old) if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else current

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name`` (vector and raster), oldest first."""
        v = self._table(VERSIONS_TABLE)
        stmt = (select(*[v.c[c] for c in HISTORY_COLUMNS]).where(v.c.layer == name)
                .order_by(v.c.changed_at, v.c.kind, v.c.layer_version))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=HISTORY_COLUMNS)
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
        return frame

    def read_raster(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name``."""
        r = self._table(RASTERS_TABLE)
        stmt = select(r.c.content).where(r.c.name == name)
        if version is not None:
            stmt = stmt.where(r.c.layer_version <= int(version))
        stmt = stmt.order_by(r.c.layer_version.desc()).limit(1)
        with self.engine.connect() as conn:
            content = conn.execute(stmt).scalar()
            if content is None:
                stored = list(conn.execute(select(r.c.name).distinct()).scalars())
                raise self._unknown_raster(name, stored)
        return bytes(content)

    # ----- writing ----------------------------------------------------------------------
    def _next_version(self, conn, kind: str, name: str) -> int:
        v = self._table(VERSIONS_TABLE)
        conn.execute(select(func.pg_advisory_xact_lock(_lock_key(self.schema, kind, name))))
        have = conn.execute(select(func.coalesce(func.max(v.c.layer_version), 0))
                            .where((v.c.kind == kind) & (v.c.layer == name))).scalar()
        return int(have) + 1

    def _log(self, conn, **values: Any) -> None:
        conn.execute(insert(self._table(VERSIONS_TABLE)).values(**values))

    def _copy_rows(self, conn, table_name: str, frame: gpd.GeoDataFrame, names: list[str]) -> None:
        """Bulk-load ``frame`` with COPY on the transaction's own connection (INSERTs under a department role)."""
        columns = [_python_values(frame[n]) for n in names]
        geoms = shapely.set_srid(frame.geometry.to_numpy(), 4326)
        columns.append(shapely.to_wkb(geoms, hex=True, include_srid=True).tolist())
        stmt = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
            sql.Identifier(self.schema), sql.Identifier(table_name),
            sql.SQL(", ").join(sql.Identifier(n) for n in names + [GEOMETRY_COLUMN]))
        raw = conn.connection.driver_connection
        if self.db_role:
            # COPY is not allowed under row-level security: a department's role inserts row by row.
            insert_stmt = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
                sql.Identifier(self.schema), sql.Identifier(table_name),
                sql.SQL(", ").join(sql.Identifier(n) for n in names + [GEOMETRY_COLUMN]),
                sql.SQL(", ").join([sql.Placeholder()] * (len(names) + 1)))
            with raw.cursor() as cur:
                cur.executemany(insert_stmt, list(zip(*columns)))
            return
        with raw.cursor() as cur, cur.copy(stmt) as copy:
            for row in zip(*columns):
                copy.write_row(row)

    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        now = self._now()
        t = self._table(spec.name)
        a = self._table(archive_name(spec.name))
        names = [f.name for f in spec.all_fields]
        try:
            with self.engine.begin() as conn:
                self._as_user(conn, user)
                version = self._next_version(conn, "vector", spec.name)
                existing = pd.DataFrame.from_records(
                    conn.execute(select(t.c.feature_id, t.c.version, t.c.layer_version)).all(),
                    columns=["feature_id", "version", "layer_version"])
                conflicts = self._conflicts(expected, dict(zip(existing["feature_id"], existing["version"])))
                if conflicts:
                    self._explain(conn, spec, conflicts, existing)
                    raise EditConflictError(spec.name, conflicts)
                self._check_mode_ids(spec, frame, set(existing["feature_id"]), mode, report)
                if mode == "delete":
                    to_archive = sorted(set(frame["feature_id"]) & set(existing["feature_id"]))
                    stamped = frame.iloc[0:0]
                else:
                    gone = pd.DataFrame.from_records(
                        conn.execute(select(a.c.feature_id, func.max(a.c.version)).group_by(a.c.feature_id)).all(),
                        columns=["feature_id", "version"])
                    gone = gone[~gone["feature_id"].isin(set(existing["feature_id"]))]
                    known = pd.concat([existing[["feature_id", "version"]], gone], ignore_index=True)
                    stamped = stamp_versions(frame, known, version, now)
                    to_archive = None if mode == "replace" else \
                        sorted(set(stamped["feature_id"]) & set(existing["feature_id"]))
                source_rows = select(*[t.c[n] for n in names], t.c[GEOMETRY_COLUMN], literal(version))
                removal = delete(t)
                if to_archive is not None:
                    source_rows = source_rows.where(t.c.feature_id.in_(to_archive))
                    removal = removal.where(t.c.feature_id.in_(to_archive))
                if to_archive is None or to_archive:
                    conn.execute(insert(a).from_select(names + [GEOMETRY_COLUMN, "valid_to"], source_rows))
                    conn.execute(removal)
                if len(stamped):
                    self._copy_rows(conn, spec.name, stamped, names)
                total = int(conn.execute(select(func.count()).select_from(t)).scalar())
                written = len(to_archive) if mode == "delete" else len(stamped)
                self._log(conn, kind="vector", layer=spec.name, layer_version=version, action=mode,
                          changed_by=user, changed_at=now, source=source,
                          n_written=written, n_total=total)
        except (OperationalError, psycopg.OperationalError) as exc:
            reason = getattr(exc, "orig", None) or exc
            raise StoreUnavailableError(f"Lost the database while writing {spec.name!r} "
                                        f"({reason}); nothing was written.") from None
        except (DBAPIError, psycopg.Error) as exc:
            raise self._refusal(exc, f"the write of {spec.name!r}") from None
        return WriteResult(spec.name, version, mode, written, total, report)

    def _refusal(self, exc: Exception, what: str) -> StoreError | AccessDeniedError:
        """The error to raise for a statement the database refused."""
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0]
        if getattr(orig, "sqlstate", None) == "42501":
            return AccessDeniedError(
                f"The database refused {what} for role {self.db_role or 'of this connection'} ({reason}): "
                "a department changes only its own layers and rows; nothing was written.")
        return StoreError(f"The database refused {what} ({reason}); nothing was written.")

    @staticmethod
    def _as_user(conn, user: str) -> None:
        """Name the app's user for the audit triggers, for this transaction only."""
        conn.execute(text("SELECT set_config('onemap.user', :u, true)"), {"u": user})

    def _explain(self, conn, spec: LayerSpec, conflicts: list[dict], existing: pd.DataFrame) -> None:
        """Add who saved the conflicting version, and when, from the version log."""
        v = self._table(VERSIONS_TABLE)
        lv = dict(zip(existing["feature_id"], existing["layer_version"]))
        for c in conflicts:
            if c["current"] is None:
                continue
            row = conn.execute(select(v.c.changed_by, v.c.changed_at).where(
                (v.c.kind == "vector") & (v.c.layer == spec.name) & (v.c.layer_version == int(lv[c["feature_id"]])))).first()
            if row:
                c["changed_by"], c["changed_at"] = row[0], row[1].isoformat()

    def _get_account(self, username: str) -> dict | None:
        t = self._table(ACCOUNTS_TABLE)
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.username == username)).mappings().first()
        return None if row is None else dict(row)

    def _put_account(self, row: dict) -> None:
        t = self._table(ACCOUNTS_TABLE)
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.username == row["username"]))
            conn.execute(insert(t).values(**{c: row.get(c) for c in self.ACCOUNT_COLUMNS}))

    def _list_accounts(self) -> pd.DataFrame:
        t = self._table(ACCOUNTS_TABLE)
        cols = [c for c in self.ACCOUNT_COLUMNS if c != "password_hash"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*[t.c[c] for c in cols]).order_by(t.c.username)).all()
        return pd.DataFrame.from_records(rows, columns=cols)

    def _record_refused(self, spec: LayerSpec, conflicts: list[dict], *, user: str) -> None:
        au = self._table(AUDIT_TABLE)
        now = self._now()
        with self.engine.begin() as conn:
            conn.execute(insert(au), [{
                "txid": f"refused-{now.isoformat()}", "layer": spec.name, "feature_id": c["feature_id"],
                "action": "refused", "changed_by": user, "db_role": None, "changed_at": now, "layer_version": None,
                "old": None, "new": json.loads(json.dumps({**(c.get("attempted") or {}), "_based_on_version": c["expected"],
                                                           "_stored_version": c["current"]}, default=str))}
                for c in conflicts])

    def _read_audit(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        au = self._table(AUDIT_TABLE)
        stmt = select(*[au.c[c] for c in AUDIT_COLUMNS], func.ST_AsGeoJSON(au.c.old_geom),
                      func.ST_AsGeoJSON(au.c.new_geom)).order_by(au.c.audit_id)
        if layer is not None:
            stmt = stmt.where(au.c.layer == layer)
        if feature_id is not None:
            stmt = stmt.where(au.c.feature_id == str(feature_id))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=AUDIT_COLUMNS + ["old_geom", "new_geom"])
        for col in ("old", "new"):
            # The geometry is kept in its own column; the state carries it as GeoJSON text.
            frame[col] = pd.Series([{**v, "geometry": g} if isinstance(v, dict) and "geometry" not in v else
                                    (v if isinstance(v, dict) else None)
                                    for v, g in zip(frame[col], frame[f"{col}_geom"])], index=frame.index, dtype=object)
        return frame[AUDIT_COLUMNS]

    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        parts = []
        for name in (spec.name, archive_name(spec.name)):
            got = self._select_rows(name, spec, None, where=lambda t: t.c.feature_id == feature_id)
            if got is not None and len(got):
                parts.append(got)
        if not parts:
            return self._conform(spec, None)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)

    def list_scenarios(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""
        t = self._table(SCENARIOS_TABLE)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.c.name, t.c.saved_by, t.c.saved_at).order_by(t.c.saved_at.desc())).all()
        return pd.DataFrame.from_records(rows, columns=["name", "saved_by", "saved_at"])

    def _save_scenario(self, name: str, payload: str, *, user: str, overwrite: bool) -> None:
        t = self._table(SCENARIOS_TABLE)
        values = dict(name=name, saved_by=user, saved_at=self._now(), payload=json.loads(payload))
        with self.engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(_lock_key(self.schema, "scenario", name))))
            exists = conn.execute(select(t.c.name).where(t.c.name == name)).first() is not None
            if exists and not overwrite:
                raise StoreError(f"A scenario named {name!r} is already saved; choose another name or overwrite it.")
            if exists:
                conn.execute(t.delete().where(t.c.name == name))
            conn.execute(insert(t).values(**values))

    def _load_scenario(self, name: str) -> dict | None:
        t = self._table(SCENARIOS_TABLE)
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.saved_by, t.c.saved_at, t.c.payload).where(t.c.name == name)).first()
        return None if row is None else {"saved_by": row[0], "saved_at": row[1], "payload": row[2]}

    def _read_record_rows(self, spec: RecordSpec, conn=None) -> pd.DataFrame:
        t = self._table(records_table(spec))
        columns = ["rid", *spec.field_names, "record_version", "valid_to"]
        stmt = select(*[t.c[c] for c in columns]).order_by(t.c.rid)
        if conn is None:
            with self.engine.connect() as ro:
                rows = ro.execute(stmt).all()
        else:
            rows = conn.execute(stmt.where(t.c.valid_to.is_(None))).all()
        frame = pd.DataFrame.from_records(rows, columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit_records(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str) -> int:
        t = self._table(records_table(spec))
        now = self._now()
        try:
            with self.engine.begin() as conn:
                version = self._next_version(conn, "records", spec.name)
                ended = self._superseded(spec, self._read_record_rows(spec, conn), rows, mode)
                if len(ended):
                    conn.execute(t.update().where(t.c.rid.in_([int(r) for r in ended])).values(valid_to=version))
                conn.execute(insert(t), [{**v, "record_version": version} for v in self._record_values(spec, rows)])
                total = conn.execute(select(func.count()).select_from(t).where(t.c.valid_to.is_(None))).scalar()
                self._log(conn, kind="records", layer=spec.name, layer_version=version, action=mode,
                          changed_by=user, changed_at=now, source=source, n_written=len(rows), n_total=int(total))
        except (DBAPIError, psycopg.Error) as exc:
            raise self._refusal(exc, f"the {spec.name} rows") from None
        return version

    def write_raster(self, name: str, content: bytes, *, user: str = "system",
                     source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns the new layer version."""
        check_geotiff(content, name=name, source=source)
        now = self._now()
        with self.engine.begin() as conn:
            version = self._next_version(conn, "raster", name)
            conn.execute(insert(self._table(RASTERS_TABLE)).values(
                name=name, layer_version=version, content=content))
            self._log(conn, kind="raster", layer=name, layer_version=version, action="replace",
                      changed_by=user, changed_at=now, source=source, n_written=1, n_total=1)
        return version


def _python_values(col: pd.Series) -> list[Any]:
    """Column values as Python objects with None for missing (what COPY rows take)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in col]
    out = col.astype(object).tolist()
    return [None if (v is None or v is pd.NA or v is pd.NaT or
                     (isinstance(v, float) and math.isnan(v))) else
            (v.item() if isinstance(v, np.generic) else v) for v in out]


__all__ = ["PostGISStore", "normalize_database_url", "DEFAULT_SCHEMA"]

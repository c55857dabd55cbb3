"""The embedded store: one GeoPackage file that also opens in QGIS.

Per layer the file holds a table ``<layer>`` (current features) and ``<layer>__archive``
(earlier states, with ``valid_to``, the layer version that superseded them), plus the
version log ``onemap_layer_versions`` and raster layers in ``onemap_rasters``.

Writes are copy-on-write: the new state is written to a copy of the file beside it and
moved over the original with an atomic rename, so a failed write (or a crash) leaves the
file exactly as it was and readers never see half a write.  A lock file serialises writers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.errors import (EditConflictError, StoreError, StoreLockedError,
                        StoreUnavailableError, ValidationReport)
from layers.catalogue import LayerSpec
from layers.rasters import check_geotiff
from layers.records import RecordSpec
from layers.stores.base import (AUDIT_COLUMNS, HISTORY_COLUMNS, LayerStore, WriteResult,
                                ensure_storage_crs, feature_texts, stamp_versions)

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_VERSIONS = "onemap_layer_versions"
_RASTERS = "onemap_rasters"
_SCENARIOS = "onemap_scenarios"
_SCENARIOS_DDL = f"""CREATE TABLE IF NOT EXISTS {_SCENARIOS} (
        name TEXT PRIMARY KEY, saved_by TEXT NOT NULL, saved_at TEXT NOT NULL, payload TEXT NOT NULL)"""
_META_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {_VERSIONS} (
        kind TEXT NOT NULL, layer TEXT NOT NULL, layer_version INTEGER NOT NULL,
        action TEXT NOT NULL, changed_by TEXT NOT NULL, changed_at TEXT NOT NULL,
        source TEXT, n_written INTEGER NOT NULL, n_total INTEGER NOT NULL,
        PRIMARY KEY (kind, layer, layer_version))""",
    f"""CREATE TABLE IF NOT EXISTS {_RASTERS} (
        name TEXT NOT NULL, layer_version INTEGER NOT NULL, content BLOB NOT NULL,
        PRIMARY KEY (name, layer_version))""",
)
_ACCOUNTS = "onemap_accounts"
_ACCOUNTS_DDL = f"""CREATE TABLE IF NOT EXISTS {_ACCOUNTS} (
        username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, department TEXT,
        failed_attempts INTEGER NOT NULL DEFAULT 0, locked_until TEXT, created_at TEXT NOT NULL, last_sign_in TEXT)"""
_AUDIT = "onemap_audit"
_AUDIT_DDL = f"""CREATE TABLE IF NOT EXISTS {_AUDIT} (
        audit_id INTEGER PRIMARY KEY, txid TEXT NOT NULL, layer TEXT NOT NULL, feature_id TEXT NOT NULL,
        action TEXT NOT NULL, changed_by TEXT NOT NULL, db_role TEXT, changed_at TEXT NOT NULL,
        layer_version INTEGER, old TEXT, new TEXT)"""
_SQLITE_TYPES = {"text": "TEXT", "hours": "TEXT", "date": "TEXT", "datetime": "TEXT", "int": "INTEGER",
                 "float": "REAL", "bool": "INTEGER"}


def _records_table(spec: RecordSpec) -> str:
    return f"onemap_records_{spec.name}"


def _records_ddl(spec: RecordSpec) -> str:
    cols = ", ".join(f"{f.name} {_SQLITE_TYPES[f.type]}{' NOT NULL' if f.required else ''}" for f in spec.fields)
    return (f"CREATE TABLE IF NOT EXISTS {_records_table(spec)} (rid INTEGER PRIMARY KEY, {cols}, "
            "record_version INTEGER NOT NULL, valid_to INTEGER)")


_WRITE_OPTIONS = dict(driver="GPKG", geometry_type="Unknown", promote_to_multi=False,
                      layer_options={"GEOMETRY_NAME": "geom", "FID": "fid"})


def _archive_table(name: str) -> str:
    return f"{name}__archive"


class GeoPackageStore(LayerStore):
    """A :class:`LayerStore` in one GeoPackage file.

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file.
    create : bool
        Create an empty store when the file does not exist (otherwise that is an error).
    lock_timeout : float
        Seconds to wait for another writer before giving up with :class:`StoreLockedError`.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False,
                 lock_timeout: float = 10.0) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        self.description = f"GeoPackage {self.path}"
        if not self.path.exists():
            if not create:
                raise StoreUnavailableError(
                    f"GeoPackage {self.path} does not exist. Build the demo city with "
                    "`make demo-data`, point ONEMAP_GPKG at your own GeoPackage, or set "
                    "DATABASE_URL to use PostGIS."
                )
            self._create()
        self._check_is_geopackage()

    # ----- opening ----------------------------------------------------------------------
    def _create(self) -> None:
        if not os.access(self.path.parent, os.W_OK):
            raise StoreLockedError(f"Cannot create {self.path}: its folder is not writable.")
        # GDAL writes the GeoPackage core tables; the meta tables are ours.
        with self._writer_lock():
            tmp = self._temp_path()
            try:
                pyogrio.write_dataframe(pd.DataFrame({"key": ["schema_version"], "value": ["1"]}),
                                        tmp, layer="onemap_meta", driver="GPKG")
                with contextlib.closing(sqlite3.connect(tmp)) as con:
                    for ddl in _META_DDL:
                        con.execute(ddl)
                    con.commit()
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

    def _check_is_geopackage(self) -> None:
        try:
            with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as con:
                app_id = con.execute("PRAGMA application_id").fetchone()[0]
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailableError(
                f"{self.path} is not a readable GeoPackage ({exc}). Is it a GeoPackage, and "
                "complete? Rebuild it or choose another file."
            ) from None
        if app_id != _GPKG_APPLICATION_ID or "gpkg_contents" not in tables:
            raise StoreUnavailableError(f"{self.path} is an SQLite file but not a GeoPackage.")
        if _VERSIONS not in tables:
            raise StoreUnavailableError(
                f"{self.path} is a GeoPackage but not a one-map store (no {_VERSIONS} table). "
                "Read its layers with layers.readers.read_vector_file and write them into a store instead."
            )

    def _connect_ro(self) -> sqlite3.Connection:
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.lock_timeout)
        con.row_factory = sqlite3.Row
        return con

    def _has_table(self, name: str) -> bool:
        with contextlib.closing(self._connect_ro()) as con:
            return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (name,)).fetchone() is not None

    def _tables(self) -> set[str]:
        with contextlib.closing(self._connect_ro()) as con:
            return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}

    # ----- reading ----------------------------------------------------------------------
    def _last_versions(self) -> dict[tuple[str, str], dict]:
        with contextlib.closing(self._connect_ro()) as con:
            rows = con.execute(
                f"SELECT v.* FROM {_VERSIONS} v JOIN (SELECT kind, layer, MAX(layer_version) AS lv "
                f"FROM {_VERSIONS} GROUP BY kind, layer) m ON v.kind = m.kind AND v.layer = m.layer "
                "AND v.layer_version = m.lv"
            ).fetchall()
        out = {}
        for r in rows:
            d = dict(r)
            d["changed_at"] = pd.Timestamp(d["changed_at"]).to_pydatetime()
            out[(d["kind"], d["layer"])] = d
        return out

    def _read_table(self, table: str, bounds: tuple[float, ...] | None,
                    where: str | None = None, path: Path | None = None) -> gpd.GeoDataFrame | None:
        path = path or self.path
        try:
            frame = pyogrio.read_dataframe(path, layer=table, bbox=bounds, where=where,
                                           use_arrow=True)
        except pyogrio.errors.DataLayerError:
            return None
        except pyogrio.errors.DataSourceError as exc:
            raise StoreUnavailableError(f"Cannot read {path}: {exc}") from None
        return ensure_storage_crs(frame)

    def _read_current(self, spec: LayerSpec, bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame:
        if spec.name not in self._tables():
            return None
        return self._read_table(spec.name, bounds)

    def _read_version(self, spec: LayerSpec, version: int,
                      bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame:
        tables = self._tables()
        parts = []
        if spec.name in tables:
            parts.append(self._read_table(spec.name, bounds, where=f"layer_version <= {version:d}"))
        if _archive_table(spec.name) in tables:
            parts.append(self._read_table(_archive_table(spec.name), bounds,
                                          where=f"layer_version <= {version:d} AND valid_to > {version:d}"))
        parts = [p for p in parts if p is not None and len(p)]
        if not parts:
            return None
        return pd.concat(parts, ignore_index=True)

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name`` (vector and raster), oldest first."""
        with contextlib.closing(self._connect_ro()) as con:
            rows = con.execute(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {_VERSIONS} "
                               "WHERE layer = ? ORDER BY changed_at, kind, layer_version",
                               (name,)).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=HISTORY_COLUMNS)
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
        return frame

    def read_raster(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name``."""
        with contextlib.closing(self._connect_ro()) as con:
            if version is None:
                row = con.execute(f"SELECT content FROM {_RASTERS} WHERE name = ? "
                                  "ORDER BY layer_version DESC LIMIT 1", (name,)).fetchone()
            else:
                row = con.execute(f"SELECT content FROM {_RASTERS} WHERE name = ? AND layer_version <= ? "
                                  "ORDER BY layer_version DESC LIMIT 1", (name, int(version))).fetchone()
            if row is None:
                stored = [r[0] for r in con.execute(f"SELECT DISTINCT name FROM {_RASTERS}")]
                raise self._unknown_raster(name, stored)
        return bytes(row[0])

    # ----- writing ----------------------------------------------------------------------
    def _temp_path(self) -> str:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".tmp.gpkg",
                                   dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        return tmp

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreLockedError(f"GeoPackage {self.path} is read-only; nothing can be written to it.")
        try:
            fh = open(lock_path, "a+")
        except OSError as exc:
            raise StoreLockedError(f"Cannot write beside {self.path} ({exc.strerror}); "
                                   "the store's folder must be writable.") from None
        deadline = time.monotonic() + self.lock_timeout
        try:
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreLockedError(
                            f"GeoPackage {self.path} is locked by another write (waited "
                            f"{self.lock_timeout:g} s). Try again when the other import has finished."
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            fh.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[tuple[str, sqlite3.Connection]]:
        """A locked copy of the file to write; moved over the original on success."""
        with self._writer_lock():
            tmp = self._temp_path()
            try:
                shutil.copyfile(self.path, tmp)
                con = sqlite3.connect(tmp)
                try:
                    yield tmp, con
                    con.commit()
                finally:
                    con.close()
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except pyogrio.errors.DataSourceError as exc:
                raise StoreError(f"Writing {self.path} failed ({exc}); the store is unchanged.") from None
            except sqlite3.Error as exc:
                raise StoreError(f"Writing {self.path} failed ({exc}); the store is unchanged.") from None
            except OSError as exc:
                raise StoreError(f"Writing {self.path} failed ({exc.strerror or exc}); "
                                 "the store is unchanged.") from None
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

    @staticmethod
    def _next_version(con: sqlite3.Connection, kind: str, name: str) -> int:
        row = con.execute(f"SELECT MAX(layer_version) FROM {_VERSIONS} WHERE kind = ? AND layer = ?",
                          (kind, name)).fetchone()
        return int(row[0] or 0) + 1

    @staticmethod
    def _log(con: sqlite3.Connection, kind: str, name: str, version: int, action: str,
             user: str, when: str, source: str, n_written: int, n_total: int) -> None:
        con.execute(f"INSERT INTO {_VERSIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, name, version, action, user, when, source, n_written, n_total))

    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        now = self._now()
        with self._transaction() as (tmp, con):
            version = self._next_version(con, "vector", spec.name)
            existing = self._read_table(spec.name, None, path=Path(tmp))
            if existing is None:
                existing = self._conform(spec, None)
            conflicts = self._conflicts(expected, dict(zip(existing["feature_id"], existing["version"])))
            if conflicts:
                self._explain(con, spec, conflicts, existing)
                raise EditConflictError(spec.name, conflicts)
            self._check_mode_ids(spec, frame, set(existing["feature_id"]), mode, report)
            if mode == "delete":
                stamped = existing.iloc[0:0]
            else:
                stamped = stamp_versions(frame, self._known_versions(con, spec, existing), version, now)
            if mode == "replace":
                archived, kept = existing, existing.iloc[0:0]
            else:
                ids = set(frame["feature_id"] if mode == "delete" else stamped["feature_id"])
                matched = existing["feature_id"].isin(ids)
                archived, kept = existing[matched], existing[~matched]
            if len(archived):
                archived = self._conform(spec, archived)
                archived["valid_to"] = version
                pyogrio.write_dataframe(archived, tmp, layer=_archive_table(spec.name),
                                        append=_archive_table(spec.name) in self._tables_of(con),
                                        **_WRITE_OPTIONS)
            current = self._conform(spec, pd.concat([kept, stamped], ignore_index=True)
                                    if len(kept) else stamped)
            pyogrio.write_dataframe(current, tmp, layer=spec.name, **_WRITE_OPTIONS)
            # sqlite writes come after GDAL's (GDAL opens the file itself).
            self._write_audit(con, spec, archived, stamped, user=user, when=now.isoformat(), version=version)
            self._log(con, "vector", spec.name, version, mode, user, now.isoformat(), source,
                      len(stamped), len(current))
        return WriteResult(spec.name, version, mode, len(stamped), len(current), report)

    def _known_versions(self, con: sqlite3.Connection, spec: LayerSpec, existing: gpd.GeoDataFrame) -> pd.DataFrame:
        """Latest version of every feature, current or deleted (a feature that comes back continues its count)."""
        current = existing[["feature_id", "version"]]
        table = _archive_table(spec.name)
        if table not in self._tables_of(con):
            return current
        gone = pd.DataFrame(con.execute(f'SELECT feature_id, MAX(version) FROM "{table}" GROUP BY feature_id').fetchall(),
                            columns=["feature_id", "version"])
        gone = gone[~gone["feature_id"].isin(set(current["feature_id"]))]
        return pd.concat([current, gone], ignore_index=True) if len(gone) else current

    def _explain(self, con: sqlite3.Connection, spec: LayerSpec, conflicts: list[dict],
                 existing: gpd.GeoDataFrame) -> None:
        """Add who saved the conflicting version, and when, from the version log."""
        lv = dict(zip(existing["feature_id"], existing["layer_version"]))
        for c in conflicts:
            if c["current"] is None:
                continue
            row = con.execute(f"SELECT changed_by, changed_at FROM {_VERSIONS} WHERE kind = 'vector' AND layer = ? "
                              "AND layer_version = ?", (spec.name, int(lv[c["feature_id"]]))).fetchone()
            if row:
                c["changed_by"], c["changed_at"] = row[0], row[1]

    @staticmethod
    def _write_audit(con: sqlite3.Connection, spec: LayerSpec, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, *,
                     user: str, when: str, version: int) -> None:
        """The audit rows of one write: inserts, real updates and deletes, in its transaction."""
        con.execute(_AUDIT_DDL)
        olds, old_keys = feature_texts(spec, old)
        news, new_keys = feature_texts(spec, new)
        txid = f"gpkg-{spec.name}-{version}"
        rows = []
        for fid in sorted(set(olds) | set(news)):
            o, n = olds.get(fid), news.get(fid)
            if o is not None and n is not None and old_keys[fid] == new_keys[fid]:
                continue  # rewritten, not changed
            action = "update" if o is not None and n is not None else ("insert" if n is not None else "delete")
            rows.append((txid, spec.name, fid, action, user, None, when, version, o, n))
        con.executemany(f"INSERT INTO {_AUDIT} (txid, layer, feature_id, action, changed_by, db_role, changed_at, "
                        "layer_version, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _get_account(self, username: str) -> dict | None:
        if not self._has_table(_ACCOUNTS):
            return None
        with contextlib.closing(self._connect_ro()) as con:
            row = con.execute(f"SELECT * FROM {_ACCOUNTS} WHERE username = ?", (username,)).fetchone()
        return None if row is None else dict(row)

    def _put_account(self, row: dict) -> None:
        with self._transaction() as (_tmp, con):
            con.execute(_ACCOUNTS_DDL)
            cols = self.ACCOUNT_COLUMNS
            con.execute(f"INSERT OR REPLACE INTO {_ACCOUNTS} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        tuple(row.get(c) for c in cols))

    def _list_accounts(self) -> pd.DataFrame:
        cols = [c for c in self.ACCOUNT_COLUMNS if c != "password_hash"]
        if not self._has_table(_ACCOUNTS):
            return pd.DataFrame(columns=cols)
        with contextlib.closing(self._connect_ro()) as con:
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {_ACCOUNTS} ORDER BY username").fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=cols)

    def _record_refused(self, spec: LayerSpec, conflicts: list[dict], *, user: str) -> None:
        when = self._now().isoformat()
        with self._transaction() as (_tmp, con):
            con.execute(_AUDIT_DDL)
            con.executemany(
                f"INSERT INTO {_AUDIT} (txid, layer, feature_id, action, changed_by, db_role, changed_at, "
                "layer_version, old, new) VALUES (?, ?, ?, 'refused', ?, NULL, ?, NULL, NULL, ?)",
                [(f"refused-{when}", spec.name, c["feature_id"], user, when,
                  json.dumps({**(c.get("attempted") or {}), "_based_on_version": c["expected"],
                              "_stored_version": c["current"]}, ensure_ascii=False)) for c in conflicts])

    def _read_audit(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        if not self._has_table(_AUDIT):
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        where, params = [], []
        if layer is not None:
            where.append("layer = ?")
            params.append(layer)
        if feature_id is not None:
            where.append("feature_id = ?")
            params.append(str(feature_id))
        sql = (f"SELECT {', '.join(AUDIT_COLUMNS)} FROM {_AUDIT}" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY audit_id")
        with contextlib.closing(self._connect_ro()) as con:
            rows = [dict(r) for r in con.execute(sql, params).fetchall()]
        frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
        for col in ("old", "new"):
            frame[col] = pd.Series([json.loads(v) if isinstance(v, str) and v else None for v in frame[col]],
                                   index=frame.index, dtype=object)
        return frame

    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        quoted = feature_id.replace("'", "''")
        parts = []
        for table in (spec.name, _archive_table(spec.name)):
            got = self._read_table(table, None, where=f"feature_id = '{quoted}'")
            if got is not None and len(got):
                parts.append(got)
        if not parts:
            return self._conform(spec, None)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)

    @staticmethod
    def _tables_of(con: sqlite3.Connection) -> set[str]:
        return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}

    def list_scenarios(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""
        columns = ["name", "saved_by", "saved_at"]
        if not self._has_table(_SCENARIOS):
            return pd.DataFrame(columns=columns)
        with contextlib.closing(self._connect_ro()) as con:
            rows = con.execute(f"SELECT name, saved_by, saved_at FROM {_SCENARIOS} ORDER BY saved_at DESC").fetchall()
        return pd.DataFrame(rows, columns=columns)

    def _save_scenario(self, name: str, payload: str, *, user: str, overwrite: bool) -> None:
        with self._transaction() as (_tmp, con):
            con.execute(_SCENARIOS_DDL)
            if not overwrite and con.execute(f"SELECT 1 FROM {_SCENARIOS} WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"A scenario named {name!r} is already saved; choose another name or overwrite it.")
            con.execute(f"INSERT OR REPLACE INTO {_SCENARIOS} VALUES (?, ?, ?, ?)",
                        (name, user, self._now().isoformat(), payload))

    def _load_scenario(self, name: str) -> dict | None:
        if not self._has_table(_SCENARIOS):
            return None
        with contextlib.closing(self._connect_ro()) as con:
            row = con.execute(f"SELECT saved_by, saved_at, payload FROM {_SCENARIOS} WHERE name = ?",
                              (name,)).fetchone()
        return None if row is None else {"saved_by": row[0], "saved_at": row[1], "payload": row[2]}

    def _read_record_rows(self, spec: RecordSpec, con: sqlite3.Connection | None = None) -> pd.DataFrame:
        columns = ["rid", *spec.field_names, "record_version", "valid_to"]
        table = _records_table(spec)
        if con is None:
            if not self._has_table(table):
                return pd.DataFrame(columns=columns)
            with contextlib.closing(self._connect_ro()) as ro:
                return self._read_record_rows(spec, ro)
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            return pd.DataFrame(columns=columns)
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rid").fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
        frame["valid_to"] = frame["valid_to"].astype("Int64")
        return frame

    def _commit_records(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str) -> int:
        now = self._now()
        table = _records_table(spec)
        with self._transaction() as (_tmp, con):
            con.execute(_records_ddl(spec))
            version = self._next_version(con, "records", spec.name)
            current = self._read_record_rows(spec, con)
            current = current[current["valid_to"].isna()]
            ended = self._superseded(spec, current, rows, mode)
            con.executemany(f"UPDATE {table} SET valid_to = ? WHERE rid = ?", [(version, int(r)) for r in ended])
            names = spec.field_names
            values = [tuple(str(v[n]) if isinstance(v[n], dt.date) else v[n] for n in names) + (version,)
                      for v in self._record_values(spec, rows)]
            con.executemany(f"INSERT INTO {table} ({', '.join(names)}, record_version) "
                            f"VALUES ({', '.join('?' * (len(names) + 1))})", values)
            total = con.execute(f"SELECT COUNT(*) FROM {table} WHERE valid_to IS NULL").fetchone()[0]
            self._log(con, "records", spec.name, version, mode, user, now.isoformat(), source, len(rows), total)
        return version

    def write_raster(self, name: str, content: bytes, *, user: str = "system",
                     source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns the new layer version."""
        check_geotiff(content, name=name, source=source)
        now = self._now()
        with self._transaction() as (_tmp, con):
            version = self._next_version(con, "raster", name)
            con.execute(f"INSERT INTO {_RASTERS} VALUES (?, ?, ?)", (name, version, sqlite3.Binary(content)))
            self._log(con, "raster", name, version, "replace", user, now.isoformat(), source, 1, 1)
        return version


__all__ = ["GeoPackageStore"]

"""The GeoPackage file behind the embedded store: opening, locking and the two ways of writing.

- **Layer writes** go through GDAL, which cannot join a transaction of ours, so they are
  copy-on-write: a consistent copy of the file (SQLite's backup API) is written and moved
  over the original with an atomic rename; a failed write, or a crash, leaves the file as
  it was and readers never see half a write.  A lock file serialises these writers.
- **Small writes** (accounts, sign-in counters, scenarios, bookings, record rows, audit
  rows, rasters) are plain SQLite transactions in the file itself: no copy.  Those that
  may run while a layer write is under way (:data:`IN_PLACE_TABLES`) are carried into the
  new file at the end of the layer write, under SQLite's write lock on the old file, so
  none is lost; a small writer that finds the file replaced under it starts again on the
  new one.

A killed writer's leftovers (``.<name>.*.tmp.gpkg``) are removed the next time the store
is opened with no writer at work.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyogrio

from layers.errors import StoreError, StoreLockedError, StoreUnavailableError
from layers.stores.base import HISTORY_COLUMNS
from layers.stores.geopackage.migrations import SCHEMA_VERSION, check_not_newer, upgrade

log = logging.getLogger(__name__)

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
VERSIONS = "onemap_layer_versions"
RASTERS = "onemap_rasters"
META_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {VERSIONS} (
        kind TEXT NOT NULL, layer TEXT NOT NULL, layer_version INTEGER NOT NULL,
        action TEXT NOT NULL, changed_by TEXT NOT NULL, changed_at TEXT NOT NULL,
        source TEXT, n_written INTEGER NOT NULL, n_total INTEGER NOT NULL,
        PRIMARY KEY (kind, layer, layer_version))""",
    f"""CREATE TABLE IF NOT EXISTS {RASTERS} (
        name TEXT NOT NULL, layer_version INTEGER NOT NULL, content BLOB NOT NULL,
        PRIMARY KEY (name, layer_version))""",
)
#: Tables written in place while a layer write may be copying the file: carried over at its end.
IN_PLACE_TABLES: set[str] = set()


def quote(name: str) -> str:
    """An SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


class GpkgFile:
    """One GeoPackage file: connections, the writer lock, copy-on-write and in-place transactions."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool, lock_timeout: float) -> None:
        self.path = Path(path).expanduser().resolve()
        self.lock_timeout = lock_timeout
        if not self.path.exists():
            if not create:
                raise StoreUnavailableError(
                    f"GeoPackage {self.path} does not exist. Build the demo city with "
                    "`make demo-data`, point ONEMAP_GPKG at your own GeoPackage, or set "
                    "DATABASE_URL to use PostGIS."
                )
            self._create()
        self._check_is_geopackage()
        self._upgrade()
        self.remove_leftovers()

    # ----- opening ------------------------------------------------------------------------
    def _create(self) -> None:
        if not os.access(self.path.parent, os.W_OK):
            raise StoreLockedError(f"Cannot create {self.path}: its folder is not writable.")
        # GDAL writes the GeoPackage core tables; the meta tables are ours.
        with self.writer_lock():
            tmp = self.temp_path()
            try:
                pyogrio.write_dataframe(pd.DataFrame({"key": ["schema_version"], "value": [str(SCHEMA_VERSION)]}),
                                        tmp, layer="onemap_meta", driver="GPKG")
                with contextlib.closing(sqlite3.connect(tmp)) as con:
                    for ddl in META_DDL:
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
        if app_id != GPKG_APPLICATION_ID or "gpkg_contents" not in tables:
            raise StoreUnavailableError(f"{self.path} is an SQLite file but not a GeoPackage.")
        if VERSIONS not in tables:
            raise StoreUnavailableError(
                f"{self.path} is a GeoPackage but not a one-map store (no {VERSIONS} table). "
                "Read its layers with layers.readers.read_vector_file and write them into a store instead."
            )

    def _upgrade(self) -> None:
        """Bring a file of an earlier release to this one's schema (:mod:`layers.stores.geopackage.migrations`);
        refuse one of a newer release."""
        with contextlib.closing(self.connect_ro()) as con:
            have = check_not_newer(con, self.path)
        if have >= SCHEMA_VERSION:
            return
        if not os.access(self.path, os.W_OK):
            raise StoreUnavailableError(f"{self.path} was made by an earlier release (store schema {have}) and is "
                                        "read-only here; open it once with write access to upgrade it.")
        with self.in_place(join_writers=True) as con:
            ran = upgrade(con)  # another process may have upgraded it meanwhile: then nothing runs
        if ran:
                log.warning("upgraded %s from store schema %d to %d (steps %s)", self.path, have, SCHEMA_VERSION,
                        ", ".join(map(str, ran)))

    def remove_leftovers(self) -> list[Path]:
        """Delete copies left by a writer that was killed; only when no writer is at work."""
        pattern = f".{self.path.stem}.*.tmp.gpkg*"  # the copy, and its journal
        found = list(self.path.parent.glob(pattern))
        if not found or not os.access(self.path.parent, os.W_OK):
            return []
        removed = []
        with contextlib.suppress(StoreLockedError):
            with self.writer_lock(wait=False):
                for leftover in self.path.parent.glob(pattern):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                        removed.append(leftover)
        if removed:
            log.warning("removed %d leftover file(s) of an interrupted write beside %s", len(removed), self.path)
        return removed

    def connect_ro(self) -> sqlite3.Connection:
        """A read-only connection (rows as :class:`sqlite3.Row`)."""
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.lock_timeout)
        con.row_factory = sqlite3.Row
        return con

    def has_table(self, name: str) -> bool:
        """Whether the file has an SQLite table ``name``."""
        with contextlib.closing(self.connect_ro()) as con:
            return con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (name,)).fetchone() is not None

    def feature_tables(self) -> set[str]:
        """Tables registered in ``gpkg_contents`` (the layers GDAL wrote)."""
        with contextlib.closing(self.connect_ro()) as con:
            return feature_tables_of(con)

    # ----- the version log ----------------------------------------------------------------
    def last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, name) → the latest version-log row."""
        with contextlib.closing(self.connect_ro()) as con:
            rows = con.execute(
                f"SELECT v.* FROM {VERSIONS} v JOIN (SELECT kind, layer, MAX(layer_version) AS lv "
                f"FROM {VERSIONS} GROUP BY kind, layer) m ON v.kind = m.kind AND v.layer = m.layer "
                "AND v.layer_version = m.lv"
            ).fetchall()
        out = {}
        for r in rows:
            d = dict(r)
            d["changed_at"] = pd.Timestamp(d["changed_at"]).to_pydatetime()
            out[(d["kind"], d["layer"])] = d
        return out

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name``, oldest first."""
        with contextlib.closing(self.connect_ro()) as con:
            rows = con.execute(f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {VERSIONS} "
                               "WHERE layer = ? ORDER BY changed_at, kind, layer_version",
                               (name,)).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=HISTORY_COLUMNS)
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
        return frame

    @staticmethod
    def next_version(con: sqlite3.Connection, kind: str, name: str) -> int:
        """The next version of ``name`` in the log (inside the writer's transaction)."""
        row = con.execute(f"SELECT MAX(layer_version) FROM {VERSIONS} WHERE kind = ? AND layer = ?",
                          (kind, name)).fetchone()
        return int(row[0] or 0) + 1

    @staticmethod
    def log_version(con: sqlite3.Connection, kind: str, name: str, version: int, action: str,
                    user: str, when: str, source: str, n_written: int, n_total: int) -> None:
        """Append one row to the version log."""
        con.execute(f"INSERT INTO {VERSIONS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, name, version, action, user, when, source, n_written, n_total))

    # ----- writing ------------------------------------------------------------------------
    def temp_path(self) -> str:
        """A free name for a copy beside the file (removed by :meth:`remove_leftovers` if abandoned)."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".tmp.gpkg", dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        return tmp

    @contextlib.contextmanager
    def writer_lock(self, *, wait: bool = True) -> Iterator[None]:
        """The lock that serialises layer writes (and the small writes that join them)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreLockedError(f"GeoPackage {self.path} is read-only; nothing can be written to it.")
        try:
            fh = open(lock_path, "a+")
        except OSError as exc:
            raise StoreLockedError(f"Cannot write beside {self.path} ({exc.strerror}); "
                                   "the store's folder must be writable.") from None
        deadline = time.monotonic() + (self.lock_timeout if wait else 0.0)
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
    def rewrite(self) -> Iterator[tuple[str, sqlite3.Connection]]:
        """A locked, consistent copy of the file to write; moved over the original on success."""
        with self.writer_lock():
            tmp = self.temp_path()
            try:
                with contextlib.closing(sqlite3.connect(self.path, timeout=self.lock_timeout)) as src, \
                        contextlib.closing(sqlite3.connect(tmp)) as copy:
                    src.backup(copy)
                con = sqlite3.connect(tmp)
                try:
                    yield tmp, con
                    con.commit()
                finally:
                    con.close()
                self._swap_in(tmp)
            except pyogrio.errors.DataSourceError as exc:
                log.exception("GeoPackage write failed: %s", self.path)
                raise StoreError(f"Writing {self.path.name} failed ({exc}); the store is unchanged.") from None
            except sqlite3.Error as exc:
                log.exception("GeoPackage write failed: %s", self.path)
                raise StoreError(f"Writing {self.path.name} failed ({exc}); the store is unchanged.") from None
            except OSError as exc:
                log.exception("GeoPackage write failed: %s", self.path)
                raise StoreError(f"Writing {self.path.name} failed ({exc.strerror or exc}); "
                                 "the store is unchanged.") from None
            finally:  # the copy and what SQLite kept beside it (a failed copy leaves its journal)
                for leftover in (tmp, f"{tmp}-journal", f"{tmp}-wal", f"{tmp}-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(leftover)

    def _swap_in(self, tmp: str) -> None:
        """Carry the in-place tables over and rename ``tmp`` over the file, holding the old file's write lock."""
        guard = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
        try:
            guard.execute("BEGIN IMMEDIATE")  # no small write can commit to the old file from here on
            with contextlib.closing(sqlite3.connect(tmp, isolation_level=None)) as con:
                con.execute("ATTACH DATABASE ? AS live", (str(self.path),))
                con.execute("BEGIN")
                live = {r[0]: r[1] for r in con.execute(
                    "SELECT name, sql FROM live.sqlite_master WHERE type = 'table'")}
                have = {r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
                for table in sorted(IN_PLACE_TABLES & set(live)):
                    if table not in have:
                        con.execute(live[table])
                    con.execute(f"DELETE FROM main.{quote(table)}")
                    con.execute(f"INSERT INTO main.{quote(table)} SELECT * FROM live.{quote(table)}")
                con.execute("COMMIT")
                con.execute("DETACH DATABASE live")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(sqlite3.Error):
                guard.execute("ROLLBACK")
            guard.close()

    @contextlib.contextmanager
    def in_place(self, *, join_writers: bool = False) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction in the file itself (``BEGIN IMMEDIATE`` … ``COMMIT``).

        ``join_writers``: also take the layer writers' lock (for tables a layer write also
        changes: the version log, the audit trail, record tables, rasters).  Otherwise the
        tables written must be in :data:`IN_PLACE_TABLES`.
        """
        if not os.access(self.path, os.W_OK):
            raise StoreLockedError(f"GeoPackage {self.path} is read-only; nothing can be written to it.")
        lock = self.writer_lock() if join_writers else contextlib.nullcontext()
        with lock:
            con = self._begin_on_current_file()
            try:
                yield con
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                log.exception("GeoPackage in-place write failed: %s", self.path)
                raise StoreError(f"Writing {self.path.name} failed ({exc}); nothing was written.") from None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    def _begin_on_current_file(self) -> sqlite3.Connection:
        """A connection holding the write lock of the file now at the path (not of one renamed away)."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            before = os.stat(self.path).st_ino
            con = sqlite3.connect(self.path, timeout=max(0.1, deadline - time.monotonic()), isolation_level=None)
            con.row_factory = sqlite3.Row
            try:
                con.execute("PRAGMA busy_timeout = %d" % int(max(100, (deadline - time.monotonic()) * 1000)))
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                con.close()
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreLockedError(f"GeoPackage {self.path} stayed locked for {self.lock_timeout:g} s; "
                                           "try again in a moment.") from None
                raise StoreError(f"Cannot write {self.path.name} ({exc}).") from None
            if os.stat(self.path).st_ino == before:
                return con
            con.execute("ROLLBACK")  # a layer write replaced the file meanwhile: start again on the new one
            con.close()
            if time.monotonic() >= deadline:
                raise StoreLockedError(f"GeoPackage {self.path} kept changing for {self.lock_timeout:g} s.")


def feature_tables_of(con: sqlite3.Connection) -> set[str]:
    """Tables registered in ``gpkg_contents`` on an open connection."""
    return {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}


__all__ = ["GpkgFile", "IN_PLACE_TABLES", "VERSIONS", "RASTERS", "quote", "feature_tables_of"]

"""Backing a store up while it is in use, and restoring a backup into a new store.

- **GeoPackage**: SQLite's online backup API copies the file page by page from one read transaction, so the
  copy is the store as it stood at one moment although bookings and edits go on; the copy is written beside
  the target and renamed into place.  A restore writes a new file (never over a store that exists) and opens
  it, which upgrades a backup of an earlier release (:mod:`layers.stores.geopackage.migrations`).
- **PostGIS**: ``pg_dump`` in its custom format of the store's schema (tables, functions, triggers, row-level
  policies and the grants to the department roles), which reads one snapshot of the database.  A restore goes
  into a schema that does not exist yet in the target database: the department group roles are made where
  missing, ``pg_restore`` loads the dump, and opening the store migrates a dump of an earlier release.  The
  people's LOGIN roles are the cluster's, not the schema's: ``pg_dumpall --roles-only`` keeps them.

A backup made by a newer release is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from layers.errors import StoreError, StoreUnavailableError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


def backup_store(store, out: str | os.PathLike[str]) -> Path:
    """Write a backup of ``store`` (open, possibly in use) to ``out``; returns its path.  A GeoPackage store
    gives a ``.gpkg`` file, a PostGIS store a ``pg_dump`` custom-format file."""
    target = Path(out).expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        if hasattr(store, "schema") and hasattr(store, "url"):
            _pg_dump(store.url, store.schema, Path(tmp))
        else:
            _sqlite_backup(Path(store.path), Path(tmp))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def _sqlite_backup(source: Path, out: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)  # one read transaction: the file as it stood when the copy began
    except sqlite3.Error as exc:
        raise StoreError(f"Copying {source.name} failed ({exc}); nothing was written.") from None
    finally:
        dst.close()
        src.close()


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """A database URL as ``pg_dump``/``pg_restore`` connection options, the password in the environment."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    args = ["--dbname", u.database or ""]
    host = u.host or (u.query.get("host") if isinstance(u.query.get("host"), str) else None)
    if host:
        args += ["--host", host]
    port = u.port or u.query.get("port")
    if port:
        args += ["--port", str(port)]
    if u.username:
        args += ["--username", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreUnavailableError(f"{name} is not installed; install the PostgreSQL client (Debian: "
                                    "postgresql-client) to back up or restore a PostGIS store.")
    return found


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"{what} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def _pg_dump(url: str, schema: str, out: Path) -> None:
    conn, env = _libpq(url)
    _run([_tool("pg_dump"), *conn, "--format=custom", "--schema", schema, "--file", str(out)], env,
         f"pg_dump of schema {schema}")


def backup_kind(path: str | os.PathLike[str]) -> str:
    """``gpkg`` or ``pg_dump`` by the file's first bytes; anything else is refused."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "gpkg"
    if head.startswith(PG_MAGIC):
        return "pg_dump"
    raise StoreUnavailableError(f"{Path(path).name} is not a backup of a one-map store (neither a GeoPackage "
                                "nor a pg_dump custom-format file).")


def restore_store(backup: str | os.PathLike[str], target: str, *, schema: str | None = None):
    """Restore ``backup`` into ``target`` — a GeoPackage path that does not exist yet, or a PostgreSQL URL
    (into ``schema``, by default the backup's, which must not exist there yet); returns the opened store."""
    kind = backup_kind(backup)
    is_pg = str(target).startswith(("postgres://", "postgresql://", "postgresql+"))
    if kind == "gpkg" and not is_pg:
        return _restore_gpkg(Path(backup), Path(target))
    if kind == "pg_dump" and is_pg:
        return _restore_pg(Path(backup), str(target), schema)
    into = "a GeoPackage file" if kind == "gpkg" else "a PostgreSQL URL"
    raise StoreUnavailableError(f"{Path(backup).name} is a {'GeoPackage' if kind == 'gpkg' else 'PostGIS'} "
                                f"backup; restore it into {into}.")


def _restore_gpkg(backup: Path, target: Path):
    from layers.stores.geopackage import GeoPackageStore
    from layers.stores.geopackage.migrations import check_not_newer

    target = target.expanduser().resolve()
    if target.exists():
        raise StoreUnavailableError(f"{target} exists; a restore writes a new file (move the old one away first, "
                                    "or restore beside it and point ONEMAP_GPKG at the restored file).")
    with contextlib.closing(sqlite3.connect(f"file:{backup}?mode=ro", uri=True)) as con:
        check_not_newer(con, backup.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.gpkg", dir=target.parent)
    os.close(fd)
    try:
        _sqlite_backup(backup, Path(tmp))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return GeoPackageStore(target)


def dump_schema(backup: Path) -> str:
    """The schema a pg_dump backup holds (the one ``onemap backup`` wrote)."""
    listing = _run([_tool("pg_restore"), "--list", str(backup)], dict(os.environ), "Reading the backup")
    names = {line.split()[-2] for line in listing.splitlines() if " SCHEMA - " in line}
    if len(names) != 1:
        raise StoreUnavailableError(f"{backup.name} holds {len(names)} schemas; a one-map backup holds one.")
    return names.pop()


def _dump_revision(backup: Path, schema: str) -> str | None:
    """The Alembic revision recorded in the backup (``None`` for a store of the first release's runner)."""
    data = _run([_tool("pg_restore"), "--data-only", "--schema", schema, "--table", "alembic_version", "--file",
                 "-", str(backup)], dict(os.environ), "Reading the backup")
    lines = data.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            return lines[i + 1].strip() if lines[i + 1].strip() != "\\." else None
    return None


def _restore_pg(backup: Path, url: str, schema: str | None):
    from sqlalchemy import create_engine, text

    from layers.stores.postgis import PostGISStore, normalize_database_url
    from layers.stores.postgis.roles import create_group_roles
    from layers.stores.postgis.schema import known_revisions

    held = dump_schema(backup)
    if schema not in (None, held):
        raise StoreUnavailableError(f"{backup.name} holds schema {held!r}; restore it as {held!r} (a schema's "
                                    "functions and policies name it).")
    revision = _dump_revision(backup, held)
    if revision is not None and revision not in known_revisions():
        raise StoreUnavailableError(f"{backup.name} was made by a newer release of the one map (revision "
                                    f"{revision}); upgrade the program before restoring it. Nothing was written.")
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": held}).scalar():
                raise StoreUnavailableError(f"Schema {held!r} exists in the target database; restore into a new "
                                            "database, or rename or drop that schema first.")
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            create_group_roles(conn, held)  # the grants and policies in the dump name them
    finally:
        engine.dispose()
    conn_args, env = _libpq(url)
    _run([_tool("pg_restore"), *conn_args, "--exit-on-error", "--single-transaction", str(backup)], env,
         f"Restoring {backup.name}")
    return PostGISStore(url, schema=held)

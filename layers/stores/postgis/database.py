"""The PostgreSQL/PostGIS database behind a store: the engine, the schema's tables, the version log.

Every statement runs as the app's login user, or — when the store is opened for a
department — as that department's role (``SET ROLE`` at connection start), so the
database itself refuses what the role may not do.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Text, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from config.settings import settings
from layers.errors import AccessDeniedError, SchemaError, StoreError, StoreUnavailableError
from layers.stores.base import HISTORY_COLUMNS
from layers.stores.postgis.schema import VERSIONS_TABLE, build_metadata, check_schema_name

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "onemap"


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for ``postgres://`` / ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def masked(url: str) -> str:
    """The URL with its password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    digest = hashlib.blake2b("/".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def pool_settings() -> dict[str, int]:
    """Connections a store keeps (``pool_size``) and may add under load (``max_overflow``): SQLAlchemy's
    5 + 10 unless ``ONEMAP_PG_POOL`` says ``size,overflow`` (a busy API server: ``20,10``; mind the
    server's ``max_connections`` across every process)."""
    given = settings().pg_pool
    if given is None:
        return {}
    return {"pool_size": given[0], "max_overflow": given[1]}


class PgDatabase:
    """One store schema in one database, reached through one SQLAlchemy engine."""

    def __init__(self, url: str, *, schema: str | None, connect_timeout: int, db_role: str | None) -> None:
        self.url = normalize_database_url(url)
        self.schema = check_schema_name(schema or settings().pg_schema or DEFAULT_SCHEMA)
        self.db_role = db_role
        args: dict[str, Any] = {"connect_timeout": connect_timeout}
        if db_role:
            if not db_role.replace("_", "").isalnum():
                raise StoreError(f"{db_role!r} is not a role name this store uses.")
            args["options"] = f"-c role={db_role}"
        try:
            self.engine: Engine = create_engine(self.url, pool_pre_ping=True, connect_args=args, **pool_settings())
        except (ArgumentError, ImportError) as exc:
            raise StoreUnavailableError(f"DATABASE_URL {masked(url)} is not a usable database URL ({exc}). "
                                        "Write it like postgresql://user:password@host:5432/database.") from None
        #: The same pool, each statement its own transaction: one call of a database function that holds its
        #: steps (a booking) costs one round trip instead of three (BEGIN, the call, COMMIT).
        self.one_statement: Engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.md = build_metadata(self.schema)

    def table(self, name: str):
        """The SQLAlchemy table ``name`` of the store's schema."""
        return self.md.tables[f"{self.schema}.{name}"]

    def check_server(self) -> None:
        """Reach the server and make sure PostGIS is there (create it if allowed)."""
        try:
            with self.engine.begin() as conn:
                has = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).scalar()
                if has is None:
                    available = conn.execute(text(
                        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
                    if available is None:
                        raise SchemaError(
                            f"Database {masked(self.url)} has no PostGIS and the server cannot "
                            "install it. Install the server package (Debian: postgresql-15-postgis-3), "
                            "then run CREATE EXTENSION postgis; in that database.")
                    try:
                        with conn.begin_nested():
                            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                    except ProgrammingError:
                        raise SchemaError(
                            f"Database {masked(self.url)} has no PostGIS extension and this user "
                            "may not create it. Ask a superuser to run CREATE EXTENSION postgis; in it."
                        ) from None
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            log.warning("cannot reach %s: %s", masked(self.url), reason)
            raise StoreUnavailableError(
                f"Cannot reach the database at {masked(self.url)}: {reason}. Check DATABASE_URL "
                "(host, port, user, password, database name) and that the server is running; "
                "unset DATABASE_URL to use the embedded GeoPackage instead.") from None

    def refusal(self, exc: Exception, what: str) -> StoreError | AccessDeniedError | StoreUnavailableError:
        """The error to raise for a statement the database refused (the cause is logged)."""
        from layers.errors import is_outage

        orig = getattr(exc, "orig", None) or exc
        reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        if is_outage(exc):
            log.debug("database unreachable during %s: %s", what, reason)  # the surface logs outages, throttled
            return StoreUnavailableError(f"The database could not be reached during {what} ({reason}); its "
                                         "transaction did not complete. Try again in a moment.")
        log.warning("database refused %s as %s: %s", what, self.db_role or "the app's user", reason)
        if getattr(orig, "sqlstate", None) == "42501":
            return AccessDeniedError(
                f"The database refused {what} for role {self.db_role or 'of this connection'} ({reason}): "
                "a department changes only its own layers and rows; nothing was written.")
        return StoreError(f"The database refused {what} ({reason}); nothing was written.")

    def lost(self, exc: Exception, what: str) -> StoreUnavailableError:
        """The error for a connection lost in the middle of a write."""
        reason = getattr(exc, "orig", None) or exc
        log.error("lost the database while writing %s: %s", what, reason)
        return StoreUnavailableError(f"Lost the database while writing {what} ({reason}); nothing was written.")

    # ----- the version log ----------------------------------------------------------------
    def begin_write(self, conn, kind: str, name: str, *, action: str, source: str) -> int:
        """Open the next version of ``name`` for this transaction (the database checks the role may
        write it, numbers it and logs who); returns the version."""
        fn = f'"{self.schema}".onemap_begin_write'
        return int(conn.execute(text(f"SELECT {fn}(:k, :n, :a, :s)"),
                                {"k": kind, "n": name, "a": action, "s": source}).scalar())

    def end_write(self, conn, kind: str, name: str, n_written: int) -> int:
        """Close this transaction's version of ``name`` with its counts; returns the rows now stored."""
        fn = f'"{self.schema}".onemap_end_write'
        conn.execute(text(f"SELECT {fn}(:k, :n, :w)"), {"k": kind, "n": name, "w": int(n_written)})
        v = self.table(VERSIONS_TABLE)
        return int(conn.execute(select(v.c.n_total).where(
            (v.c.kind == kind) & (v.c.layer == name) & (v.c.xact == func.pg_current_xact_id().cast(Text)))).scalar())

    def last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, name) → the latest version-log row."""
        v = self.table(VERSIONS_TABLE)
        latest = (select(v.c.kind, v.c.layer, func.max(v.c.layer_version).label("lv"))
                  .group_by(v.c.kind, v.c.layer).subquery())
        stmt = select(v).join(latest, (v.c.kind == latest.c.kind) & (v.c.layer == latest.c.layer)
                              & (v.c.layer_version == latest.c.lv))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return {(r["kind"], r["layer"]): dict(r) for r in rows}

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name``, oldest first."""
        v = self.table(VERSIONS_TABLE)
        stmt = (select(*[v.c[c] for c in HISTORY_COLUMNS]).where(v.c.layer == name)
                .order_by(v.c.changed_at, v.c.kind, v.c.layer_version))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame.from_records(rows, columns=HISTORY_COLUMNS)
        frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
        return frame

    @staticmethod
    def as_user(conn, user: str) -> None:
        """Name the app's signed-in user for the version log and audit, for this transaction only.

        The database believes it only from the schema owner's session (the app's own login)."""
        conn.execute(text("SELECT set_config('onemap.user', :u, true)"), {"u": user})


__all__ = ["PgDatabase", "normalize_database_url", "masked", "lock_key", "DEFAULT_SCHEMA"]

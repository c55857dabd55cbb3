"""The PostGIS store, through SQLAlchemy 2 and GeoAlchemy2.

Geometry is stored with SRID 4326 in GiST-indexed columns; the schema is created and
upgraded by migrations (:mod:`layers.stores.postgis.schema`).  Every write runs in one
transaction, so a refused or failed write leaves the previous data untouched.
"""

from __future__ import annotations

import pandas as pd
import psycopg
from sqlalchemy.exc import DBAPIError, ProgrammingError

from layers.errors import SchemaError
from layers.stores.base import Store
from layers.stores.postgis.accounts import PgAccounts
from layers.stores.postgis.audit import PgAudit
from layers.stores.postgis.bookings import PgBookings
from layers.stores.postgis.database import DEFAULT_SCHEMA, PgDatabase, masked, normalize_database_url
from layers.stores.postgis.field_reports import PgFieldReports
from layers.stores.postgis.layers import PgLayers
from layers.stores.postgis.rasters import PgRasters
from layers.stores.postgis.records import PgRecords
from layers.stores.postgis.roles import regrant
from layers.stores.postgis.scenarios import PgScenarios
from layers.stores.postgis.schema import migrate


def sync_policy(conn, schema: str) -> None:
    """Keep the database's copy of the installation's policies (k, hours to due per report category, the health
    indicators' facts) equal to the settings, so that the database holds a department's own login to the same
    rules as the app."""
    import json

    from sqlalchemy import text

    from layers.health import min_count
    from layers.stores.field_report_table import due_hours

    values = {"health_min_count": str(min_count()), "report_due_hours": json.dumps(due_hours(), sort_keys=True)}
    for name, value in values.items():
        conn.execute(text(f'UPDATE "{schema}".onemap_policy SET value = :v WHERE name = :n AND value <> :v'),
                     {"n": name, "v": value})
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": f'"{schema}".onemap_indicator_facts'}).scalar():
        from layers.health import INDICATORS

        for code, ind in INDICATORS.items():  # the indicators' facts the database's disclosure check reads
            conn.execute(text(f'INSERT INTO "{schema}".onemap_indicator_facts VALUES (:c, :k, :cum, :part) '
                              "ON CONFLICT (code) DO UPDATE SET kind = EXCLUDED.kind, "
                              "cumulative = EXCLUDED.cumulative, part_of = EXCLUDED.part_of "
                              "WHERE (onemap_indicator_facts.kind, onemap_indicator_facts.cumulative, "
                              "onemap_indicator_facts.part_of) IS DISTINCT FROM "
                              "(EXCLUDED.kind, EXCLUDED.cumulative, EXCLUDED.part_of)"),
                         {"c": code, "k": ind.kind, "cum": ind.cumulative, "part": ind.part_of})


class PostGISStore(Store):
    """A :class:`~layers.stores.base.Store` in a PostgreSQL/PostGIS database.

    Parameters
    ----------
    url : str
        A SQLAlchemy/libpq URL, e.g. ``postgresql://user:pass@host:5432/db``.
    schema : str
        The PostgreSQL schema holding the store (default ``onemap``, or ``ONEMAP_PG_SCHEMA``).
    migrate_schema : bool
        Create or upgrade the schema on open (default True; never under a department's role).
    db_role : str, optional
        Run every statement as this role (a department's, the viewer's or the admin's).
    """

    def __init__(self, url: str, *, schema: str | None = None, migrate_schema: bool = True,
                 connect_timeout: int = 5, db_role: str | None = None) -> None:
        self.db = PgDatabase(url, schema=schema, connect_timeout=connect_timeout, db_role=db_role)
        self.url, self.schema, self.db_role, self.engine = self.db.url, self.db.schema, db_role, self.db.engine
        self.description = (f"PostGIS {masked(self.url)} (schema {self.schema}"
                            + (f", as {db_role})" if db_role else ")"))
        self.db.check_server()
        if migrate_schema and not db_role:  # a department's role may not change the schema
            try:
                with self.engine.begin() as conn:
                    if migrate(conn, self.schema):
                        regrant(conn, self.schema)  # new tables and functions get their grants and policies
                    sync_policy(conn, self.schema)
            except ProgrammingError as exc:
                raise SchemaError(f"Cannot create the store's schema {self.schema!r} in "
                                  f"{masked(self.url)}: {exc.orig}. Ask the database owner to "
                                  "grant CREATE on the database, or migrate as its owner.") from None
        self.layers = PgLayers(self)
        self.rasters = PgRasters(self)
        self.audit = PgAudit(self)
        self.records = PgRecords(self)
        self.scenarios = PgScenarios(self)
        self.accounts = PgAccounts(self)
        self.bookings = PgBookings(self)
        self.field_reports = PgFieldReports(self)

    def history(self, name: str) -> pd.DataFrame:
        """The version log of ``name`` (vector, raster and records), oldest first."""
        return self.db.history(name)

    def last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, name) → the latest version-log row."""
        return self.db.last_versions()

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
        from layers.stores.postgis.roles import setup_department_roles

        try:
            with self.engine.begin() as conn:
                return setup_department_roles(conn, self.schema)
        except (DBAPIError, psycopg.Error) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SchemaError(f"Cannot set up the department roles of {self.schema!r} ({reason}); run "
                              "`onemap roles` as the database owner or a user with CREATEROLE.") from None

    def as_role(self, db_role: str) -> "PostGISStore":
        """The same store, every statement run as ``db_role`` (a department's, the viewer's or the admin's)."""
        return PostGISStore(self.url, schema=self.schema, db_role=db_role)


__all__ = ["PostGISStore", "normalize_database_url", "DEFAULT_SCHEMA"]

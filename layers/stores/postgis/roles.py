"""Department roles in PostgreSQL: who may change which layer, enforced by the database.

Each store schema gets one role per department of the alliance (``<schema>_sports``,
``<schema>_education``, ``<schema>_health``, ``<schema>_parks``, ``<schema>_alliance``), a
read-only ``<schema>_viewer`` and an ``<schema>_admin``.  None of them can log in: the app
connects as its own login user and takes the signed-in user's role for the session
(``SET ROLE`` at connection start), and a department's own tools (QGIS …) get a login
that is a member of its role.

- Everyone reads everything.
- A department may insert, update and delete rows of its own layers, and only rows whose
  ``department`` is its own (row-level security); the shared layers of the alliance
  (boundaries, population, land use, metro stations) take rows from every department,
  each changing only its own rows.
- The version log, archives and audit trail may be appended to, never rewritten.
- The viewer changes nothing; the administrator changes anything.

Creating roles needs the ``CREATEROLE`` privilege (or a superuser): run
``onemap roles`` once as the database owner.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.catalogue import CATALOGUE, DEPARTMENTS
from layers.records import RECORDS
from layers.stores.postgis.schema import (ACCOUNTS_TABLE, AUDIT_TABLE, RASTERS_TABLE, SCENARIOS_TABLE, VERSIONS_TABLE, archive_name,
                                     records_table)

#: The department whose rows anyone may add to (each department its own rows).
SHARED = "alliance"
#: Who saves planning scenarios besides the administrator.
SCENARIO_DEPARTMENTS = ("sports", "alliance")


def role_name(schema: str, who: str) -> str:
    """The database role of department (or ``viewer``/``admin``) ``who`` in ``schema``."""
    if who not in (*DEPARTMENTS, "viewer", "admin"):
        raise ValueError(f"{who!r} is not a department, 'viewer' or 'admin'.")
    return f"{schema}_{who}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _writable_layers(dept: str) -> list[str]:
    return [n for n, spec in CATALOGUE.items() if spec.department in (dept, SHARED)]


def setup_department_roles(conn: Connection, schema: str) -> list[str]:
    """Create (or bring up to date) the roles, grants and row-level security of ``schema``.

    Idempotent; returns the role names.  Runs in the caller's transaction.
    """
    s = _q(schema)
    roles = [role_name(schema, w) for w in (*DEPARTMENTS, "viewer", "admin")]
    for role in roles:
        conn.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
                          f"THEN CREATE ROLE {_q(role)} NOLOGIN; END IF; END $$"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {s} TO {_q(role)}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {_q(role)}"))
        # Password hashes are for the store's owner (the app's sign-in) alone.
        conn.execute(text(f"REVOKE ALL ON {s}.{ACCOUNTS_TABLE} FROM {_q(role)}"))
    admin = _q(role_name(schema, "admin"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {admin}"))
    conn.execute(text(f"REVOKE ALL ON {s}.{ACCOUNTS_TABLE} FROM {admin}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {admin}"))
    for dept in DEPARTMENTS:
        role = _q(role_name(schema, dept))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {role}"))
        conn.execute(text(f"GRANT INSERT ON {s}.{VERSIONS_TABLE}, {s}.{AUDIT_TABLE} TO {role}"))
        for layer in _writable_layers(dept):
            conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {s}.{_q(layer)} TO {role}"))
            conn.execute(text(f"GRANT INSERT ON {s}.{_q(archive_name(layer))} TO {role}"))
        for spec in RECORDS.values():
            if spec.department in (dept, SHARED):
                conn.execute(text(f"GRANT INSERT, UPDATE ON {s}.{records_table(spec)} TO {role}"))
        if dept == SHARED:
            conn.execute(text(f"GRANT INSERT ON {s}.{RASTERS_TABLE} TO {role}"))
        if dept in SCENARIO_DEPARTMENTS:
            conn.execute(text(f"GRANT INSERT, DELETE ON {s}.{SCENARIOS_TABLE} TO {role}"))
    for layer, spec in CATALOGUE.items():
        table = f"{s}.{_q(layer)}"
        conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        policies = {"onemap_read": f"FOR SELECT USING (true)",
                    "onemap_admin": f"FOR ALL TO {admin} USING (true) WITH CHECK (true)"}
        for dept in DEPARTMENTS:
            if spec.department in (dept, SHARED):
                own = f"department = '{dept}'"
                policies[f"onemap_{dept}"] = f"FOR ALL TO {_q(role_name(schema, dept))} USING ({own}) WITH CHECK ({own})"
        for name, body in policies.items():
            conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
            conn.execute(text(f"CREATE POLICY {name} ON {table} {body}"))
    return roles


def drop_department_roles(conn: Connection, schema: str) -> None:
    """Remove the roles of ``schema`` (after its tables are gone, or revoking what they hold)."""
    for who in (*DEPARTMENTS, "viewer", "admin"):
        role = role_name(schema, who)
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        if exists:
            conn.execute(text(f"DROP OWNED BY {_q(role)}"))
            conn.execute(text(f"DROP ROLE {_q(role)}"))


__all__ = ["setup_department_roles", "drop_department_roles", "role_name", "SHARED"]

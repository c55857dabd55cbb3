"""Department roles in PostgreSQL: who may change which layer and record, enforced by the database.

Each store schema gets one role per department of the alliance (``<schema>_sports``,
``<schema>_education``, ``<schema>_health``, ``<schema>_parks``, ``<schema>_alliance``), a
read-only ``<schema>_viewer`` and an ``<schema>_admin``.  None of them can log in: the app
connects as its own login user and takes the signed-in user's role for the session
(``SET ROLE`` at connection start), and a department's own tools (QGIS …) get a login
that is a member of its role.

- Everyone reads everything but the accounts (password hashes are the app's alone).
- A department inserts, updates and deletes rows of its own layers, and only rows whose
  ``department`` is its own (row-level security); the alliance's shared layers
  (boundaries, population, land use, metro stations) take rows from every department,
  each changing only its own rows.  Record tables likewise, and their ended rows never change.
- Nobody but the schema owner writes the version log, the archives or the audit trail:
  the owner's functions and triggers do, deriving the version and the acting role
  themselves (see revision 0002).
- The viewer changes nothing; the administrator changes any layer or record row, through
  the same functions and triggers.

Creating roles needs the ``CREATEROLE`` privilege (or a superuser): run ``onemap roles``
once as the database owner.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from layers.catalogue import CATALOGUE, DEPARTMENTS
from layers.records import RECORDS
from layers.stores.postgis.schema import (
    ACCOUNTS_TABLE,
    AUDIT_TABLE,
    RASTERS_TABLE,
    SCENARIOS_TABLE,
    VERSIONS_TABLE,
    archive_name,
    records_table,
)

#: The department whose rows anyone may add to (each department its own rows).
SHARED = "alliance"
#: Who saves planning scenarios besides the administrator.
SCENARIO_DEPARTMENTS = ("sports", "alliance")
#: The owner's functions a writing role calls.
WRITE_FUNCTIONS = ("onemap_begin_write(text, text, text, text)", "onemap_end_write(text, text, bigint)",
                   "onemap_record_refused(text, text, jsonb)")
#: The owner's functions row-level security asks (who owns a place, a bookable resource): every role runs them.
OWNER_LOOKUPS = ("onemap_place_department(text, text)", "onemap_resource_department(text)")
#: Record kinds whose rows are at a place, or about a resource: a department adds them only for its own.
AT_A_PLACE = ("bookable", "courses", "incidents")
#: Places open to all where any department may hold a course (a walking group on a greenway).
OPEN_PLACES = ("greenways",)
ABOUT_A_RESOURCE = ("closures",)


def role_name(schema: str, who: str) -> str:
    """The database role of department (or ``viewer``/``admin``) ``who`` in ``schema``."""
    if who not in (*DEPARTMENTS, "viewer", "admin"):
        raise ValueError(f"{who!r} is not a department, 'viewer' or 'admin'.")
    return f"{schema}_{who}"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _writable_layers(dept: str) -> list[str]:
    return [n for n, spec in CATALOGUE.items() if spec.department in (dept, SHARED)]


def _bookkeeping(schema: str) -> list[str]:
    """Tables only the owner's functions and triggers write."""
    s = q(schema)
    return [f"{s}.{q(VERSIONS_TABLE)}", f"{s}.{q(AUDIT_TABLE)}", f"{s}.onemap_field_report_steps",
            f"{s}.onemap_field_report_photos"] + [
        f"{s}.{q(archive_name(n))}" for n in CATALOGUE]


def create_group_roles(conn: Connection, schema: str) -> list[str]:
    """The department, viewer and administrator group roles of ``schema`` (NOLOGIN), made where missing."""
    roles = [role_name(schema, w) for w in (*DEPARTMENTS, "viewer", "admin")]
    for role in roles:
        conn.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_literal(role)}) "
                          f"THEN CREATE ROLE {q(role)} NOLOGIN; END IF; END $$"))
    return roles


def setup_department_roles(conn: Connection, schema: str) -> list[str]:
    """Create (or bring up to date) the roles, grants and row-level security of ``schema``.

    Idempotent; returns the role names.  Runs in the caller's transaction.
    """
    s = q(schema)
    roles = create_group_roles(conn, schema)
    run = lambda sql: conn.execute(text(sql))  # noqa: E731
    for role in roles:
        run(f"GRANT USAGE ON SCHEMA {s} TO {q(role)}")
        run(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {s} FROM {q(role)}")
        run(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {s} FROM {q(role)}")
        run(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {q(role)}")
        for fn in OWNER_LOOKUPS:
            run(f"GRANT EXECUTE ON FUNCTION {s}.{fn} TO {q(role)}")
        run(f"REVOKE ALL ON {s}.{q(ACCOUNTS_TABLE)} FROM {q(role)}")  # hashes stay with the app
    writers = [role_name(schema, d) for d in DEPARTMENTS] + [role_name(schema, "admin")]
    for role in writers:
        run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {q(role)}")
        for fn in WRITE_FUNCTIONS:
            run(f"GRANT EXECUTE ON FUNCTION {s}.{fn} TO {q(role)}")
    admin = q(role_name(schema, "admin"))
    for layer in CATALOGUE:
        run(f"GRANT INSERT, UPDATE, DELETE ON {s}.{q(layer)} TO {admin}")
    for spec in RECORDS.values():
        run(f"GRANT INSERT, UPDATE ON {s}.{q(records_table(spec))} TO {admin}")
    run(f"GRANT INSERT ON {s}.{q(RASTERS_TABLE)} TO {admin}")
    run(f"GRANT INSERT, DELETE ON {s}.{q(SCENARIOS_TABLE)} TO {admin}")
    for dept in DEPARTMENTS:
        role = q(role_name(schema, dept))
        for layer in _writable_layers(dept):
            run(f"GRANT INSERT, UPDATE, DELETE ON {s}.{q(layer)} TO {role}")
        for spec in RECORDS.values():
            if spec.department in (dept, SHARED):
                run(f"GRANT INSERT, UPDATE ON {s}.{q(records_table(spec))} TO {role}")
        if dept == SHARED:
            run(f"GRANT INSERT ON {s}.{q(RASTERS_TABLE)} TO {role}")
        if dept in SCENARIO_DEPARTMENTS:
            run(f"GRANT INSERT, DELETE ON {s}.{q(SCENARIOS_TABLE)} TO {role}")
    for table in _bookkeeping(schema):  # belt and braces: not even the administrator
        run(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {', '.join(q(r) for r in roles)}")
    for layer, spec in CATALOGUE.items():
        _policies(conn, f"{s}.{q(layer)}", schema, spec.department, records=False)
    for spec in RECORDS.values():
        _policies(conn, f"{s}.{q(records_table(spec))}", schema, spec.department, records=True, kind=spec.name)
    _booking_grants(conn, schema, roles)
    _field_report_grants(conn, schema, roles)
    return roles


def _booking_grants(conn: Connection, schema: str, roles: list[str]) -> None:
    """Bookings: everyone reads the (anonymous) bookings and slots; a department checks in and marks
    no-shows on its own; contacts and the outbox are read by the owning department (and the
    administrator) only; partners' key hashes by nobody but the app."""
    s = q(schema)
    run = lambda sql: conn.execute(text(sql))  # noqa: E731
    admin = q(role_name(schema, "admin"))
    run(f"REVOKE ALL ON {s}.onemap_api_keys FROM {', '.join(q(r) for r in roles)}")
    run(f"ALTER TABLE {s}.onemap_bookings ENABLE ROW LEVEL SECURITY")
    policies: dict[str, dict[str, str]] = {
        "onemap_bookings": {"onemap_read": "FOR SELECT USING (true)",
                            "onemap_admin": f"FOR ALL TO {admin} USING (true) WITH CHECK (true)"},
        "onemap_booking_contacts": {"onemap_admin": f"FOR SELECT TO {admin} USING (true)"},
        "onemap_booking_outbox": {"onemap_admin": f"FOR SELECT TO {admin} USING (true)"},
    }
    run(f"GRANT UPDATE (status, changed_at) ON {s}.onemap_bookings TO {admin}")
    for dept in DEPARTMENTS:
        role = q(role_name(schema, dept))
        own = f"department = {_literal(dept)}"
        run(f"GRANT UPDATE (status, changed_at) ON {s}.onemap_bookings TO {role}")
        policies["onemap_bookings"][f"onemap_{dept}"] = f"FOR UPDATE TO {role} USING ({own}) WITH CHECK ({own})"
        policies["onemap_booking_contacts"][f"onemap_{dept}"] = f"FOR SELECT TO {role} USING ({own})"
        policies["onemap_booking_outbox"][f"onemap_{dept}"] = f"FOR SELECT TO {role} USING ({own})"
    for table, named in policies.items():
        for name, body in named.items():
            run(f"DROP POLICY IF EXISTS {q(name)} ON {s}.{table}")
            run(f"CREATE POLICY {q(name)} ON {s}.{table} {body}")


def _field_report_grants(conn: Connection, schema: str, roles: list[str]) -> None:
    """Field reports: every role reads them and files through ``onemap_file_report``; a department moves
    (and hands over) the reports it holds, and only their workflow columns; the steps and the photos are
    written by the owner's function and trigger alone."""
    s = q(schema)
    run = lambda sql: conn.execute(text(sql))  # noqa: E731
    admin = q(role_name(schema, "admin"))
    workflow = "department, status, changed_at, changed_by, reason"
    for role in roles:
        run(f"GRANT EXECUTE ON FUNCTION {s}.onemap_file_report(jsonb, bytea[], integer[], integer[]) TO {q(role)}")
    policies = {"onemap_field_reports": {"onemap_read": "FOR SELECT USING (true)",
                                         "onemap_admin": f"FOR UPDATE TO {admin} USING (true) WITH CHECK (true)"},
                "onemap_field_report_photos": {"onemap_read": "FOR SELECT USING (true)"},
                "onemap_field_report_steps": {"onemap_read": "FOR SELECT USING (true)"}}
    run(f"GRANT UPDATE ({workflow}) ON {s}.onemap_field_reports TO {admin}")
    departments = list(DEPARTMENTS)
    for dept in departments:
        role = q(role_name(schema, dept))
        run(f"GRANT UPDATE ({workflow}) ON {s}.onemap_field_reports TO {role}")
        # The holder may hand a report to another department (the new row's department is not its own).
        policies["onemap_field_reports"][f"onemap_{dept}"] = (
            f"FOR UPDATE TO {role} USING (department = {_literal(dept)}) "
            f"WITH CHECK (department IN ({', '.join(_literal(d) for d in departments)}))")
    for table, named in policies.items():
        for name, body in named.items():
            run(f"DROP POLICY IF EXISTS {q(name)} ON {s}.{table}")
            run(f"CREATE POLICY {q(name)} ON {s}.{table} {body}")


def _ownership(schema: str, kind: str | None, dept: str) -> str:
    """The extra condition on a new record row of ``kind``: at the department's own place, or about its own
    resource (``*``: every resource of the department)."""
    s, d = q(schema), _literal(dept)
    if kind in AT_A_PLACE:
        own = f"{s}.onemap_place_department(place_layer, place_id) IS NOT DISTINCT FROM {d}"
        if kind == "courses":
            return f" AND (place_layer IN ({', '.join(_literal(x) for x in OPEN_PLACES)}) OR {own})"
        return f" AND {own}"
    if kind in ABOUT_A_RESOURCE:
        return f" AND (resource_id = '*' OR {s}.onemap_resource_department(resource_id) IS NOT DISTINCT FROM {d})"
    return ""


def _policies(conn: Connection, table: str, schema: str, owner: str, *, records: bool,
              kind: str | None = None) -> None:
    """Row-level security: everyone reads; a department writes its own rows (a record at a place or about a
    resource: only the department's own); ended records never change."""
    admin = q(role_name(schema, "admin"))
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    policies = {"onemap_read": "FOR SELECT USING (true)",
                "onemap_admin": f"FOR ALL TO {admin} USING (true) WITH CHECK (true)"}
    for dept in DEPARTMENTS:
        if owner not in (dept, SHARED):
            continue
        role = q(role_name(schema, dept))
        own = f"department = {_literal(dept)}"
        if records:
            policies[f"onemap_{dept}_add"] = (f"FOR INSERT TO {role} WITH CHECK ({own} AND valid_to IS NULL"
                                              f"{_ownership(schema, kind, dept)})")
            policies[f"onemap_{dept}_end"] = (f"FOR UPDATE TO {role} USING ({own} AND valid_to IS NULL) "
                                              f"WITH CHECK ({own})")
            conn.execute(text(f"DROP POLICY IF EXISTS {q('onemap_' + dept)} ON {table}"))
        else:
            policies[f"onemap_{dept}"] = f"FOR ALL TO {role} USING ({own}) WITH CHECK ({own})"
    for name, body in policies.items():
        conn.execute(text(f"DROP POLICY IF EXISTS {q(name)} ON {table}"))
        conn.execute(text(f"CREATE POLICY {q(name)} ON {table} {body}"))


def drop_department_roles(conn: Connection, schema: str) -> None:
    """Remove the roles of ``schema`` (after its tables are gone, or revoking what they hold)."""
    for who in (*DEPARTMENTS, "viewer", "admin"):
        role = role_name(schema, who)
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        if exists:
            conn.execute(text(f"DROP OWNED BY {q(role)}"))
            conn.execute(text(f"DROP ROLE {q(role)}"))




def regrant(conn: Connection, schema: str) -> None:
    """After a migration, give what it added its grants and policies — where the department roles exist."""
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role_name(schema, "viewer")}).scalar():
        setup_department_roles(conn, schema)

__all__ = ["create_group_roles", "setup_department_roles", "drop_department_roles", "regrant", "role_name", "SHARED"]

"""The declared grant policy (layers/stores/postgis/grants.toml), tried cell by cell as the real LOGIN roles.

Every table and function of a store's schema must be named in the policy (a new one fails here until it is
declared). For every role × table × operation, what the database grants (``has_table_privilege`` and its
column and function kin) must match, and an attempt as the role's own login — select, insert a row of its
own department and of another's, update and delete rows of each, all rolled back — must succeed or be refused
exactly as declared, row-level security included."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from layers.catalogue import DEPARTMENTS
from tests.bookings.helpers import set_up_court, tomorrow_at

pytestmark = pytest.mark.postgis
POLICY = Path(__file__).resolve().parents[2] / "layers" / "stores" / "postgis" / "grants.toml"
ROLES = (*DEPARTMENTS, "viewer", "admin")
OPS = ("select", "insert", "update", "delete")
DENIED = "42501"


def policy() -> dict:
    """The declared policy."""
    return tomllib.loads(POLICY.read_text(encoding="utf-8"))


def declared(table: str, pol: dict) -> dict | None:
    """The policy entry of ``table`` (an exact name first, then a pattern)."""
    tables = pol["tables"]
    if table in tables:
        return tables[table]
    for pattern, entry in tables.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatch(table, pattern):
            return entry
    return None


def expected(entry: dict, op: str, role: str, pol: dict) -> str:
    """What ``role`` may do: "all", "own" or "none"."""
    given = entry.get(op, pol["defaults"][op])
    if isinstance(given, str):
        return given
    return given.get(role, "none")


@pytest.fixture
def city(city_db, demo_city):
    """Rows of several departments in the tables that hold them."""
    from office.bookings import BookingDesk
    from office.contacts import encrypt_phone
    from office.field_reports import file_report, locate

    set_up_court(city_db, demo_city)  # sports' court at venue-004
    school = str(city_db.layers.read("school_facilities")["feature_id"].iloc[0])
    city_db.records.write("bookable", pd.DataFrame([{
        "resource_id": "field-edu", "place_layer": "school_facilities", "place_id": school, "unit": None,
        "capacity": 10, "slot_minutes": 60, "hours": "Mo-Su 06:00-22:00", "who_may_book": None, "area_code": None,
        "days_ahead": None, "max_active": None, "cancel_hours": None}]), user="t", department="education")
    city_db.records.write("satisfaction", pd.DataFrame({"unit_code": ["Q01"], "period": ["2026Q3"], "score": [80.0],
                                                        "respondents": [120]}), user="t", department="alliance")
    city_db.records.write("health_indicators", pd.DataFrame({
        "unit_code": ["990101001001"], "period": ["2026Q3"], "indicator": ["hypertension_managed"], "count": [40],
        "rate": [None], "denominator": [None]}), user="t", department="health")
    desk = BookingDesk(city_db)
    for k, resource in enumerate(("court-20", "field-edu")):
        got = desk.book(resource, tomorrow_at(18), f"1380000000{k}")
        city_db.bookings.add_message(department=got.row["department"], booking_id=got.row["booking_id"],
                                     phone_enc=encrypt_phone(f"1380000000{k}"), body="预约提醒",
                                     now="2026-12-07T09:00")
    for layer, fid in (("venues", "venue-004"), ("school_facilities", school)):
        place, dept, area, label = locate(city_db, layer=layer, feature_id=fid)
        file_report(city_db, place=place, department=dept, area_code=area, place_name=label, category="broken",
                    body="损坏")
    return city_db


def _columns(conn, schema: str, table: str) -> list[dict]:
    rows = conn.execute(text(
        "SELECT c.column_name, c.data_type, c.udt_name, c.is_nullable, c.column_default, c.is_identity, "
        "c.is_generated, g.srid, g.type AS geom_type FROM information_schema.columns c "
        "LEFT JOIN geometry_columns g ON g.f_table_schema = c.table_schema AND g.f_table_name = c.table_name "
        "AND g.f_geometry_column = c.column_name WHERE c.table_schema = :s AND c.table_name = :t "
        "ORDER BY c.ordinal_position"), {"s": schema, "t": table}).mappings().all()
    return [dict(r) for r in rows]


def _value(col: dict, department: str, places: dict[str, tuple[str, str]]) -> str | None:
    """A literal for ``col`` in a probe row (``None``: leave it to its default)."""
    name, kind = col["column_name"], col["udt_name"]
    if col["is_identity"] == "YES" or col["is_generated"] == "ALWAYS" or (
            col["column_default"] and "nextval" in str(col["column_default"])):
        return None
    if name == "department":
        return f"'{department}'"
    if name == "place_layer" and department in places:
        return f"'{places[department][0]}'"
    if name == "place_id" and department in places:
        return f"'{places[department][1]}'"
    if name == "resource_id":
        return "'*'" if department != "sports" else "'court-20'"
    if name in ("valid_to", "version", "layer_version"):
        return None  # bookkeeping: the owner's triggers fill it
    if name == "record_version":
        return f"({_record_version()})"
    if kind == "geometry":
        return f"ST_SetSRID(ST_GeomFromText('POINT(114.3 30.6)'), {int(col['srid'] or 4326)})"
    if kind in ("int2", "int4", "int8"):
        return "40"  # a count of at least k
    if kind in ("float4", "float8", "numeric"):
        return "1.5"
    if kind == "bool":
        return "true"
    if kind == "date":
        return "DATE '2026-12-07'"
    if kind.startswith("timestamp"):
        return "now()"
    if kind in ("json", "jsonb"):
        return "'{}'"
    if kind == "bytea":
        return "'\\xffd8ff00'::bytea"
    if kind.startswith("_"):
        return "NULL"
    return f"'probe-{department}'"


@contextmanager
def attempt(engine, sql: str, *, first: str | None = None) -> Iterator[list]:
    """Run ``sql`` as a login (after ``first``, in the same transaction), always rolled back; yields [outcome]
    ("ok <rows>" or the SQLSTATE)."""
    import psycopg

    out: list = []
    conn = engine.connect()
    tx = conn.begin()
    try:
        if first:
            conn.execute(text(first))
        result = conn.execute(text(sql))
        out.append(f"ok {result.rowcount if not result.returns_rows else len(result.all())}")
    except Exception as exc:  # noqa: BLE001 — the refusal is what the test reads
        orig = getattr(exc, "orig", exc)
        assert isinstance(orig, psycopg.Error), exc
        out.append(orig.sqlstate)
    finally:
        tx.rollback()
        conn.close()
    yield out


def _outcome(engine, sql: str, first: str | None = None) -> str:
    with attempt(engine, sql, first=first) as got:
        return got[0]


def _record_version() -> str:
    return "SELECT max(layer_version) FROM onemap_layer_versions WHERE xact = pg_current_xact_id()::text"


def _other(role: str) -> str:
    return "education" if role == "sports" else "sports"


def differences(city, login_as, pol: dict) -> list[str]:
    """Every cell where the database (grants, and attempts as each login) differs from ``pol``."""
    s = city.schema
    with city.engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY 1"),
                              {"s": s}).scalars().all()
        functions = conn.execute(text(
            "SELECT p.proname, p.oid::regprocedure::text, pg_get_function_result(p.oid), "
            "coalesce(array_to_string(ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t), ','), '') "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s ORDER BY 1"),
            {"s": s}).all()
        columns = {t: _columns(conn, s, t) for t in tables}
        counts = {}
        for t in tables:
            has_dept = any(c["column_name"] == "department" for c in columns[t])
            q = f'SELECT {"department, " if has_dept else ""}count(*) FROM "{s}"."{t}"' + \
                (" GROUP BY department" if has_dept else "")
            counts[t] = {(r[0] if has_dept else None): r[-1] for r in conn.execute(text(q)).all()}
        school = conn.execute(text(f'SELECT feature_id FROM "{s}".school_facilities LIMIT 1')).scalar()
        health = conn.execute(text(f'SELECT feature_id FROM "{s}".health_stations LIMIT 1')).scalar()
        green = conn.execute(text(f'SELECT feature_id FROM "{s}".greenways LIMIT 1')).scalar()
    wrong: list[str] = [f"table {t} is not in {POLICY.name}" for t in tables if declared(t, pol) is None]
    wrong += [f"function {f[0]} is not in {POLICY.name}" for f in functions if f[0] not in pol["functions"]]
    if wrong:
        return wrong
    places = {"sports": ("venues", "venue-004"), "education": ("school_facilities", school),
              "health": ("health_stations", health), "parks": ("greenways", green)}
    logins = {role: login_as(role) for role in ROLES}
    for table in tables:
        entry = declared(table, pol)
        cols = columns[table]
        has_dept = any(c["column_name"] == "department" for c in cols)
        target = f'"{s}"."{table}"'
        kind = table.removeprefix("onemap_records_") if table.startswith("onemap_records_") else None
        # a record write opens its version first, as the app and any department tool must
        opening = (f"SELECT set_config('search_path', '\"{s}\", public', true), "
                   f"\"{s}\".onemap_begin_write('records', '{kind}', 'upsert', 'grant probe')") if kind else None
        for role in ROLES:
            login, mine = logins[role], role if role in DEPARTMENTS else None
            want = {op: expected(entry, op, role, pol) for op in OPS}
            with login.connect() as conn:
                granted = {op: bool(conn.execute(text(
                    "SELECT has_table_privilege(current_user, :t, :o) OR "
                    "(:o IN ('INSERT', 'UPDATE') AND has_any_column_privilege(current_user, :t, :o))"),
                    {"t": target, "o": op.upper()}).scalar()) for op in OPS}
            for op in OPS:
                if granted[op] != (want[op] != "none") and not (op == "select" and want[op] == "none"):
                    wrong.append(f"{table}: {role} {op} granted={granted[op]}, declared {want[op]}")
            # select
            got = _outcome(login, f"SELECT 1 FROM {target}")
            n = int(got.split()[1]) if got.startswith("ok") else None
            total = sum(counts[table].values())
            ok = {"all": n == total, "own": n == counts[table].get(mine, 0) if has_dept else n == total,
                  "none": n in (None, 0)}[want["select"]]
            if not ok:
                wrong.append(f"{table}: {role} select saw {got} of {total}, declared {want['select']}")
            # insert: a row of its own department, and one of another's
            for dept in ([mine] if mine else []) + [_other(role)]:
                values = {c["column_name"]: _value(c, dept, places) for c in cols}
                values = {k: v for k, v in values.items() if v is not None}
                if not has_dept and dept != (mine or _other(role)):
                    continue
                got = _outcome(login, f"INSERT INTO {target} ({', '.join(chr(34) + k + chr(34) for k in values)}) "
                                      f"VALUES ({', '.join(values.values())})", opening)
                allowed = want["insert"] == "all" or (want["insert"] == "own" and dept == mine)
                if want["insert"] == "own" and dept == mine and kind and "place_layer" in values \
                        and mine not in places:
                    continue  # a department that owns no place cannot add a record at one: nothing to try
                if allowed and not _went_through(got):
                    wrong.append(f"{table}: {role} insert as {dept} → {got}: the probe itself is wrong")
                if (got == DENIED) == allowed:
                    wrong.append(f"{table}: {role} insert as {dept} → {got}, declared {want['insert']}")
            # update and delete: rows of its own department, and of another's
            column = (entry.get("columns") or [c["column_name"] for c in cols if c["udt_name"] != "geometry"
                                               and c["column_name"] != "rid" and c["is_identity"] != "YES"])[0]
            for op in ("update", "delete"):
                for dept in ([mine] if mine else []) + [_other(role)] if has_dept else [None]:
                    where = f"WHERE department = '{dept}'" if dept else ""
                    if kind and op == "update":  # a record is only ever ended, by a new version
                        where += " AND valid_to IS NULL"
                        sql = f"UPDATE {target} SET valid_to = ({_record_version()}) {where}"
                    else:
                        sql = (f'UPDATE {target} SET "{column}" = "{column}" {where}' if op == "update"
                               else f"DELETE FROM {target} {where}")
                    got = _outcome(login, sql, opening)
                    rows = counts[table].get(dept, 0) if dept else total
                    if want[op] == "none":
                        ok = got == DENIED or got == "ok 0"
                    elif want[op] == "own" and dept != mine:
                        ok = got in (DENIED, "ok 0")
                    else:
                        ok = got.startswith("ok") and (rows == 0 or got != "ok 0" or op == "update")
                    if not ok:
                        wrong.append(f"{table}: {role} {op} of {dept or 'any'} rows ({rows}) → {got}, "
                                     f"declared {want[op]}")
    for name, signature, result, args in functions:
        allowed = set(pol["functions"][name])
        for role in ROLES:
            with logins[role].connect() as conn:
                has = bool(conn.execute(text("SELECT has_function_privilege(current_user, :f, 'EXECUTE')"),
                                        {"f": signature}).scalar())
            if has != (role in allowed):
                wrong.append(f"{signature}: {role} execute={has}, declared {sorted(allowed)}")
            if result == "trigger":
                continue  # called by its trigger only
            call = ", ".join(f"NULL::{a}" for a in args.split(",") if a)
            got = _outcome(logins[role], f'SELECT "{s}".{name}({call})')
            if (got == DENIED) == (role in allowed) and not (role in allowed and got == DENIED):
                wrong.append(f"{signature}: {role} call → {got}, declared {sorted(allowed)}")
    return wrong


def _went_through(outcome: str) -> bool:
    """The statement passed the privilege and row checks: it ran, or a constraint or value refused it."""
    return outcome.startswith("ok") or outcome[:2] in ("22", "23")


def test_every_table_and_function_of_a_store_is_declared_and_tried_as_each_login(city, login_as):
    wrong = differences(city, login_as, policy())
    assert not wrong, f"{len(wrong)} difference(s) from {POLICY.name}:\n" + "\n".join(wrong[:60])


def test_the_matrix_finds_a_wrong_declaration_and_an_undeclared_table(city, login_as):
    """The check can fail: cells declared wrongly, a table and a function left out, each is reported."""
    pol = policy()
    pol["tables"]["venues"]["insert"] = {"sports": "own", "education": "own", "admin": "all"}  # not granted
    pol["tables"]["onemap_accounts"]["select"] = "all"  # the hashes are not readable
    pol["tables"]["onemap_records_closures"]["insert"] = {"sports": "all"}  # RLS keeps it to its own
    del pol["functions"]["onemap_health_k"]
    wrong = differences(city, login_as, pol)
    assert any("function onemap_health_k is not in" in w for w in wrong), wrong
    del pol["tables"]["onemap_policy"]
    pol["functions"]["onemap_health_k"] = []
    assert any("table onemap_policy is not in" in w for w in differences(city, login_as, pol))
    pol["tables"]["onemap_policy"] = {}
    wrong = differences(city, login_as, pol)
    assert any(w.startswith("venues: education insert") for w in wrong), wrong
    assert any(w.startswith("onemap_accounts: sports select") for w in wrong), wrong
    assert any(w.startswith("onemap_records_closures: sports insert as education") for w in wrong), wrong

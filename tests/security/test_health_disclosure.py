"""Health disclosure control at the door: no delivery may make a count of fewer than k real people derivable
together with what is stored — a unit minus its parts, a period minus an earlier one of a cumulative
indicator, a total minus its subgroup — on both stores, and in the database for a department's own login."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from layers.records import check_records, unit_parents

STREET = "990101001"
COMMUNITIES = [f"990101001{n:03d}" for n in range(1, 7)]
CHECK = "23514"  # check_violation


def _rows(*cells) -> pd.DataFrame:
    return pd.DataFrame([{"unit_code": u, "period": p, "indicator": i, "count": c, "rate": r, "denominator": d}
                         for u, p, i, c, r, d in cells]).astype(str).replace({"None": ""})


def _check(store, demo_city, delivery: pd.DataFrame):
    bounds = demo_city.layers["boundaries"]
    return check_records(delivery, "health_indicators", source="卫健委.csv", unit_codes=set(bounds["code"]),
                         parents=unit_parents(bounds), stored=store.records.read("health_indicators"))


def _store(store, rows: pd.DataFrame) -> None:
    plan = check_records(rows, "health_indicators", source="卫健委.csv")
    assert plan.report.ok, plan.report.summary()
    store.records.write("health_indicators", plan.valid, mode="upsert", user="卫健委", department="health")


def _codes(plan) -> dict[int, str]:
    return {p.row: p.note.code for p in plan.report.problems}


@pytest.mark.parametrize("street_count, refused", [(303, True), (300, False), (312, False)])
def test_a_street_on_top_of_its_communities_cannot_leave_a_few_people(store, demo_city, street_count, refused):
    _store(store, _rows(*[(c, "2026", "hypertension_managed", 50, None, None) for c in COMMUNITIES]))
    plan = _check(store, demo_city, _rows((STREET, "2026", "hypertension_managed", street_count, None, None)))
    if refused:
        assert _codes(plan) == {2: "health.derivable_levels"}
        problem = plan.report.problems[0]
        assert problem.value == "3" and STREET in problem.message and "fewer than 10" in problem.message
    else:
        assert plan.report.ok


def test_communities_under_a_stored_street_cannot_leave_a_few_people(store, demo_city):
    _store(store, _rows((STREET, "2026", "diabetes_managed", 203, None, None)))
    plan = _check(store, demo_city, _rows(*[(c, "2026", "diabetes_managed", 50, None, None) for c in COMMUNITIES[:4]]))
    assert set(_codes(plan).values()) == {"health.derivable_levels"}  # 203 − 4 × 50: the other two hold 3
    assert not plan.report.ok


@pytest.mark.parametrize("second, refused", [("2026Q2", True), ("2026H1", True), ("2025Q4", False)])
def test_a_year_to_date_count_cannot_differ_from_an_earlier_one_by_a_few(store, demo_city, second, refused):
    _store(store, _rows((COMMUNITIES[0], "2026Q1", "fitness_test_failed", 40, None, None)))
    plan = _check(store, demo_city, _rows((COMMUNITIES[0], second, "fitness_test_failed", 44, None, None)))
    assert (_codes(plan) == {2: "health.derivable_periods"}) if refused else plan.report.ok
    bigger = _check(store, demo_city, _rows((COMMUNITIES[0], second, "fitness_test_failed", 52, None, None)))
    assert bigger.report.ok  # twelve more is not a few
    stock = _check(store, demo_city, _rows((COMMUNITIES[0], "2026Q2", "aged_60_plus", 44, None, None)))
    assert stock.report.ok  # a stock's change between quarters is no group of people


def test_a_rate_cannot_leave_a_few_outside_its_group(store, demo_city):
    plan = _check(store, demo_city, _rows((COMMUNITIES[0], "2026", "child_overweight_rate", None, 0.8, 20)))
    assert _codes(plan) == {2: "health.derivable_subgroup"}  # 16 overweight of 20: the other 4 are known
    assert _check(store, demo_city, _rows((COMMUNITIES[0], "2026", "child_overweight_rate", None, 0.4, 40))
                  ).report.ok


def test_the_message_reads_in_chinese(store, demo_city):
    from i18n import render_note

    _store(store, _rows(*[(c, "2026", "hypertension_managed", 50, None, None) for c in COMMUNITIES]))
    plan = _check(store, demo_city, _rows((STREET, "2026", "hypertension_managed", 305, None, None)))
    said = render_note(plan.report.problems[0].note, "zh")
    assert "只剩 5 人" in said and "少于 10 人" in said


# ----- the database: a department's own login writing rows directly ----------------------------------------------

def _many(engine, s: str, rows: list[tuple]) -> str:
    """Every row in one transaction, as a department's own tool writes them (it opens the write's version first),
    judged when it commits: 'ok' or the database's refusal."""
    import psycopg

    insert = (f'INSERT INTO "{s}".onemap_records_health_indicators (unit_code, period, indicator, count, rate, '
              "denominator, record_version, department) VALUES (:u, :p, :i, :c, :r, :d, :v, 'health')")
    try:
        with engine.begin() as conn:
            v = conn.execute(text(f"SELECT \"{s}\".onemap_begin_write('records', 'health_indicators', 'append', "
                                  "'卫健委 own tool')")).scalar()
            for u, p, i, c, r, d in rows:
                conn.execute(text(insert), {"u": u, "p": p, "i": i, "c": c, "r": r, "d": d, "v": v})
        return "ok"
    except Exception as exc:  # noqa: BLE001 — the refusal is what the test reads
        orig = getattr(exc, "orig", exc)
        assert isinstance(orig, psycopg.Error), exc
        return orig.sqlstate


@pytest.mark.postgis
def test_the_database_refuses_a_few_people_left_by_levels_periods_and_parts(city_db, login_as):
    health, s = login_as("health"), city_db.schema
    parts = [(c, "2026", "hypertension_managed", 50, None, None) for c in COMMUNITIES]
    # A file's rows are judged together whatever their order: the street first, then its communities.
    assert _many(health, s, [(STREET, "2026", "hypertension_managed", 300, None, None), *parts]) == "ok"
    assert _many(health, s, [(STREET, "2026", "diabetes_managed", 203, None, None)]) == "ok"
    assert _many(health, s, [(c, "2026", "diabetes_managed", 50, None, None) for c in COMMUNITIES[:4]]) == CHECK
    assert _many(health, s, [(c, "2026", "diabetes_managed", 50, None, None) for c in COMMUNITIES[:3]]
                 + [(COMMUNITIES[3], "2026", "diabetes_managed", 40, None, None)]) == "ok"  # 13 left: not a few
    assert _many(health, s, [(COMMUNITIES[0], "2026Q1", "fitness_test_failed", 40, None, None)]) == "ok"
    assert _many(health, s, [(COMMUNITIES[0], "2026Q2", "fitness_test_failed", 44, None, None)]) == CHECK
    assert _many(health, s, [(COMMUNITIES[1], "2026", "child_overweight_rate", None, 0.8, 20)]) == CHECK
    with city_db.engine.begin() as conn:  # the indicators' facts follow the app's catalogue
        facts = dict(conn.execute(text(f'SELECT code, cumulative FROM "{s}".onemap_indicator_facts')).all())
    assert facts["fitness_test_failed"] is True and facts["aged_60_plus"] is False

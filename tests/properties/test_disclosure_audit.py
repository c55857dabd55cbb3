"""The audit: every figure the product publishes from the health aggregates, taken together as an attacker would,
written as linear constraints and pushed to its limits with HiGHS (scipy's linprog).

The delivery has small cells at two levels (communities and the streets above them) and two periods of a
cumulative indicator; what the import accepts is stored (the small cells and the combinations that would
leave a few people are refused at the door). The published figures are those of the need tables at every
life circle and through the matched facilities, the indicators' shares per community, per street and for the
city — each as the product rounds it. The coverage a community's cells get is public (the coverage process
by community, the layers), so the attacker is given every coefficient exactly.

The standard (README, "Health data"): for every count of real people the deliveries give — each delivered
count, a street minus its delivered communities, a period minus an earlier one, a total minus its subgroup —
the interval the published figures leave never lies inside 1…k−1 (no one learns that a group is small but
not empty), and where the count is 0 it contains every value 0…k−1 (an empty group cannot be told from a
small one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from geo.disclosure import ESTIMATE_BASE, SHARE_STEP, derived_counts
from geo.need import DEFAULT_MATCHING, matched_coverage, need_rates_by_unit
from geo.need_tables import need_table
from geo.units import assign_units
from layers.health import cumulative_indicators, delivered_people, group_counts, indicator_parts, min_count
from layers.records import check_records, unit_parents

K = 10
CIRCLES = (300.0, 500.0, 1000.0)


@pytest.fixture(scope="module")
def audit_case(demo_city, demo_analysis):
    """The stored delivery (what the import let through) and the published figures computed from it."""
    from demo.health import health_delivery

    rng = np.random.default_rng(7)
    bounds = demo_city.layers["boundaries"]
    base = health_delivery(demo_city)
    communities = base[base["indicator"] == "diabetes_managed"].copy()
    # small cells in the first community of two streets (refused at import, as a real delivery's would be);
    # those streets' own counts then leave them over their other communities, and are refused too
    parent = unit_parents(bounds)
    first_two = sorted({parent[c] for c in communities["unit_code"].astype(str)})[:2]
    small = [communities.index[communities["unit_code"].astype(str).map(parent) == street][0] for street in first_two]
    communities.loc[small, "count"] = rng.integers(2, 9, len(small))
    true = dict(zip(communities["unit_code"].astype(str), communities["count"].astype(int)))
    streets = []
    for street in sorted({parent[c] for c in true}):
        total = sum(n for c, n in true.items() if parent[c] == street)
        streets.append({"unit_code": street, "period": "2026", "indicator": "diabetes_managed", "count": total,
                        "rate": None, "denominator": None})
    failed = base[base["indicator"] == "fitness_test_failed"].copy()
    q1 = failed.assign(period="2026Q1", count=(failed["count"].astype(int) * 0.6).round().astype(int))
    q2 = failed.assign(period="2026Q2", count=failed["count"].astype(int)
                       + rng.choice([0, 3, 12], len(failed)))  # some quarters add a few people, some none
    delivery = pd.concat([communities, pd.DataFrame(streets), q1, q2], ignore_index=True)
    plan = check_records(delivery.astype(str).replace({"None": "", "nan": ""}), "health_indicators",
                         source="卫健委.csv", unit_codes=set(bounds["code"].astype(str)), parents=parent)
    stored = plan.valid
    refused = {p.note.code for p in plan.report.problems}
    assert {"health.below_k", "health.derivable_levels", "health.derivable_periods"} <= refused
    stored_streets = stored[(stored["indicator"] == "diabetes_managed") & (stored["unit_code"].str.len() == 9)]
    assert len(stored_streets) >= 2  # streets whose communities were all delivered: stored beside them
    return stored, demo_analysis, bounds


def _shares_of(engine, bounds, counts: dict, level: str, published_level: str, cells: np.ndarray):
    """Coefficients: for each published unit v and delivered unit u, its need and covered people per person of u."""
    deliv = assign_units(engine.demand, bounds, level=level)
    pub = assign_units(engine.demand, bounds, level=published_level)
    pop = engine.demand.population
    codes = [str(c) for c in deliv.units["code"]]
    pop_u = np.bincount(np.where(deliv.cell_unit >= 0, deliv.cell_unit, len(codes)), weights=pop,
                        minlength=len(codes) + 1)[:len(codes)]
    need = np.zeros((len(pub.units), len(codes)))
    cov = np.zeros_like(need)
    ok = (deliv.cell_unit >= 0) & (pub.cell_unit >= 0)
    w = np.where(ok, pop / np.where(deliv.cell_unit >= 0, pop_u[np.maximum(deliv.cell_unit, 0)], 1), 0.0)
    np.add.at(need, (pub.cell_unit[ok], deliv.cell_unit[ok]), w[ok])
    np.add.at(cov, (pub.cell_unit[ok], deliv.cell_unit[ok]), (w * cells)[ok])
    keep = [i for i, c in enumerate(codes) if c in counts]  # units without a delivery carry no one
    return need[:, keep], cov[:, keep], [codes[i] for i in keep], [str(c) for c in pub.units["code"]]


def _constraints(engine, layers, bounds, stored: pd.DataFrame, indicator: str, period: str, *, exact: bool = False):
    """Variables: the stored rows of (indicator, period); rows of A x ≤ b from every published figure (with
    ``exact``, a leaky product's: every figure unrounded and every delivered count printed)."""
    rows = stored[(stored["indicator"] == indicator) & (stored["period"].astype(str) == period)]
    counts, _ = group_counts(stored, indicator, period)
    variables = [str(c) for c in rows["unit_code"]]
    index = {c: i for i, c in enumerate(variables)}
    truth = _true(rows, variables)
    a_ub, b_ub = [], []

    def people(row: np.ndarray, published: float) -> None:  # |row·x − published| ≤ half the base
        half = 1e-4 if exact else ESTIMATE_BASE / 2
        a_ub.extend([row, -row])
        b_ub.extend([published + half, -(published - half)])

    def share(cov_row: np.ndarray, need_row: np.ndarray, published: float) -> None:  # cov / need within half a step
        if exact:  # the leaky product's share: to full precision
            published = float(cov_row @ truth) / float(need_row @ truth)
        half = 1e-7 if exact else SHARE_STEP / 2
        a_ub.extend([cov_row - (published + half) * need_row, (published - half) * need_row - cov_row])
        b_ub.extend([0.0, 0.0])

    result = engine.run(list(CIRCLES))
    masks = {f"venues {c:g}": result.covered("venues", c) for c in CIRCLES}
    masks["matched"] = matched_coverage(engine, layers, DEFAULT_MATCHING.get(indicator, ()))
    if exact:  # the leaky product prints each delivered count
        for i in range(len(variables)):
            people(np.eye(len(variables))[i], truth[i])
    for name, cells in masks.items():
        table = need_table(result, bounds, indicator, counts, period=period, covered_cells=cells)
        level = table.level
        need, cov, units, pub = _shares_of(engine, bounds, counts, level, level, cells.astype(float))
        cols = [index[u] for u in units]
        shown = table.shown.set_index(table.shown["code"].astype(str))
        for v, code in enumerate(pub):
            nrow, crow = np.zeros(len(variables)), np.zeros(len(variables))
            nrow[cols], crow[cols] = need[v], cov[v]
            if not nrow.any():
                continue
            figure = shown.loc[code]
            values = (figure["need"], figure["covered"], figure["uncovered"]) if not exact else (
                nrow @ truth, crow @ truth, (nrow - crow) @ truth)
            people(nrow, values[0])
            people(crow, values[1])
            people(nrow - crow, values[2])
            if pd.notna(figure["rate"]):
                share(crow, nrow, figure["rate"])
        # the indicators' shares per street and per community, and the city's
        for pub_level in ("street", "community"):
            if name != "matched":
                continue
            units_pub = assign_units(engine.demand, bounds, level=pub_level)
            rates, city = need_rates_by_unit(engine, bounds, units_pub, {indicator: counts}, layers,
                                             {indicator: DEFAULT_MATCHING.get(indicator, ())})
            need2, cov2, units2, pub2 = _shares_of(engine, bounds, counts, level, pub_level, cells.astype(float))
            cols2 = [index[u] for u in units2]
            for v, code in enumerate(pub2):
                nrow, crow = np.zeros(len(variables)), np.zeros(len(variables))
                nrow[cols2], crow[cols2] = need2[v], cov2[v]
                got = rates.set_index(rates["code"].astype(str)).loc[code, f"need_{indicator}"]
                if nrow.any() and pd.notna(got):
                    share(crow, nrow, got)
            total_n, total_c = need2.sum(axis=0), cov2.sum(axis=0)
            nrow, crow = np.zeros(len(variables)), np.zeros(len(variables))
            nrow[cols2], crow[cols2] = total_n, total_c
            share(crow, nrow, city[f"need_{indicator}"])
    return rows, variables, np.array(a_ub), np.array(b_ub)


def _true(rows: pd.DataFrame, variables: list[str]) -> np.ndarray:
    got = delivered_people(rows).set_index(rows["unit_code"].astype(str))["people"]
    return np.array([float(got[v]) for v in variables])


def _interval(objective: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, lower: np.ndarray) -> tuple[float, float]:
    bounds = [(lo, None) for lo in lower]
    lo = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    hi = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert lo.status in (0, 3) and hi.status in (0, 3), (lo.message, hi.message)
    return (lo.fun if lo.status == 0 else -np.inf), (-hi.fun if hi.status == 0 else np.inf)


def _audit(stored, engine, layers, bounds, *, exact: bool = False, seen: list | None = None) -> list[str]:
    """Every protected count's interval against the standard; the violations (empty when it holds). Each
    count's kind, true value and interval are added to ``seen``."""
    seen = [] if seen is None else seen
    parents = unit_parents(bounds)
    derivations = derived_counts(delivered_people(stored), parents, cumulative=cumulative_indicators(),
                                 parts=indicator_parts())
    label_of = {label: (str(r.indicator), str(r.period), str(r.unit_code)) for label, r in stored.iterrows()}
    problems: dict[tuple[str, str], tuple] = {}
    bad = []
    for d in derivations:
        cells = {label_of[label][:2] for label, _f, _s in d.terms}
        if any(field != "people" for _l, field, _s in d.terms) or len(cells) != 1:
            continue  # a denominator is published nowhere; periods are audited below, one LP per period pair
        key = next(iter(cells))
        if key not in problems:
            problems[key] = _constraints(engine, layers, bounds, stored, *key, exact=exact)
        rows, variables, a_ub, b_ub = problems[key]
        objective = np.zeros(len(variables))
        for label, _f, sign in d.terms:
            objective[variables.index(label_of[label][2])] += sign
        lo, hi = _interval(objective, a_ub, b_ub, np.full(len(variables), float(K)))
        seen.append((d.kind, d.indicator, d.unit, d.period, d.value, lo, hi))
        if (lo >= 1 - 1e-6 and hi <= K - 1 + 1e-6) or (round(d.value) == 0 and not (lo <= 1e-6 and hi >= K - 1)):
            bad.append(f"{d.kind} {d.indicator} {d.unit} {d.period}: true {d.value:g}, published figures leave "
                       f"[{lo:.2f}, {hi:.2f}]")
    for d in [d for d in derivations if d.kind == "periods"]:  # two periods: both periods' figures together
        (la, _fa, _sa), (lb, _fb, _sb) = d.terms
        ka, kb = label_of[la][:2], label_of[lb][:2]
        if ka not in problems:
            problems[ka] = _constraints(engine, layers, bounds, stored, *ka, exact=exact)
        if kb not in problems:
            problems[kb] = _constraints(engine, layers, bounds, stored, *kb, exact=exact)
        _ra, va, aa, ba = problems[ka]
        _rb, vb, ab, bb = problems[kb]
        a_ub = np.block([[aa, np.zeros((len(aa), len(vb)))], [np.zeros((len(ab), len(va))), ab]])
        b_ub = np.concatenate([ba, bb])
        objective = np.zeros(len(va) + len(vb))
        objective[va.index(label_of[la][2])] += 1
        objective[len(va) + vb.index(label_of[lb][2])] -= 1
        lo, hi = _interval(objective, a_ub, b_ub, np.full(len(va) + len(vb), float(K)))
        seen.append((d.kind, d.indicator, d.unit, f"{d.period}-{d.other}", d.value, lo, hi))
        if (lo >= 1 - 1e-6 and hi <= K - 1 + 1e-6) or (round(d.value) == 0 and not (lo <= 1e-6 and hi >= K - 1)):
            bad.append(f"periods {d.indicator} {d.unit} {d.period}−{d.other}: true {d.value:g}, published "
                       f"figures leave [{lo:.2f}, {hi:.2f}]")
    return bad


def test_no_combination_of_published_figures_narrows_a_count_of_real_people(audit_case, demo_city, artifacts):
    stored, analysis, bounds = audit_case
    assert min_count() == K
    seen: list = []
    violations = _audit(stored, analysis.engine, demo_city.layers, bounds, seen=seen)
    table = pd.DataFrame(seen, columns=["kind", "indicator", "unit", "period", "true", "low", "high"])
    table.to_csv(artifacts / "disclosure_audit.csv", index=False)  # each count's interval, to be read
    assert not violations, "\n".join(violations[:20])
    kinds = table["kind"].value_counts()
    assert kinds.get("delivered", 0) >= 40 and kinds.get("levels", 0) >= 2 and kinds.get("periods", 0) >= 10


def test_the_audit_finds_a_leak_where_one_is_published(audit_case, demo_city):
    """A test that could never fail proves nothing: publish the same tables unrounded, with one street whose
    communities leave 3 people (a delivery the import would refuse), and the audit names that street."""
    stored, analysis, bounds = audit_case
    leaky = stored.copy()
    diabetes = leaky["indicator"] == "diabetes_managed"
    street = next(c for c in leaky.loc[diabetes, "unit_code"].astype(str) if len(c) == 9)
    at = (leaky["unit_code"].astype(str) == street) & diabetes
    leaky.loc[at, "count"] = leaky.loc[at, "count"].astype(int) + 3
    violations = _audit(leaky, analysis.engine, demo_city.layers, bounds, exact=True)
    assert any(v.startswith(f"levels diabetes_managed {street}") for v in violations), violations[:5]

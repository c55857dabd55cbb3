"""Health need from aggregates only: deliveries that are row-level, below k or rates without a denominator are
refused with a report and the store never holds a count below k; need groups re-weigh coverage exactly as a
hand count does; a need group in the old town moves the planned sites; small derived counts are suppressed
with a complementary cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS
from shapely.geometry import Point, box

from geo.candidates import candidates_for, planning_problem
from geo.coverage import CoverageEngine
from geo.demand import Demand, Grid
from geo.facilities import build_facility_set
from geo.need import mixed, need_coverage, need_problem, need_weights
from geo.planning import maximal_covering
from geo.units import assign_units
from layers.errors import PersonalDataError, StoreError
from layers.health import min_count
from layers.records import commit_records, prepare_records


def _csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_row_level_small_cells_and_bare_rates_are_refused(tmp_path, store, monkeypatch):
    monkeypatch.delenv("ONEMAP_HEALTH_MIN_COUNT", raising=False)
    row_level = _csv(tmp_path / "居民血压.csv", "社区代码,统计期,指标,血压,年龄\n990101001001,2026,hypertension_managed,150/95,67\n")
    with pytest.raises(PersonalDataError, match="居民血压.csv: holds row-level columns \\(血压, 年龄\\)"):
        prepare_records(row_level, "health_indicators")
    delivery = _csv(tmp_path / "健康指标.csv", "社区代码,统计期,指标,人数,比例,分母人数\n"
                    "990101001001,2026,高血压规范管理人数,557,,\n"
                    "990101001002,2026,hypertension_managed,7,,\n"            # below k
                    "990101001003,2026,child_overweight_rate,,0.18,\n"       # a rate without its denominator
                    "990101001004,2026,child_overweight_rate,,0.10,60\n"     # 6 children: below k
                    "990101001005,2026,child_overweight_rate,,0.20,120\n"
                    "990101001006,2026,diabetes_managed,,,\n")               # a count indicator without a count
    plan = prepare_records(delivery, "health_indicators")
    problems = {(p.row, p.field): (p.note.code, str(p.value)) for p in plan.report.problems}
    assert problems == {(3, "count"): ("health.below_k", "< 10"), (4, "denominator"):
                        ("health.rate_without_denominator", ""), (5, "rate"): ("health.below_k", "< 10"),
                        (7, "count"): ("health.no_count", "")}
    assert "7" not in " ".join(str(p) for p in plan.report.problems if p.row == 3)  # the small count is not shown
    commit_records(store, plan, user="卫健委", keep_valid=True)
    stored = store.records.read("health_indicators")
    assert sorted(stored["unit_code"]) == ["990101001001", "990101001005"]
    # the store's own guard, whatever the caller: a count below k never lands
    small = stored.head(1).assign(count=3)
    with pytest.raises(StoreError, match="fewer than 10"):
        store.records.write("health_indicators", small, mode="upsert", user="卫健委")
    assert len(store.records.read("health_indicators")) == 2


def test_k_is_a_policy_with_a_floor(monkeypatch):
    monkeypatch.setenv("ONEMAP_HEALTH_MIN_COUNT", "20")
    assert min_count() == 20
    monkeypatch.setenv("ONEMAP_HEALTH_MIN_COUNT", "2")
    with pytest.raises(Exception, match="ONEMAP_HEALTH_MIN_COUNT.*3"):
        min_count()


def test_need_weighted_coverage_equals_a_hand_count():
    """Two units, four cells: unit A (cells 0, 1: 100 and 300 residents) has 40 hypertensive residents, unit B
    (cells 2, 3: 200 and 200) has 10. A venue within 250 m of cells 0 and 2 only."""
    x, y = np.array([50.0, 150.0, 50.0, 150.0]), np.array([50.0, 50.0, 350.0, 350.0])
    crs = CRS.from_epsg(32650)
    demand = Demand(x, y, np.array([100.0, 300.0, 200.0, 200.0]), crs,
                    Grid(crs, Affine(100.0, 0, 0, 0, -100.0, 400.0), (4, 2)), np.array([3, 3, 0, 0]),
                    np.array([0, 1, 0, 1]), "toy")
    bounds = gpd_units({"A": box(0, 0, 200, 200), "B": box(0, 200, 200, 400)})
    assign = assign_units(demand, bounds, level="community")
    group = need_weights("高血压", {"A": 40, "B": 10}, demand, assign)
    np.testing.assert_allclose(group.weights, [10.0, 30.0, 5.0, 5.0])
    venues = gpd_points([Point(-150.0, 200.0)])
    fs = build_facility_set({"venues": venues}, crs="EPSG:32650")
    result = CoverageEngine(demand, fs, method="straight_line").run([250.0])
    assert result.covered("venues", 250.0).tolist() == [True, False, True, False]
    whole = need_coverage(result, {"高血压": group}, layer="venues")
    assert whole[["need", "covered"]].iloc[0].tolist() == [50.0, 15.0]  # 10 + 5 of 50
    per_unit = need_coverage(result, {"高血压": group}, layer="venues", assign=assign).set_index("code")
    assert per_unit.loc["A", "covered"] == 10.0 and per_unit.loc["B", "covered"] == 5.0
    assert per_unit.loc["A", "rate"] == pytest.approx(0.25) and per_unit.loc["B", "rate"] == pytest.approx(0.5)
    both = mixed({"h": group, "h2": group}, {"h": 1.0, "h2": 0.5})
    np.testing.assert_allclose(both.weights, 1.5 * group.weights)
    # 2SFCA with the group as demand: one station of 3 exercise-prescription places reaching cells 0 and 2
    from scipy import sparse

    from geo.access import two_step_fca

    reach = sparse.csr_matrix(([100.0, 150.0], ([0, 0], [0, 2])), shape=(1, 4))
    got = two_step_fca(reach, np.array([3.0]), group.weights, d0=250.0)
    assert got.ratio[0] == pytest.approx(3.0 / 15.0)  # 3 places for the 10 + 5 people in need within reach
    np.testing.assert_allclose(got.access, [0.2, 0.0, 0.2, 0.0])


def gpd_units(polys: dict):
    import geopandas as gpd

    return gpd.GeoDataFrame({"code": list(polys), "name": list(polys), "level": "community"},
                            geometry=list(polys.values()), crs="EPSG:32650")


def gpd_points(points: list):
    import geopandas as gpd

    return gpd.GeoDataFrame({"feature_id": [f"v{k}" for k in range(len(points))], "name": "场馆",
                             "venue_kind": "court", "is_public": True}, geometry=points, crs="EPSG:32650")


def test_a_need_group_in_the_old_town_moves_the_planned_sites(demo_city, demo_analysis):
    """MCLP for 5 new venues at 500 m, weighted by residents and by the demo's hypertensive residents (more of
    them in the old town): the sites differ, and the need-weighted plan covers more of the group."""
    from demo.health import health_delivery

    engine = demo_analysis.engine
    delivery = health_delivery(demo_city)
    hyper = delivery[delivery["indicator"] == "hypertension_managed"]
    assign = assign_units(engine.demand, demo_city.layers["boundaries"], level="community")
    group = need_weights("hypertension_managed", dict(zip(hyper["unit_code"], hyper["count"])), engine.demand, assign)
    read = lambda name: demo_city.layers.get(name)  # noqa: E731
    candidates = candidates_for(engine, read, layer="venues", cutoff=500.0)
    problem, _notes = planning_problem(engine, candidates, cutoff=500.0, layers=["venues"])
    by_people = maximal_covering(problem, 5, method="exact", time_limit=60)
    by_need = maximal_covering(need_problem(problem, group), 5, method="exact", time_limit=60)
    ids = problem.candidate_ids
    people_sites, need_sites = set(by_people.site_ids(ids)), set(by_need.site_ids(ids))
    assert people_sites != need_sites, "the need group should move at least one site"
    reach = problem.cover_matrix()

    def covered_need(sites: np.ndarray) -> float:
        return float(group.weights[(reach[sites].toarray() > 0).any(axis=0) | problem.covered_now].sum())

    assert covered_need(by_need.sites) > covered_need(by_people.sites)
    assert covered_need(by_need.sites) == pytest.approx(by_need.covered)
    # the old-town candidates the hypertensive residents pull in (the demo is seeded and the optimum is proven)
    assert sorted(need_sites - people_sites) == ["cand-00302", "cand-01149", "cand-02126"]


def test_a_need_table_is_published_as_rounded_estimates():
    """Modelled people to the nearest ten and shares to whole percent, on every row; the outreach order kept."""
    from geo.need_tables import published

    table = pd.DataFrame({"code": ["a1", "a2", "b1"], "name": list("xyz"), "residents": [1234.4, 2050.0, 99.0],
                          "need": [40.4, 55.0, 4.6], "covered": [36.2, 50.1, 4.6], "rate": [0.8960, 0.9109, 1.0],
                          "need_rate": [0.0327, 0.0268, 0.0465], "outreach_rank": pd.array([2, 1, 3], dtype="Int64")})
    table["uncovered"] = table["need"] - table["covered"]
    shown = published(table)
    assert shown["need"].tolist() == [40.0, 60.0, 0.0] and shown["covered"].tolist() == [40.0, 50.0, 0.0]
    assert shown["rate"].tolist() == pytest.approx([0.90, 0.91, 1.0]) and shown["residents"].tolist() == [1230.0,
                                                                                                          2050.0, 100.0]
    assert shown["outreach_rank"].tolist() == [2, 1, 3]
    for col in ("need", "covered", "uncovered", "residents"):
        assert (shown[col] % 10 == 0).all()


def test_the_facilities_that_serve_a_need_give_its_coverage(demo_city, demo_analysis, tmp_path):
    """Residents 60+ are served by fitness squares and park fitness points, or a greenway, within 300 m: the
    matched coverage equals a coverage run over just those facilities; a JSON matching replaces the default."""
    from geo.need import DEFAULT_MATCHING, load_matching, matched_coverage

    engine = demo_analysis.engine
    layers = demo_city.layers
    got = matched_coverage(engine, layers, DEFAULT_MATCHING["aged_60_plus"])
    venues = layers["venues"][layers["venues"]["venue_kind"].isin(["fitness_square", "park_fitness"])]
    only = build_facility_set({"venues": venues, "greenways": layers["greenways"]}, crs=engine.demand.crs,
                              entrances=layers["greenway_entrances"])
    want = CoverageEngine(engine.demand, only, network=demo_analysis.network).run([300.0])
    expected = want.covered("venues", 300.0) | want.covered("greenways", 300.0)
    assert got.sum() > 0 and (got == expected).all()
    path = tmp_path / "matching.json"
    path.write_text('{"aged_60_plus": [{"layer": "venues", "within_m": 300, "field": "venue_kind", '
                    '"values": ["fitness_square"]}]}', encoding="utf-8")
    custom = load_matching(path)
    assert len(custom["aged_60_plus"]) == 1 and custom["hypertension_managed"] == DEFAULT_MATCHING[
        "hypertension_managed"]
    narrower = matched_coverage(engine, layers, custom["aged_60_plus"])
    assert narrower.sum() < got.sum() and not (narrower & ~got).any()
    path.write_text('{"aged_60_plus": [{"within_m": 300}]}', encoding="utf-8")
    with pytest.raises(Exception, match="not a need matching"):
        load_matching(path)


def test_indicators_per_unit_gain_each_need_groups_coverage(demo_city, demo_analysis):
    """Every street gets the share of its hypertensive residents within reach of the facilities that serve
    them: the matched coverage counted by hand, published to whole percent; the city's too."""
    from demo.health import health_delivery
    from geo.indicators import compute_indicators
    from geo.need import DEFAULT_MATCHING, matched_coverage

    engine = demo_analysis.engine
    delivery = health_delivery(demo_city)
    hyper = delivery[delivery["indicator"] == "hypertension_managed"]
    counts = dict(zip(hyper["unit_code"], hyper["count"].astype(float)))
    layers = demo_city.layers
    ind = compute_indicators(engine, layers["boundaries"], venues=layers["venues"],
                             school_facilities=layers["school_facilities"], need={"hypertension_managed": counts},
                             need_layers=layers)
    assert "need_hypertension_managed" in ind.units.columns and 0 < ind.city["need_hypertension_managed"] < 1
    group = need_weights("h", counts, engine.demand, assign_units(engine.demand, layers["boundaries"],
                                                                  level="community"))
    cells = matched_coverage(engine, layers, DEFAULT_MATCHING["hypertension_managed"])
    streets = assign_units(engine.demand, layers["boundaries"], level="street")
    for code, rate in zip(ind.units["code"], ind.units["need_hypertension_managed"]):
        inside = streets.cell_unit == list(streets.units["code"]).index(code)
        need, got = group.weights[inside].sum(), (group.weights * cells)[inside].sum()
        assert rate == pytest.approx(round(got / need, 2), abs=1e-9)
    city = (group.weights * cells).sum() / group.weights.sum()
    assert ind.city["need_hypertension_managed"] == pytest.approx(round(city, 2), abs=1e-9)
    assert ind.city["need_hypertension_managed"] != city  # never the full precision the city's counts give


def test_the_nearby_finder_keeps_the_facilities_that_serve_a_need(demo_city, demo_analysis):
    """From a health station, the list for a hypertensive resident: exercise-prescription stations and fitness
    points within 900 m only, each also in the finder's full list at the same distance."""
    from geo.nearby import NearbyFinder
    from geo.need import DEFAULT_MATCHING, serves_need

    layers = demo_city.layers
    fs = build_facility_set({k: layers[k] for k in ("venues", "school_facilities", "greenways", "health_stations")},
                            crs=demo_analysis.network.crs, entrances=layers["greenway_entrances"])
    finder = NearbyFinder(CoverageEngine(demo_analysis.demand, fs, network=demo_analysis.network), layers)
    full = finder.query(finder.origin_of_station("health-002"), minutes=20).table
    keep = serves_need(full, layers, DEFAULT_MATCHING["hypertension_managed"])
    kept = full[keep]
    assert 0 < len(kept) < len(full) and (kept["distance_m"] <= 900).all()
    kinds = layers["venues"].set_index("feature_id")["venue_kind"]
    services = layers["health_stations"].set_index("feature_id")["services"]
    for row in kept.itertuples():
        if row.layer == "venues":
            assert kinds[row.feature_id] in ("fitness_square", "park_fitness", "fitness_trail", "gym")
        else:
            assert row.layer == "health_stations" and "exercise_prescription" in services[row.feature_id]
    left_out = full[~keep & (full["layer"] == "venues") & (full["distance_m"] <= 900)]
    assert not left_out["feature_id"].map(kinds).isin(["fitness_square", "park_fitness", "fitness_trail",
                                                      "gym"]).any()

"""Planning decomposed by city: a province's budget shared by marginal gains is the best split over the cities'
curves (checked against every split), each city's plan is its own MCLP, and Dask workers give the same plans."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest

from geo.city_budget import allocate, gains, plan_by_city, split_problem
from geo.planning import maximal_covering
from geo.province import close_cluster, cluster
from geo.units import assign_units
from tests.planning.test_city_planning import demo_plan  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def streets(demo_plan, demo_analysis):  # noqa: F811
    """The demo city's planning problem cut into its six streets, standing in for a province's cities."""
    candidates, problem, _notes = demo_plan
    boundaries = demo_analysis.layers["boundaries"]
    units = assign_units(demo_analysis.engine.demand, boundaries, level="street")
    codes = np.array(list(units.units["code"]) + [""], dtype=object)
    cell_city = codes[np.where(units.cell_unit >= 0, units.cell_unit, len(units.units))]
    streets = boundaries[boundaries["level"] == "street"].to_crs(4326)
    hit = gpd.sjoin(candidates.to_crs(4326)[["geometry"]], streets[["code", "geometry"]], predicate="within",
                    how="left")
    hit = hit[~hit.index.duplicated()]
    return split_problem(problem, cell_city, hit["code"].fillna("").to_numpy())


def test_the_budget_goes_where_the_next_site_covers_most_even_past_a_bend():
    # b's first site gains most, but a's second site gains more than both firsts: the exchange finds it.
    curves = {"a": np.array([0.0, 1.0, 10.0]), "b": np.array([0.0, 5.0, 6.0])}
    assert allocate(curves, 2) == {"a": 2, "b": 0}
    assert allocate(curves, 1) == {"a": 0, "b": 1}
    assert allocate(curves, 9) == {"a": 2, "b": 2}  # no more sites than candidates
    assert allocate(curves, 0) == {"a": 0, "b": 0}


def test_a_province_budget_is_the_best_split_over_the_cities_curves(streets):
    total = 5
    got = plan_by_city(streets, total=total)
    assert got.table["sites"].sum() == total
    from geo.city_budget import city_curve

    curves = {c: gains(city_curve(p, total)) for c, p in streets.items()}
    names = sorted(curves)
    best = max(sum(curves[c][k] for c, k in zip(names, split))
               for split in itertools.product(*(range(len(curves[c])) for c in names)) if sum(split) == total)
    assert got.newly_covered == pytest.approx(best)
    # Each city's share is that city's own MCLP at its number of sites.
    for row in got.table.itertuples():
        if row.sites:
            alone = maximal_covering(streets[row.city], row.sites)
            assert row.newly_covered == pytest.approx(alone.objective)
            assert sorted(row.site_ids) == sorted(str(s) for s in alone.site_ids(streets[row.city].candidate_ids))
    assert got.newly_covered > 0 and (got.table["coverage_rate"] <= 1).all()


def test_a_budget_per_city_and_the_same_plans_on_dask_workers(streets):
    per_city = {c: 1 + k % 2 for k, c in enumerate(sorted(streets))}
    here = plan_by_city(streets, per_city=per_city)
    assert dict(zip(here.table["city"], here.table["sites"])) == per_city
    client = cluster(n_workers=2, memory_limit="2GB")
    try:
        there = plan_by_city(streets, per_city=per_city, client=client)
        shared = plan_by_city(streets, total=4, client=client)
    finally:
        close_cluster(client)
    assert here.table.drop(columns="site_ids").equals(there.table.drop(columns="site_ids"))
    assert list(here.table["site_ids"]) == list(there.table["site_ids"])
    assert shared.newly_covered == pytest.approx(plan_by_city(streets, total=4).newly_covered)
    with pytest.raises(Exception, match="either a budget per city or one budget"):
        plan_by_city(streets, total=3, per_city=per_city)

"""Gap areas, per-unit statistics, service areas, 2SFCA and rule checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import sparse
from shapely.geometry import LineString, Point, box

from geo.access import E2SFCA_LUO_QI_WEIGHTS, gaussian_weight, step_weight, two_step_fca
from geo.coverage import CoverageEngine
from geo.demand import demand_from_vector
from geo.errors import AnalysisError
from geo.facilities import build_facility_set
from geo.gaps import gap_areas, gap_table
from geo.network import build_walk_network
from geo.rules import check_within
from geo.service_areas import service_areas
from geo.units import OUTSIDE, assign_units, coverage_by_unit, school_open_share_by_unit, sports_area_by_unit

CRS = "EPSG:4547"
X0, Y0 = 500_000.0, 3_300_000.0


def test_gap_areas_are_contiguous_uncovered_cells_ranked_by_residents():
    # Two blocks of people far from the only venue: a big one and a small one.
    pts, pops = [], []
    for (cx, cy, n, p) in ((X0 + 2000, Y0, 3, 100.0), (X0 - 2000, Y0, 2, 40.0), (X0 + 50, Y0 + 50, 1, 999.0)):
        for i in range(n):
            for j in range(n):
                pts.append(Point(cx + i * 100 + 50, cy + j * 100 + 50))
                pops.append(p)
    demand = demand_from_vector(gpd.GeoDataFrame({"population": pops}, geometry=pts, crs=CRS),
                                cell_size=100, metric_crs=CRS)
    fac = build_facility_set({"venues": gpd.GeoDataFrame({"name": ["v"]}, geometry=[Point(X0, Y0)], crs=CRS)}, crs=CRS)
    result = CoverageEngine(demand, fac, method="straight_line").run([500])
    gaps = gap_areas(result, "venues", 500)
    assert gaps["rank"].tolist() == [1, 2]
    assert gaps["uncovered_residents"].tolist() == [900.0, 160.0]
    assert gaps["cells"].tolist() == [9, 4]
    assert gaps["area_km2"].tolist() == pytest.approx([0.09, 0.04])
    assert gaps.geometry.iloc[0].equals(box(X0 + 2000, Y0, X0 + 2300, Y0 + 300))
    assert gaps["uncovered_residents"].sum() == pytest.approx(result.summary()["uncovered"].iloc[0])
    table = gap_table(gaps)
    assert {"lon", "lat", "rank"} <= set(table.columns) and "geometry" not in table.columns


def test_demo_gaps_sum_to_uncovered_residents(demo_analysis):
    result = demo_analysis.engine.run()
    gaps = gap_areas(result, "venues", 500, connectivity=8)
    total_unc = result.summary().set_index(["layer", "threshold_m"]).loc[("venues", 500.0), "uncovered"]
    assert gaps["uncovered_residents"].sum() == pytest.approx(total_unc)
    assert gaps["uncovered_residents"].is_monotonic_decreasing
    assert gaps.crs.equals(demo_analysis.demand.grid.crs)


def test_coverage_by_unit_adds_up_and_keeps_residents_outside_every_unit(demo_analysis, demo_city):
    result = demo_analysis.engine.run()
    bounds = demo_city.layers["boundaries"]
    streets = assign_units(demo_analysis.demand, bounds, level="street")
    table = coverage_by_unit(result, streets, layer="venues")
    part = table[table.threshold_m == 500]
    assert part["residents"].sum() == pytest.approx(420_000)
    overall = result.summary().set_index(["layer", "threshold_m"]).loc[("venues", 500.0), "covered"]
    assert part["covered"].sum() == pytest.approx(overall)
    assert part["code"].str.len().eq(9).all()  # six streets, nobody outside
    # Drop one street: its residents appear as the row outside every unit, with a note.
    fewer = bounds[bounds["code"] != "990101001"]
    partial = assign_units(demo_analysis.demand, fewer, level="street")
    rows = coverage_by_unit(result, partial, layer="venues")
    outside = rows[(rows.code == OUTSIDE) & (rows.threshold_m == 500)]
    assert len(outside) == 1 and outside["residents"].iloc[0] > 0
    assert partial.notes and partial.notes[0].code == "units.outside" and partial.notes[0].values["level"] == "street"
    assert "outside every street boundary" in str(partial.notes[0])
    assert rows[rows.threshold_m == 500]["residents"].sum() == pytest.approx(420_000)
    far = bounds.copy()
    far["geometry"] = far.geometry.translate(1.0, 0)
    with pytest.raises(AnalysisError, match="No resident lies inside any street boundary"):
        assign_units(demo_analysis.demand, far, level="street")
    with pytest.raises(AnalysisError, match="No boundary of level 'village'"):
        assign_units(demo_analysis.demand, bounds, level="village")


def test_sports_area_per_resident_and_open_school_share(demo_analysis, demo_city):
    units = assign_units(demo_analysis.demand, demo_city.layers["boundaries"], level="district")
    venues = demo_city.layers["venues"]
    schools = demo_city.layers["school_facilities"]
    area = sports_area_by_unit(units, demo_analysis.demand, venues)
    row = area.iloc[0]
    assert row["sports_area_m2"] == pytest.approx(venues["sports_area_m2"].sum())
    assert row["m2_per_resident"] == pytest.approx(venues["sports_area_m2"].sum() / 420_000)
    assert row["target_m2"] == 2.6 and bool(row["meets_target"]) == (row["m2_per_resident"] >= 2.6)
    with_schools = sports_area_by_unit(units, demo_analysis.demand, venues, school_facilities=schools)
    open_area = schools.loc[schools["open_to_public"], "area_m2"].sum()
    assert with_schools.iloc[0]["sports_area_m2"] == pytest.approx(venues["sports_area_m2"].sum() + open_area)
    share = school_open_share_by_unit(units, schools)
    assert share.iloc[0]["share_open"] == pytest.approx(schools["open_to_public"].mean())
    streets = assign_units(demo_analysis.demand, demo_city.layers["boundaries"], level="street")
    per_street = school_open_share_by_unit(streets, schools)
    assert per_street["school_facilities"].sum() == len(schools)
    # The new town's schools mostly stay shut: the shares differ between streets.
    assert per_street["share_open"].max() - per_street["share_open"].min() > 0.3


def test_service_area_follows_the_streets():
    # A cross of two streets; the facility at the centre, 300 m of walking allowed.
    streets = gpd.GeoDataFrame({"highway": ["residential", "residential"]}, geometry=[
        LineString([(X0 - 1000, Y0), (X0, Y0), (X0 + 1000, Y0)]),
        LineString([(X0, Y0 - 1000), (X0, Y0), (X0, Y0 + 1000)])], crs=CRS)
    net = build_walk_network(streets, crs=CRS)
    fac = build_facility_set({"venues": gpd.GeoDataFrame({"name": ["v"]}, geometry=[Point(X0 + 100, Y0)], crs=CRS)},
                             crs=CRS)
    engine = CoverageEngine(demand_from_vector(gpd.GeoDataFrame({"population": [1.0]}, geometry=[Point(X0, Y0)],
                                                                crs=CRS), metric_crs=CRS), fac, network=net)
    areas = service_areas(engine.network_reach, limit=300, cell=10)
    assert len(areas) == 1
    poly = areas.geometry.iloc[0]
    # Reached: 300 m east, 100 m back to the crossing, then 200 m west, north and south = 1.0 km.
    assert areas["street_km"].iloc[0] == pytest.approx(1.0)
    for inside in [(X0 + 390, Y0), (X0 - 190, Y0), (X0, Y0 + 190), (X0, Y0 - 190)]:
        assert poly.contains(Point(inside))
    for outside in [(X0 + 450, Y0), (X0 - 250, Y0), (X0, Y0 + 250), (X0 + 150, Y0 + 150)]:
        assert not poly.contains(Point(outside))
    # Not a circle: far smaller than the 300 m disc.
    assert poly.area < 0.25 * np.pi * 300 ** 2


def test_demo_service_areas_hold_their_catchment_cells(demo_analysis):
    reach = demo_analysis.engine.network_reach
    venues = demo_analysis.facilities.layer_mask("venues")
    areas = service_areas(reach, limit=500, facilities=venues)
    catch = reach.catchments(venues, limit=500)
    assert len(areas) == int((venues & reach.facility_snapped).sum())
    d = demo_analysis.demand
    for row in areas.head(8).itertuples():
        cells, _ = catch.cells_of(row.facility)
        snapped = d.x[cells], d.y[cells]
        feet = shapely.points(*snapped)
        # A reached cell lies within its snap distance (≤ 200 m) of the service area.
        assert (shapely.distance(row.geometry, feet) <= reach.demand_snap.offset[cells] + 1e-6).all()


def test_two_step_fca_hand_example():
    # Facilities A (supply 10) and B (supply 6); cells with 100, 200, 300 residents.
    # Within 1 km: A reaches cells 0 and 1; B reaches cells 1 and 2.
    dist = sparse.csr_matrix((np.array([200.0, 800.0, 600.0, 400.0]), (np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2]))),
                             shape=(2, 3))
    res = two_step_fca(dist, np.array([10.0, 6.0]), np.array([100.0, 200.0, 300.0]), d0=1000)
    # R_A = 10 / 300, R_B = 6 / 500; A_0 = R_A, A_1 = R_A + R_B, A_2 = R_B.
    np.testing.assert_allclose(res.ratio, [10 / 300, 6 / 500])
    np.testing.assert_allclose(res.access, [10 / 300, 10 / 300 + 6 / 500, 6 / 500])
    # Supply is neither made nor lost: Σ P_i A_i = Σ S_j when every facility has demand.
    assert (res.access * [100, 200, 300]).sum() == pytest.approx(16.0)
    # Enhanced 2SFCA, zones 0–500 m weight 1, 500–1000 m weight 0.5:
    e = two_step_fca(dist, np.array([10.0, 6.0]), np.array([100.0, 200.0, 300.0]), d0=1000,
                     weight=step_weight([500, 1000], [1.0, 0.5]))
    ra, rb = 10 / (100 + 0.5 * 200), 6 / (0.5 * 200 + 300)
    np.testing.assert_allclose(e.access, [ra, 0.5 * ra + 0.5 * rb, rb])
    # A smaller catchment drops the far pairs.
    small = two_step_fca(dist, np.array([10.0, 6.0]), np.array([100.0, 200.0, 300.0]), d0=500)
    np.testing.assert_allclose(small.access, [0.1, 0.0, 0.02])


def test_two_step_fca_published_properties():
    # Luo & Wang (2003): with a catchment wider than the region, every cell's ratio is
    # total supply over total population (the check of the pysal `access` test-suite).
    rng = np.random.default_rng(1)
    dist = sparse.csr_matrix(rng.uniform(1, 100, (7, 25)))
    supply, pop = rng.uniform(1, 20, 7), rng.uniform(10, 500, 25)
    res = two_step_fca(dist, supply, pop, d0=1000)
    np.testing.assert_allclose(res.access, supply.sum() / pop.sum())
    # E2SFCA with the Luo & Qi (2009) zone weights 1.00 / 0.68 / 0.22: supply conserved too.
    e = two_step_fca(dist, supply, pop, d0=100, weight=step_weight([30, 60, 100], E2SFCA_LUO_QI_WEIGHTS))
    assert (e.access * pop).sum() == pytest.approx(supply.sum())
    g = gaussian_weight(100)
    assert g(np.array([0.0]))[0] == pytest.approx(1.0) and g(np.array([100.0]))[0] == pytest.approx(0.0)


def test_two_step_fca_on_network_catchments(demo_analysis, demo_city):
    reach = demo_analysis.engine.network_reach
    venues = demo_analysis.facilities.layer_mask("venues")
    catch = reach.catchments(venues, limit=1000)
    cap = np.zeros(len(demo_analysis.facilities))
    cap[venues] = demo_city.layers["venues"]["capacity"].to_numpy(dtype=float)
    res = two_step_fca(catch, cap, demo_analysis.demand.population, weight=gaussian_weight(1000))
    assert (res.access >= 0).all() and res.access.max() > 0
    served = res.catchment_demand > 0
    assert (res.access * demo_analysis.demand.population).sum() == pytest.approx(cap[served].sum())
    with pytest.raises(AnalysisError, match="beyond the 1000 m"):
        two_step_fca(catch, cap, demo_analysis.demand.population, d0=1500)
    with pytest.raises(AnalysisError, match="Shapes differ"):
        two_step_fca(catch, cap[:3], demo_analysis.demand.population)


def test_rule_every_metro_station_has_a_greenway_within_500m(demo_analysis, demo_city):
    greenways = build_facility_set({"greenways": demo_city.layers["greenways"]}, crs=demo_analysis.network.crs,
                                   entrances=demo_city.layers["greenway_entrances"])
    stations = demo_city.layers["metro_stations"]
    straight = check_within(stations, greenways, 500, rule="每个地铁站500米内有绿道")
    walk = check_within(stations, greenways, 500, network=demo_analysis.network)
    assert len(straight.table) == len(stations) and straight.method == "straight_line"
    # Walking to an entrance is never shorter than the straight line to the greenway.
    assert (walk.table["distance_m"] >= straight.table["distance_m"] - 1e-6).all()
    assert set(walk.failures["feature_id"]) >= set(straight.failures["feature_id"])
    assert not walk.passed and len(walk.failures) > 0
    hand = np.array([shapely.distance(p, shapely.union_all(greenways.geometry))
                     for p in stations.to_crs(greenways.crs).geometry])
    np.testing.assert_allclose(straight.table["distance_m"], hand, atol=1e-6)
    with pytest.raises(AnalysisError, match="X layer is empty"):
        check_within(stations.iloc[0:0], greenways, 500)

"""Coverage on the demo city and on small cases where every distance is known by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from shapely.geometry import LineString, Point, Polygon

from geo.coverage import ANY_LAYER, CoverageEngine, analyse_coverage
from geo.demand import Demand, Grid
from geo.errors import AnalysisError, NetworkError
from geo.facilities import LIFE_CIRCLES_M, PRESET_SLOTS, TimeSlot, build_facility_set
from geo.network import build_walk_network

CRS = "EPSG:4547"
X0, Y0 = 500_000.0, 3_300_000.0


def _points_demand(xy, pop=None) -> Demand:
    xy = np.asarray(xy, dtype=float)
    pop = np.ones(len(xy)) if pop is None else np.asarray(pop, dtype=float)
    grid = Grid(gpd.GeoSeries([], crs=CRS).crs, Affine(100, 0, X0 - 5000, 0, -100, Y0 + 5000), (100, 100))
    col = ((xy[:, 0] - (X0 - 5000)) // 100).astype(int)
    row = (((Y0 + 5000) - xy[:, 1]) // 100).astype(int)
    return Demand(x=xy[:, 0], y=xy[:, 1], population=pop, crs=grid.crs, grid=grid, row=row, col=col,
                  label="test points")


def _frame(geoms, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"feature_id": [f"f{k}" for k in range(len(geoms))], **cols}, geometry=geoms, crs=CRS)


def test_demo_city_coverage_is_consistent(demo_analysis):
    result = demo_analysis.engine.run()
    s = result.summary()
    assert set(s["layer"]) == {"venues", "greenways", "school_facilities", "health_stations", ANY_LAYER}
    assert (s["residents"] == 420_000).all() and demo_analysis.demand.total == 420_000
    assert ((s["rate"] >= 0) & (s["rate"] <= 1)).all()
    for layer, part in s.groupby("layer"):
        assert part.sort_values("threshold_m")["covered"].is_monotonic_increasing, layer
    any_rate = s[s.layer == ANY_LAYER].set_index("threshold_m")["rate"]
    for layer in ("venues", "health_stations"):
        assert (s[s.layer == layer].set_index("threshold_m")["rate"] <= any_rate + 1e-12).all()
    # The east-bank new town is short of venues on purpose: coverage at 500 m is well below full.
    assert 0.1 < any_rate[500.0] < 0.9
    cells = result.cells()
    assert {"distance_venues", "nearest_venues", "covered_venues_300", "covered_any_1000"} <= set(cells.columns)


def test_network_coverage_never_exceeds_straight_line(demo_analysis):
    net_r = demo_analysis.engine.run()
    line_r = CoverageEngine(demo_analysis.demand, demo_analysis.facilities, method="straight_line").run()
    for layer in ("venues", "greenways", "school_facilities", "health_stations"):
        for th in LIFE_CIRCLES_M.values():
            by_net, by_line = net_r.covered(layer, th), line_r.covered(layer, th)
            assert not (by_net & ~by_line).any(), (layer, th)
        fin = np.isfinite(net_r.distance[layer])
        assert (net_r.distance[layer][fin] >= line_r.distance[layer][fin] - 1e-6).all()


def test_school_fields_closed_in_teaching_hours_cover_nobody(demo_analysis):
    engine = demo_analysis.engine
    tuesday_10 = engine.run(slot=PRESET_SLOTS["weekday 10:00"])
    tuesday_19 = engine.run(slot=PRESET_SLOTS["weekday 19:00"])
    saturday = engine.run(slot=TimeSlot.parse("Sat 09:00"))
    rate = lambda r, layer: r.summary().set_index(["layer", "threshold_m"]).loc[(layer, 500.0), "rate"]  # noqa: E731
    assert rate(tuesday_10, "school_facilities") == 0.0
    assert any(n.code == "coverage.layer_closed_at" and n.values["layer"] == "school_facilities"
               for n in tuesday_10.notes)
    assert rate(tuesday_19, "school_facilities") > 0.05
    assert rate(saturday, "school_facilities") >= rate(tuesday_19, "school_facilities")
    # A school closed to the public never counts, whatever the hour.
    fac = demo_analysis.facilities
    closed = (fac.table["layer"] == "school_facilities") & ~fac.table["usable"]
    assert closed.any() and not (fac.open_mask(saturday.slot) & closed.to_numpy()).any()


def test_time_slot_parsing():
    assert TimeSlot.parse("Tue 10:00") == TimeSlot(1, 600)
    assert TimeSlot.parse("周六 09:30 +PH") == TimeSlot(5, 570, public_holiday=True)
    with pytest.raises(AnalysisError, match="not understood"):
        TimeSlot.parse("someday 25:00")


def test_polygon_venue_is_entered_at_its_boundary_not_its_centroid():
    venue = Polygon([(X0, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 400), (X0, Y0 + 400)])
    fac = build_facility_set({"venues": _frame([venue], name=["体育公园"])}, crs=CRS)
    demand = _points_demand([(X0 + 200, Y0 - 50), (X0 + 200, Y0 + 200)])
    r = analyse_coverage(demand, fac, method="straight_line", thresholds=[100])
    np.testing.assert_allclose(r.distance["venues"], [50.0, 0.0])
    street = _frame([LineString([(X0 - 500, Y0 - 10), (X0 + 900, Y0 - 10)])], highway=["residential"])
    net = build_walk_network(street, crs=CRS)
    r = analyse_coverage(_points_demand([(X0 + 200, Y0 - 50)]), fac, network=net, thresholds=[100])
    # 40 m to the street, then straight to the boundary point above the foot: 40 + 10 = 50.
    assert r.distance["venues"][0] == pytest.approx(50.0, abs=1e-6)


def test_greenway_reached_at_its_entrances_or_anywhere_without_them():
    way = LineString([(X0, Y0), (X0 + 2000, Y0)])
    street = _frame([LineString([(X0 - 100, Y0 - 20), (X0 + 2100, Y0 - 20)])], highway=["footway"])
    net = build_walk_network(street, crs=CRS)
    demand = _points_demand([(X0 + 1900, Y0 - 60)])
    greenways = _frame([way], name=["滨河绿道"])
    greenways["feature_id"] = ["gw-1"]
    entrances = gpd.GeoDataFrame({"greenway_id": ["gw-1"]}, geometry=[Point(X0, Y0)], crs=CRS)
    with_entrance = build_facility_set({"greenways": greenways}, crs=CRS, entrances=entrances)
    anywhere = build_facility_set({"greenways": greenways}, crs=CRS)
    d_ent = analyse_coverage(demand, with_entrance, network=net, thresholds=[3000]).distance["greenways"][0]
    d_any = analyse_coverage(demand, anywhere, network=net, thresholds=[3000]).distance["greenways"][0]
    assert d_ent == pytest.approx(40 + 1900 + 20, abs=1e-6)
    assert d_any == pytest.approx(40 + 20, abs=1e-6)


def test_empty_layer_is_no_data_not_zero_percent(demo_analysis):
    layers = {"venues": demo_analysis.layers["venues"],
              "health_stations": demo_analysis.layers["health_stations"].iloc[0:0]}
    fac = build_facility_set(layers, crs=demo_analysis.network.crs)
    r = CoverageEngine(demo_analysis.demand, fac, network=demo_analysis.network).run()
    s = r.summary().set_index(["layer", "threshold_m"])
    assert np.isnan(s.loc[("health_stations", 500.0), "rate"]) and s.loc[("health_stations", 500.0), "status"] == "no data"
    assert s.loc[("venues", 500.0), "rate"] > 0
    assert any(n.code == "coverage.layer_empty" and n.values["layer"] == "health_stations" for n in r.notes)


def test_no_network_falls_back_to_straight_line_and_says_so(demo_analysis):
    r = CoverageEngine(demo_analysis.demand, demo_analysis.facilities, network=None).run()
    assert set(r.method.values()) == {"straight_line"}
    assert any(n.code == "coverage.no_network" for n in r.notes)


def test_network_far_from_population_is_refused(demo_analysis):
    far = demo_analysis.layers["walk_network"].copy()
    far["geometry"] = far.geometry.translate(0.5, 0.0)  # 50 km east
    net = build_walk_network(far, crs=demo_analysis.network.crs)
    with pytest.raises(NetworkError, match="reaches no resident"):
        CoverageEngine(demo_analysis.demand, demo_analysis.facilities, network=net)


def test_threshold_and_method_errors(demo_analysis):
    with pytest.raises(AnalysisError, match="positive distances"):
        demo_analysis.engine.run([0, 500])
    with pytest.raises(AnalysisError, match="method must be"):
        CoverageEngine(demo_analysis.demand, demo_analysis.facilities, method="crow")
    r = demo_analysis.engine.run({"venues": [300], "greenways": [800], "school_facilities": [500],
                                  "health_stations": [1000]})
    s = r.summary().set_index("layer")
    # minutes by the life circles (geo.definitions): 300 m is 5, 500 m 10, 1,000 m 15, 800 m between
    assert [s.loc[k, "minutes"] for k in ("venues", "school_facilities", "health_stations", "greenways")] == \
        pytest.approx([5.0, 10.0, 15.0, 13.0])
    with pytest.raises(AnalysisError, match="beyond the analysis cutoff"):
        r.covered("venues", 1500)


def test_demo_venues_keep_different_hours_so_the_time_slot_matters(demo_analysis, demo_city):
    """Some demo squares, courts and gyms open only at weekends, others close at 17:30 on weekdays: a planner
    picking a weekday evening sees fewer residents covered by venues than at any time, and more on Saturday."""
    hours = demo_city.layers["venues"]["opening_hours"]
    assert (hours == "Sa,Su,PH 07:00-21:00").sum() >= 5 and hours.str.startswith("Mo-Fr 08:00-17:30").sum() >= 5
    engine = demo_analysis.engine

    def venues_500(result) -> float:
        return result.summary().set_index(["layer", "threshold_m"]).loc[("venues", 500.0), "covered"]

    any_time = venues_500(engine.run())
    evening = venues_500(engine.run(slot=PRESET_SLOTS["weekday 19:00"]))
    saturday = venues_500(engine.run(slot=TimeSlot.parse("Sat 10:00")))
    assert evening < any_time * 0.97 and evening < saturday

"""Select by drawing: a drawn area's residents are the cells whose centre lies in it, counted by hand; its
coverage is the run's; a unit picked as the area is that unit's row of the per-unit table; the whole city is
the city's summary; a drawn shape the tool cannot use is refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, mapping

from geo.crs import transformer, wgs84_to_gcj02
from geo.errors import AnalysisError
from geo.selection import MAX_VERTICES, cells_in, drawn_area, select_area
from geo.units import assign_units, coverage_by_unit
from tests.conftest import ANALYSIS_LAYERS


@pytest.fixture(scope="module")
def run(demo_analysis):
    return demo_analysis.engine.run([300.0, 500.0, 1000.0])


def _bounds(run):
    lon, lat = run.demand.lonlat()
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _by_hand(run, area_wgs84) -> tuple[float, dict]:
    """Residents inside and covered per (layer, threshold), one cell at a time."""
    to_local = transformer(4326, run.demand.crs)
    local = shapely.transform(area_wgs84, lambda xy: np.column_stack(to_local.transform(xy[:, 0], xy[:, 1])))
    residents, covered = 0.0, {}
    for i, (x, y) in enumerate(zip(run.demand.x, run.demand.y)):
        if local.intersects(Point(x, y)):
            residents += run.population[i]
            for layer, ths in run.thresholds.items():
                for th in ths:
                    if run.distance[layer].iloc[i] <= th:
                        covered[(layer, th)] = covered.get((layer, th), 0.0) + run.population[i]
    return residents, covered


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_drawn_polygons_residents_and_coverage_are_the_cells_inside_counted_by_hand(run, demo_analysis, data):
    x0, y0, x1, y1 = _bounds(run)
    n = data.draw(st.integers(3, 9))
    lons = data.draw(st.lists(st.floats(x0, x1), min_size=n, max_size=n))
    lats = data.draw(st.lists(st.floats(y0, y1), min_size=n, max_size=n))
    ring = list(zip(lons, lats))
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]}}
    try:
        area = drawn_area(feature)
    except AnalysisError as exc:  # a self-touching or flat scribble: refused with its reason
        assert exc.note.code == "selection.no_area"
        return
    got = select_area(run, area, {k: demo_analysis.layers[k] for k in ANALYSIS_LAYERS})
    residents, covered = _by_hand(run, area)
    assert got.residents == pytest.approx(residents)
    for row in got.coverage.itertuples():
        assert row.covered == pytest.approx(covered.get((row.layer, row.threshold_m), 0.0))
        assert (np.isnan(row.rate) if residents == 0 else row.rate == pytest.approx(row.covered / residents))
    for row in got.facilities.itertuples():  # facilities held: those touching the area, one by one
        frame = demo_analysis.layers[row.layer].to_crs(4326)
        touching = [str(f) for f, g in zip(frame["feature_id"], frame.geometry) if area.intersects(g)]
        assert row.count == len(touching)
        assert sorted(got.held.loc[got.held["layer"] == row.layer, "feature_id"]) == sorted(touching)


def test_a_unit_picked_as_the_area_is_its_row_of_the_unit_table_and_the_city_is_the_summary(run, demo_city):
    units = assign_units(run.demand, demo_city.layers["boundaries"], level="street")
    table = coverage_by_unit(run, units, layer="any")
    for unit in units.units.itertuples():
        got = select_area(run, unit.geometry, {}, crs=run.demand.crs)
        row = table[(table["code"] == unit.code) & (table["threshold_m"] == 500.0)].iloc[0]
        assert got.residents == pytest.approx(row["residents"])
        mine = got.coverage[(got.coverage["layer"] == "any") & (got.coverage["threshold_m"] == 500.0)].iloc[0]
        assert mine["covered"] == pytest.approx(row["covered"])
    x0, y0, x1, y1 = _bounds(run)
    city = select_area(run, shapely.box(x0 - 0.01, y0 - 0.01, x1 + 0.01, y1 + 0.01), {})
    summary = run.summary().set_index(["layer", "threshold_m"])
    assert city.residents == pytest.approx(run.demand.total)
    for row in city.coverage.itertuples():
        assert row.covered == pytest.approx(summary.loc[(row.layer, row.threshold_m), "covered"])


def test_a_polygon_drawn_on_gcj02_tiles_is_taken_back_to_wgs84(run):
    x0, y0, x1, y1 = _bounds(run)
    box = shapely.box(x0 + (x1 - x0) * 0.2, y0 + (y1 - y0) * 0.2, x0 + (x1 - x0) * 0.6, y0 + (y1 - y0) * 0.7)
    shifted = shapely.transform(box, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    back = drawn_area(mapping(shifted), gcj02=True)
    assert back.symmetric_difference(box).area < box.area * 1e-6
    assert cells_in(run, back).sum() == cells_in(run, box).sum()


@pytest.mark.parametrize("feature,code", [
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[104.0, 30.6], [104.1, 30.7]]}},
     "selection.not_polygon"),
    ({"type": "Point", "coordinates": [104.0, 30.6]}, "selection.not_polygon"),
    ({"geometry": None}, "selection.not_polygon"),
    ({"type": "Polygon", "coordinates": [[[104.0, 30.6], [104.1, 30.6], [104.2, 30.6], [104.0, 30.6]]]},
     "selection.no_area"),
    ({"type": "Polygon", "coordinates": [[[500.0, 30.6], [104.1, 30.6], [104.1, 30.7], [500.0, 30.6]]]},
     "selection.not_lonlat"),
    ({"type": "Polygon", "coordinates": [[[104.0, float("nan")], [104.1, 30.6], [104.1, 30.7], [104.0, 30.6]]]},
     "selection.not_lonlat"),
    ({"type": "Polygon", "coordinates": [[[104.0 + k * 1e-5, 30.6 + (k % 2) * 1e-4] for k in range(MAX_VERTICES + 2)]
                                         + [[104.0, 30.6]]]}, "selection.too_many_vertices"),
    ({"type": "Polygon", "coordinates": "not a ring"}, "selection.not_polygon"),
])
def test_a_shape_that_cannot_be_an_area_is_refused_with_its_reason(feature, code):
    with pytest.raises(AnalysisError) as caught:
        drawn_area(feature)
    assert caught.value.note.code == code
    assert str(caught.value) and "selection." not in str(caught.value)  # said in words, not as a code


def test_the_ground_area_is_the_ellipsoids():
    """A 0.03° square at 30.6° N: its area from the meridian and parallel arcs of WGS-84, integrated by hand."""
    from geo.selection import ground_area_km2

    a, e2 = 6378137.0, 0.00669437999014
    lat = np.radians(np.linspace(30.6, 30.63, 2001))
    w = 1 - e2 * np.sin(lat) ** 2
    m, n = a * (1 - e2) / w ** 1.5, a / np.sqrt(w)
    strip = n * np.cos(lat) * np.radians(0.03) * m  # width × meridian arc per radian of latitude
    by_hand = float(np.sum((strip[1:] + strip[:-1]) / 2 * np.diff(lat))) / 1e6
    assert ground_area_km2(shapely.box(104.0, 30.6, 104.03, 30.63)) == pytest.approx(by_hand, rel=1e-6)

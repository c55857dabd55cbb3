import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS
from shapely.geometry import LineString, Point, Polygon

from geo.crs import gauss_kruger_3deg_crs, local_metric_crs
from geo.errors import CRSError
from layers.catalogue import CATALOGUE, DEPARTMENTS, SYSTEM_FIELD_NAMES, get_spec
from layers.errors import UnknownLayerError
from layers.validate import validate_layer


def test_catalogue_shape():
    for name in ("venues", "greenways", "school_facilities", "health_stations", "population",
                 "boundaries", "walk_network", "metro_stations", "candidate_sites"):
        spec = get_spec(name)
        assert spec.department in DEPARTMENTS
        assert [f.name for f in spec.all_fields[:6]] == list(SYSTEM_FIELD_NAMES)
    assert get_spec("school_facilities").field("opening_hours").type == "hours"
    with pytest.raises(UnknownLayerError, match="Unknown layer 'gyms'; the catalogue has: "):
        get_spec("gyms")


def test_every_problem_named_by_row_field_value():
    frame = gpd.GeoDataFrame({
        "name": ["好", None, "坏", "坏2", "坏3", "好2"],
        "venue_kind": ["court", "court", "rink", "court", "court", "pool"],
        "capacity": [10, 5, "很多", 1.5, -3, None],
        "is_public": ["是", "否", "maybe", 1, 0, None],
        "opening_hours": [None, "周末 8:00-20:00", None, "不知道", None, "24/7"],
        "feature_id": ["a", "b", "c", "d", "d", "e"],
    }, geometry=[Point(114, 30), Point(114, 30), Point(114, 30), Point(np.nan, 30),
                 Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)]), LineString([(0, 0), (1, 1)])], crs=4326)
    out, report = validate_layer(frame, CATALOGUE["venues"], source="v.csv")
    got = {(p.row, p.field) for p in report.problems}
    assert got == {(2, "name"), (3, "venue_kind"), (3, "capacity"), (3, "is_public"), (4, "capacity"),
                   (4, "geometry"), (4, "opening_hours"), (4, "feature_id"), (5, "capacity"),
                   (5, "geometry"), (5, "feature_id"), (6, "geometry")}
    text = report.summary(limit=50)
    assert "row 3, field 'venue_kind', value 'rink': not one of: stadium" in text
    assert "row 5, field 'geometry', value 'invalid': invalid geometry: Self-intersection" in text
    assert "row 6, field 'geometry', value 'LineString': wrong geometry type" in text
    assert out.loc[0, "is_public"] and not out.loc[1, "is_public"]
    assert out.loc[1, "opening_hours"] == "Sa,Su 08:00-20:00"
    assert out["department"].tolist() == ["sports"] * 6 and out["source"].iloc[0] == "v.csv"


def test_reprojects_and_fills_ids():
    gk = gauss_kruger_3deg_crs(114.0)
    pts = gpd.GeoSeries([Point(114.0, 30.0), Point(114.01, 30.01)], crs=4326).to_crs(gk)
    frame = gpd.GeoDataFrame({"name": ["甲", "乙"], "line": ["1号线", None]}, geometry=pts, crs=gk)
    out, report = validate_layer(frame, CATALOGUE["metro_stations"], source="m.shp")
    assert report.ok and out.crs.to_epsg() == 4326
    assert abs(out.geometry.x[0] - 114.0) < 1e-9 and out["feature_id"].str.startswith("metro_stations-").all()


def test_missing_crs_is_a_file_problem():
    frame = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(114, 30)])
    _, report = validate_layer(frame, CATALOGUE["metro_stations"], source="m.csv")
    assert not report.ok and report.problems[0].row is None and "coordinate system" in report.problems[0].message


def test_projected_coordinates_mistaken_for_degrees():
    frame = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(500000, 3320000)], crs=4326)
    _, report = validate_layer(frame, CATALOGUE["metro_stations"], source="m.csv")
    assert "is the CRS right" in report.problems[0].message


def test_metric_crs_choice():
    assert local_metric_crs((113.9, 29.9, 114.1, 30.1)) == CRS.from_epsg(4547)  # CGCS2000 GK CM 114E
    assert local_metric_crs((104.0, 30.6, 104.1, 30.7)) == CRS.from_epsg(4544)  # Chengdu, CM 105E
    assert local_metric_crs((2.3, 48.8, 2.4, 48.9)) == CRS.from_epsg(32631)
    with pytest.raises(CRSError, match="not longitude/latitude"):
        local_metric_crs((500000, 3300000, 510000, 3310000))
    with pytest.raises(CRSError, match="non-finite"):
        local_metric_crs((np.nan, np.nan, np.nan, np.nan))

"""A corpus of malformed deliveries, made here: each gets a clear message naming the file
(and the row and field where there is one), nothing crashes, and the stored layer is
exactly as it was before."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon

from geo.errors import OneMapError
from layers.fields import FieldMapping
from layers.ingest import commit_import, import_osm, import_population_raster, prepare_import

GOOD = {"name": ["人民公园篮球场", "锦江游泳馆"], "venue_kind": ["court", "pool"]}
PTS = [Point(104.06, 30.65), Point(104.07, 30.66)]


def _geojson(path: Path, frame: gpd.GeoDataFrame) -> Path:
    frame.to_file(path, driver="GeoJSON")
    return path


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _shapefile(folder: Path) -> Path:
    folder.mkdir()
    gpd.GeoDataFrame(GOOD, geometry=PTS, crs=4326).to_file(folder / "v.shp", encoding="UTF-8")
    return folder


def _zip(path: Path, folder: Path, skip: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for f in folder.iterdir():
            if f.suffix not in skip:
                z.write(f, f.name)
    return path


def make(case: str, d: Path) -> tuple[Path, dict]:
    """Build the malformed file for ``case``; returns it and the import options."""
    if case == "truncated_zip":
        full = _zip(d / "full.zip", _shapefile(d / "s"))
        p = d / "截断.zip"
        p.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
        return p, {}
    if case == "zip_without_shapefile":
        p = d / "说明.zip"
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("readme.txt", "数据见附件")
        return p, {}
    if case == "shapefile_missing_prj":
        folder = _shapefile(d / "s")
        (folder / "v.prj").unlink()
        return folder, {}
    if case == "shapefile_missing_shx":
        folder = _shapefile(d / "s")
        (folder / "v.shx").unlink()
        return _zip(d / "no_shx.zip", folder), {}
    if case == "mixed_geometry_types":
        return _geojson(d / "混合.geojson", gpd.GeoDataFrame(
            GOOD, geometry=[PTS[0], LineString([(104.0, 30.6), (104.1, 30.7)])], crs=4326)), {}
    if case == "nan_coordinates_csv":
        return _csv(d / "nan.csv", "名称,类型,经度,纬度\n篮球场,court,NaN,30.6\n游泳馆,pool,104.1,30.7\n"), {"coord_system": "wgs84"}
    if case == "huge_coordinates_csv":
        return _csv(d / "1e308.csv", "名称,类型,经度,纬度\n篮球场,court,1e308,30.6\n游泳馆,pool,104.1,1e308\n"), {"coord_system": "wgs84"}
    if case == "empty_file":
        p = d / "空.geojson"
        p.write_bytes(b"")
        return p, {}
    if case == "merged_two_row_header_csv":
        return _csv(d / "合并表头.csv", "基本信息,,位置,\n名称,类型,经度,纬度\n篮球场,court,104.0,30.6\n"), {}
    if case == "xlsx_text_in_longitude":
        p = d / "文本经度.xlsx"
        pd.DataFrame({"名称": ["篮球场", "游泳馆"], "类型": ["court", "pool"], "经度": ["东经104度", 104.1],
                      "纬度": [30.6, 30.7]}).to_excel(p, index=False)
        return p, {"coord_system": "wgs84"}
    if case == "over_size_limit":
        p = d / "大文件.geojson"
        with open(p, "wb") as fh:
            fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, no disk used
        return p, {}
    if case == "truncated_geojson":
        good = _geojson(d / "g.geojson", gpd.GeoDataFrame(GOOD, geometry=PTS, crs=4326))
        p = d / "截断.geojson"
        p.write_bytes(good.read_bytes()[:120])
        return p, {}
    if case == "csv_without_coordinates":
        return _csv(d / "无坐标.csv", "名称,类型,地址\n篮球场,court,青羊区\n"), {}
    if case == "csv_header_only":
        return _csv(d / "只有表头.csv", "名称,类型,经度,纬度\n"), {}
    if case == "csv_swapped_lat_lon":
        return _csv(d / "颠倒.csv", "名称,类型,经度,纬度\n篮球场,court,30.65,104.06\n游泳馆,pool,30.66,104.07\n"), {"coord_system": "wgs84"}
    if case == "csv_empty_coordinate_cells":
        return _csv(d / "缺坐标.csv", "名称,类型,经度,纬度\n篮球场,court,,30.6\n游泳馆,pool,104.1,30.7\n"), {"coord_system": "wgs84"}
    if case == "csv_not_text":
        p = d / "乱码.csv"
        p.write_bytes(bytes(range(128, 256)) * 40)
        return p, {}
    if case == "corrupt_xlsx":
        p = d / "损坏.xlsx"
        p.write_bytes(b"PK\x03\x04 this is not a workbook")
        return p, {}
    if case == "malformed_kml":
        p = d / "坏.kml"
        p.write_text("<kml><Document><Placemark><name>篮球场</name><Point><coordinates>104,30", encoding="utf-8")
        return p, {}
    if case == "duplicate_ids":
        return _geojson(d / "重复编号.geojson", gpd.GeoDataFrame(
            {**GOOD, "feature_id": ["v-1", "v-1"]}, geometry=PTS, crs=4326)), {}
    if case == "missing_required_name":
        return _geojson(d / "缺名称.geojson", gpd.GeoDataFrame(
            {"name": [None, "游泳馆"], "venue_kind": ["court", "pool"]}, geometry=PTS, crs=4326)), {}
    if case == "unparseable_opening_hours":
        return _geojson(d / "时间.geojson", gpd.GeoDataFrame(
            {**GOOD, "opening_hours": ["看心情", "Mo-Su 09:00-21:00"]}, geometry=PTS, crs=4326)), {}
    if case == "unknown_venue_kind":
        return _geojson(d / "类型.geojson", gpd.GeoDataFrame(
            {"name": GOOD["name"], "venue_kind": ["滑雪场", "pool"]}, geometry=PTS, crs=4326)), {}
    if case == "resident_id_numbers":
        return _csv(d / "名单.csv", "名称,类型,经度,纬度,负责人身份证\n篮球场,court,104.0,30.6,11010519491231002X\n"), {"coord_system": "wgs84"}
    if case == "phone_numbers_beside_names":
        return _csv(d / "联系人.csv", "名称,类型,经度,纬度,联系人,手机\n篮球场,court,104.0,30.6,张三,13812345678\n"), {"coord_system": "wgs84"}
    if case == "health_records_with_names":
        return _csv(d / "体检.csv", "姓名,血压,经度,纬度\n李四,140/90,104.0,30.6\n"), {"coord_system": "wgs84"}
    if case == "unsupported_extension":
        p = d / "场馆清单.docx"
        p.write_bytes(b"PK\x03\x04 word")
        return p, {}
    if case == "wrong_geometry_for_points_layer":
        return _geojson(d / "面.geojson", gpd.GeoDataFrame(
            {"name": ["驿站"], "station_kind": ["clinic"]},
            geometry=[Polygon([(104, 30), (104.01, 30), (104.01, 30.01)])], crs=4326)), {"layer": "health_stations"}
    if case == "gpkg_not_a_database":
        p = d / "假的.gpkg"
        p.write_text("这不是GeoPackage", encoding="utf-8")
        return p, {}
    if case == "bad_saved_mapping":
        p = _geojson(d / "v.geojson", gpd.GeoDataFrame({"名字": GOOD["name"], "venue_kind": GOOD["venue_kind"]},
                                                        geometry=PTS, crs=4326))
        return p, {"mapping": FieldMapping("venues", {"名称": "name"})}
    if case == "unknown_coordinate_system":
        return _geojson(d / "v.geojson", gpd.GeoDataFrame(GOOD, geometry=PTS, crs=4326)), {"coord_system": "mars"}
    if case == "gcj02_claimed_for_projected_data":
        return _geojson(d / "投影.geojson", gpd.GeoDataFrame(GOOD, geometry=PTS, crs=4326).to_crs(4547)), {"coord_system": "gcj02"}
    if case == "csv_projected_numbers_without_crs":
        return _csv(d / "平面坐标.csv", "名称,类型,x,y\n篮球场,court,404000.5,3391000.2\n"), {}
    raise KeyError(case)


CASES = {
    "truncated_zip": "截断.zip: the zip is damaged or incomplete",
    "zip_without_shapefile": "说明.zip: holds readme.txt; expected one shapefile",
    "shapefile_missing_prj": r"s: .*no coordinate system|declare no coordinate system",
    "shapefile_missing_shx": "no_shx.zip: has v.shp but not v.shx; a shapefile needs its .shp, .shx and .dbf",
    "mixed_geometry_types": r"row 2, field 'geometry', value 'LineString': wrong geometry type",
    "nan_coordinates_csv": r"row 2, field '经度'.*not a number",
    "huge_coordinates_csv": r"row 2, field 'geometry'.*outside longitude",
    "empty_file": "空.geojson: the file is empty",
    "merged_two_row_header_csv": "合并表头.csv: the header seems to span two rows",
    "xlsx_text_in_longitude": r"row 2, field '经度', value '东经104度': not a number",
    "over_size_limit": "大文件.geojson: 200 MB is over the 150 MB limit",
    "truncated_geojson": "截断.geojson: cannot be read",
    "csv_without_coordinates": "无坐标.csv: no longitude column found",
    "csv_header_only": "只有表头.csv: has a header but no record rows",
    "csv_swapped_lat_lon": r"row 2, field 'geometry'.*outside longitude",
    "csv_empty_coordinate_cells": r"row 2, field '经度', value None: empty coordinate",
    "csv_not_text": "乱码.csv: the text is neither UTF-8 nor GBK/GB18030",
    "corrupt_xlsx": "损坏.xlsx: cannot be read as a table",
    "malformed_kml": "坏.kml: cannot be read",
    "duplicate_ids": r"row 1, field 'feature_id', value 'v-1': duplicate id",
    "missing_required_name": r"row 1, field 'name'.*required but empty",
    "unparseable_opening_hours": r"row 1, field 'opening_hours', value '看心情'",
    "unknown_venue_kind": r"row 1, field 'venue_kind', value '滑雪场': not one of",
    "resident_id_numbers": r"名单.csv: column '负责人身份证', row 1 holds an 18-digit resident identity number \(110\*+002X\)",
    "phone_numbers_beside_names": r"联系人.csv: column '手机', row 1 holds a mobile phone number \(138\*+5678\)",
    "health_records_with_names": r"体检.csv: holds personal names \(column '姓名'\) beside health measurements",
    "unsupported_extension": "场馆清单.docx: .docx is not a format read here",
    "wrong_geometry_for_points_layer": r"row 1, field 'geometry', value 'Polygon': wrong geometry type; layer 'Health stations' takes Point",
    "gpkg_not_a_database": "假的.gpkg: cannot be read",
    "bad_saved_mapping": r"names column\(s\) 名称 that this file does not have",
    "unknown_coordinate_system": "Coordinate system 'mars' is not one of",
    "gcj02_claimed_for_projected_data": "投影.geojson: declares the projected system",
    "csv_projected_numbers_without_crs": r"declare no coordinate system",
}


@pytest.fixture
def stocked_store(gpkg_store, demo_city):
    gpkg_store.layers.write("venues", demo_city.layers["venues"], user="sports")
    gpkg_store.layers.write("health_stations", demo_city.layers["health_stations"], user="health")
    return gpkg_store


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_delivery_is_refused_clearly_and_changes_nothing(case, tmp_path, stocked_store):
    path, options = make(case, tmp_path)
    layer = options.pop("layer", "venues")
    before = stocked_store.layers.read(layer)
    history = len(stocked_store.history(layer))
    with pytest.raises(OneMapError) as info:
        plan = prepare_import(path, layer, **options)
        commit_import(stocked_store, plan, user="steward", mode="replace")
    message = str(info.value)
    assert "Traceback" not in message
    assert re.search(CASES[case], message), message
    after = stocked_store.layers.read(layer)
    assert len(stocked_store.history(layer)) == history
    pd.testing.assert_frame_equal(pd.DataFrame(after.drop(columns="geometry")),
                                  pd.DataFrame(before.drop(columns="geometry")))
    assert after.geometry.equals(before.geometry)


def test_corpus_has_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_keep_valid_commits_only_the_good_rows(tmp_path, stocked_store):
    path, options = make("xlsx_text_in_longitude", tmp_path)
    plan = prepare_import(path, "venues", **options)
    assert plan.n_read == 2 and plan.n_valid == 1
    result = commit_import(stocked_store, plan, user="steward", mode="replace", keep_valid=True)
    assert result.n_written == 1 and stocked_store.layers.read("venues")["name"].tolist() == ["游泳馆"]
    # The earlier version stays readable.
    assert len(stocked_store.layers.read("venues", version=1)) == 68


def test_self_intersecting_polygon_is_repaired_and_said_so(tmp_path, gpkg_store):
    bow_tie = Polygon([(104.0, 30.0), (104.01, 30.01), (104.01, 30.0), (104.0, 30.01)])
    path = _geojson(tmp_path / "自交.geojson", gpd.GeoDataFrame(
        {"name": ["体育公园"], "venue_kind": ["park_fitness"]}, geometry=[bow_tie], crs=4326))
    plan = prepare_import(path, "venues")
    assert plan.report.ok and any(w.code == "import.repaired" and w.values["rows"] == [1] for w in plan.warnings)
    assert "self-intersecting polygon(s) repaired" in str(plan.warnings[-1])
    assert plan.frame.geometry.iloc[0].is_valid and plan.frame.geometry.iloc[0].area > 0
    commit_import(gpkg_store, plan, user="steward", mode="replace")


def test_swapped_and_outside_china_warnings(tmp_path):
    path, options = make("csv_swapped_lat_lon", tmp_path)
    plan = prepare_import(path, "venues", **options)
    assert any(w.code == "import.swapped" for w in plan.warnings)
    paris = _geojson(tmp_path / "巴黎.geojson", gpd.GeoDataFrame(GOOD, geometry=[Point(2.35, 48.85)] * 2, crs=4326))
    plan = prepare_import(paris, "venues", coord_system="gcj02")
    assert any(w.code == "import.outside_china" for w in plan.warnings)


def test_broken_osm_and_raster_files(tmp_path, stocked_store):
    osm = tmp_path / "截断.osm"
    osm.write_text("<osm version='0.6'><node id='1' lat='30.6' lon='104.0'>", encoding="utf-8")
    with pytest.raises(OneMapError):
        import_osm(stocked_store, osm, user="parks")
    tif = tmp_path / "人口.tif"
    tif.write_bytes(b"II*\x00 not really a tiff")
    with pytest.raises(OneMapError, match="人口.tif: not a readable GeoTIFF"):
        import_population_raster(stocked_store, tif, user="stats")
    assert len(stocked_store.layers.read("venues")) == 68

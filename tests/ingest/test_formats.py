"""Round trips: each delivery format into the store keeps counts, attributes and Chinese text."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from layers.fields import FieldMapping
from layers.ingest import commit_import, import_osm, import_population_raster, prepare_import
from layers.readers import shapefile_encoding

CHINESE_HEADERS = {"name": "场馆名称", "venue_kind": "类型", "sports_area_m2": "面积(m²)", "capacity": "容纳人数",
                   "opening_hours": "开放时间", "is_public": "是否开放", "fee": "收费", "address": "地址",
                   "feature_id": "编号"}


def _check_round_trip(store, plan, source):
    assert plan.report.ok, plan.report.summary()
    commit_import(store, plan, user="sports-steward", mode="replace")
    got = store.layers.read("venues").sort_values("feature_id").reset_index(drop=True)
    want = source.sort_values("feature_id").reset_index(drop=True)
    assert len(got) == len(want)
    assert got["name"].tolist() == want["name"].tolist()  # Chinese text intact
    assert got["address"].tolist() == want["address"].tolist()
    assert got["venue_kind"].tolist() == want["venue_kind"].tolist()
    np.testing.assert_allclose(got["sports_area_m2"].astype(float), want["sports_area_m2"].astype(float))
    assert got["opening_hours"].tolist() == want["opening_hours"].tolist()
    dist = got.geometry.to_crs(4547).distance(want.geometry.to_crs(4547))
    assert dist.max() < 0.5
    hist = store.history("venues")
    assert hist["source"].iloc[-1] == plan.source and hist["changed_by"].iloc[-1] == "sports-steward"
    assert hist["n_written"].iloc[-1] == len(want)


@pytest.mark.parametrize("suffix,driver", [(".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".kml", "KML")])
def test_gis_formats_round_trip(tmp_path, gpkg_store, venue_points, suffix, driver):
    path = tmp_path / f"体育场馆{suffix}"
    venue_points.to_file(path, driver=driver)
    _check_round_trip(gpkg_store, prepare_import(path, "venues"), venue_points)


def test_gbk_shapefile_without_cpg_folder_and_zip(tmp_path, gpkg_store, venue_points):
    folder = tmp_path / "shp"
    folder.mkdir()
    shp = folder / "venues.shp"
    venue_points.rename(columns={"sports_area_m2": "area_m2", "opening_hours": "open_hours"}).to_file(
        shp, driver="ESRI Shapefile", encoding="GBK")
    for cpg in folder.glob("*.cpg"):
        cpg.unlink()
    dbf = folder / "venues.dbf"
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no language driver id either: nothing in the file says GBK
    dbf.write_bytes(bytes(raw))
    assert shapefile_encoding(folder) == "GB18030"
    mapping = FieldMapping("venues", {"area_m2": "sports_area_m2", "open_hours": "opening_hours"})
    _check_round_trip(gpkg_store, prepare_import(folder, "venues", mapping=mapping), venue_points)
    archive = tmp_path / "venues_gbk.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f.name)
    assert shapefile_encoding(archive) == "GB18030"
    _check_round_trip(gpkg_store, prepare_import(archive, "venues", mapping=mapping), venue_points)


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gbk", "xlsx"])
def test_tables_with_chinese_headers_and_offset_coordinates(tmp_path, gpkg_store, venue_points, fmt, system):
    table = pd.DataFrame(venue_points.drop(columns="geometry")).rename(columns=CHINESE_HEADERS)
    lon, lat = venue_points.geometry.x.to_numpy(), venue_points.geometry.y.to_numpy()
    if system == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif system == "bd09":
        lon, lat = wgs84_to_bd09(lon, lat)
    table["经度"], table["纬度"] = lon, lat
    table["是否开放"] = np.where(table["是否开放"], "是", "否")
    path = tmp_path / ("场馆.xlsx" if fmt == "xlsx" else "场馆.csv")
    if fmt == "xlsx":
        table.to_excel(path, index=False)
    else:
        table.to_csv(path, index=False, encoding="gb18030" if fmt == "csv-gbk" else "utf-8")
    plan = prepare_import(path, "venues", coord_system=system)
    assert plan.mapping.columns["场馆名称"] == "name" and plan.mapping.columns["类型"] == "venue_kind"
    _check_round_trip(gpkg_store, plan, venue_points)


def test_saved_mapping_is_reused_for_the_next_delivery(tmp_path, venue_points):
    table = pd.DataFrame(venue_points.drop(columns="geometry")).rename(
        columns={"name": "设施全称", "venue_kind": "设施大类"})
    table["X"], table["Y"] = venue_points.geometry.x, venue_points.geometry.y
    path = tmp_path / "第一批.csv"
    table.to_csv(path, index=False)
    plan = prepare_import(path, "venues", coord_system="wgs84")
    assert not plan.report.ok  # 设施全称 / 设施大类 are not guessed: name and kind are missing
    mapping = FieldMapping("venues", {**plan.mapping.columns, "设施全称": "name", "设施大类": "venue_kind"},
                           department="sports")
    saved = mapping.save(tmp_path / "mappings" / "sports_venues.json")
    second = tmp_path / "第二批.csv"
    table.iloc[:10].to_csv(second, index=False)
    again = prepare_import(second, "venues", coord_system="wgs84", mapping=FieldMapping.load(saved))
    assert again.report.ok and again.frame["name"].tolist() == venue_points["name"].iloc[:10].tolist()


def test_chengdu_osm_imports_into_the_catalogue(chengdu_osm, gpkg_store):
    counts = import_osm(gpkg_store, chengdu_osm, user="parks-steward").set_index("layer")
    assert counts.loc["walk_network", "written"] > 2000
    assert counts.loc["venues", "written"] >= 25
    assert counts.loc["health_stations", "written"] >= 25  # hospitals and clinics
    assert counts.loc["school_facilities", "read"] > 0
    stored = {i.name: i.n_features for i in gpkg_store.layers.list()}
    for layer, row in counts.iterrows():
        if row["written"]:
            assert stored[layer] == row["written"]
    names = gpkg_store.layers.read("health_stations")["name"]
    assert names.str.contains("医院").any()


def test_population_geotiff_import(tmp_path, gpkg_store, demo_city):
    path = tmp_path / "人口.tif"
    path.write_bytes(demo_city.population_tif)
    version = import_population_raster(gpkg_store, path, user="stats")
    assert version == 1 and gpkg_store.rasters.read("population") == demo_city.population_tif

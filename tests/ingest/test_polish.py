"""Small things found by independent runs: a GeoJSON in projected metres, an unnamed unreachable venue."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from geo.coverage import CoverageEngine, display_name
from geo.facilities import build_facility_set
from layers.ingest import prepare_import


def test_a_geojson_in_projected_metres_is_read_in_the_system_named(tmp_path):
    # Two venues in CGCS2000 / 3-degree Gauss–Krüger zone 38 (EPSG:4526) metres, written as GeoJSON.
    metres = gpd.GeoDataFrame({"名称": ["东岸篮球场", "滨江健身广场"], "类型": ["court", "fitness_square"]},
                              geometry=[Point(38_500_000, 3_320_000), Point(38_501_000, 3_321_000)], crs=4526)
    doc = json.loads(metres.to_json())
    doc.pop("crs", None)  # as most exporters write it: no crs member (RFC 7946), so GDAL says WGS-84
    path = tmp_path / "场馆_投影.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    silent = prepare_import(path, "venues")
    assert not silent.report.ok  # without the override: coordinates far outside the world
    plan = prepare_import(path, "venues", crs="EPSG:4526")
    assert plan.report.ok, plan.summary()
    assert any(w.code == "import.geojson_projected" and "CGCS2000" in str(w) for w in plan.warnings), plan.warnings
    back = plan.frame.to_crs(4526)
    np.testing.assert_allclose(back.geometry.x, [38_500_000, 38_501_000], atol=0.01)
    degrees = tmp_path / "场馆.geojson"
    metres.to_crs(4326).to_file(degrees, driver="GeoJSON")
    plan = prepare_import(degrees, "venues", crs="EPSG:4526")
    assert plan.report.ok and any(w.code == "import.geojson_degrees" for w in plan.warnings)


@pytest.mark.parametrize("name, shown", [(None, "venue-9"), (float("nan"), "venue-9"), ("  ", "venue-9"),
                                         ("篮球场", "篮球场")])
def test_a_facility_without_a_name_is_named_by_its_id(name, shown):
    assert display_name(name, "venue-9") == shown


def test_an_unnamed_unreachable_venue_is_reported_by_its_id(demo_analysis):
    venues = demo_analysis.layers["venues"].copy()
    far = venues.iloc[[0]].copy()
    far["feature_id"], far["name"] = "venue-far", np.nan
    far["geometry"] = far.geometry.translate(0.5, 0.0)  # 50 km east, off every street
    layers = {**{k: demo_analysis.layers[k] for k in ("greenways", "school_facilities", "health_stations")},
              "venues": gpd.GeoDataFrame(pd_concat(venues, far), crs=4326)}
    facilities = build_facility_set(layers, crs=demo_analysis.network.crs,
                                    entrances=demo_analysis.layers["greenway_entrances"])
    engine = CoverageEngine(demo_analysis.demand, facilities, network=demo_analysis.network)
    far_note = next(n for n in engine.notes if n.code == "coverage.off_network_facilities")
    assert far_note.values["names"] == ["venue-far"]
    assert "venue-far" in str(far_note) and "nan" not in str(far_note)


def pd_concat(a, b):
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def test_a_web_page_saved_as_geojson_is_named_for_what_it_is(tmp_path):
    from layers.errors import InputFileError

    page = tmp_path / "场馆.geojson"
    page.write_text("<!DOCTYPE html><html><head><title>登录</title></head><body>请先登录</body></html>", encoding="utf-8")
    with pytest.raises(InputFileError, match="is a web page \\(HTML\\), not .geojson data"):
        prepare_import(page, "venues")
    report = tmp_path / "说明.json"
    report.write_text("场馆清单见附件", encoding="utf-8")
    with pytest.raises(InputFileError, match="does not start like GeoJSON"):
        prepare_import(report, "venues")


def test_no_module_edits_sys_path():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if ".venv" not in p.parts and "sys.path" in p.read_text(encoding="utf-8", errors="ignore")
                 and p.name != "test_polish.py"]
    assert offenders == []

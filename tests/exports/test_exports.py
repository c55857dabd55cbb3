"""Exports re-open with the same features, attributes, Chinese text and georeferencing."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from openpyxl import load_workbook

from exports.files import surface, write_surface, write_tables, write_vectors
from exports.report import district_report, report_cell, write_report_pdf, write_report_xlsx
from geo.errors import AnalysisError
from geo.gaps import gap_areas


@pytest.fixture(scope="module")
def coverage(demo_analysis):
    return demo_analysis.engine.run()


def _same(got, want, columns):
    assert len(got) == len(want)
    got = got.sort_values("feature_id").reset_index(drop=True)
    want = want.sort_values("feature_id").reset_index(drop=True)
    for col in columns:
        a, b = got[col].tolist(), want[col].tolist()
        if isinstance(b[0], float):
            np.testing.assert_allclose(np.array(a, float), np.array(b, float))
        else:
            assert a == b, col
    assert got.crs.equals(want.crs)
    assert (got.geometry.to_crs(4547).distance(want.geometry.to_crs(4547)) < 1e-6).all()


def test_geopackage_with_several_layers(tmp_path, demo_city, coverage):
    gaps = gap_areas(coverage, "venues", 500)
    path = write_vectors({"venues": demo_city.layers["venues"], "boundaries": demo_city.layers["boundaries"],
                          "gaps_500m": gaps}, tmp_path / "导出.gpkg")
    assert {n for n, _ in pyogrio.list_layers(path)} == {"venues", "boundaries", "gaps_500m"}
    _same(pyogrio.read_dataframe(path, layer="venues"), demo_city.layers["venues"],
          ["name", "address", "venue_kind", "sports_area_m2", "opening_hours"])
    back = pyogrio.read_dataframe(path, layer="gaps_500m")
    assert len(back) == len(gaps) and back.crs.equals(gaps.crs)
    np.testing.assert_allclose(back["uncovered_residents"], gaps["uncovered_residents"])


def test_geojson_and_zipped_shapefile_keep_chinese(tmp_path, demo_city):
    venues = demo_city.layers["venues"]
    gj = write_vectors({"venues": venues}, tmp_path / "场馆.geojson")
    _same(pyogrio.read_dataframe(gj), venues, ["name", "address", "venue_kind"])
    zipped = write_vectors({"venues": venues}, tmp_path / "场馆.zip")
    with zipfile.ZipFile(zipped) as z:
        names = set(z.namelist())
        assert {"venues_point.shp", "venues_polygon.shp", "venues_point.cpg", "fields.csv"} <= names
        assert z.read("venues_point.cpg") == b"UTF-8"
        fields = pd.read_csv(z.open("fields.csv"), encoding="utf-8-sig")
    full = dict(zip(fields["field"], fields["full_name"]))
    parts = [pyogrio.read_dataframe(f"/vsizip/{zipped}/venues_{f}.shp") for f in ("point", "polygon")]
    back = pd.concat(parts, ignore_index=True).rename(columns=full)
    back = back.set_geometry("geometry").set_crs(parts[0].crs, allow_override=True)
    _same(back, venues, ["name", "address", "venue_kind", "sports_area_m2", "opening_hours"])


def test_tables_csv_and_xlsx(tmp_path, coverage):
    summary = coverage.summary()
    csv = write_tables({"summary": summary}, tmp_path / "覆盖率.csv")
    back = pd.read_csv(csv, encoding="utf-8-sig")
    assert back.shape == summary.shape and back["covered"].sum() == pytest.approx(summary["covered"].sum())
    cells = coverage.cells()
    xlsx = write_tables({"汇总": summary, "网格": cells}, tmp_path / "覆盖率.xlsx")
    wb = load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["汇总", "网格"]
    assert pd.read_excel(xlsx, sheet_name="网格").shape[0] == len(cells)
    with pytest.raises(AnalysisError, match="A CSV holds one table"):
        write_tables({"a": summary, "b": summary}, tmp_path / "x.csv")


def test_geotiff_surfaces_keep_the_grid(tmp_path, coverage, demo_analysis):
    grid = demo_analysis.demand.grid
    pop = write_surface(coverage, tmp_path / "人口.tif", "population")
    dist = write_surface(coverage, tmp_path / "距离.tif", "distance", layer="venues")
    cov = write_surface(coverage, tmp_path / "覆盖.tif", "covered", layer="venues", threshold=500)
    for path in (pop, dist, cov):
        with rasterio.open(path) as ds:
            assert ds.crs.to_epsg() == 4547 and ds.transform == grid.transform and ds.shape == grid.shape
            data = ds.read(1, masked=True)
        if path == pop:
            assert float(data.sum()) == pytest.approx(420_000)
        elif path == cov:
            assert 0 <= float(data.min()) and float(data.max()) <= 1
            share = float((data * ds_pop(pop)).sum() / 420_000)
            assert share == pytest.approx(coverage.summary().set_index(["layer", "threshold_m"]).loc[
                ("venues", 500.0), "rate"], abs=1e-6)
        else:
            assert float(data.max()) <= 1000 and data.mask.any()
    with pytest.raises(AnalysisError, match="Say which layer"):
        surface(coverage, "distance")


def ds_pop(path):
    with rasterio.open(path) as ds:
        return ds.read(1, masked=True)


def test_district_report_xlsx_and_pdf(tmp_path, coverage, demo_city, artifacts):
    report = district_report(coverage, demo_city.layers["boundaries"], venues=demo_city.layers["venues"],
                             school_facilities=demo_city.layers["school_facilities"])
    streets = report.units["street"]
    assert len(streets) == 6 and streets["常住人口"].sum() == pytest.approx(420_000)
    assert {"体育场馆 5分钟（300米）覆盖率", "体育场馆 10分钟（500米）覆盖率", "体育场馆 15分钟（1000米）覆盖率",
            "人均体育场地面积(m²)", "学校体育设施开放比例"} <= set(streets)
    xlsx = write_report_xlsx(report, tmp_path / "报告.xlsx")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["总体", "按区", "按街道", "主要缺口", "说明"]
    assert len(wb["按街道"]._charts) == 1
    pdf = write_report_pdf(report, artifacts / "district_report.pdf")
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF") and raw.count(b"/Type /Page") >= 5 and b"WenQuanYi" in raw
    # Gaps are places a street office can act on: named, at most about 1 km², located to the metre.
    gaps = report.gaps
    assert gaps["街道"].isin(set(streets["名称"])).all() and (gaps["面积(km²)"] <= 1.05).all()
    assert (gaps["中心经度"].round(1) != gaps["中心经度"]).all()
    assert report_cell("count", 12573.0) == "12,573" and report_cell("degrees", 114.0123456) == "114.01235"
    assert report_cell("coverage", 0.4567) == "45.7%" and report_cell("metres", 500.0) == "500"
    assert report_cell("minutes", 10.0) == "10"
    assert all("population is an estimate" not in n for n in report.notes)

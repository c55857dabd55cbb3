"""A layer exported as CSV or XLSX, in either language: coordinates a GIS reads, coded values in the reader's
words, and read back by the importer as the same stored values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from exports.files import layer_table, write_layer_tables
from layers.ingest import prepare_import

POINT_LAYERS = ("venues", "health_stations", "school_facilities", "aeds")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_point_layer_exported_reads_back_as_the_same_rows(demo_city, tmp_path, lang, suffix):
    for layer in POINT_LAYERS:
        stored = demo_city.layers[layer]
        if stored.geom_type.isin(["Point"]).mean() < 1:
            continue  # areas and lines export their point on surface; only point layers come back whole
        out = write_layer_tables({layer: stored}, tmp_path / f"{layer}-{lang}{suffix}", lang)
        plan = prepare_import(out, layer)
        assert plan.report.ok, plan.report.summary()
        back = plan.frame.set_index("feature_id").sort_index()
        before = stored.set_index("feature_id").sort_index().to_crs(back.crs)
        for field in [c for c in before.columns if c not in ("geometry", "updated_at", "version", "layer_version")]:
            a, b = before[field], back[field]
            same = (a.isna() & b.isna()) | (a.astype(str) == b.astype(str))
            if a.dtype.kind == "f":
                same |= np.isclose(pd.to_numeric(a), pd.to_numeric(b), equal_nan=True)
            assert same.all(), (layer, field, a[~same].head(), b[~same].head())
        moved = shapely.distance(before.geometry.to_numpy(), back.geometry.to_numpy())  # degrees, 7 decimals kept
        assert (moved < 1e-6).all()


def test_coded_values_and_coordinates_in_the_readers_language(demo_city):
    venues = demo_city.layers["venues"]
    zh = layer_table(venues, "venues", "zh", projected=True)
    en = layer_table(venues, "venues", "en", projected=True)
    assert {"类型", "收费", "开放时间", "经度", "纬度"} <= set(zh.columns)
    assert "CGCS2000 3度带高斯-克吕格投影 中央经线114°E" in " ".join(zh.columns)
    assert {"Kind", "Fee", "Opening hours", "Longitude", "Latitude", "Name (pinyin)"} <= set(en.columns)
    stadium = en.set_index("Feature id").loc["venue-000"]
    assert stadium["Kind"] == "Stadium" and stadium["Fee"] == "Low cost"
    assert stadium["Opening hours"] == "Every day 06:00–21:30" and stadium["Name (pinyin)"] == "Qingxi Tiyu Zhongxin"
    assert zh.set_index("要素编号").loc["venue-000", "开放时间"] == "每天 06:00-21:30"
    for text in en.astype(str).stack():
        assert not any(code in text.split() for code in ("Mo-Su", "low_cost", "fitness_square")), text
    # x/y are metres in the zone, the centre of the demo near its 500 km false easting
    x = [c for c in zh.columns if c.startswith("X（")][0]
    assert 480_000 < zh[x].median() < 520_000


def test_an_xlsx_holds_one_sheet_per_layer_named_in_the_language(demo_city, tmp_path):
    out = write_layer_tables({k: demo_city.layers[k] for k in ("venues", "greenways")}, tmp_path / "l.xlsx", "en")
    assert load_workbook(out).sheetnames == ["Sports venues", "Greenways and fitness trails"]

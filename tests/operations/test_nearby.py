"""The nearby finder: same distances as the coverage engine, closed places left out, the sheet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pypdf
import pytest

from exports.nearby_sheet import write_nearby_csv, write_nearby_sheet
from geo.coverage import CoverageEngine
from geo.definitions import minutes_for
from geo.errors import AnalysisError
from geo.facilities import TimeSlot, build_facility_set
from geo.nearby import NearbyFinder, Origin, parse_coordinates
from tests.conftest import ANALYSIS_LAYERS


@pytest.fixture(scope="module")
def finder(demo_analysis):
    return NearbyFinder(demo_analysis.engine, {k: demo_analysis.layers[k] for k in ANALYSIS_LAYERS})


def _cell_origin(engine, cell: int) -> Origin:
    return Origin(float(engine.demand.x[cell]), float(engine.demand.y[cell]), 0.0, 0.0, f"cell {cell}")


@pytest.mark.parametrize("layer", ["venues", "school_facilities", "greenways"])
def test_distances_equal_the_coverage_engine(demo_analysis, finder, layer):
    engine = demo_analysis.engine
    slot = TimeSlot.parse("Sat 09:00")
    result = engine.run([1000], slot=slot, layers=[layer])
    rng = np.random.default_rng(7)
    cells = rng.choice(len(engine.demand), 150, replace=False)
    mask = engine.facilities.layer_mask(layer) & engine.facilities.open_mask(slot)
    expected = result.distance[layer].to_numpy()[cells]
    got = np.array([finder.distances(_cell_origin(engine, c), limit_m=1000)[mask].min() for c in cells])
    assert np.isfinite(expected).sum() > 20  # the sample really tests reachable cells
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-6)


def test_straight_line_distances_equal_the_engine(demo_analysis):
    engine = CoverageEngine(demo_analysis.demand, demo_analysis.facilities, method="straight_line")
    finder = NearbyFinder(engine)
    result = engine.run([500], layers=["venues"])
    mask = engine.facilities.layer_mask("venues") & engine.facilities.open_mask()
    cells = np.arange(0, len(engine.demand), max(1, len(engine.demand) // 100))
    got = np.array([finder.distances(_cell_origin(engine, c), limit_m=500)[mask].min() for c in cells])
    np.testing.assert_allclose(got, result.distance["venues"].to_numpy()[cells], rtol=1e-9, atol=1e-6)


@pytest.fixture(scope="module")
def evening_field(demo_analysis):
    """The demo city with one school field open to the public only in the evenings."""
    layers = {k: demo_analysis.layers[k].copy() for k in ANALYSIS_LAYERS}
    schools = layers["school_facilities"]
    i = schools.index[0]
    schools.loc[i, "open_to_public"] = True
    schools.loc[i, "opening_hours"] = "Mo-Su 18:00-21:00"
    facilities = build_facility_set(layers, crs=demo_analysis.network.crs,
                                    entrances=demo_analysis.layers["greenway_entrances"])
    engine = CoverageEngine(demo_analysis.demand, facilities, network=demo_analysis.network)
    return NearbyFinder(engine, layers), str(schools.loc[i, "feature_id"]), schools.geometry[i]


def test_a_field_open_only_evenings_is_left_out_by_day(evening_field):
    finder, fid, geom = evening_field
    pt = geom.representative_point()
    origin = finder.origin_at(pt.x, pt.y, label="校门口")
    by_day = finder.query(origin, minutes=15, slot=TimeSlot.parse("Tue 10:00"))
    evening = finder.query(origin, minutes=15, slot=TimeSlot.parse("Tue 19:00"))
    assert fid not in set(by_day.table["feature_id"])
    assert by_day.n_closed >= 1 and any(n.code == "nearby.closed_at" and "Tue 10:00" in str(n) for n in by_day.notes)
    row = evening.table[evening.table["feature_id"] == fid]
    assert len(row) == 1 and row["opening_hours"].iloc[0] == "Mo-Su 18:00-21:00"
    assert row["distance_m"].iloc[0] < 150  # standing in it: to the street and back in
    # Ranked by walking distance, each within the walk (15 minutes: the 15-minute circle's 1,000 m), minutes
    # from metres by the life circles (geo.definitions).
    t = evening.table
    assert t["distance_m"].is_monotonic_increasing and (t["distance_m"] <= 1000).all() and evening.limit_m == 1000
    np.testing.assert_allclose(t["walk_min"], [minutes_for(d) for d in t["distance_m"]])
    assert list(t["rank"]) == list(range(1, len(t) + 1))
    assert set(t["layer"]) <= {"venues", "school_facilities", "greenways"}


def test_station_origin_and_reverse_view(finder, demo_analysis):
    table = demo_analysis.facilities.table
    stations = table.loc[table["layer"] == "health_stations", "feature_id"]
    lonely = finder.stations_without_fitness(minutes=10)
    assert len(lonely) and set(lonely["feature_id"]) < set(stations)
    assert (lonely["nearest_m"] > 600).all()
    for fid in stations:
        got = finder.query(finder.origin_of_station(fid), minutes=10)
        assert (fid in set(lonely["feature_id"])) == got.table.empty


def test_coordinates_as_typed(finder):
    assert parse_coordinates("104.065, 30.657") == (104.065, 30.657)
    assert parse_coordinates("30.657，104.065") == (104.065, 30.657)
    for bad in ("成都市", "104.065", "200, 30", "1, 2, 3"):
        with pytest.raises(AnalysisError, match="longitude"):
            parse_coordinates(bad)
    o = finder.origin_at(114.0, 30.0, system="gcj02")
    assert 0.003 < abs(o.lon - 114.0) + abs(o.lat - 30.0) < 0.02  # the GCJ-02 shift was removed
    with pytest.raises(AnalysisError, match="not one of"):
        finder.origin_at(114.0, 30.0, system="baidu-ish")
    with pytest.raises(AnalysisError, match="positive number of minutes"):
        finder.query(o, minutes=0)
    with pytest.raises(AnalysisError, match="No health station"):
        finder.origin_of_station("nope")


def test_far_from_streets_says_so(finder):
    far = finder.origin_at(113.5, 29.5)
    got = finder.query(far, minutes=15)
    assert got.table.empty and any(n.code == "nearby.off_street" for n in got.notes)


def test_printable_sheet_and_csv(finder, demo_analysis, artifacts):
    table = demo_analysis.facilities.table
    fid = table.loc[table["layer"] == "health_stations", "feature_id"].iloc[0]
    origin = finder.origin_of_station(fid)
    result = finder.query(origin, minutes=15, slot=TimeSlot.parse("Sat 09:00"))
    assert len(result.table) >= 2
    pdf = write_nearby_sheet(result, artifacts / "nearby_sheet.pdf", streets=demo_analysis.layers["walk_network"],
                             issuer=origin.label)
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert "健身资源就近推荐单" in text and "运动处方" in text and origin.label in text
    assert str(result.table["name"].iloc[0]) in text  # the nearest resource is printed in Chinese
    assert len(pypdf.PdfReader(pdf).pages) == 1
    write_nearby_sheet(result, artifacts / "nearby_sheet.png", streets=demo_analysis.layers["walk_network"])
    csv = pd.read_csv(write_nearby_csv(result, artifacts / "nearby.csv"), encoding="utf-8-sig")
    assert list(csv["名称"]) == list(result.table["name"])
    np.testing.assert_allclose(csv["步行距离(m)"], result.table["distance_m"].round(1))
    with pytest.raises(AnalysisError, match=r"\.pdf"):
        write_nearby_sheet(result, artifacts / "nearby_sheet.docx")


def test_sheet_prints_the_station_by_id_and_street_and_wraps_long_hours(finder, demo_analysis, artifacts):
    """Two stations share a name: the sheet names the one asked for by its id, street and place; a long
    opening-hours text wraps inside its cell instead of running into the next column."""
    from dataclasses import replace

    from exports.text_fit import wrap_cell

    a, b = finder.origin_of_station("health-001"), finder.origin_of_station("health-010")
    assert a.label == b.label and (a.lon, a.lat) != (b.lon, b.lat)
    result = finder.query(replace(b, place="新城街道"), minutes=15)
    long_hours = "Mo-Fr 06:00-08:00,18:00-21:30; Sa,Su 06:00-21:30; PH 08:00-18:00; SH 07:00-21:00"
    table = result.table.copy()
    table.loc[0, "opening_hours"] = long_hours
    result = replace(result, table=table)
    pdf = write_nearby_sheet(result, artifacts / "nearby_sheet_station.pdf", streets=demo_analysis.layers["walk_network"])
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert "编号 health-010" in text and "新城街道" in text and f"{b.lon:.5f}, {b.lat:.5f}" in text
    assert "health-001" not in text
    wrapped = wrap_cell("周一至周五 06:00-08:00, 18:00-21:30；周六、周日 06:00-21:30；节假日 08:00-18:00", 22)
    lines = wrapped.split("\n")
    assert len(lines) >= 3 and all(sum(2 if ord(c) > 0x2E80 else 1 for c in line) <= 22 for line in lines)
    assert "".join(lines).replace(" ", "") == "周一至周五06:00-08:00,18:00-21:30；周六、周日06:00-21:30；节假日08:00-18:00"
    for piece in ("周六、周日 06:00-21:30", "节假日 08:00-18:00"):  # the hours print whole, over several lines
        assert piece.replace(" ", "") in text.replace(" ", "").replace("\n", "")


def test_the_sheet_and_list_in_english(finder, demo_analysis, artifacts):
    """In English every word of the sheet is English; names keep their Chinese with pinyin beside them; the CSV's
    headers, kinds, fees and hours are English too."""
    import re

    origin = finder.origin_of_station("health-001")
    result = finder.query(origin, minutes=15, slot=TimeSlot.parse("Sat 09:00"))
    pdf = write_nearby_sheet(result, artifacts / "nearby_sheet_en.pdf", streets=demo_analysis.layers["walk_network"],
                             issuer=origin.label, lang="en")
    write_nearby_sheet(result, artifacts / "nearby_sheet_en.png", streets=demo_analysis.layers["walk_network"],
                       issuer=origin.label, lang="en")
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert "Fitness resources near you" in text and "Exercise prescription" in text and "Sat 09:00" in text
    names = set(result.table["name"].astype(str)) | {origin.label} | set(str(a) for a in result.table["address"])
    rest = text
    for name in sorted(names, key=len, reverse=True):
        rest = rest.replace(name, "")
    assert not re.findall(r"[\u3400-\u9fff]{2,}", rest), re.findall(r"[\u3400-\u9fff]+", rest)
    csv = pd.read_csv(write_nearby_csv(result, artifacts / "nearby_en.csv", "en"), encoding="utf-8-sig")
    assert {"Name", "Name (pinyin)", "Kind", "Fee", "Opening hours", "Longitude", "Latitude"} <= set(csv.columns)
    assert not csv["Opening hours"].dropna().str.contains("Mo-|Sa,Su").any()
    assert not csv["Fee"].dropna().isin(["free", "low_cost", "paid"]).any()

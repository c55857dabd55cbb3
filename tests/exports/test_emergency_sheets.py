"""The 应急联动单 and the event-day plan, read back from the PDF: the incident, call 120 first, every responder
with its phone and time; the plan's hospitals, the station on duty and each AED's hours that day."""

from __future__ import annotations

import datetime as dt

import pytest
from pypdf import PdfReader

from exports.emergency_sheets import write_event_plan, write_incident_sheet
from geo.coverage import CoverageEngine
from geo.drive import build_drive_network
from geo.emergency import event_cover, place_origin, responders
from geo.errors import AnalysisError
from geo.facilities import TimeSlot, build_facility_set
from geo.nearby import NearbyFinder


@pytest.fixture(scope="module")
def tools(demo_city, demo_analysis):
    layers = {k: demo_city.layers[k] for k in ("venues", "aeds", "health_stations")}
    fs = build_facility_set(layers, crs=demo_analysis.network.crs)
    finder = NearbyFinder(CoverageEngine(demo_analysis.demand, fs, network=demo_analysis.network))
    return finder, build_drive_network(demo_city.layers["walk_network"], crs=demo_analysis.network.crs)


def _text(path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages).replace(" ", "")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_incident_sheet_reads_back_with_every_responder(tools, demo_city, tmp_path, lang):
    finder, drive = tools
    origin = place_origin(finder, demo_city.layers["venues"], "venue-000")
    table = responders(finder, origin, demo_city.layers, drive=drive, slot=TimeSlot.parse("Wed 19:30"))
    incident = {"incident_id": "INC-202612021930-ABC123", "incident_kind": "cardiac_arrest",
                "occurred_at": "2026-12-02 19:30", "where_in_place": "东看台3区"}
    path = write_incident_sheet(incident, "青溪体育中心", (origin.lon, origin.lat), table, tmp_path / "sheet.pdf",
                                streets=demo_city.layers["walk_network"], recorded_by="体育局值班员", lang=lang)
    text = _text(path)
    assert "INC-202612021930-ABC123" in text and "青溪体育中心" in text and "120" in text
    assert ("应急联动单" in text and "心脏骤停" in text) if lang == "zh" else (
        "Emergencylinkagesheet" in text and "Cardiacarrest" in text and "应急联动单" not in text)
    for row in table.itertuples():
        assert row.phone.replace(" ", "") in text, row.name
        m, s = divmod(int(round(row.seconds)), 60)
        assert f"{m}:{s:02d}" in text
    png = write_incident_sheet(incident, "青溪体育中心", (origin.lon, origin.lat), table, tmp_path / "sheet.png",
                               lang=lang)
    assert png.stat().st_size > 20_000


def test_the_event_plan_reads_back_with_hospitals_station_and_aed_hours(tools, demo_city, tmp_path):
    finder, drive = tools
    origin = place_origin(finder, demo_city.layers["venues"], "venue-000")
    saturday = dt.date(2026, 12, 5)
    cover = event_cover(finder, origin, demo_city.layers, day=saturday, start_minute=18 * 60, end_minute=22 * 60,
                        drive=drive)
    assert len(cover.of("hospitals")) == 2 and cover.start == TimeSlot(5, 1080)
    aeds = cover.of("aeds")
    # the stadium's east AED keeps the stadium's hours (to 21:30): open at the start, not to the end at 22:00
    east = aeds[aeds["feature_id"] == "aed-001"].iloc[0]
    assert not east["open_through"] and aeds[aeds["feature_id"] == "aed-002"]["open_through"].all()
    event = {"name": "全民健身篮球联赛决赛", "venue": "青溪体育中心", "day": saturday, "start": "18:00",
             "end": "22:00", "attendance": 6000}
    path = write_event_plan(event, cover, (origin.lon, origin.lat), tmp_path / "plan.pdf",
                            layers=demo_city.layers, streets=demo_city.layers["walk_network"])
    text = _text(path)
    assert "赛事活动应急保障方案" in text and "全民健身篮球联赛决赛" in text and "6,000" in text
    for name in cover.of("hospitals")["name"]:
        assert name in text
    assert "06:00–21:30" in text and "全天" in text  # aed-001's Saturday hours, and aed-002 (24/7)
    assert not cover.of("health_stations")["open_through"].any()  # every station near closes by 20:00
    assert "附近健康驿站均在活动结束前关闭" in text
    morning = event_cover(finder, origin, demo_city.layers, day=saturday, start_minute=9 * 60, end_minute=11 * 60,
                          drive=drive)
    duty = morning.of("health_stations")
    duty = duty[duty["open_through"]]
    assert len(duty)
    text = _text(write_event_plan(event | {"start": "09:00", "end": "11:00"}, morning, (origin.lon, origin.lat),
                                  tmp_path / "morning.pdf", layers=demo_city.layers))
    assert duty["name"].iloc[0] in text and duty["phone"].iloc[0].replace(" ", "") in text
    with pytest.raises(AnalysisError, match="later end"):
        event_cover(finder, origin, demo_city.layers, day=saturday, start_minute=600, end_minute=540, drive=drive)

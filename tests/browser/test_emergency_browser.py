"""An incident in Chromium: recorded at a venue → the responders ranked, their routes drawn on the map → the
应急联动单 PDF read back (every responder with its phone) → the incident in the store and in the audit."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from layers.stores.geopackage import GeoPackageStore
from tests.browser.conftest import open_page
from tests.browser.test_pages_browser import map_frame
from tests.conftest import app_on_copy

pytestmark = pytest.mark.browser

#: Route lines Leaflet holds on the map (plain polylines, not the layers' GeoJSON features), by colour.
ROUTES = """() => {
  const found = [];
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (k.startsWith('map_') && m && typeof m.eachLayer === 'function') {
      m.eachLayer(l => {
        if (l instanceof L.Polyline && !(l instanceof L.Polygon) && !l.feature) {
          found.push({colour: l.options.color, dashed: !!l.options.dashArray, points: l.getLatLngs().length});
        }
      });
    }
  }
  return found;
}"""


@pytest.fixture
def emergency_app(demo_gpkg, tmp_path):
    """The app on a copy of the demo city (an incident is written to it), its health stations open around the
    clock so that their walks are among the routes whatever the hour the test runs."""
    for url, path in app_on_copy(demo_gpkg, tmp_path, "emergency_app.log"):
        with GeoPackageStore(path) as store:
            stations = store.layers.read("health_stations")
            stations["opening_hours"] = "24/7"
            store.layers.write("health_stations", stations, user="test", mode="replace")
        yield url, path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_incident_brings_ranked_responders_routes_and_the_sheet(emergency_app, browser, artifacts, tmp_path,
                                                                    lang):
    url, path = emergency_app
    zh = lang == "zh"
    page, outside = open_page(browser, f"{url}/emergency?lang={lang}", width=1440, height=1800)
    page.get_by_text("事件联动" if zh else "Incident linkage", exact=True).click(timeout=120_000)
    where = page.get_by_role("textbox", name="场内位置" if zh else "Where in the place")
    where.wait_for(timeout=120_000)
    where.fill("东看台 3 区")
    page.get_by_role("button", name="记录并联动" if zh else "Record and alert").click()
    said = page.get_by_text(re.compile(r"(已记录事件|Incident) INC-\d{12}-[0-9A-F]{6}"))
    said.wait_for(timeout=180_000)
    incident = re.search(r"INC-\d{12}-[0-9A-F]{6}", said.inner_text()).group(0)
    frame = map_frame(page, timeout=180_000)
    frame.wait_for_function(f"({ROUTES})().length >= 5", timeout=60_000)
    routes = frame.evaluate(ROUTES)
    colours = {r["colour"] for r in routes}
    assert {"#1b9e3a", "#f28e2b", "#d62728"} <= colours  # AED walks, station walks, ambulance drives
    assert all(r["points"] >= 2 for r in routes) and any(r["dashed"] for r in routes)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / f"emergency_incident_{lang}.png"), full_page=True)
    with page.expect_download(timeout=120_000) as got:
        page.get_by_role("button", name="下载应急联动单（PDF）" if zh else "Download the linkage sheet (PDF)").click()
    pdf = tmp_path / "sheet.pdf"
    got.value.save_as(pdf)
    text = PdfReader(pdf).pages[0].extract_text().replace(" ", "")
    assert incident in text and "120" in text
    assert ("应急联动单" in text and "心脏骤停" in text) if zh else ("Emergencylinkagesheet" in text
                                                              and "Cardiacarrest" in text)
    with GeoPackageStore(path) as store:
        stored = store.records.read("incidents", with_department=True)
        trail = store.audit.trail("onemap_records_incidents")
        aeds = store.layers.read("aeds")
    assert stored["incident_id"].tolist() == [incident] and stored["department"].tolist() == ["sports"]
    assert stored["where_in_place"].tolist() == ["东看台 3 区"]
    assert trail["action"].tolist() == ["insert"]
    stadium_aeds = aeds[aeds["building"].fillna("").str.startswith("青溪体育中心")]
    always = stadium_aeds[stadium_aeds["opening_hours"] == "24/7"]
    assert len(always) == 1  # the west entrance's; the east stand's closes at night and may rightly be missing
    assert always["phone"].iloc[0].replace(" ", "") in text  # the stadium's own AED is among those listed
    assert len(routes) == len(re.findall(r"\d{3}-\d{4}-\d{4}", text))  # one route per responder on the sheet
    assert outside == []
    page.close()

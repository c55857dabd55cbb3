"""Measure and select by drawing, in Chromium: a polygon drawn on the coverage page's selection map shows its area
on the map and, below it, the residents whose cells lie in it, counted here by hand from the same demand."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from PIL import Image
from shapely.geometry import Point, shape

from geo.crs import transformer
from geo.selection import ground_area_km2
from i18n import t
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser
SELECT_FRAME = "iframe[title*='st_folium']"
MAP_OF = """() => { for (const k of Object.keys(window)) { const m = window[k];
    if (k.startsWith('map_') && m && typeof m.latLngToContainerPoint === 'function') return k; } return null; }"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_drawn_polygons_residents_equal_the_cells_inside_counted_by_hand(demo_app, browser, artifacts,
                                                                          demo_analysis, lang):
    page, outside = open_page(browser, demo_app + "/coverage" + ("?lang=en" if lang == "en" else ""),
                              height=2600)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=180_000)
    page.get_by_text(t("select_area_on", lang), exact=True).click()
    page.locator(SELECT_FRAME).first.wait_for(timeout=120_000)
    page.get_by_text(t("select_draw_first", lang)).first.wait_for(timeout=60_000)
    frame = page.locator(SELECT_FRAME).first.element_handle().content_frame()
    frame.wait_for_function(f"({MAP_OF})() !== null", timeout=60_000)
    frame.locator(".leaflet-draw-draw-polygon").wait_for(timeout=60_000)
    page.locator(SELECT_FRAME).first.scroll_into_view_if_needed()
    corners = frame.evaluate(f"""() => {{ const m = window[({MAP_OF})()], c = m.getBounds().getCenter();
        return [[-0.012, -0.016], [-0.010, 0.018], [0.014, 0.012], [0.011, -0.014]].map(([a, b]) => {{
          const p = m.latLngToContainerPoint([c.lat + a, c.lng + b]); return [p.x, p.y]; }}); }}""")
    frame.locator(".leaflet-draw-draw-polygon").click()
    box = page.locator(SELECT_FRAME).first.bounding_box()
    for x, y in [*corners, corners[0]]:  # the last click on the first point closes the area
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(200)
    said = frame.locator(".onemap-measure").first
    said.wait_for(timeout=30_000)
    assert said.inner_text().startswith(t("measure_area", lang))
    drawn = shape(frame.evaluate("() => window.drawnItems.toGeoJSON().features[0].geometry"))
    page.get_by_text(t("select_rule", lang)).first.wait_for(timeout=120_000)

    demand = demo_analysis.demand
    fwd = transformer(4326, demand.crs)
    local = shapely.transform(drawn, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    by_hand = sum(p for x, y, p in zip(demand.x, demand.y, demand.population) if local.intersects(Point(x, y)))
    assert by_hand > 0
    metric = page.locator("[data-testid='stMetric']", has_text=t("residents", lang)).last
    assert metric.locator("[data-testid='stMetricValue']").inner_text() == f"{by_hand:,.0f}"
    km2 = page.locator("[data-testid='stMetric']", has_text=t("area", lang)).last.locator(
        "[data-testid='stMetricValue']").inner_text()
    assert km2 == f"{ground_area_km2(drawn):,.2f} km²"
    on_map = float(re.search(r"([\d.]+) km²", said.inner_text()).group(1))  # the map's own measure says the same
    assert abs(on_map - float(km2.split()[0])) <= 0.0101, (on_map, km2)
    page.wait_for_timeout(800)
    page.locator(SELECT_FRAME).first.screenshot(path=str(artifacts / f"select_map_{lang}.png"))
    page.screenshot(path=str(artifacts / f"page_coverage_select_{lang}.png"), full_page=True)
    if lang == "zh":  # the map beside it downloads at print resolution
        with page.expect_download(timeout=180_000) as got:
            page.get_by_role("button", name=t("map_png", lang)).first.click()
        with Image.open(got.value.path()) as png:
            assert png.format == "PNG" and png.size == (3507, 2480)  # A4 landscape at 300 dpi
            assert round(png.info["dpi"][0]) == 300
    assert outside == []
    page.close()

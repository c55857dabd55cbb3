"""Two saved scenarios map against map, in Chromium: the planning page shows them side by side on maps that move
together (a drag on one moves the other), each with its new sites, and the comparison table says what changes."""

from __future__ import annotations

import re

import pytest

from geo.planning import maximal_covering
from geo.scenarios import scenario_payload
from geo.units import assign_units
from geo.whatif import WhatIf
from i18n import t
from layers.stores.geopackage import GeoPackageStore
from tests.browser.conftest import open_page
from tests.conftest import app_on_copy
from tests.planning.test_city_planning import demo_plan  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser
PAIR = "iframe[src*='/maps/']"
VIEW = """() => { for (const k of Object.keys(window)) { const m = window[k];
    if (k.startsWith('map_') && m && typeof m.getCenter === 'function') {
      const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; } } return null; }"""


@pytest.fixture
def planned_app(demo_gpkg, demo_plan, demo_analysis, tmp_path):  # noqa: F811
    candidates, problem, _ = demo_plan
    whatif = WhatIf(demo_analysis.engine, thresholds=[1000])
    units = assign_units(demo_analysis.demand, demo_analysis.layers["boundaries"], level="street")
    payloads = {}
    for url, path in app_on_copy(demo_gpkg, tmp_path, "app_scenarios.log"):
        with GeoPackageStore(path) as store:
            for p in (2, 5):
                payloads[p] = scenario_payload(maximal_covering(problem, p), candidates, whatif, layer="venues",
                                               threshold=1000, units=units, inputs={"p": p, "cutoff_m": 1000})
                store.scenarios.save(f"东岸 p={p}", payloads[p], user="sports-bureau")
        yield url, payloads


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_two_scenarios_side_by_side_move_together_and_the_table_says_what_changes(planned_app, browser, artifacts,
                                                                                  lang):
    url, payloads = planned_app
    page, outside = open_page(browser, url + "/planning" + ("?lang=en" if lang == "en" else ""), height=2600)
    page.get_by_text(t("scenario_maps", lang)).first.wait_for(timeout=240_000)
    frames = page.locator(PAIR)
    frames.nth(1).wait_for(timeout=120_000)
    head = t("change_between", lang, a="東", b="東").split("東")[0]  # 变化（ / Change (
    grid = page.locator("[data-testid='stDataFrame']", has_text=head)
    grid.first.wait_for(state="attached", timeout=60_000)
    said = re.escape(t("change_between", lang, a="东岸 p=A", b="东岸 p=B")).replace("A", r"(\d)").replace("B", r"(\d)")
    got = re.search(said, grid.first.text_content())
    second, first = (int(p) for p in got.group(1, 2))
    a, b = (frames.nth(k).element_handle().content_frame() for k in (0, 1))
    for frame, p in ((a, first), (b, second)):  # each map holds its scenario's new sites, in the table's order
        frame.wait_for_function(f"({VIEW})() !== null", timeout=60_000)
        frame.locator(".scenario-site").first.wait_for(timeout=60_000)
        assert frame.locator(".scenario-site").count() == len(payloads[p]["sites"])
    heading = page.get_by_text(t("scenario_maps", lang)).first
    heading.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    top, low = heading.bounding_box(), frames.nth(1).bounding_box()
    page.screenshot(path=str(artifacts / f"page_planning_scenario_maps_{lang}.png"),
                    clip={"x": top["x"] - 10, "y": top["y"] - 10, "width": low["x"] + low["width"] - top["x"] + 20,
                          "height": low["y"] + low["height"] - top["y"] + 70})
    before = b.evaluate(VIEW)
    frames.nth(0).scroll_into_view_if_needed()
    box = frames.nth(0).bounding_box()
    x, y = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y - 90, steps=12)
    page.mouse.up()
    page.mouse.wheel(0, -400)  # and zoom in
    page.wait_for_timeout(1500)
    moved, followed = a.evaluate(VIEW), b.evaluate(VIEW)
    assert moved != before
    assert followed[2] == moved[2] and followed[0] == pytest.approx(moved[0], abs=1e-7) \
        and followed[1] == pytest.approx(moved[1], abs=1e-7), (moved, followed)

    newly = payloads[second]["covered_after"] - payloads[first]["covered_after"]
    assert f"{newly:+,.0f}" in grid.first.text_content()
    assert outside == []
    page.close()


def test_the_change_column_says_sites_added_and_dropped_and_points():
    from ui.formatting import format_change

    was = [("甲", "school", "c1"), (None, "street_point", "c2")]
    now = [("甲", "school", "c1"), ("乙", "park", "c3")]
    said = format_change("sites", was, now, "zh")
    assert said.startswith("+ 乙") and "−" in said and re.search(r"\d", said.split("−")[1])
    assert format_change("sites", was, was, "en") == "no change"
    assert format_change("count", 100.0, 250.0, "en") == "+150"
    assert format_change("percent", 0.40, 0.452, "en") == "+5.2 points"
    assert format_change("percent", None, 0.4, "zh") == "—"

"""Every page in Chromium, offline: maps drawn, layers toggled, coverage run, a bad upload, English.

Maps draw on a canvas, so features are counted from Leaflet itself (one layer per feature).
"""

from __future__ import annotations

import re
import time

import pytest

from i18n.definitions import circle_label
from tests.browser.conftest import COUNT_FEATURES, MAP_IFRAME, open_page

pytestmark = pytest.mark.browser


def map_frame(page, nth: int = 0, timeout: float = 90_000):
    """The nth map's frame once Leaflet has drawn in it (retried while Streamlit swaps the iframe)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            page.locator(MAP_IFRAME).nth(nth).wait_for(timeout=timeout)
            frame = page.locator(MAP_IFRAME).nth(nth).element_handle().content_frame()
            if frame is not None:
                frame.wait_for_function(f"({COUNT_FEATURES})() > 0", timeout=15_000)
                return frame
        except PlaywrightError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("no map frame was drawn")
        page.wait_for_timeout(250)


def count(frame) -> int:
    return frame.evaluate(COUNT_FEATURES)


def test_one_map_toggle_changes_what_is_drawn(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app)
    frame = map_frame(page)
    page.wait_for_timeout(1000)
    before = count(frame)
    assert before > 4500
    page.get_by_text(re.compile(r"^步行路网")).first.click()
    page.wait_for_function(
        f"() => document.querySelectorAll(\"{MAP_IFRAME}\").length > 0", timeout=30_000)
    frame = map_frame(page)
    page.wait_for_timeout(1500)
    frame = map_frame(page)
    after = count(frame)
    assert after < before - 4000, (before, after)  # the 4,569 streets are gone
    page.screenshot(path=str(artifacts / "page_one_map.png"))
    assert outside == []
    page.close()


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def test_coverage_page_run_updates_kpis_and_gaps(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/coverage")
    map_frame(page)
    before = _metric(page, "覆盖人口")
    assert page.get_by_text("覆盖缺口片区").count() > 0
    page.get_by_text("15分钟（1000米）").click()
    page.get_by_role("button", name="运行分析").click()
    page.wait_for_function(f"() => !document.body.innerText.includes('{before}')", timeout=60_000)
    after = _metric(page, "覆盖人口")
    assert after != before and int(after.replace(",", "")) > int(before.replace(",", ""))
    map_frame(page)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "page_coverage.png"), full_page=True)
    assert outside == []
    page.close()


def test_planning_and_export_pages_load(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/planning")
    map_frame(page, timeout=180_000)
    page.get_by_text("设置好条件后点击“求解”").first.wait_for(timeout=60_000)  # nothing solved on arrival
    page.get_by_role("button", name="求解", exact=True).click()
    page.get_by_text("新增覆盖").first.wait_for(timeout=180_000)
    assert page.get_by_text("objective").count() == 0
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "page_planning.png"), full_page=True)
    page.goto(demo_app + "/export", wait_until="domcontentloaded")
    page.get_by_role("button", name="生成文件").wait_for(timeout=60_000)
    page.get_by_role("button", name="生成文件").click()
    page.get_by_role("button", name="下载").wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "page_export.png"), full_page=True)
    assert outside == []
    page.close()


def test_malformed_upload_shows_the_validation_message(demo_app, browser, artifacts, tmp_path):
    bad = tmp_path / "坏数据.csv"
    bad.write_text("名称,类型,经度,纬度\n城东驿站,community_health_station,东经114度,30.01\n", encoding="utf-8")
    page, outside = open_page(browser, demo_app + "/data")
    page.locator("input[type='file']").first.wait_for(state="attached", timeout=60_000)
    page.locator("input[type='file']").first.set_input_files(str(bad))
    page.get_by_text("坏数据.csv").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="检查").click()
    page.get_by_text("尚未写入任何数据").first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "page_data_upload.png"), full_page=True)
    assert outside == []
    page.close()


def test_english_changes_the_labels(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app)
    map_frame(page)
    page.get_by_text("English").first.click()
    page.get_by_role("heading", name="Fitness One Map").wait_for(timeout=60_000)
    page.get_by_text("Sports venues").first.wait_for(timeout=60_000)  # the figures and the layer list
    page.get_by_text("体育场馆").first.wait_for(state="detached", timeout=60_000)  # the Chinese page has gone
    assert page.get_by_text("Sports venues").count() > 0 and page.get_by_text("体育场馆").count() == 0
    page.screenshot(path=str(artifacts / "page_one_map_en.png"))
    assert outside == []
    page.close()


def test_operations_page_nearby_usage_upload_and_indicators(demo_app, browser, artifacts, tmp_path):
    page, outside = open_page(browser, demo_app + "/operations", height=1400)
    frame = map_frame(page, timeout=180_000)
    page.get_by_text("步行范围内开放的健身资源（处）").first.wait_for(timeout=60_000)
    frame.wait_for_selector(".nearby-rank", timeout=30_000)
    assert frame.locator(".nearby-rank").count() >= 1  # the ranked resources are on the map
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "page_operations_nearby.png"), full_page=True)

    page.get_by_text("场馆使用", exact=True).click()
    page.get_by_text("超负荷").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)  # the nearby map's frame is replaced by the usage map's
    frame = map_frame(page)
    assert count(frame) > 6  # the street boundaries are drawn (the map is not zoomed out to the world)
    bad = tmp_path / "八月使用记录.csv"
    bad.write_text("场馆编号,日期,人次\nvenue-001,2026-08-01,120\nvenue-999,2026-08-01,15\nvenue-002,2026-08-01,很多\n",
                   encoding="utf-8")
    page.locator("input[type='file']").first.set_input_files(str(bad))
    page.get_by_text("未知的引用（这些行不会导入）").first.wait_for(timeout=60_000)
    assert page.get_by_text(re.compile("3 行，1 行合格")).count() == 1
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "page_operations_usage.png"), full_page=True)

    page.get_by_text("考核指标", exact=True).click()
    page.get_by_text("单元排名").first.wait_for(timeout=60_000)
    assert _metric(page, "学校场地开放率") == "50%"
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "page_operations_indicators.png"), full_page=True)
    assert outside == []
    page.close()


ZOOM = """() => { for (const k of Object.keys(window)) { const m = window[k];
  if (k.startsWith('map_') && m && typeof m.getZoom === 'function') return m.getZoom(); } return null; }"""


def test_coverage_unit_row_click_zooms_the_map(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/coverage", height=1300)
    frame = map_frame(page)
    page.wait_for_timeout(1000)
    before = frame.evaluate(ZOOM)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=60_000)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * 1.5)  # the second row's selection cell
    page.get_by_text("点击表格中的一行").first.wait_for(timeout=30_000)
    page.wait_for_function(f"() => document.querySelectorAll(\"{MAP_IFRAME}\").length > 0", timeout=30_000)
    page.wait_for_timeout(2500)
    frame = map_frame(page)
    after = frame.evaluate(ZOOM)
    assert after is not None and before is not None and after > before, (before, after)
    page.screenshot(path=str(artifacts / "page_coverage_zoomed.png"), full_page=True)
    assert outside == []
    page.close()


def test_planning_click_inside_the_district_adds_a_site(demo_app, browser, artifacts):
    """Boundaries take no clicks on the planning map: a click inside a street adds a site there, and the
    what-if table says how many more residents it covers."""
    page, outside = open_page(browser, demo_app + "/planning", height=1500)
    frame = map_frame(page, timeout=180_000)
    page.wait_for_timeout(1500)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    centre = frame.evaluate("""() => { for (const k of Object.keys(window)) { const m = window[k];
        if (k.startsWith('map_') && m && typeof m.latLngToContainerPoint === 'function') {
          const b = m.getBounds(), c = b.getCenter(), p = m.latLngToContainerPoint([c.lat - 0.012, c.lng + 0.02]);
          return [p.x, p.y]; } } return null; }""")
    inside = frame.evaluate("""([x, y]) => { const el = document.elementFromPoint(x, y);
        return el ? el.tagName : null; }""", centre)
    assert inside == "CANVAS"  # the point lies on the drawn city (a street's polygon), not in the margin
    page.mouse.click(box["x"] + centre[0], box["y"] + centre[1])
    page.get_by_text("已点选 1 处").first.wait_for(timeout=120_000)
    # The grid draws on a canvas; its accessible table holds the same cells.
    page.get_by_text("新增覆盖人口").first.wait_for(state="attached", timeout=120_000)
    grid = page.locator("[data-testid='stDataFrame']", has_text="新增覆盖人口").first
    cells = grid.text_content()
    newly = [int(v.replace(",", "")) for v in re.findall(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+\b", cells)]
    assert any(v > 0 for v in newly), cells
    page.screenshot(path=str(artifacts / "page_planning_click.png"), full_page=True)
    assert outside == []
    page.close()


def test_coverage_gap_row_click_zooms_to_the_piece(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/coverage", height=1800)
    frame = map_frame(page)
    page.wait_for_timeout(1000)
    before = frame.evaluate(ZOOM)
    grid = page.locator("[data-testid='stDataFrame']").nth(1)  # the gap pieces, below the units table
    grid.wait_for(timeout=60_000)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * 0.5)  # the first piece's selection cell
    page.wait_for_timeout(2500)
    page.wait_for_function(f"() => document.querySelectorAll(\"{MAP_IFRAME}\").length > 0", timeout=30_000)
    frame = map_frame(page)
    after = frame.evaluate(ZOOM)
    assert after is not None and before is not None and after > before + 1, (before, after)
    page.screenshot(path=str(artifacts / "page_coverage_gap_zoomed.png"), full_page=True)
    assert outside == []
    page.close()


def test_one_map_opened_directly_and_fitting_the_window(demo_app, browser, artifacts):
    """/one_map (a bookmark) lands on the one-map page, with no "page not found", and the map fills the
    window below the figures without reaching past it (a click would otherwise scroll the page)."""
    page, outside = open_page(browser, demo_app + "/one_map", width=1440, height=900)
    map_frame(page)
    page.wait_for_timeout(1500)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("heading", name="健身一张图").count() == 1
    box = page.locator(MAP_IFRAME).first.bounding_box()
    assert box["height"] > 0.5 * 900 and box["y"] + box["height"] <= 900, box
    assert box["width"] > 0.6 * 1440
    assert outside == []
    page.close()


def test_a_ranked_candidate_row_draws_its_catchment(demo_app, browser, artifacts):
    """Ranked candidates on the planning page: every candidate in build order; a click on a row draws that site and
    its walking catchment on the map, named in the tooltip and the legend."""
    page, outside = open_page(browser, demo_app + "/planning", height=2200)
    frame = map_frame(page, timeout=180_000)
    page.get_by_text("候选点排序", exact=True).first.wait_for(timeout=60_000)  # the heading, not the hidden note
    assert frame.locator(".picked-site").count() == 0
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * 0.5)  # the first candidate's selection cell
    frame = map_frame(page, timeout=120_000)
    frame.locator(".picked-site").first.wait_for(timeout=60_000)
    assert frame.get_by_text("所选候选点的步行可达范围").count() >= 1  # the legend names what is drawn
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "page_planning_ranked.png"), full_page=True)
    assert outside == []
    page.close()


def test_a_link_opened_in_a_new_browser_shows_the_same_analysis(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/coverage", height=1300)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=180_000)
    page.get_by_text(circle_label(1000.0), exact=True).first.click()
    page.get_by_role("button", name="运行分析").click()
    page.locator("[data-testid='stMetricLabel']", has_text="15分钟").first.wait_for(timeout=180_000)
    page.wait_for_function("() => location.search.includes('circle=15')", timeout=60_000)
    link = page.url
    shown = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    page.close()
    other, elsewhere = open_page(browser, link, height=1300)  # a colleague's browser: nothing in its session
    other.locator("[data-testid='stMetricLabel']", has_text="15分钟").first.wait_for(timeout=180_000)
    other.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)
    assert other.locator("[data-testid='stMetricValue']").all_inner_texts() == shown
    other.screenshot(path=str(artifacts / "page_coverage_from_link.png"), full_page=True)
    assert outside == [] and elsewhere == []
    other.close()


def test_the_full_width_map_spans_the_page_and_a_link_keeps_it(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app + "/coverage", width=1400, height=1300)
    map_frame(page, timeout=180_000)
    beside = page.locator(MAP_IFRAME).first.bounding_box()["width"]
    page.get_by_text("地图通栏显示").click()
    page.wait_for_function("() => location.search.includes('wide=1')", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector(\"{MAP_IFRAME}\").getBoundingClientRect().width > "
                           f"{beside * 1.8}", timeout=60_000)
    link = page.url
    page.close()
    other, elsewhere = open_page(browser, link, width=1400, height=1300)
    map_frame(other, timeout=180_000)
    wide = other.locator(MAP_IFRAME).first.bounding_box()["width"]
    assert wide > beside * 1.8, (beside, wide)  # the whole content width beside the sidebar
    other.screenshot(path=str(artifacts / "page_coverage_wide.png"), full_page=True)
    assert outside == [] and elsewhere == []
    other.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_changed_inputs_grey_the_old_figures_until_run(demo_app, browser, artifacts, lang):
    """A life circle changed but not run: the figures below the form are greyed under a note; changing it back
    clears them, and running the new inputs shows their figures ungreyed."""
    from i18n import t

    page, outside = open_page(browser, demo_app + "/coverage" + ("?lang=en" if lang == "en" else ""), height=1300)
    page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=180_000)
    metrics = page.locator("[data-testid='stMetric']").first
    grey = "el => { const g = el.closest('.onemap-stale'); return !!g && parseFloat(getComputedStyle(g).opacity) < 0.6; }"
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(1000)
    assert not metrics.evaluate(grey)
    page.get_by_text(circle_label(1000.0, lang), exact=True).first.click()
    page.wait_for_function("() => document.querySelector('.onemap-stale')", timeout=30_000)
    page.wait_for_timeout(500)  # the fade
    assert metrics.evaluate(grey)
    assert page.get_by_role("status").filter(has_text=t("stale_results", lang)).is_visible()
    page.screenshot(path=str(artifacts / f"page_coverage_stale_{lang}.png"))
    page.get_by_text(circle_label(500.0, lang), exact=True).first.click()  # back to what was run
    page.wait_for_function("() => !document.querySelector('.onemap-stale')", timeout=30_000)
    page.get_by_text(circle_label(1000.0, lang), exact=True).first.click()
    page.wait_for_function("() => document.querySelector('.onemap-stale')", timeout=30_000)
    page.get_by_role("button", name=t("run", lang)).click()
    page.locator("[data-testid='stMetricLabel']", has_text="15").first.wait_for(timeout=180_000)
    assert page.locator(".onemap-stale").count() == 0
    assert not page.get_by_role("status").filter(has_text=t("stale_results", lang)).is_visible()
    assert outside == []
    page.close()


def test_a_moved_maps_view_travels_in_the_link(demo_app, browser, artifacts):
    """The coverage map dragged and zoomed: the page's URL carries the view, and the link opened in a new browser
    shows the map at that view."""
    view = """() => { for (const k of Object.keys(window)) { const m = window[k];
        if (k.startsWith('map_') && m && typeof m.getCenter === 'function') {
          const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; } } return null; }"""
    page, outside = open_page(browser, demo_app + "/coverage", height=1300)
    frame = map_frame(page, timeout=180_000)
    page.wait_for_timeout(1000)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.wheel(0, -300)
    page.wait_for_timeout(800)
    page.mouse.down()
    page.mouse.move(x - 120, y + 60, steps=10)
    page.mouse.up()
    page.wait_for_timeout(1500)  # the drag's inertia
    moved = frame.evaluate(view)
    written = f"view={moved[0]:.5f},{moved[1]:.5f},{moved[2]:g}"
    page.wait_for_function(f"() => decodeURIComponent(location.search).includes('{written}')", timeout=30_000)
    link = page.evaluate("location.href")
    page.close()
    other, elsewhere = open_page(browser, link, height=1300)
    again = map_frame(other, timeout=180_000)
    other.wait_for_timeout(1000)
    shown = again.evaluate(view)
    assert shown[2] == moved[2] and shown[0] == pytest.approx(moved[0], abs=2e-5) \
        and shown[1] == pytest.approx(moved[1], abs=2e-5), (moved, shown)
    assert outside == [] and elsewhere == []
    other.close()


def test_changed_planning_inputs_grey_the_last_plan(demo_app, browser, artifacts):
    """A plan solved, then the walking distance changed in the form: the plan below is greyed under a note until
    Solve is pressed again."""
    page, outside = open_page(browser, demo_app + "/planning", height=1500)
    map_frame(page, timeout=180_000)
    page.get_by_role("button", name="求解", exact=True).click()
    page.get_by_text("新增覆盖").first.wait_for(timeout=180_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    page.wait_for_timeout(1000)
    assert page.locator(".onemap-stale").count() == 0
    page.get_by_role("spinbutton").first.fill("4")  # 新增场地数 p, in the form
    page.wait_for_function("() => document.querySelector('.onemap-stale')", timeout=30_000)
    assert page.get_by_role("status").filter(has_text="上次求解的方案").is_visible()
    page.get_by_role("button", name="求解", exact=True).click()
    page.get_by_text("4 处新场地").first.wait_for(timeout=180_000)
    page.wait_for_function("() => !document.querySelector('.onemap-stale')", timeout=30_000)
    assert outside == []
    page.close()

"""One language at a time, as the browser shows it: every page in Chinese and in English, maps included.

Reads the text a person sees (hidden and zero-size text skipped, CSS-provided words counted,
icon ligatures and code identifiers left out) on the page and inside every map frame (legend,
layer list, scale), and fails on any word of the other script outside data values (the demo
city's stored values and the uploaded file's own).  Each page's screenshot is kept in
tests/artifacts/screens/ to be looked at.
"""

from __future__ import annotations

import pytest

from tests.app.test_language import other_script, stored_text_values
from tests.browser.conftest import MAP_IFRAME, open_page, settle
from tests.browser.test_pages_browser import map_frame

pytestmark = pytest.mark.browser

#: The visible text of a document: text nodes under visible elements of non-zero size, inputs'
#: placeholders, and words a stylesheet puts in ::after; Material icon ligatures are not words.
VISIBLE_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === 3) {
      const p = node.parentElement, s = p && getComputedStyle(p);
      if (s && s.fontSize !== '0px' && s.visibility !== 'hidden' && node.textContent.trim())
        out.push(node.textContent.trim());
      return;
    }
    if (node.nodeType !== 1 || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'CODE'].includes(node.tagName)) return;
    if (node.matches('[data-testid="stIconMaterial"], .material-icons')) return;
    const s = getComputedStyle(node), r = node.getBoundingClientRect();
    if (s.display === 'none') return;
    if (r.width <= 1 || r.height <= 1 || r.right <= 0 || r.bottom <= 0) {  // visually hidden (skip links)
      if (s.overflow === 'hidden' || s.position === 'absolute' || s.position === 'fixed') return;
    }
    if (node.placeholder && !node.value && node.getAttribute('role') !== 'combobox') out.push(node.placeholder);
    for (const c of node.childNodes) walk(c);
    const after = getComputedStyle(node, '::after').content;
    if (after && after.startsWith('"') && after.length > 3) out.push(after.slice(1, -1));
  };
  walk(document.body);
  return out;
}"""
def _texts(page) -> list[str]:
    texts = list(page.evaluate(VISIBLE_TEXT))
    for frame in page.frames[1:]:
        try:
            texts += frame.evaluate(VISIBLE_TEXT)
        except Exception:  # noqa: BLE001 — a frame Streamlit is replacing has no document to read
            continue
    return texts


def _solve(page, lang: str) -> None:
    page.get_by_role("button", name="求解" if lang == "zh" else "Solve", exact=True).click()
    page.get_by_text("新增覆盖" if lang == "zh" else "more residents within").first.wait_for(timeout=180_000)


def _section(name_zh: str, name_en: str):
    def go(page, lang: str) -> None:
        page.get_by_text(name_zh if lang == "zh" else name_en, exact=True).click()
        settle(page, 2500)
    return go


def _event_plan(page, lang: str) -> None:
    _section("赛事保障", "Event-day plan")(page, lang)
    page.get_by_role("button", name="生成保障方案" if lang == "zh" else "Make the plan").click()
    page.get_by_role("button", name="下载保障方案（PDF）" if lang == "zh" else "Download the plan (PDF)").wait_for(
        timeout=180_000)


def _upload_bad_csv(tmp_dir):
    def go(page, lang: str) -> None:
        bad = tmp_dir / "坏数据.csv"
        bad.write_text("名称,类型,经度,纬度\n城东驿站,community_health_station,东经114度,30.01\n", encoding="utf-8")
        page.locator("input[type='file']").first.set_input_files(str(bad))
        page.get_by_text("坏数据.csv").first.wait_for(timeout=30_000)
        page.get_by_role("button", name="检查" if lang == "zh" else "Check", exact=True).click()
        page.get_by_text("尚未写入任何数据" if lang == "zh" else "nothing has been written").first.wait_for(
            timeout=60_000)
        # No row is valid, so "import the valid rows only" cannot be ticked.
        valid_only = page.get_by_role("checkbox", name="只导入合格的行" if lang == "zh" else "Import the valid rows only")
        assert valid_only.is_disabled()
    return go


def _report_form(page, lang: str) -> None:
    """The one map's 问题反馈 button pressed and a place clicked: the report form open in the map."""
    frame = map_frame(page, timeout=180_000)
    frame.get_by_role("button", name="问题反馈" if lang == "zh" else "Report a problem").click()
    box = page.locator(MAP_IFRAME).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.3)
    frame.locator("form.onemap-report-form").wait_for(timeout=30_000)


def _province_run(page, lang: str) -> None:
    """The coverage page's partitioned run opened and run on a local cluster started by the app's server."""
    zh = lang == "zh"
    page.get_by_text("分区并行计算（全省规模，集群）" if zh else "Run in partitions on a cluster (province scale)").click()
    page.get_by_role("button", name="分区计算" if zh else "Run in partitions").click()
    page.get_by_text("完全一致" if zh else "equal this page's single run exactly").wait_for(timeout=300_000)
    page.get_by_text("分区并行计算（全省规模，集群）" if zh else "Run in partitions on a cluster (province scale)"
                     ).scroll_into_view_if_needed()


def _search(page, lang: str) -> None:
    """A venue typed by its pinyin initials (Chinese) or English words: the map flies to it."""
    box = page.get_by_label("查找地点" if lang == "zh" else "Find a place")
    box.fill("qxtyzx" if lang == "zh" else "stadium qingxi")
    box.press("Enter")
    page.get_by_text("找到的地点" if lang == "zh" else "Places found").first.wait_for(timeout=60_000)
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{MAP_IFRAME}\")].some(f => f.src.includes('#b='))",
                           timeout=60_000)


def _pick_ranked(page, lang: str) -> None:
    """The first ranked candidate clicked: its catchment drawn on the planning map."""
    page.get_by_text("候选点排序" if lang == "zh" else "Ranked candidates").first.scroll_into_view_if_needed()
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * 0.5)
    map_frame(page, timeout=120_000).locator(".picked-site").first.wait_for(timeout=60_000)


#: page → (path, has a map, what to do there first)
PAGES = {
    "one_map": ("", True, None),
    "one_map_search": ("", True, _search),
    "coverage": ("coverage", True, None),
    "coverage_province": ("coverage", True, _province_run),
    "planning": ("planning", True, _solve),
    "planning_ranked": ("planning", True, _pick_ranked),
    "operations_nearby": ("operations", True, None),
    "operations_usage": ("operations", True, _section("场馆使用", "Venue usage")),
    "operations_indicators": ("operations", False, _section("考核指标", "Indicators")),
    "data": ("data", False, "upload"),
    "export": ("export", False, _section("打印地图", "Print map")),
    "booking_resident": ("booking", True, None),
    "booking_staff": ("booking", False, _section("场地管理", "Staff desk")),
    "booking_package": ("booking", False, _section("体质检测后推荐课程", "After a fitness test")),
    "emergency_profiles": ("emergency", True, None),
    "emergency_event": ("emergency", True, _event_plan),
    "one_map_report": ("", True, _report_form),
    "one_map_reports_layer": ("", True, lambda page, lang: page.get_by_text(
        "在地图上显示问题反馈" if lang == "zh" else "Show field reports on the map").click()),
    "reports_inbox": ("reports", False, lambda page, lang: page.get_by_text(
        "已超期" if lang == "zh" else "Overdue", exact=True).first.wait_for(timeout=120_000)),
    "export_period": ("export", False, _section("月报/季报", "Monthly or quarterly report")),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_in_the_browser_speaks_one_language(demo_app, browser, artifacts, data_values, tmp_path,
                                                       name, lang):
    from tests.conftest import ROOT

    path, has_map, act = PAGES[name]
    page, outside = open_page(browser, f"{demo_app}/{path}?lang={lang}", width=1440,
                              height={"data": 3000, "coverage": 3000, "coverage_province": 3800}.get(name, 1800))
    if has_map:
        map_frame(page, timeout=180_000)
    settle(page)
    if act == "upload":
        act = _upload_bad_csv(tmp_path)
    if act is not None:
        act(page, lang)
        settle(page)
    if has_map:
        map_frame(page, timeout=180_000)
        page.wait_for_timeout(1500)
    screens = artifacts / "screens"
    screens.mkdir(exist_ok=True)
    page.screenshot(path=str(screens / f"{name}_{lang}.png"), full_page=True)
    texts = _texts(page)
    assert len(texts) > 15, texts
    uploaded = {"坏数据.csv", "名称", "类型", "经度", "纬度", "城东驿站", "东经114度", "community_health_station"}
    data = sorted(set(data_values) | {f"GeoPackage {ROOT / 'data' / 'demo_city.gpkg'}"} | uploaded, key=len,
                  reverse=True)
    bad = other_script(texts, lang, data)
    assert not bad, f"{name} in {lang} shows the other language:\n" + "\n".join(bad[:40])
    assert outside == []
    page.close()


@pytest.fixture(scope="module")
def data_values(demo_gpkg) -> list[str]:
    """The demo city's stored text values (the app serves the same city, built by the same code)."""
    return stored_text_values(demo_gpkg)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_streamlits_own_words_follow_the_page(demo_app, browser, lang):
    """Streamlit's dropdown ("Select all") and the table toolbar's tooltips ("Download as CSV", "Search",
    "Fullscreen") in Chinese on a Chinese page, left in English on an English one."""
    page, outside = open_page(browser, f"{demo_app}/export?lang={lang}", width=1440, height=1400)
    settle(page)
    page.locator("[data-testid='stMultiSelect']").first.click()
    option = page.get_by_role("option").first
    option.wait_for(timeout=30_000)
    listed = page.locator("[role='listbox'], [data-baseweb='popover']").first.inner_text()
    page.keyboard.press("Escape")
    page.goto(f"{demo_app}/data?lang={lang}")
    settle(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.hover()
    toolbar = page.locator("[data-testid='stElementToolbar']").first
    toolbar.wait_for(timeout=30_000)
    labels = [b.get_attribute("aria-label") or b.get_attribute("title") or b.inner_text()
              for b in toolbar.locator("button").all()]
    if lang == "zh":
        assert "全选" in listed and "Select all" not in listed, listed
        assert {"下载为 CSV", "搜索", "全屏"} <= set(labels), labels
    else:
        assert "Select all" in listed, listed
        assert {"Download as CSV", "Search", "Fullscreen"} <= set(labels), labels
    assert outside == []
    page.close()

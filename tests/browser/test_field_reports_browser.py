"""A field report in Chromium, end to end: a community worker clicks a school facility on the one map and
reports it; the report reaches the education bureau's inbox and not the sports bureau's; the education
editor takes it to resolved; the sports editor cannot act on it; every step is shown and kept."""

from __future__ import annotations

import pytest

from layers.stores.geopackage import GeoPackageStore
from office.accounts import create_account
from tests.browser.conftest import COUNT_FEATURES, MAP_IFRAME, open_page
from tests.conftest import app_on_copy

pytestmark = pytest.mark.browser
PASSWORD = "field-report-2026"
USERS = {"grid": ("viewer", "alliance"), "edu": ("editor", "education"), "sport": ("editor", "sports")}
#: Where a feature of a layer is on the page: the map's container point of a lon/lat, plus the frame's offset.
FEATURE_POINT = """([layer, fid]) => {
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (!(k.startsWith('map_') && m && typeof m.eachLayer === 'function')) continue;
    let found = null;
    m.eachLayer(l => {
      const p = l.feature && l.feature.properties;
      if (!found && p && p._layer === layer && p._feature_id === fid) found = l;
    });
    if (!found) return null;
    const ll = found.getLatLng ? found.getLatLng() : found.getBounds().getCenter();
    m.setView(ll, 17, {animate: false});
    const pt = m.latLngToContainerPoint(ll);
    return [pt.x, pt.y, found.feature.properties[found.feature.properties._name_field]];
  }
  return null;
}"""


@pytest.fixture
def field_app(demo_gpkg, tmp_path):
    yield from app_on_copy(demo_gpkg, tmp_path, "field_reports_app.log")


def sign_in(browser, url: str, user: str, to_reports: bool = False):
    page, outside = open_page(browser, url)
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if to_reports:
        page.get_by_test_id("stSidebarNav").get_by_text("问题反馈").click()
    return page, outside


def inbox_codes(page) -> list[str]:
    """The codes the inbox offers to open (the options of its report chooser)."""
    import re

    page.get_by_label("打开反馈").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=30_000)
    codes = re.findall(r"FR-\d{8}-[0-9A-F]{8}", " ".join(options.all_inner_texts()))
    page.keyboard.press("Escape")
    return codes


def test_a_school_report_reaches_education_only_and_is_resolved_there(field_app, browser, artifacts):
    url, path = field_app
    with GeoPackageStore(path) as store:
        for user, (role, dept) in USERS.items():
            create_account(store, user, PASSWORD, role=role, department=dept)
        schools = store.layers.read("school_facilities")
        school = schools[schools.geometry.geom_type == "Point"].iloc[0]
        fid, name = str(school["feature_id"]), str(school["school"])
        before = set(store.field_reports.list()["report_id"])

    # 1. A community worker (a viewer) reports the school facility from the one map.
    page, outside = sign_in(browser, url, "grid")
    page.locator(MAP_IFRAME).first.wait_for(timeout=120_000)
    frame_el = page.locator(MAP_IFRAME).first.element_handle()
    frame = frame_el.content_frame()
    frame.wait_for_function(f"({COUNT_FEATURES})() > 0", timeout=120_000)
    frame.get_by_role("button", name="问题反馈").click()
    x, y, shown_name = frame.evaluate(FEATURE_POINT, ["school_facilities", fid])
    page.wait_for_timeout(800)
    x, y, _ = frame.evaluate(FEATURE_POINT, ["school_facilities", fid])  # after the view settled
    box = frame_el.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    form = frame.locator("form.onemap-report-form")
    form.wait_for(timeout=30_000)
    assert name in form.inner_text()
    form.locator("select[name=category]").select_option("closed")
    form.locator("textarea[name=body]").fill("周六下午公示开放，但大门上锁")
    page.screenshot(path=str(artifacts / "field_report_form.png"))
    form.get_by_role("button", name="提交").click()
    result = frame.locator(".onemap-report-result")
    result.filter(has_text="FR-").wait_for(timeout=60_000)
    said = result.inner_text()
    assert "教育局" in said, said
    page.screenshot(path=str(artifacts / "field_report_sent.png"))
    assert outside == []
    page.close()
    with GeoPackageStore(path) as store:
        new = store.field_reports.list()
        new = new[~new["report_id"].isin(before)]
    assert len(new) == 1
    report = new.iloc[0]
    code = str(report["report_id"])
    assert report["department"] == "education" and report["place_id"] == fid and report["reporter"] == "grid"
    assert code in said

    # 2. The sports bureau's inbox does not hold it, and its editor cannot act on it.
    page, _ = sign_in(browser, url, "sport", to_reports=True)
    page.get_by_text("体育局收件箱").wait_for(timeout=90_000)
    assert code not in inbox_codes(page) and len(inbox_codes(page)) > 0
    page.close()

    # 3. The education editor finds it first in the inbox and takes it to resolved, step by step.
    page, _ = sign_in(browser, url, "edu", to_reports=True)
    page.get_by_text("教育局收件箱").wait_for(timeout=90_000)
    assert code in inbox_codes(page)
    page.get_by_label("打开反馈").click()
    page.get_by_role("option").filter(has_text=code).click()
    page.get_by_text("周六下午公示开放，但大门上锁").wait_for(timeout=60_000)  # its text, shown as written
    for step, status, reason in (("受理", "已受理", ""), ("开始处理", "处理中", ""), ("办结", "已办结", "已与学校核实，恢复开放")):
        form = page.locator("[data-testid='stForm']").filter(has_text="办理操作")
        form.get_by_role("radiogroup").get_by_text(step, exact=True).click()
        if reason:
            form.get_by_label("说明/理由").fill(reason)
        form.get_by_role("button", name="确认").click()
        page.get_by_text(f"{code} 现为“{status}”").wait_for(timeout=60_000)
    page.get_by_text("该反馈已办结或驳回。").wait_for(timeout=30_000)
    steps_shown = page.locator("[data-testid='stTable']").first.inner_text()
    for word in ("待受理", "已受理", "处理中", "已办结", "grid", "edu", "已与学校核实，恢复开放"):
        assert word in steps_shown, (word, steps_shown)
    page.screenshot(path=str(artifacts / "field_report_inbox.png"), full_page=True)
    page.close()

    with GeoPackageStore(path) as store:
        steps = store.field_reports.steps(code)
        assert list(steps["status"]) == ["new", "accepted", "in_progress", "resolved"]
        assert list(steps["actor"]) == ["grid", "edu", "edu", "edu"]
        assert set(steps["department"]) == {"education"}
        assert store.field_reports.get(code)["status"] == "resolved"

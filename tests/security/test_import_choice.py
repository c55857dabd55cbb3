"""No destructive default: a 3-row file imported into the 68-venue layer asks how to write it, shows what
each way would change, and appending leaves 71 (with the page's figures refreshed)."""

from __future__ import annotations

import re

import pytest

from layers.stores.geopackage import GeoPackageStore
from tests.browser.conftest import open_page
from tests.conftest import app_on_copy

pytestmark = pytest.mark.browser


@pytest.fixture
def scratch_app(demo_gpkg, tmp_path):
    yield from app_on_copy(demo_gpkg, tmp_path, "scratch_app.log")


def test_importing_three_venues_asks_shows_and_appends(scratch_app, browser, artifacts, tmp_path):
    url, path = scratch_app
    upload = tmp_path / "新增场馆.csv"
    upload.write_text("名称,类型,经度,纬度\n东岸新篮球场,court,114.021,30.012\n滨江健身广场,fitness_square,114.025,30.018\n"
                      "新城游泳馆,pool,114.031,30.022\n", encoding="utf-8")
    page, outside = open_page(browser, url + "/data")
    page.locator("input[type='file']").first.wait_for(state="attached", timeout=60_000)
    page.locator("input[type='file']").first.set_input_files(str(upload))
    page.get_by_role("button", name="检查").click()
    page.get_by_text(re.compile("写入方式（该图层已有 68 个要素）")).wait_for(timeout=60_000)
    commit = page.get_by_role("button", name="导入", exact=True)
    assert commit.is_disabled()  # nothing is chosen for the steward
    page.get_by_text("替换：图层只保留本文件的要素").click()
    page.get_by_text(re.compile("替换将删除 68 个已有要素")).wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "import_choice_replace.png"), full_page=True)
    page.get_by_text("追加：只加入新要素").click()
    after = page.locator("[data-testid='stMetric']", has_text="导入后要素数").locator("[data-testid='stMetricValue']")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stMetric\"]')]"
                           ".some(e => e.innerText.includes('导入后要素数') && e.innerText.includes('71'))", timeout=30_000)
    assert after.inner_text() == "71"
    page.screenshot(path=str(artifacts / "import_choice_append.png"), full_page=True)
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text("已将 3 个要素写入体育场馆（第 2 版，共 71 个要素）。").wait_for(timeout=60_000)
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "import_done.png"), full_page=True)
    with GeoPackageStore(path) as store:
        assert len(store.layers.read("venues")) == 71
        assert store.history("venues")["action"].tolist()[-1] == "append"
    assert outside == []
    page.close()

"""The service package end to end in Chromium: a fitness test's outcome → ranked courses with free slots → the
sheet's PDF (read back: course names, times, QR codes) → a queued text message → a course booked from the QR."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
import zxingcpp
from pypdf import PdfReader

from layers.stores.geopackage import GeoPackageStore
from tests.bookings.helpers import pdf_bitmaps
from tests.browser.conftest import open_page
from tests.conftest import app_on_copy

pytestmark = pytest.mark.browser


@pytest.fixture
def booking_app(demo_gpkg, tmp_path):
    """The app on a copy of the demo city, its public address set so QR codes point at it."""
    yield from app_on_copy(demo_gpkg, tmp_path, "booking_app.log", ONEMAP_PUBLIC_URL="http://127.0.0.1:{port}")


def test_fitness_test_outcome_to_a_booked_course(booking_app, browser, artifacts, tmp_path):
    url, path = booking_app
    page, outside = open_page(browser, url + "/booking")
    page.get_by_text("体质检测后推荐课程", exact=True).click(timeout=60_000)
    page.get_by_text("有空位的合适课程").wait_for(timeout=60_000)  # default outcome: hypertension, moderate
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "booking_package_zh.png"), full_page=True)
    page.get_by_role("button", name="生成推荐单（含预约二维码）").click()
    with page.expect_download(timeout=120_000) as got:
        page.get_by_role("button", name="下载推荐单（PDF）").click()
    pdf = tmp_path / "sheet.pdf"
    got.value.save_as(pdf)
    text = PdfReader(pdf).pages[0].extract_text()
    assert "高血压运动干预" in text and "最近空位" in text
    assert re.search(r"\d\d-\d\d 周[一二三四五六日] \d\d:\d\d", text)
    links = [r.text for image in pdf_bitmaps(pdf) for r in zxingcpp.read_barcodes(image)]
    assert links and all(link.startswith(url + "/booking?resource=course-") for link in links)

    page.get_by_label("居民手机号（发送短信用，可不填）").fill("13912345678")
    page.get_by_label("居民手机号（发送短信用，可不填）").press("Enter")
    page.get_by_role("button", name="加入短信发送队列").click()
    page.get_by_text(re.compile(r"已加入短信发送队列（编号 \d+）")).wait_for(timeout=60_000)
    with GeoPackageStore(path) as store:
        queued = store.bookings.messages(department="health")
    assert len(queued) == 1 and queued["body"].iloc[0].startswith("【健身一张图】")
    assert len(queued["body"].iloc[0]) <= 70 and "13912345678" not in queued.to_string()

    target = links[0]
    wanted = parse_qs(urlparse(target).query)
    resident, outside2 = open_page(browser, target)  # the resident's phone opens the QR code's link
    resident.get_by_role("textbox", name="手机号码").wait_for(timeout=60_000)
    chosen = resident.locator("[data-testid='stSelectbox']").filter(has_text="场地或课程")
    assert "高血压" in chosen.inner_text() or "课程" in chosen.inner_text()
    resident.get_by_role("textbox", name="手机号码").fill("13812345678")
    resident.get_by_role("textbox", name="手机号码").press("Enter")
    resident.get_by_role("button", name="预约", exact=True).click()
    done = resident.get_by_text(re.compile(r"预约成功：预约号 B[0-9A-F]{11}"))
    done.wait_for(timeout=60_000)
    resident.screenshot(path=str(artifacts / "booking_from_qr_zh.png"), full_page=True)
    booking = re.search(r"B[0-9A-F]{11}", done.inner_text()).group(0)
    with GeoPackageStore(path) as store:
        row = store.bookings.get(booking)
    assert row["resource_id"] == wanted["resource"][0] and row["starts_at"] == wanted["slot"][0]
    assert row["status"] == "booked"
    assert outside == [] and outside2 == []
    page.close()
    resident.close()

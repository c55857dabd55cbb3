"""The one-map page in Debian's Chromium, with every request off this machine refused."""

from __future__ import annotations

import pytest

from tests.browser.conftest import COUNT_FEATURES, MAP_IFRAME, open_page

pytestmark = pytest.mark.browser


def test_one_map_renders_offline(demo_app, browser, artifacts):
    page, outside = open_page(browser, demo_app, width=1400, height=1000)
    page.locator(MAP_IFRAME).first.wait_for(timeout=90_000)
    frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
    frame.wait_for_function(f"({COUNT_FEATURES})() > 0", timeout=90_000)
    page.get_by_text("体育场馆").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "one_map.png"))
    drawn = frame.evaluate(COUNT_FEATURES)
    images = frame.locator("img.leaflet-image-layer").count()
    assert outside == []
    # land use + streets + boundaries + greenways + entrances + metro + health + schools + venues
    assert drawn > 4500 and images == 1
    page.close()

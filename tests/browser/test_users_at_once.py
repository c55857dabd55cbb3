"""Three people on the coverage page at the same moment, each with its own life circle: each sees its own
figures (those one person alone gets for that circle), its own map and legend, although the analysis, the
tables and the published maps are shared by every session that asks for the same inputs."""

from __future__ import annotations

import pytest

from i18n import t
from i18n.definitions import circle_label, share_text
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser
CIRCLES = {300.0: "5分钟", 500.0: "10分钟", 1000.0: "15分钟"}


def test_three_people_at_once_each_see_their_own_figures(demo_app, demo_analysis, browser, artifacts):
    expected = demo_analysis.engine.run(sorted(CIRCLES)).summary().set_index(["layer", "threshold_m"])["rate"]
    pages = {}
    for metres in CIRCLES:
        page, outside = open_page(browser, demo_app + "/coverage", height=1200)
        page.locator("[data-testid='stMetricValue']").first.wait_for(timeout=180_000)
        pages[metres] = (page, outside)
    for metres, (page, _) in pages.items():  # each chooses its circle and runs, one right after the other
        page.get_by_text(circle_label(metres), exact=True).first.click()
        page.get_by_role("button", name="运行分析").click()
    for metres, (page, outside) in pages.items():
        label = page.locator("[data-testid='stMetricLabel']", has_text=CIRCLES[metres]).first
        label.wait_for(timeout=180_000)
        value = label.locator("xpath=ancestor::*[@data-testid='stMetric']//*[@data-testid='stMetricValue']")
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               timeout=180_000)
        assert value.first.text_content().strip() == share_text(expected[("venues", metres)]), metres
        legend = t("legend_covered_share", "zh", m=f"{metres:,.0f}")  # its map's legend names its own distance
        page.frame_locator("iframe[src*='/maps/']").first.get_by_text(legend).first.wait_for(timeout=60_000)
        page.screenshot(path=str(artifacts / f"users_at_once_{int(metres)}.png"))
        assert outside == []
    srcs = {pages[m][0].locator("iframe[src*='/maps/']").first.get_attribute("src").split("?")[0] for m in CIRCLES}
    assert len(srcs) == 3  # three published maps, one per circle
    for page, _ in pages.values():
        page.close()

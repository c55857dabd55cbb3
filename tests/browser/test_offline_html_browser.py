"""The exported HTML map opens in Chromium with every network request refused and draws its features."""

from __future__ import annotations

import pytest

from tests.browser.conftest import COUNT_FEATURES, LOCAL
from ui.offline_html import write_offline_html

pytestmark = pytest.mark.browser


def test_offline_html_map_draws_with_no_network(browser, demo_city, artifacts, tmp_path):
    layers = {k: demo_city.layers[k] for k in ("boundaries", "greenways", "venues", "health_stations")}
    path = write_offline_html(layers, tmp_path / "一张图.html", title="青溪区 一张图（离线）")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requested: list[str] = []

    def refuse_all_but_the_file(route):
        requested.append(route.request.url)
        if route.request.url.startswith(("file:", "data:", "about:", "blob:")):
            return route.continue_()
        return route.abort()

    page.route("**/*", refuse_all_but_the_file)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(f"({COUNT_FEATURES})() > 0", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "offline_html_map.png"))
    drawn = page.evaluate(COUNT_FEATURES)
    expected = sum(len(f) for f in layers.values())
    assert drawn == expected, (drawn, expected)
    assert [u for u in requested if not u.startswith(LOCAL)] == []
    assert page.title() == "青溪区 一张图（离线）"
    page.close()

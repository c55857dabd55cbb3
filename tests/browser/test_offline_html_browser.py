"""The exported HTML map opens in Chromium with every network request refused and draws its features."""

from __future__ import annotations

import pytest

from tests.browser.conftest import COUNT_FEATURES, LOCAL
from webmap.offline import write_offline_html

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
    assert page.locator(".onemap-title").inner_text() == "青溪区 一张图（离线）"  # visible on the map, not only the tab
    legend = page.locator(".onemap-legend").inner_text()
    assert all(name in legend for name in ("图例", "体育场馆", "绿道/健身步道", "社区健康驿站/体卫融合服务站", "行政边界"))
    page.close()


def test_ten_thousand_points_are_clustered_and_all_counted(browser, demo_city, artifacts, tmp_path):
    import geopandas as gpd
    import numpy as np

    venues = demo_city.layers["venues"]
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = venues.total_bounds
    n = 10_000
    more = gpd.GeoDataFrame({"feature_id": [f"p-{i}" for i in range(n)], "name": [f"健身点{i}" for i in range(n)],
                             "venue_kind": "park_fitness"},
                            geometry=gpd.points_from_xy(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)), crs=4326)
    layers = {"boundaries": demo_city.layers["boundaries"],
              "venues": gpd.GeoDataFrame(gpd.pd.concat([venues, more], ignore_index=True), crs=4326)}
    path = write_offline_html(layers, tmp_path / "clustered.html", title="聚合")
    html = path.read_text(encoding="utf-8")
    assert "markerClusterGroup" in html and html.count('"type": "Feature"') < 100  # compact rows, not GeoJSON
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    expected = len(venues) + n + len(layers["boundaries"])
    page.wait_for_function(f"({COUNT_FEATURES})() >= {expected}", timeout=60_000)  # clusters load in chunks
    page.wait_for_timeout(500)
    assert page.evaluate(COUNT_FEATURES) == expected
    assert page.locator(".marker-cluster").count() > 5  # drawn as clusters at the city's zoom
    popup = page.evaluate("""() => new Promise(done => {
      for (const k of Object.keys(window)) { const g = window[k];
        if (g && g._featureGroup && typeof g.zoomToShowLayer === 'function') {
          const m = g.getLayers()[500];
          g.zoomToShowLayer(m, () => { m.openPopup(); setTimeout(() => done(m.getPopup().getElement().innerText), 300); });
          return; } }
      done(null); })""")
    assert popup and "名称" in popup and "健身点" in popup  # the pop-up is built when opened
    page.screenshot(path=str(artifacts / "clustered_10k.png"))
    page.close()

"""The one-map page draws a big layer from the app's vector tiles (not GeoJSON), offline, in Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import MAP_IFRAME, open_page
from tests.conftest import app_on_copy

pytestmark = pytest.mark.browser


def test_the_walk_network_comes_from_tiles(browser, demo_gpkg, tmp_path, artifacts):
    # the demo's 4,569 street segments count as big here, so the page takes its tiled path
    for url, _path in app_on_copy(demo_gpkg, tmp_path, "app_tiles.log", ONEMAP_TILE_MIN_FEATURES="1000"):
        page, outside = open_page(browser, url, width=1400, height=1000)
        tiles: list[str] = []
        page.on("response", lambda r: tiles.append(r.url) if "/tiles/" in r.url and r.status == 200 else None)
        page.locator(MAP_IFRAME).first.wait_for(timeout=90_000)
        frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
        frame.wait_for_function("() => window.onemapTiles && window.onemapTiles.walk_network > 0 "
                                "&& (window.onemapTilesDone || 0) >= 1", timeout=90_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts / "one_map_tiles.png"))
        assert outside == []
        assert tiles and all("/walk_network/" in u for u in tiles)
        drawn = frame.evaluate("() => document.querySelectorAll('.leaflet-tile-container canvas, "
                               "canvas.leaflet-tile').length")
        assert drawn > 0
        assert frame.evaluate("() => Object.keys(window.onemapTiles)") == ["walk_network"]
        page.close()

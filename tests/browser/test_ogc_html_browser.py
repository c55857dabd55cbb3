"""The data exchange server's HTML pages in Chromium with every request off this machine refused: they render
with their map and style from the server itself, and a venue named like a script stays text on every page."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.conftest import open_page
from tests.conftest import ogc_server

pytestmark = pytest.mark.browser

HOSTILE = "</script><img src=x onerror=\"window.__pwned=1\"><b id=injected>体育馆</b>"


def test_the_html_pages_render_offline_and_keep_names_as_text(browser, demo_gpkg, tmp_path, artifacts):
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        venues = store.layers.read("venues")
        bad = venues.iloc[:1].copy()
        bad["name"] = HOSTILE
        store.layers.write("venues", bad, mode="upsert", user="test")
        hostile_id = str(bad["feature_id"].iloc[0])
    for url in ogc_server(path, "ogc_api_html.log"):
        for name, address in (("landing", "/?f=html"), ("collections", "/collections?f=html"),
                              ("venues", "/collections/venues?f=html&lang=zh"),
                              ("venues_en", "/collections/venues?f=html&lang=en"),
                              ("venue_items", "/collections/venues/items?f=html&limit=100"),
                              ("venue_item", f"/collections/venues/items/{hostile_id}?f=html")):
            page, outside = open_page(browser, url + address)
            page.wait_for_load_state("load")
            if name in ("venue_items", "venue_item"):  # the map drew with Leaflet served locally
                page.wait_for_function("() => window.L !== undefined && document.querySelector('.leaflet-pane')")
            page.screenshot(path=str(artifacts / f"ogc_html_{name}.png"), full_page=False)
            assert outside == [], (name, outside)
            assert page.evaluate("() => window.__pwned") is None, name
            assert page.locator("#injected").count() == 0, name
            style = page.evaluate("() => getComputedStyle(document.body).fontFamily")
            assert style and "serif" not in style.split(",")[0], (name, style)  # Bootstrap's page style applied
            if name == "venues":
                assert "体育场馆" in page.locator("body").inner_text()
            if name == "venues_en":
                assert "Sports venues" in page.locator("body").inner_text()
            if name == "venue_items":
                assert page.locator(".leaflet-marker-icon, .leaflet-interactive").count() > 0
            if name == "venue_item":
                assert HOSTILE in page.locator("body").inner_text()  # shown as the text it is
            page.close()

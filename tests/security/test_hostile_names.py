"""Stored XSS: hostile names in every point, line and polygon layer, on every map page and in the offline
export, opened in Chromium with every tooltip and pop-up opened and a real hover and click: no handler
fires, and the names show literally."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import MAP_IFRAME, open_page
from tests.browser.test_pages_browser import map_frame
from tests.security.conftest import HOSTILE, hostile_layers

pytestmark = pytest.mark.browser

#: Open every tooltip and pop-up of every map in a frame (markers in clusters too); return the texts shown.
OPEN_ALL = """async () => {
  const texts = [];
  const shown = () => document.querySelectorAll('.leaflet-tooltip, .leaflet-popup-content')
                              .forEach(el => texts.push(el.textContent));
  const where = l => l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
  const maps = Object.keys(window).filter(k => k.startsWith('map_') && window[k] && window[k].eachLayer)
                                  .map(k => window[k]);
  for (const m of maps) {
    const layers = [];
    m.eachLayer(l => layers.push(l));
    for (const l of layers) {
      if (l.feature) {  // a GeoJSON feature: its group's tooltip and pop-up open for it, as for a real pointer
        const e = {latlng: where(l), layerPoint: m.latLngToLayerPoint(where(l))};
        l.fire('mouseover', e, true); shown(); l.fire('click', e, true); shown(); l.fire('mouseout', e, true);
        m.closePopup();
      } else if (l.getTooltip && l.getTooltip()) {
        l.openTooltip(); shown();
      }
      if (l.getLayers && l._featureGroup) {  // a marker cluster: show its markers one by one and open them
        for (const mk of l.getLayers().slice(0, 40)) {
          await new Promise(done => l.zoomToShowLayer(mk, done));
          if (mk.getTooltip()) { mk.openTooltip(); shown(); }
          if (mk.getPopup()) { mk.openPopup(); shown(); mk.closePopup(); }
        }
      }
    }
  }
  await new Promise(r => setTimeout(r, 300));  // an <img onerror> fires after its load fails
  return texts;
}"""
FIRED = "() => window.__xss === undefined"


def _assert_clean(page, frames) -> list[str]:
    texts = []
    for frame in frames:
        texts += frame.evaluate(OPEN_ALL)
    page.wait_for_timeout(500)
    for frame in [page.main_frame, *page.frames, *frames]:
        assert frame.evaluate(FIRED), f"a handler ran in {frame.url}"
    return texts


def _map_frames(page) -> list:
    n = page.locator(MAP_IFRAME).count()
    return [map_frame(page, k) for k in range(n)]


def _shown(texts: list[str], names: list[str]) -> None:
    joined = "\n".join(texts)
    missing = [n for n in names if n not in joined]
    assert not missing, f"not shown literally: {missing}"


def test_one_map_with_hover_and_click(hostile_app, browser, artifacts):
    page, outside = open_page(browser, hostile_app)
    frame = map_frame(page)
    page.wait_for_timeout(1500)
    # a real hover and click on the first hostile venue point
    where = frame.evaluate("""() => {
      const m = Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k])[0];
      let hit = null;
      m.eachLayer(l => { if (!hit && l.feature && l.getLatLng && l.feature.properties.name &&
                              l.feature.properties.name.includes('__xss=1')) hit = l; });
      m.setView(hit.getLatLng(), 17, {animate: false});
      const p = m.latLngToContainerPoint(hit.getLatLng());
      return [p.x, p.y];
    }""")
    page.wait_for_timeout(800)
    box = page.locator(MAP_IFRAME).first.bounding_box()
    page.mouse.move(box["x"] + where[0], box["y"] + where[1])
    frame.locator(".leaflet-tooltip").first.wait_for(timeout=10_000)
    assert HOSTILE[0] in frame.locator(".leaflet-tooltip").first.inner_text()
    page.mouse.click(box["x"] + where[0], box["y"] + where[1])
    frame.locator(".leaflet-popup-content").first.wait_for(timeout=10_000)
    assert HOSTILE[0] in frame.locator(".leaflet-popup-content").first.inner_text()
    page.screenshot(path=str(artifacts / "security_one_map_hover.png"))
    texts = _assert_clean(page, [frame])
    _shown(texts, HOSTILE)
    assert outside == []
    page.close()


@pytest.mark.parametrize("path, action", [
    ("/coverage", None), ("/planning", None), ("/operations", None), ("/operations", "^场馆使用$")])
def test_every_map_page(hostile_app, browser, artifacts, path, action):
    page, outside = open_page(browser, hostile_app + path)
    page.locator(MAP_IFRAME).first.wait_for(timeout=180_000)
    if action is not None:
        page.get_by_text(re.compile(action)).first.click()
        page.wait_for_timeout(2000)
    page.locator(MAP_IFRAME).first.wait_for(timeout=180_000)
    frames = _map_frames(page)
    page.wait_for_timeout(1000)
    texts = _assert_clean(page, frames)
    assert any(h in "\n".join(texts) for h in HOSTILE), "no hostile name was on this page's map"
    page.screenshot(path=str(artifacts / f"security{path.replace('/', '_')}.png"), full_page=True)
    assert outside == []
    page.close()


def test_the_data_page_preview_of_an_upload(hostile_app, browser, artifacts, tmp_path):
    upload = tmp_path / "驿站<b onmouseover=alert(1)>名单.csv"
    rows = "\n".join(f'"{h.replace(chr(34), chr(34) * 2)}",community_health_station,114.0{k},30.01'
                     for k, h in enumerate(HOSTILE))
    upload.write_text("名称,类型,经度,纬度\n" + rows + "\n", encoding="utf-8")
    page, outside = open_page(browser, hostile_app + "/data")
    page.locator("input[type='file']").first.wait_for(state="attached", timeout=60_000)
    page.locator("input[type='file']").first.set_input_files(str(upload))
    page.get_by_role("button", name="检查").click()
    try:
        page.locator(MAP_IFRAME).first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(artifacts / "security_data_preview.png"), full_page=True)
    frames = _map_frames(page)
    texts = _assert_clean(page, frames)
    _shown(texts, HOSTILE)
    assert page.get_by_text("驿站<b onmouseover=alert(1)>名单.csv").count() > 0  # the file name, literally
    page.screenshot(path=str(artifacts / "security_data_preview.png"), full_page=True)
    assert outside == []
    page.close()


def test_the_offline_export_and_a_marker_cluster(browser, artifacts, tmp_path, demo_city):
    import geopandas as gpd
    import numpy as np

    from webmap.offline import write_offline_html

    layers = hostile_layers(demo_city.layers)
    n = 2000  # over the cluster threshold: the cluster's rows and callbacks carry the names
    rng = np.random.default_rng(3)
    venues = layers["venues"]
    many = gpd.GeoDataFrame({
        "feature_id": [f"x-{i}" for i in range(n)], "department": "sports",
        "name": [HOSTILE[i % len(HOSTILE)] for i in range(n)], "venue_kind": "court"},
        geometry=gpd.points_from_xy(venues.geometry.representative_point().x.mean() + rng.normal(0, 0.01, n),
                                    venues.geometry.representative_point().y.mean() + rng.normal(0, 0.01, n)),
        crs=4326)
    title = '</title><script>window.__xss=9</script>青溪区'
    path = write_offline_html({**layers, "venues": many}, tmp_path / "offline.html", title=title)
    page, outside = open_page(browser, path.as_uri())
    page.wait_for_function("() => Object.keys(window).some(k => k.startsWith('map_'))", timeout=60_000)
    texts = _assert_clean(page, [page.main_frame])
    _shown(texts, HOSTILE)
    assert page.title() == title
    page.screenshot(path=str(artifacts / "security_offline_export.png"))
    assert outside == []
    page.close()

"""Debian's Chromium driven by Playwright, shared by the browser tests."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
#: Requests a page may make; everything else is refused (the machine has no internet).
LOCAL = ("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:", "file:")
#: The map frames: interactive maps (streamlit-folium) and published static maps (the one-map page).
MAP_IFRAME = "iframe[title*='st_folium'], iframe[src*='/maps/']"
#: Features Leaflet has drawn (maps draw on a canvas, so there are no SVG paths to count);
#: a marker cluster counts every point it holds.
COUNT_FEATURES = """() => {
  let n = 0;
  for (const k of Object.keys(window)) {
    const m = window[k];
    if (k.startsWith('map_') && m && typeof m.eachLayer === 'function') {
      m.eachLayer(l => {
        if (l._featureGroup && typeof l.getLayers === 'function') n += l.getLayers().length;
        else if (l.feature && typeof l.eachLayer !== 'function') n++;
      });
    }
  }
  return n;
}"""

#: True once no script runs (Streamlit's status widget is gone).
RUNNING = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def settle(page, ms: int = 1500) -> None:
    """Wait until the script has stopped, stays stopped for ``ms``, and is still stopped (a rerun Streamlit has
    queued starts within that time)."""
    page.wait_for_function(RUNNING, timeout=180_000)
    page.wait_for_timeout(ms)
    page.wait_for_function(RUNNING, timeout=180_000)


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        from tests.conftest import IN_CI

        if IN_CI:
            pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing (make test installs it)")
        pytest.skip(f"{CHROMIUM} is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def open_page(browser, url: str, *, width: int = 1500, height: int = 1100, on_response=None):
    """A new page at ``url`` that refuses every request off this machine; returns (page, refused URLs).
    ``on_response`` is called with each response (from the first request on)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    if on_response is not None:
        page.on("response", on_response)
    outside: list[str] = []

    def refuse_outside(route):
        if route.request.url.startswith(LOCAL):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", refuse_outside)
    page.goto(url, wait_until="domcontentloaded")
    return page, outside

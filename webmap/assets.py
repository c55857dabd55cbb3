"""Serve every JavaScript and CSS file a map needs from the app itself.

folium points Leaflet, jQuery, Bootstrap and Font Awesome at four CDNs, so on an intranet
with no internet the map stays blank.  :func:`localize_assets` rewrites each map element's
assets to the copies in ``static/vendor`` (served by Streamlit at ``/app/static/``) and
drops the ones our maps do not use; an asset it does not know is an error, so no CDN
link can slip back in unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import folium
import folium.elements

from geo.errors import OneMapError

STATIC_DIR = Path(__file__).resolve().parent.parent / "ui" / "static"
#: URL under which Streamlit serves ``static/`` (server.enableStaticServing).
STATIC_URL = "/app/static/"

LOCAL_ASSETS: dict[str, str] = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "markerclusterjs": "vendor/markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/markercluster/MarkerCluster.Default.css",
    "vectorgrid": "vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "leaflet_draw_js": "vendor/leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "vendor/leaflet-draw/leaflet.draw.css",
}
#: Assets folium adds by default that our maps do not use (icons and page styling).
UNUSED_ASSETS = frozenset({"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
                           "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"})


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _rewrite(pairs: list[tuple[str, str]], base_url: str) -> list[tuple[str, str]]:
    out = []
    for name, url in pairs:
        if name in UNUSED_ASSETS:
            continue
        if name not in LOCAL_ASSETS:
            raise OneMapError(f"Map asset {name!r} ({url}) has no local copy; add it to static/vendor "
                              "and ui/map_assets.LOCAL_ASSETS so the map works offline.")
        out.append((name, base_url + LOCAL_ASSETS[name]))
    return out


def localize_assets(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every element of ``m`` at the local copies of its JS/CSS; returns ``m``."""
    for element in _walk(m):
        if isinstance(element, folium.elements.JSCSSMixin):
            element.default_js = _rewrite(list(element.default_js), base_url)
            element.default_css = _rewrite(list(element.default_css), base_url)
    return m

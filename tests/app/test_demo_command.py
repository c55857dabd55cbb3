"""`make demo` brings up the app on the embedded GeoPackage with the demo city."""

from __future__ import annotations

import urllib.request

from demo.city import DEMO_SOURCE
from layers.stores import default_gpkg_path, open_store


def test_demo_command_serves_app_and_demo_city(demo_app, artifacts):
    with urllib.request.urlopen(demo_app + "/_stcore/health", timeout=5) as r:
        assert r.read().decode().strip() == "ok"
    # The map's Leaflet is served by the app itself, not a CDN.
    with urllib.request.urlopen(demo_app + "/app/static/vendor/leaflet/leaflet.js", timeout=5) as r:
        assert r.status == 200 and b"Leaflet" in r.read(2000)
    path = default_gpkg_path()
    assert path.exists()
    with open_store(path) as store:
        names = {i.name for i in store.layers.list()}
        assert {"venues", "school_facilities", "health_stations", "greenways", "boundaries",
                "walk_network", "population"} <= names
        venues = store.layers.read("venues")
        assert 50 <= len(venues) <= 100
        assert store.history("venues")["source"].eq(DEMO_SOURCE).all()

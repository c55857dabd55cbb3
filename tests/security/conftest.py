"""Fixtures of the attacker's tests: a store whose departments wrote hostile names into every layer kind."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.conftest import browser  # noqa: F401  (the browser tests' Chromium)
from tests.conftest import _free_port, serve

#: Names a careless or hostile department might store; each must show as itself and run nothing.
HOSTILE = [
    "<script>window.__xss=1</script>体育馆",
    '<img src=x onerror="window.__xss=2">',
    "javascript:window.__xss=3",
    "\"'><svg onload=window.__xss=4>",
    "</textarea><script>window.__xss=5</script>",
    "`${window.__xss=6}`",
    "A&B \"引号\" 'single' <b>粗</b>",
    "[点我](javascript:window.__xss=8)",
]
#: Layer → the text field carrying the name, and how many features get a hostile one.
NAMED = {"venues": "name", "greenways": "name", "school_facilities": "school", "health_stations": "name",
         "boundaries": "name", "candidate_sites": "name", "metro_stations": "name"}


def hostile_layers(layers: dict) -> dict:
    """The demo layers with the hostile names written into the first features of every named layer."""
    out = {}
    for name, field in NAMED.items():
        frame = layers[name].copy()
        n = min(len(HOSTILE), len(frame))
        frame.loc[frame.index[:n], field] = HOSTILE[:n]
        if name == "venues":  # the polygons too
            polys = frame.index[frame.geom_type == "Polygon"][:3]
            frame.loc[polys, field] = HOSTILE[1:4]
        out[name] = frame
    return out


@pytest.fixture(scope="session")
def hostile_gpkg(tmp_path_factory, demo_gpkg, demo_city):
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path_factory.mktemp("hostile") / "hostile_city.gpkg"
    shutil.copy(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        for name, frame in hostile_layers(demo_city.layers).items():
            store.layers.write(name, frame, mode="upsert", user="hostile-steward", source="hostile names")
    return path


@pytest.fixture(scope="session")
def hostile_app(hostile_gpkg):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ONEMAP_GPKG"] = str(hostile_gpkg)
    venv_bin = os.path.dirname(os.sys.executable)
    yield from serve([os.path.join(venv_bin, "streamlit"), "run", "app.py", "--server.port", str(port),
                      "--server.headless", "true"], env, "hostile_app.log", port)

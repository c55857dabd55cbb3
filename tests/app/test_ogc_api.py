"""The read-only OGC API – Features endpoint, started on loopback: layers, counts, paging, refused writes."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import _free_port, serve


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read()), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), exc.headers.get("Content-Type", "")


def _send(url: str, method: str) -> int:
    req = urllib.request.Request(url, data=b'{"type": "Feature"}', method=method,
                                 headers={"Content-Type": "application/geo+json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _check_endpoint(url: str, store) -> None:
    status, landing, _ = _get(url + "/")
    assert status == 200 and {link["rel"] for link in landing["links"]} >= {"conformance", "data", "service-desc"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in _get(url + "/conformance")[1]["conformsTo"]
    listed = {c["id"]: c for c in _get(url + "/collections")[1]["collections"]}
    stored = {i.name for i in store.layers.list() if i.kind == "vector"}
    assert set(listed) == stored
    for name in ("venues", "school_facilities", "walk_network"):
        n = len(store.layers.read(name))
        status, page, ctype = _get(f"{url}/collections/{name}/items?limit=1000")
        assert status == 200 and ctype.startswith("application/geo+json")
        assert page["numberMatched"] == n
        seen = len(page["features"])
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        while nxt:
            page = _get(nxt[0])[1]
            seen += len(page["features"])
            nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        assert seen == n  # paging reaches every feature once
    one = _get(f"{url}/collections/venues/items/venue-001")[1]
    assert one["id"] == "venue-001" and one["geometry"]["type"] in ("Point", "Polygon")
    box = _get(f"{url}/collections/venues/items?bbox=113.98,29.98,114.0,30.0&limit=500")[1]
    assert 0 < box["numberMatched"] < len(store.layers.read("venues"))
    assert _get(f"{url}/collections/nope/items")[0] == 404
    assert _get(f"{url}/collections/venues/items?limit=-1")[0] == 400
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert _send(f"{url}/collections/venues/items", method) == 405
        assert _send(f"{url}/collections/venues/items/venue-001", method) == 405


@pytest.mark.postgis
def test_ogc_api_over_postgis(pg_store, pg_url, demo_city):
    for name in ("venues", "school_facilities", "walk_network", "boundaries"):
        pg_store.layers.write(name, demo_city.layers[name], user="init")
    pg_store.setup_department_roles()
    before = len(pg_store.layers.read("venues"))
    port = _free_port()
    env = {**os.environ, "ONEMAP_PG_SCHEMA": pg_store.schema, "DATABASE_URL": pg_url}
    cmd = [sys.executable, "-m", "services.ogc_api", "--role", "viewer", "--port", str(port)]
    for url in serve(cmd, env, "ogc_api_postgis.log", port, health="/conformance"):
        _check_endpoint(url, pg_store)
    assert len(pg_store.layers.read("venues")) == before


def test_ogc_api_over_the_geopackage(demo_gpkg, tmp_path):
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "services.ogc_api", "--store", str(path), "--port", str(port)]
    with GeoPackageStore(path) as store:
        for url in serve(cmd, env, "ogc_api_gpkg.log", port, health="/conformance"):
            _check_endpoint(url, store)

"""The data exchange server (pygeoapi) started on loopback over each store: GDAL's OAPIF driver and OWSLib read
every collection completely and equal to the store, CQL2, sortby, property filters and crs/bbox-crs equal the same
query done with geopandas, paging limits are stated, writes are refused, PostGIS is read as the viewer role."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import pytest
import shapely

from services.pygeoapi_config import published_fields, published_layers
from tests.conftest import ogc_server

GK = "http://www.opengis.net/def/crs/EPSG/0/4547"  # the demo city's CGCS2000 3-degree zone (114°E)
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read()), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), exc.headers.get("Content-Type", "")


def _items(url: str, name: str, **query: str) -> list[dict]:
    """Every feature of ``name`` matching ``query``, following the next links."""
    status, page, _ = _get(f"{url}/collections/{name}/items?" + urllib.parse.urlencode({"f": "json", **query}))
    assert status == 200, page
    out = list(page["features"])
    nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    while nxt:
        page = _get(nxt[0])[1]
        out += page["features"]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    return out


def _send(url: str, method: str) -> int:
    req = urllib.request.Request(url, data=b'{"type": "Feature"}', method=method,
                                 headers={"Content-Type": "application/geo+json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _canon(value: object) -> str:
    """One attribute value as text, the same whichever client parsed it (JSON, GDAL, pandas)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "isoformat"):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        # GDAL keeps milliseconds, rounded half up (pandas' round is half to even: .4985 s gave .498, GDAL .499)
        return pd.Timestamp((stamp.value + 500_000) // 1_000_000 * 1_000_000, tz="UTC").isoformat()
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":  # a date-time as JSON text
        return _canon(pd.Timestamp(text))
    return text


def content_hash(ids, rows: list[dict], geometries, fields: list[str]) -> str:
    """A hash of the features, in id order: each id, its fields' values and its geometry (to 1e-9 degree)."""
    digest = hashlib.sha256()
    for fid, row, geom in sorted(zip(ids, rows, geometries), key=lambda x: str(x[0])):
        digest.update(str(fid).encode())
        for f in fields:
            digest.update(f"|{f}={_canon(row.get(f))}".encode())
        digest.update(shapely.to_wkb(shapely.set_precision(geom, 1e-9), output_dimension=2) if geom is not None
                      else b"-")
    return digest.hexdigest()


def store_hash(store, name: str) -> tuple[int, str]:
    frame = store.layers.read(name)
    fields = published_fields(name)
    rows = frame.drop(columns="geometry").to_dict("records")
    return len(frame), content_hash(frame["feature_id"], rows, frame.geometry.to_numpy(), fields)


def _check_endpoint(url: str, store) -> None:
    status, landing, _ = _get(url + "/?f=json")
    assert status == 200 and {link["rel"] for link in landing["links"]} >= {"conformance", "data", "service-desc"}
    conforms = _get(url + "/conformance?f=json")[1]["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-2/1.0/conf/crs",
                 "ogcapi-features-3/1.0/conf/queryables"):
        assert any(part in c for c in conforms), part
    listed = {c["id"]: c for c in _get(url + "/collections?f=json")[1]["collections"]}
    assert list(listed) == published_layers(store) and "population" not in listed
    venues = listed["venues"]
    assert venues["title"] == "体育场馆" and GK in venues["crs"] and CGCS2000 in venues["crs"]
    assert _get(url + "/collections/venues?f=json&lang=en")[1]["title"] == "Sports venues"
    queryables = _get(f"{url}/collections/venues/queryables?f=json")[1]["properties"]
    assert {"venue_kind", "capacity", "department"} <= set(queryables) and "layer_version" not in queryables
    api = _get(url + "/openapi?f=json")[1]
    limit = next(p for p in api["paths"]["/collections/venues/items"]["get"]["parameters"]
                 if isinstance(p, dict) and p.get("name") == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["default"] == 100  # what GDAL pages by
    one = _get(f"{url}/collections/venues/items/venue-001?f=json")[1]
    assert one["id"] == "venue-001" and one["geometry"]["type"] in ("Point", "Polygon")
    assert set(one["properties"]) == set(published_fields("venues"))  # no source, version or layer_version
    assert _get(f"{url}/collections/nope/items?f=json")[0] == 404
    assert _get(f"{url}/collections/venues/items?f=json&limit=-1")[0] == 400
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert _send(f"{url}/collections/venues/items", method) == 405
        assert _send(f"{url}/collections/venues/items/venue-001", method) == 405


def _check_clients(url: str, store) -> None:
    """GDAL (pyogrio's OAPIF) and OWSLib each read every collection completely, equal to the store."""
    import pyogrio
    from owslib.ogcapi.features import Features

    client = Features(url)
    for name in published_layers(store):
        n, expected = store_hash(store, name)
        gdal = pyogrio.read_dataframe(f"OAPIF:{url}", layer=name)
        assert len(gdal) == n, name
        fields = published_fields(name)
        got = content_hash(gdal["id"], gdal.drop(columns="geometry").to_dict("records"), gdal.geometry.to_numpy(),
                           fields)
        assert got == expected, f"GDAL read {name} differently: {_first_difference(store, name, gdal)}"
        features, offset = [], 0
        while True:
            page = client.collection_items(name, limit=1000, offset=offset)
            features += page["features"]
            offset += 1000
            if len(page["features"]) < 1000:
                break
        assert len(features) == n, name
        geoms = [shapely.geometry.shape(f["geometry"]) if f["geometry"] else None for f in features]
        got = content_hash([f["id"] for f in features], [f["properties"] for f in features], geoms, fields)
        assert got == expected, f"OWSLib read {name} differently from the store"


def _first_difference(store, name: str, gdal) -> str:
    frame = store.layers.read(name).sort_values("feature_id").reset_index(drop=True)
    other = gdal.sort_values("id").reset_index(drop=True)
    for f in published_fields(name):
        for k, (a, b) in enumerate(zip(frame[f], other[f])):
            if _canon(a) != _canon(b):
                return f"{frame['feature_id'][k]}.{f}: {a!r} in the store, {b!r} read"
    return "the geometries differ"


def _check_queries(url: str, store) -> None:
    """CQL2, sortby, property filters, bbox-crs and crs equal the same query done with geopandas."""
    from pyproj import Transformer

    venues = store.layers.read("venues")
    cql = "venue_kind = 'pool' OR capacity > 500"
    want = venues[(venues["venue_kind"] == "pool") | (venues["capacity"] > 500)]
    got = _items(url, "venues", filter=cql)
    assert 0 < len(want) < len(venues) and sorted(f["id"] for f in got) == sorted(want["feature_id"])
    both = venues[(venues["venue_kind"] == "fitness_square") & (venues["capacity"].fillna(0) >= 0)
                  & (venues["department"] == "sports")]
    got = _items(url, "venues", filter="venue_kind = 'fitness_square' AND department = 'sports'")
    assert sorted(f["id"] for f in got) == sorted(both["feature_id"])
    ranked = _items(url, "venues", sortby="-capacity,name", limit="7")[:7]
    order = venues.sort_values(["capacity", "name"], ascending=[False, True], na_position="last")
    assert [f["id"] for f in ranked] == list(order["feature_id"].iloc[:7])
    got = _items(url, "venues", venue_kind="gym")
    assert sorted(f["id"] for f in got) == sorted(venues.loc[venues["venue_kind"] == "gym", "feature_id"])
    # a box in the Gauss–Krüger zone (northing, easting: the zone's axis order) is the box of its corners in
    # lon/lat (pygeoapi transforms the two corners)
    x0, y0, x1, y1 = venues.total_bounds
    box = shapely.box(x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    to_gk = Transformer.from_crs(4326, 4547, always_xy=True)
    e0, n0 = to_gk.transform(box.bounds[0], box.bounds[1])
    e1, n1 = to_gk.transform(box.bounds[2], box.bounds[3])
    got = _items(url, "venues", **{"bbox": f"{n0},{e0},{n1},{e1}", "bbox-crs": GK})
    back = Transformer.from_crs(4547, 4326, always_xy=True)
    area = shapely.box(*back.transform(e0, n0), *back.transform(e1, n1))
    want = venues[venues.intersects(area)]
    assert 0 < len(want) < len(venues) and sorted(f["id"] for f in got) == sorted(want["feature_id"])
    # coordinates asked for in CGCS2000 and in the zone equal pyproj's (authority axis order: lat/lon, N/E)
    stations = store.layers.read("aeds").set_index("feature_id")
    for crs, code in ((CGCS2000, 4490), (GK, 4547)):
        to = Transformer.from_crs(4326, code)  # authority order, as the server answers
        for f in _items(url, "aeds", crs=crs, limit="20")[:20]:
            p = stations.geometry[f["id"]]
            a, b = to.transform(p.y, p.x)
            assert f["geometry"]["coordinates"] == pytest.approx([a, b], abs=1e-6 if code == 4490 else 1e-3)


@pytest.mark.postgis
def test_pygeoapi_over_postgis(pg_store, pg_url, demo_city):
    for name in ("venues", "school_facilities", "walk_network", "boundaries", "aeds", "health_stations"):
        pg_store.layers.write(name, demo_city.layers[name], user="init")
    pg_store.setup_department_roles()
    before = len(pg_store.layers.read("venues"))
    env = {**os.environ, "ONEMAP_PG_SCHEMA": pg_store.schema, "DATABASE_URL": pg_url}
    for url in ogc_server(None, "ogc_api_postgis.log", env, "--role", "viewer"):
        _check_endpoint(url, pg_store)
        _check_clients(url, pg_store)
        _check_queries(url, pg_store)
    assert len(pg_store.layers.read("venues")) == before


@pytest.mark.postgis
def test_pygeoapi_reads_postgis_as_the_viewer(pg_store, demo_city, tmp_path):
    """The PostgreSQL provider's connection is the viewer role's: it reads and cannot write."""
    from pygeoapi.provider.sql import get_engine
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from layers.stores.postgis.roles import role_name
    from services.pygeoapi_config import build_config

    pg_store.layers.write("venues", demo_city.layers["venues"], user="init")
    pg_store.setup_department_roles()
    viewer = pg_store.as_role(role_name(pg_store.schema, "viewer"))
    provider = build_config(viewer, url="http://127.0.0.1:1", folder=tmp_path)["resources"]["venues"]["providers"][0]
    assert provider["name"] == "services.pg_provider.OneMapPostgreSQLProvider"
    assert provider["properties"] == published_fields("venues")
    data = provider["data"]
    engine = get_engine("postgresql+psycopg2", data["host"], data["port"], data["dbname"], data.get("user"),
                        data.get("password"), **provider["options"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == role_name(pg_store.schema, "viewer")
        assert conn.execute(text(f'SELECT count(*) FROM "{pg_store.schema}".venues')).scalar() > 0
        with pytest.raises(ProgrammingError):
            conn.execute(text(f'DELETE FROM "{pg_store.schema}".venues'))
    engine.dispose()


def test_pygeoapi_over_the_geopackage(demo_gpkg, tmp_path):
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        for url in ogc_server(path, "ogc_api_gpkg.log"):
            _check_endpoint(url, store)
            _check_clients(url, store)
            _check_queries(url, store)


def test_what_a_department_marks_internal_is_not_served(demo_gpkg, tmp_path, monkeypatch):
    from layers.stores.geopackage import GeoPackageStore
    from services.pygeoapi_config import build_config

    monkeypatch.setenv("ONEMAP_UNPUBLISHED", "hospitals, venues.address")
    with GeoPackageStore(demo_gpkg) as store:
        config = build_config(store, url="http://127.0.0.1:1", folder=tmp_path)
    assert "hospitals" not in config["resources"] and "population" not in config["resources"]
    served = config["resources"]["venues"]["providers"][0]["properties"]
    assert "address" not in served and "name" in served
    assert not {"source", "version", "layer_version"} & set(served)
    assert "last_inspection" not in config["resources"]["aeds"]["providers"][0]["properties"]

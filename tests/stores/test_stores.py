"""Both stores behind one interface: each test runs on the GeoPackage and on PostGIS."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo.errors import OneMapError
from layers.catalogue import CATALOGUE
from layers.errors import LayerValidationError, UnknownLayerError
from layers.readers import read_vector_file


def _venues(n: int = 3, **extra) -> gpd.GeoDataFrame:
    data = {"name": [f"场馆{i}" for i in range(n)], "venue_kind": ["court"] * n,
            "opening_hours": ["周一至周五 18:00-21:00；周末 8:00-20:00"] * n,
            "capacity": list(range(10, 10 + n))}
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=[Point(114.0 + i * 0.001, 30.0) for i in range(n)], crs=4326)


def _same_geometry(a: gpd.GeoSeries, b: gpd.GeoSeries, tol: float = 1e-7) -> bool:
    return bool(np.all(shapely.equals_exact(a.to_numpy(), b.to_numpy(), tolerance=tol)))


def test_every_layer_kind_round_trips(store, demo_city):
    assert set(demo_city.layers) | {"population"} == set(CATALOGUE)
    for name, frame in demo_city.layers.items():
        store.layers.write(name, frame, user="tester", source="demo")
        back = store.layers.read(name)
        want = frame.sort_values("feature_id").reset_index(drop=True)
        assert list(back["feature_id"]) == list(want["feature_id"]), name
        assert _same_geometry(back.geometry, want.geometry), name
        for f in CATALOGUE[name].fields:
            if f.name in want.columns:
                got, exp = back[f.name], want[f.name]
                if f.type == "float":
                    np.testing.assert_allclose(got.to_numpy(float), exp.to_numpy(float), err_msg=name)
                elif f.type == "bool":
                    assert got.astype(object).tolist() == exp.astype(object).tolist(), (name, f.name)
                else:
                    assert [None if pd.isna(v) else v for v in got] == \
                        [None if pd.isna(v) else v for v in exp], (name, f.name)
    names = back_names = store.layers.read("venues")["name"].tolist()
    assert "青溪体育中心" in back_names and all(isinstance(n, str) for n in names)
    pop = store.layers.read("population")
    assert pop.empty and "population" in pop.columns


def test_population_raster_round_trips(store, demo_city):
    from layers.rasters import population_total

    store.rasters.write("population", demo_city.population_tif, user="tester", source="demo")
    assert store.rasters.read("population") == demo_city.population_tif
    assert population_total(store.rasters.read("population")) == 420_000
    with pytest.raises(UnknownLayerError, match="no_such_raster"):
        store.rasters.read("no_such_raster")


def test_bbox_read_equals_shapely_intersection(store, demo_city):
    for name in ("walk_network", "venues", "boundaries", "school_facilities"):
        frame = demo_city.layers[name]
        store.layers.write(name, frame, source="demo")
        minx, miny, maxx, maxy = frame.total_bounds
        rng = np.random.default_rng(7)
        for _ in range(5):
            x0, x1 = np.sort(rng.uniform(minx, maxx, 2))
            y0, y1 = np.sort(rng.uniform(miny, maxy, 2))
            got = set(store.layers.read(name, bbox=(x0, y0, x1, y1))["feature_id"])
            want = set(frame.loc[frame.intersects(box(x0, y0, x1, y1)), "feature_id"])
            assert got == want, name


def test_read_by_boundary_unit(store, demo_city):
    store.layers.write("boundaries", demo_city.layers["boundaries"], source="demo")
    store.layers.write("venues", demo_city.layers["venues"], source="demo")
    units = demo_city.layers["boundaries"]
    street = units[units["level"] == "street"].iloc[0]
    got = set(store.layers.read("venues", unit=street["code"])["feature_id"])
    venues = demo_city.layers["venues"]
    assert got == set(venues.loc[venues.intersects(street.geometry), "feature_id"])
    with pytest.raises(OneMapError, match="No boundary unit with code 'nowhere'"):
        store.layers.read("venues", unit="nowhere")


def _write_bad_geojson(path, good: gpd.GeoDataFrame) -> None:
    """A real malformed file: a line as a venue, a missing name, bad hours and kind."""
    doc = json.loads(good.to_json())
    doc["features"][0]["properties"]["name"] = None
    doc["features"][1]["geometry"] = {"type": "LineString", "coordinates": [[114, 30], [114.01, 30]]}
    doc["features"][1]["properties"]["venue_kind"] = "racetrack"
    doc["features"][2]["properties"]["opening_hours"] = "有时候开"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_failed_replace_leaves_layer_unchanged(store, demo_city, tmp_path):
    venues = demo_city.layers["venues"]
    store.layers.write("venues", venues, user="sports", source="demo")
    before = store.layers.read("venues")
    history_before = store.history("venues")
    bad = tmp_path / "venues_update.geojson"
    _write_bad_geojson(bad, _venues(3))
    frame = read_vector_file(bad)
    with pytest.raises(LayerValidationError) as info:
        store.layers.write("venues", frame, user="sports")
    report = info.value.report
    assert report.source == "venues_update.geojson"
    found = {(p.row, p.field) for p in report.problems}
    assert {(1, "name"), (2, "geometry"), (2, "venue_kind"), (3, "opening_hours")} <= found
    assert "unchanged" in str(info.value)
    after = store.layers.read("venues")
    pd.testing.assert_frame_equal(pd.DataFrame(after.drop(columns="geometry")),
                                  pd.DataFrame(before.drop(columns="geometry")))
    assert _same_geometry(after.geometry, before.geometry, tol=0)
    pd.testing.assert_frame_equal(store.history("venues"), history_before)


def test_keep_valid_commits_only_good_rows(store):
    frame = _venues(4)
    frame.loc[2, "venue_kind"] = "racetrack"
    result = store.layers.write("venues", frame, keep_valid=True, source="mixed.csv")
    assert result.n_written == 3 and result.report.bad_rows == {3}
    assert sorted(store.layers.read("venues")["name"]) == ["场馆0", "场馆1", "场馆3"]


def test_versions_history_and_old_versions(store):
    v1 = _venues(2, feature_id=["a", "b"])
    store.layers.write("venues", v1, user="alice", source="v1.gpkg")
    store.layers.write("venues", _venues(1, feature_id=["b"], name=["改名"]), mode="upsert",
                      user="bob", source="v2.gpkg")
    store.layers.write("venues", _venues(1, feature_id=["c"]), mode="append", user="carol", source="v3.gpkg")
    now = store.layers.read("venues").set_index("feature_id")
    assert now.loc["b", "name"] == "改名" and now.loc["b", "version"] == 2
    assert now.loc["a", "version"] == 1 and now.loc["c", "layer_version"] == 3
    old = store.layers.read("venues", version=1).set_index("feature_id")
    assert list(old.index) == ["a", "b"] and old.loc["b", "name"] == "场馆1"
    hist = store.history("venues")
    assert hist["changed_by"].tolist() == ["alice", "bob", "carol"]
    assert hist["action"].tolist() == ["replace", "upsert", "append"]
    assert hist["source"].tolist() == ["v1.gpkg", "v2.gpkg", "v3.gpkg"]
    assert hist["n_total"].tolist() == [2, 2, 3]
    assert hist["changed_at"].is_monotonic_increasing
    store.layers.write("venues", _venues(1, feature_id=["z"]), user="dave", source="v4.gpkg")
    assert store.layers.read("venues")["feature_id"].tolist() == ["z"]
    assert sorted(store.layers.read("venues", version=3)["feature_id"]) == ["a", "b", "c"]
    info = {i.name: i for i in store.layers.list()}
    assert info["venues"].n_features == 1 and info["venues"].layer_version == 4
    assert info["venues"].changed_by == "dave"


def test_append_of_stored_id_is_refused(store):
    store.layers.write("venues", _venues(2, feature_id=["a", "b"]))
    with pytest.raises(LayerValidationError, match="already stored"):
        store.layers.write("venues", _venues(1, feature_id=["a"]), mode="append")
    assert len(store.layers.read("venues")) == 2 and len(store.history("venues")) == 1


def test_awkward_text_survives(store):
    awkward = ["O'Brien \"体育\"", "tab\there", "back\\slash \\N", "new\nline", "；，。", "Robert'); DROP TABLE venues;--"]
    frame = _venues(len(awkward), name=awkward, address=awkward)
    store.layers.write("venues", frame)
    back = store.layers.read("venues")
    assert sorted(back["name"]) == sorted(awkward) and sorted(back["address"]) == sorted(awkward)


def test_unknown_layer_name(store):
    with pytest.raises(UnknownLayerError, match="Unknown layer 'venues; DROP TABLE x'.*venues"):
        store.layers.read("venues; DROP TABLE x")
    with pytest.raises(UnknownLayerError):
        store.layers.write("gyms", _venues(1))


def test_bad_bbox(store):
    with pytest.raises(OneMapError, match="bbox"):
        store.layers.read("venues", bbox=(1, 2, 0, 3))

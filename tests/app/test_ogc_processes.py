"""The analyses as OGC API – Processes: the coverage process gives the same per-street figures as CoverageEngine on
the same inputs, synchronously and as a job with status; nearby and planning give the library's answers; bad
inputs get 400 naming the input."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest

from services.booking_api import issue_key
from tests.conftest import ogc_server


def execute(url: str, process: str, inputs: dict, *, asynchronous: bool = False,
            key: str | None = None) -> tuple[int, dict, dict]:
    """POST an execution (a job needs a partner key); (status, body, headers)."""
    headers = {"Content-Type": "application/json", **({"Prefer": "respond-async"} if asynchronous else {}),
               **({"X-API-Key": key} if key else {})}
    req = urllib.request.Request(f"{url}/processes/{process}/execution", method="POST", headers=headers,
                                 data=json.dumps({"inputs": inputs}).encode())
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read() or b"null"), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), {k.lower(): v for k, v in exc.headers.items()}


def _json(url: str, key: str | None = None) -> dict:
    req = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def expected_units(store, layer: str, thresholds: list[float], level: str) -> pd.DataFrame:
    """The figures the app computes: CoverageEngine over the stored layers, per unit."""
    from geo.inputs import engine_from_readers
    from geo.units import assign_units, coverage_by_unit
    from layers.stores.snapshot import current_snapshot

    snap = current_snapshot(store)
    engine = engine_from_readers(snap.vector, snap.raster)
    result = engine.run(thresholds)
    return coverage_by_unit(result, assign_units(engine.demand, snap.vector("boundaries"), level=level), layer=layer)


def check_coverage(url: str, store, key: str) -> None:
    inputs = {"layer": "venues", "thresholds": [300, 500, 1000], "level": "street"}
    status, body, _ = execute(url, "coverage", inputs)
    assert status == 200, body
    got = pd.DataFrame(body["units"])
    want = expected_units(store, "venues", [300.0, 500.0, 1000.0], "street")
    assert len(got) == len(want) and list(got["code"]) == list(want["code"].astype(str))
    for col in ("threshold_m", "residents", "covered", "uncovered", "rate"):
        assert np.allclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-9, equal_nan=True), col
    assert body["gaps"]["type"] == "FeatureCollection" and body["gaps"]["features"]
    # the same request as a job: accepted, its status said, and its result the same figures
    status, _body, headers = execute(url, "coverage", inputs, asynchronous=True, key=key)
    assert status == 201 and headers.get("preference-applied") == "respond-async"
    job = headers["location"]
    deadline = time.monotonic() + 600  # polls a job that normally ends in a second; not a timing check
    while (state := _json(job + "?f=json", key))["status"] in ("accepted", "running"):
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["status"] == "successful" and state["processID"] == "coverage"
    result = _json(job + "/results?f=json", key)
    assert result["units"] == body["units"]


def test_processes_answer_as_the_library_does(demo_gpkg, tmp_path):
    from geo.candidates import candidates_for, planning_problem
    from geo.inputs import engine_from_readers
    from geo.nearby import NearbyFinder
    from geo.planning import solve
    from layers.stores.geopackage import GeoPackageStore
    from layers.stores.snapshot import current_snapshot

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        key = issue_key(store, "体育局系统")[1]
        for url in ogc_server(path, "ogc_processes.log"):
            listed = {p["id"] for p in _json(url + "/processes?f=json")["processes"]}
            assert listed == {"coverage", "nearby", "planning"}
            described = _json(url + "/processes/coverage?f=json")
            assert "async-execute" in described["jobControlOptions"] and "layer" in described["inputs"]
            check_coverage(url, store, key)
            snap = current_snapshot(store)
            engine = engine_from_readers(snap.vector, snap.raster)
            finder = NearbyFinder(engine, {k: snap.vector(k) for k in ("venues", "school_facilities", "greenways")})
            want = finder.query(finder.origin_of_station("health-001"), minutes=15)
            status, body, _ = execute(url, "nearby", {"station": "health-001", "minutes": 15})
            assert status == 200 and [r["feature_id"] for r in body["resources"]] == list(want.table["feature_id"])
            candidates = candidates_for(engine, snap.vector, layer="venues", cutoff=1000.0)
            problem, _ = planning_problem(engine, candidates, cutoff=1000.0, layers=["venues"])
            plan = solve(problem, "mclp", p=3, method="heuristic")
            status, body, _ = execute(url, "planning", {"problem": "mclp", "p": 3, "cutoff": 1000})
            assert status == 200
            assert [f["properties"]["candidate_id"] for f in body["sites"]["features"]] == \
                list(candidates.iloc[plan.sites]["candidate_id"])
            assert body["covered_after"] > body["covered_before"]
            for process, inputs, word in (("coverage", {"layer": "nope"}, "layer"),
                                          ("coverage", {"layer": "venues", "thresholds": [-5]}, "thresholds"),
                                          ("coverage", {"layer": "venues", "slot": "someday"}, "slot"),
                                          ("nearby", {"minutes": 15}, "station"),
                                          ("planning", {"p": 500}, "p")):
                status, body, _ = execute(url, process, inputs)
                assert status == 400 and word in body["description"], (process, body)


@pytest.mark.postgis
def test_the_coverage_process_over_postgis(pg_store, pg_url, demo_city):
    for name in ("venues", "school_facilities", "walk_network", "boundaries", "greenways", "health_stations"):
        pg_store.layers.write(name, demo_city.layers[name], user="init")
    pg_store.rasters.write("population", demo_city.population_tif, user="init")
    pg_store.setup_department_roles()
    key = issue_key(pg_store, "体育局系统")[1]
    env = {**os.environ, "ONEMAP_PG_SCHEMA": pg_store.schema, "DATABASE_URL": pg_url}
    for url in ogc_server(None, "ogc_processes_postgis.log", env, "--role", "viewer"):
        check_coverage(url, pg_store, key)

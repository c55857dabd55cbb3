"""The data exchange server, tried as an attacker would on both stores: unpublished fields cannot be filtered,
sorted or selected by any channel (and the providers cannot even express it), filters too big to parse and
ids the store cannot hold are 4xx, analyses are bounded, and a job is its caller's alone and purged."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest
from starlette.testclient import TestClient

from services.booking_api import issue_key
from services.ogc_api import build_app

#: Fields of venues no other department's system may read: system fields, and one marked internal.
HIDDEN = ("address", "source", "version")


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def served(request, tmp_path, monkeypatch):
    """The server over the demo city on either store, with ``venues.address`` marked internal."""
    monkeypatch.setenv("ONEMAP_UNPUBLISHED", "venues.address")
    if request.param == "gpkg":
        from layers.stores.geopackage import GeoPackageStore

        demo = request.getfixturevalue("demo_gpkg")
        shutil.copyfile(demo, tmp_path / "city.gpkg")
        store = GeoPackageStore(tmp_path / "city.gpkg")
    else:
        store = request.getfixturevalue("city_db")
    app = build_app(store, booking_store=store, folder=tmp_path / "pygeoapi")
    with TestClient(app) as client:
        yield client, store, app
    if request.param == "gpkg":
        store.close()


def _hits(client, **query) -> tuple[int, dict]:
    r = client.get("/collections/venues/items", params={"f": "json", "resulttype": "hits", **query})
    return r.status_code, r.json()


@pytest.mark.parametrize("field", HIDDEN)
def test_an_unpublished_field_cannot_be_filtered_sorted_or_selected_by_any_channel(served, field):
    client, _store, _app = served
    cql2_json = json.dumps({"op": "=", "args": [{"property": field}, "x"]})
    channels = {
        "body of GET": client.request("GET", "/collections/venues/items?f=json&resulttype=hits", content=cql2_json),
        "body with filter-lang": client.request("GET", "/collections/venues/items?f=json&filter-lang=cql-json",
                                                content=cql2_json),
        "query filter": client.get("/collections/venues/items", params={"f": "json", "filter": f"{field} = 'x'"}),
        "sortby": client.get("/collections/venues/items", params={"f": "json", "sortby": field}),
        "properties": client.get("/collections/venues/items", params={"f": "json", "properties": field}),
        "POST": client.post("/collections/venues/items", content=cql2_json),
    }
    for name, r in channels.items():
        assert r.status_code in (400, 405), (name, r.status_code, r.text[:200])
        assert field not in {k for f in r.json().get("features", []) for k in f["properties"]}
    # a published field filters as before (the attack's control)
    status, doc = _hits(client, filter="capacity > 0")
    assert status == 200 and doc["numberMatched"] > 0


def test_the_providers_know_only_published_fields_even_past_the_guard(served):
    """Impossible rather than guarded: the provider itself cannot apply a filter on a hidden field."""
    from pygeoapi.plugin import load_plugin
    from pygeoapi.provider.base import ProviderGenericError
    from pygeofilter.parsers.cql2_json import parse

    _client, store, app = served
    config = yaml_config(app)
    provider = load_plugin("provider", config["resources"]["venues"]["providers"][0])
    assert not set(HIDDEN) & set(provider.get_fields())
    for field in HIDDEN:
        with pytest.raises(ProviderGenericError) as refused:
            provider.query(filterq=parse(json.dumps({"op": "=", "args": [{"property": field}, "x"]})),
                           resulttype="hits")
        assert refused.value.http_status_code == 400
    assert provider.query(filterq=parse(json.dumps({"op": ">", "args": [{"property": "capacity"}, 0]})),
                          resulttype="hits")["numberMatched"] > 0


def yaml_config(app) -> dict:
    import os

    import yaml

    with open(os.environ["PYGEOAPI_CONFIG"], encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _deep_json(n: int) -> str:
    leaf = '{"op": ">", "args": [{"property": "capacity"}, 1]}'
    return '{"op": "not", "args": [' * n + leaf + "]}" * n


@pytest.mark.parametrize("case", ["and x 1000", "not x 1000", "json not x 1000", "json and x 1000", "10 KB text"])
def test_a_filter_too_big_to_parse_is_a_400_not_a_500_nor_a_dropped_connection(served, case):
    client, *_ = served
    if case.startswith("json"):
        doc = _deep_json(1000) if "not" in case else json.dumps({"op": "and", "args": [
            {"op": ">", "args": [{"property": "capacity"}, i]} for i in range(1000)]})
        r = client.request("GET", "/collections/venues/items?f=json", content=doc)
    else:
        text = {"and x 1000": " AND ".join(f"capacity > {i}" for i in range(1000)),
                "not x 1000": "NOT (" * 1000 + "capacity > 1" + ")" * 1000,
                "10 KB text": "name = '" + "篮" * 5000 + "'"}[case]
        r = client.get("/collections/venues/items", params={"f": "json", "filter": text})
    assert r.status_code in (400, 413), (r.status_code, r.text[:200])
    assert r.json()["code"]


@pytest.mark.parametrize("item", ["venue%00x", "%00", "x" * 300, "venue-000'--"])
def test_an_id_the_store_cannot_hold_is_simply_not_found(served, item):
    client, *_ = served
    r = client.get(f"/collections/venues/items/{item}?f=json")
    assert r.status_code == 404, (r.status_code, r.text[:200])


# ----- processes and jobs (the GeoPackage is enough: jobs do not depend on the store) ----------------------------


@pytest.fixture
def processes(demo_gpkg, tmp_path, monkeypatch):
    from layers.stores.geopackage import GeoPackageStore

    shutil.copyfile(demo_gpkg, tmp_path / "city.gpkg")
    store = GeoPackageStore(tmp_path / "city.gpkg")
    keys = {name: issue_key(store, name, per_minute=10_000)[1] for name in ("体育局系统", "学校系统")}
    app = build_app(store, booking_store=store, folder=tmp_path / "pygeoapi")
    with TestClient(app) as client:
        yield client, keys, app
    store.close()


def _run(client, process: str, inputs: dict, *, key: str | None = None, job: bool = False, **body):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    if job:
        headers["Prefer"] = "respond-async"
    return client.post(f"/processes/{process}/execution", json={"inputs": inputs, **body}, headers=headers)


def test_a_coverage_request_with_twenty_thousand_distances_is_refused_at_once(processes):
    client, *_ = processes
    started = time.perf_counter()
    r = _run(client, "coverage", {"layer": "venues", "thresholds": list(range(1, 20_001))})
    assert r.status_code == 413 and r.json()["code"] == "TooLarge"  # 118 KB: over the body limit
    r = _run(client, "coverage", {"layer": "venues", "thresholds": list(range(100, 2100, 20))})
    assert r.status_code == 400 and "thresholds" in r.json()["description"]
    assert time.perf_counter() - started < 10  # refused before any work (a bound, not a timing: 35 s before)
    for bad in ({"layer": "venues", "thresholds": [1e9]}, {"layer": "venues", "thresholds": "x" * 10_000},
                {"problem": "lscp", "target": 7}, {"cutoff": "NaN"}):
        process = "planning" if "problem" in bad or "cutoff" in bad else "coverage"
        assert _run(client, process, bad).status_code == 400, bad
    infinite = client.post("/processes/planning/execution", content=b'{"inputs": {"cutoff": 1e999}}',
                           headers={"Content-Type": "application/json"})
    assert infinite.status_code == 400


def test_a_job_needs_a_key_and_is_its_callers_alone(processes):
    client, keys, _app = processes
    mine, theirs = keys["体育局系统"], keys["学校系统"]
    assert _run(client, "nearby", {"station": "health-001"}, job=True).status_code == 401
    r = _run(client, "nearby", {"station": "health-001"}, key=mine, job=True)
    assert r.status_code == 201
    job = r.headers["location"].rsplit("/jobs/", 1)[1]
    deadline = time.monotonic() + 120
    while client.get(f"/jobs/{job}?f=json", headers={"X-API-Key": mine}).json()["status"] in ("accepted", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.get(f"/jobs/{job}/results?f=json", headers={"X-API-Key": mine}).status_code == 200
    assert [j["jobID"] for j in client.get("/jobs", headers={"X-API-Key": mine}).json()["jobs"]] == [job]
    # another partner, and nobody: not listed, not readable, not deletable
    assert client.get("/jobs", headers={"X-API-Key": theirs}).json()["jobs"] == []
    assert client.get("/jobs").status_code == 401
    for who in ({"X-API-Key": theirs}, {}):
        assert client.get(f"/jobs/{job}?f=json", headers=who).status_code == 404
        assert client.get(f"/jobs/{job}/results?f=json", headers=who).status_code == 404
        assert client.delete(f"/jobs/{job}", headers=who).status_code == 404
    assert client.delete(f"/jobs/{job}", headers={"X-API-Key": mine}).status_code == 200


def test_a_callback_subscriber_is_never_called(processes):
    client, keys, _app = processes
    r = _run(client, "nearby", {"station": "health-001"}, key=keys["体育局系统"], job=True,
             subscriber={"successUri": "http://127.0.0.1:1/steal"})
    assert r.status_code == 400 and "subscriber" in r.json()["description"]


def test_analyses_beyond_the_limit_wait_their_turn(processes, monkeypatch):
    import services.processes as procs

    client, keys, _app = processes
    monkeypatch.setenv("ONEMAP_JOBS_PER_KEY", "1")
    monkeypatch.setenv("ONEMAP_JOBS_MAX", "2")
    release = threading.Event()
    real = procs.NearbyProcessor.execute

    def slow(self, data, outputs=None):
        assert release.wait(60)
        return real(self, data, outputs)

    monkeypatch.setattr(procs.NearbyProcessor, "execute", slow)
    mine = keys["体育局系统"]
    try:
        assert _run(client, "nearby", {"station": "health-001"}, key=mine, job=True).status_code == 201
        busy = _run(client, "nearby", {"station": "health-001"}, key=mine, job=True)
        assert busy.status_code == 429 and int(busy.headers["retry-after"]) >= 1
        assert _run(client, "nearby", {"station": "health-001"}, key=keys["学校系统"], job=True).status_code == 201
        full = _run(client, "nearby", {"station": "health-001"}, key=keys["学校系统"], job=True)
        assert full.status_code == 429  # the server's limit, whoever asks
    finally:
        release.set()


def test_old_jobs_and_their_results_are_purged(processes, monkeypatch):
    import datetime as dt

    client, keys, app = processes
    r = _run(client, "nearby", {"station": "health-001"}, key=keys["体育局系统"])
    assert r.status_code == 200
    job = r.headers["location"].rsplit("/jobs/", 1)[1]
    guard = app.state.jobs
    result = guard.manager.get_job(job).get("location")
    assert result and __import__("os").path.exists(result)
    assert guard.purge() == 0  # within the retention
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=61)
    assert guard.purge(now=later) >= 1
    assert not __import__("os").path.exists(result)
    assert client.get(f"/jobs/{job}?f=json", headers={"X-API-Key": keys["体育局系统"]}).status_code == 404

"""The data exchange server (pygeoapi), tried as a careless client and a hostile one would: query values that
carry '&', non-finite and inverted boxes, unknown parameters and properties, bad CQL2, and a slow layer read
under concurrent load."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from layers.stores.geopackage import GeoPackageStore
from tests.conftest import _free_port

TRICKY = "篮球&羽毛球馆 limit=50"


class SlowStreets:
    """The provider's layer read, with the read of the 4,569 streets held until released."""

    def __init__(self, read) -> None:
        self._read = read
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(self, path: str, name: str):
        if name == "walk_network":
            self.started.set()
            assert self.release.wait(120)
        return self._read(path, name)


@pytest.fixture
def api(demo_gpkg, tmp_path, monkeypatch):
    import uvicorn

    import services.gpkg_provider as provider
    from services.ogc_api import build_app

    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    store = GeoPackageStore(path)
    venues = store.layers.read("venues")
    tricky = venues.iloc[:3].copy()
    tricky["name"] = TRICKY
    store.layers.write("venues", tricky, mode="upsert", user="test")
    slow = SlowStreets(provider.layer_frame)
    monkeypatch.setattr(provider, "layer_frame", slow)
    port = _free_port()
    app = build_app(store, url=f"http://127.0.0.1:{port}", folder=tmp_path / "pygeoapi")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", slow
    slow.release.set()
    server.should_exit = True
    thread.join(10)
    store.close()


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_query_value_with_an_ampersand_round_trips_through_next_links(api):
    url, _slow = api
    first = f"{url}/collections/venues/items?{urllib.parse.urlencode({'name': TRICKY, 'limit': 1, 'f': 'json'})}"
    status, page = _get(first)
    assert status == 200 and page["numberMatched"] == 3
    seen = [f["id"] for f in page["features"]]
    nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    while nxt:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt[0]).query)
        assert query["name"] == [TRICKY] and query["limit"] == ["1"]  # the value stayed one value
        status, page = _get(nxt[0])
        assert status == 200
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
    assert len(seen) == 3 == len(set(seen))  # every feature once, no duplicates


@pytest.mark.parametrize("query", ["bbox=1,2,3,inf", "bbox=1,2,3,nan", "bbox=3,2,1,4", "bbox=1,2,3",
                                   "bbox=-200,0,10,10", "frobnicate=1", "limit=abc", "datetime=yesterday",
                                   "f=html%3Cscript%3E", "sortby=nope", "filter=(((", "filter=nope%3D1",
                                   "datetime=2026-09-01/2026-01-01"])
def test_bad_parameters_get_400(api, query):
    url, _slow = api
    status, body = _get(f"{url}/collections/venues/items?{query}")
    assert status == 400 and body["code"] == "InvalidParameterValue", body


def test_twenty_requests_complete_while_a_slow_layer_read_is_under_way(api):
    url, slow = api
    assert _get(f"{url}/collections/venues/items?limit=5&f=json")[0] == 200  # warm the venues
    done_streets: list[float] = []
    streets = threading.Thread(target=lambda: done_streets.append(
        (_get(f"{url}/collections/walk_network/items?limit=10&f=json")[0], time.monotonic())[1]))
    streets.start()
    assert slow.started.wait(30)
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda k: _get(f"{url}/collections/venues/items?limit=10&offset={k}&f=json"),
                                range(20)))
    took = time.monotonic() - t0
    assert [s for s, _ in results] == [200] * 20
    assert not done_streets and streets.is_alive()  # all twenty answered while the streets were still being read
    slow.release.set()
    streets.join(60)
    assert len(done_streets) == 1
    print(f"20 concurrent venue pages answered in {took:.2f} s while the street read was held")

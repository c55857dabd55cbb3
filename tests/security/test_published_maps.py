"""Published one-map files, requested as an outsider would: with accounts in the store, a map is served only
for a link the app signed for a signed-in account."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from layers.stores.geopackage import GeoPackageStore
from office.accounts import create_account
from tests.conftest import ROOT, _free_port, serve

PASSWORD = "青溪-Edu-2026!"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def guarded_app(demo_gpkg, tmp_path, monkeypatch):
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    with GeoPackageStore(path) as store:
        create_account(store, "li.si", PASSWORD, role="editor", department="education")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ONEMAP_GPKG=str(path), ONEMAP_INSTANCE_DIR=str(tmp_path / "instance"))
    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))  # this process signs as the server does
    published = subprocess.run([sys.executable, "-m", "webmap.one_map"], cwd=ROOT, env=env, capture_output=True,
                               text=True, check=True)
    keys = re.findall(r"/maps/([0-9a-f]{24})\.html", published.stdout)
    assert len(keys) == 2  # Chinese and English
    port = _free_port()
    cmd = [os.path.join(os.path.dirname(sys.executable), "streamlit"), "run", "app.py", "--server.port", str(port),
           "--server.headless", "true"]
    for url in serve(cmd, env, "guarded_app.log", port):
        yield url, keys[0], path


def test_a_published_map_without_a_session_is_refused(guarded_app):
    from webmap.publish import signed_map_url

    url, key, path = guarded_app
    status, body = _get(f"{url}/maps/{key}.html")
    assert status == 403 and b"leaflet" not in body.lower()
    status, body = _get(url + signed_map_url(key, "li.si"))
    assert status == 200 and b"L.map(" in body
    good = signed_map_url(key, "li.si")
    assert _get(url + good[:-4] + "0000")[0] == 403  # a tampered signature
    assert _get(url + good.replace("u=li.si", "u=wang.wu"))[0] == 403  # another name on li.si's signature
    assert _get(url + signed_map_url(key, "nobody"))[0] == 403  # signed, but no such account
    assert _get(url + signed_map_url(key, "li.si", now=0))[0] == 403  # expired long ago
    assert _get(f"{url}/maps/..%2F..%2Fsecret_key.html")[0] in (400, 404)
    assert _get(f"{url}/app/static/maps/{key}.html")[0] == 404  # not under the public static folder
    # the map's vector tiles: the same signed link, or nothing
    tile = "/tiles/{key}/walk_network/14/13380/6759.pbf"
    assert _get(url + tile.format(key=key))[0] == 403
    query = good.split("?", 1)[1]
    status, body = _get(url + tile.format(key=key) + "?" + query)
    assert status == 200 and len(body) > 0
    assert _get(url + tile.format(key="0" * 24) + "?" + query)[0] == 404  # no such map
    assert _get(url + f"/tiles/{key}/walk_network/3/9/9.pbf?" + query)[0] == 404  # outside the tiling
    assert _get(url + f"/tiles/{key}/accounts/14/13380/6759.pbf?" + query)[0] == 404  # not a layer
    with GeoPackageStore(path) as store:
        assert store.accounts.get("li.si") is not None


def test_without_accounts_the_single_user_default_serves_maps(demo_gpkg, tmp_path, monkeypatch):
    from starlette.requests import Request

    from services.published_maps import serve_map
    from webmap.publish import map_dir, publish

    monkeypatch.setenv("ONEMAP_INSTANCE_DIR", str(tmp_path / "instance"))
    import folium

    publish(folium.Map(), "0123456789abcdef01234567")
    assert (map_dir() / "0123456789abcdef01234567.html").exists()
    request = Request({"type": "http", "method": "GET", "path": "/maps/0123456789abcdef01234567.html",
                       "path_params": {"key": "0123456789abcdef01234567"}, "query_string": b"", "headers": []})
    with GeoPackageStore(demo_gpkg) as store:
        assert serve_map(request, store=store).status_code == 200

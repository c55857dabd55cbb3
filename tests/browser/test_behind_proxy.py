"""``onemap serve`` behind the nginx site it writes (``--write-config``), through one port: the app's pages over
the proxied websocket in Chromium (the one map drawn from /maps), the data exchange server on /ogc with links made
from the public address, the booking API on /booking; and a clean stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from services.deploy import standalone_nginx_conf
from tests.browser.conftest import COUNT_FEATURES, MAP_IFRAME, open_page
from tests.conftest import ARTIFACTS, IN_CI, _free_port, stop, wait_healthy

pytestmark = pytest.mark.browser
NGINX = "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def proxied(demo_gpkg, tmp_path_factory):
    if not os.path.exists(NGINX):
        if IN_CI:
            pytest.fail(f"CI must run the proxy test: {NGINX} is missing (make test installs nginx)")
        pytest.skip(f"{NGINX} is not installed (make test installs it)")
    work = tmp_path_factory.mktemp("proxy")
    city = work / "city.gpkg"
    shutil.copyfile(demo_gpkg, city)
    listen, app, ogc, booking = (_free_port() for _ in range(4))
    public = f"http://127.0.0.1:{listen}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ONEMAP_GPKG=str(city), ONEMAP_INSTANCE_DIR=str(work / "instance"))
    onemap = [sys.executable, "-m", "cli.main", "serve", "--app-port", str(app), "--ogc-port", str(ogc),
              "--booking-port", str(booking), "--public-url", public]
    wrote = subprocess.run([*onemap, "--write-config", str(work / "deploy"), "--listen", str(listen)], env=env,
                           capture_output=True, text=True, timeout=120, cwd=work)
    assert wrote.returncode == 0, wrote.stderr
    site, unit = (Path(line) for line in wrote.stdout.split())
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "serve.log", "w")
    # started from a folder that is not the checkout: the settings come from the environment and the package
    server = subprocess.Popen(onemap, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    nginx = subprocess.Popen([NGINX, "-c", str(standalone_nginx_conf(work, site)), "-p", str(work)],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(public, server)
        wait_healthy(f"{public}/ogc", server, path="/conformance?f=json")
        wait_healthy(f"{public}/booking", server, path="/openapi.json")
        yield public, server, unit
    finally:
        stop(nginx)
        stop(server)


def _get(url: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_the_apis_answer_through_one_port(proxied):
    public, _server, unit = proxied
    status, _h, body = _get(f"{public}/ogc/?f=json")
    assert status == 200
    links = [link["href"] for link in json.loads(body)["links"]]
    assert links and all(href.startswith(f"{public}/ogc") for href in links)  # made from the public address
    status, _h, body = _get(f"{public}/ogc/collections/venues/items?f=json&limit=2")
    assert status == 200 and len(json.loads(body)["features"]) == 2
    status, _h, body = _get(f"{public}/booking/openapi.json")
    assert status == 200 and "/bookings" in json.loads(body)["paths"]
    status, _h, body = _get(f"{public}/booking/resources")
    assert status == 200 and "resources" in json.loads(body)
    status, _h, body = _get(f"{public}/booking/bookings", b"{}")
    assert status == 401 and json.loads(body)["code"] == "NoKey"  # the API's own answer, through the proxy
    assert "ExecStart=" in unit.read_text() and " serve " in unit.read_text()


def test_the_app_runs_through_the_proxy(proxied, browser, artifacts):
    public, _server, _unit = proxied
    bundles: list = []
    ours: list = []  # the vendored Leaflet and the map component's files

    def seen(response) -> None:
        path = response.url.removeprefix(public)
        if path.startswith("/static/js/"):
            bundles.append(response)
        elif path.startswith(("/app/static/", "/component/streamlit_folium.st_folium/")):
            ours.append(response)

    page, outside = open_page(browser, public, width=1400, height=1000, on_response=seen)
    page.locator(MAP_IFRAME).first.wait_for(timeout=90_000)  # the page script ran: the websocket is through
    frame = page.locator(MAP_IFRAME).first.element_handle().content_frame()
    frame.wait_for_function(f"({COUNT_FEATURES})() > 0", timeout=90_000)  # the published map, from /maps
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "behind_proxy.png"))
    assert outside == []
    assert page.title().startswith("健身一张图")
    # the front end's bundles came from nginx (compressed, kept by the browser), not from the app's process
    assert bundles and all(r.status == 200 for r in bundles)
    headers = bundles[0].all_headers()
    assert headers["content-type"] == "application/javascript" and headers.get("content-encoding") == "gzip"
    assert "immutable" in headers["cache-control"]
    # the vendored Leaflet came from nginx too (kept an hour), and so does the map component's page (the pages
    # with an interactive map load it)
    assert {r.url.rsplit("/", 1)[1].split(".")[0] for r in ours} >= {"leaflet"}
    assert all(r.status == 200 and r.all_headers().get("cache-control") == "public, max-age=3600" for r in ours), \
        [(r.url, r.status, r.all_headers().get("cache-control")) for r in ours]
    status, headers, body = _get(f"{public}/component/streamlit_folium.st_folium/index.html")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=3600" and b"<script" in body
    page.close()


def test_a_bundle_nginx_cannot_find_is_asked_of_the_app(proxied):
    public, _server, _unit = proxied
    status, headers, body = _get(f"{public}/static/js/no-such-bundle.js")
    # the app's own answer (its page, as Streamlit answers any unknown path): the fallback reached it
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<!doctype html>" in body.lower()


def test_serve_stops_cleanly(demo_gpkg, tmp_path):
    """Its own server (the shared one may still serve other tests): SIGTERM stops all three, exit code 0."""
    city = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, city)
    app, ogc, booking = (_free_port() for _ in range(3))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ONEMAP_GPKG=str(city), ONEMAP_INSTANCE_DIR=str(tmp_path / "instance"))
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--app-port", str(app), "--ogc-port",
                               str(ogc), "--booking-port", str(booking)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{app}", server)
        wait_healthy(f"http://127.0.0.1:{booking}", server, path="/openapi.json")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        for port in (app, ogc, booking):  # nothing left listening
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        stop(server)

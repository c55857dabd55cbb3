"""Shared fixtures.

PostGIS: the URL comes from ``--database-url``, then ``ONEMAP_TEST_DATABASE_URL`` (set by
``make test``), then ``DATABASE_URL``.  Each PostGIS test gets its own schema, dropped
afterwards, so tests run in any order.  Without a server the PostGIS tests skip on a
laptop but fail in CI (``CI`` set).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import i18n  # noqa: F401  (as every entry point does: notes and coded errors read as sentences)

ARTIFACTS = Path(__file__).parent / "artifacts"
#: ``make test`` installs every part (PostGIS, Chromium, fonts), so there nothing may skip: a skip fails.
IN_CI = bool(os.environ.get("CI") or os.environ.get("ONEMAP_REQUIRE_ALL"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under ``make test`` (or CI) a skipped test is a failed one: a missing part must not pass unseen."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where everything is installed (make test / CI): {report.longrepr}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--database-url", default=None, help="PostGIS URL for the postgis tests")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def pg_url(request: pytest.FixtureRequest) -> str:
    url = (request.config.getoption("--database-url") or os.environ.get("ONEMAP_TEST_DATABASE_URL")
           or os.environ.get("DATABASE_URL"))
    reason = None
    if not url:
        reason = "no PostGIS URL (run `make test`, or set ONEMAP_TEST_DATABASE_URL)"
    else:
        from sqlalchemy import create_engine, text

        from layers.stores.postgis import normalize_database_url

        try:
            engine = create_engine(normalize_database_url(url), connect_args={"connect_timeout": 5})
            with engine.connect() as conn:
                conn.execute(text("SELECT postgis_version()"))
            engine.dispose()
        except Exception as exc:  # any failure to reach PostGIS decides skip/fail below
            reason = f"PostGIS at {url} is not usable: {exc}"
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the PostGIS tests: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_schema(pg_url: str):
    """A fresh schema name, dropped after the test."""
    from sqlalchemy import create_engine, text

    from layers.stores.postgis import normalize_database_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    from layers.stores.postgis.roles import drop_department_roles

    engine = create_engine(normalize_database_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        drop_department_roles(conn, schema)
    engine.dispose()


@pytest.fixture
def pg_store(pg_url: str, pg_schema: str):
    from layers.stores.postgis import PostGISStore

    store = PostGISStore(pg_url, schema=pg_schema)
    yield store
    store.close()


@pytest.fixture
def gpkg_store(tmp_path: Path):
    from layers.stores.geopackage import GeoPackageStore

    store = GeoPackageStore(tmp_path / "store.gpkg", create=True)
    yield store
    store.close()


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest):
    """Each store test runs on both stores."""
    name = "gpkg_store" if request.param == "gpkg" else "pg_store"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def demo_city():
    from demo.city import build_demo_city

    return build_demo_city()


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory, demo_city) -> Path:
    """A demo-city GeoPackage built once per test session (treat as read-only)."""
    from demo.city import write_demo_city
    from layers.stores.geopackage import GeoPackageStore

    path = tmp_path_factory.mktemp("demo") / "demo_city.gpkg"
    with GeoPackageStore(path, create=True) as store:
        write_demo_city(store, demo_city)
    return path


@pytest.fixture(scope="session")
def chengdu_osm() -> Path:
    """The real OSM extract beside the checkout (``../shared/data``), beside the checkout it was cloned from
    (a clean clone in a temporary folder), or at ``ONEMAP_CHENGDU_OSM``; never copied into the project."""
    name = Path("shared") / "data" / "chengdu-central.osm"
    places = [Path(os.environ["ONEMAP_CHENGDU_OSM"])] if os.environ.get("ONEMAP_CHENGDU_OSM") else []
    places.append(ROOT.parent / name)
    origin = subprocess.run(["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"], capture_output=True,
                            text=True).stdout.strip()
    if origin and Path(origin).is_dir():
        places.append(Path(origin).resolve().parent / name)
    for path in places:
        if path.exists():
            return path
    if IN_CI:
        pytest.fail(f"CI must test on the real city: the OSM extract is not at {', '.join(map(str, places))}")
    pytest.skip(f"the real OSM extract is not at {', '.join(map(str, places))}")


# ----- PostGIS with the department roles set up -------------------------------------
@pytest.fixture
def city_db(pg_store, demo_city):
    """A PostGIS store with five demo layers and the department roles set up."""
    for name in ("venues", "school_facilities", "boundaries", "greenways", "health_stations"):
        pg_store.layers.write(name, demo_city.layers[name], user="init")
    pg_store.setup_department_roles()
    return pg_store


@pytest.fixture
def login_as(city_db, pg_url):
    """A real login for a department's role (a member of it, with a password), connected over TCP."""
    made, engines = [], []

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from layers.stores.postgis import normalize_database_url
    from layers.stores.postgis.roles import role_name

    def connect(who: str):
        login = f"{city_db.schema}_{who}_login"
        password = secrets.token_urlsafe(16)
        with city_db.engine.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{login}" LOGIN PASSWORD \'{password}\' IN ROLE "{role_name(city_db.schema, who)}"'))
            conn.execute(text(f'ALTER ROLE "{login}" SET role = "{role_name(city_db.schema, who)}"'))
        made.append(login)
        url = make_url(normalize_database_url(pg_url))
        host = url.host or "127.0.0.1"
        if host.startswith("/") or "host" in url.query:
            url = url.set(query={k: v for k, v in url.query.items() if k != "host"})
            host = "127.0.0.1"
        engine = create_engine(url.set(username=login, password=password, host=host))
        engines.append(engine)
        return engine

    yield connect
    for engine in engines:
        engine.dispose()
    with city_db.engine.begin() as conn:
        for login in made:
            conn.execute(text(f'DROP ROLE "{login}"'))


def try_sql(engine, sql: str, **params) -> str:
    """'ok' with the row count, or the database's refusal (SQLSTATE)."""
    import psycopg
    from sqlalchemy import text

    try:
        with engine.begin() as conn:
            n = conn.execute(text(sql), params).rowcount
        return f"ok {n}"
    except Exception as exc:  # noqa: BLE001 — the refusal itself is what the test reads
        orig = getattr(exc, "orig", exc)
        assert isinstance(orig, psycopg.Error), exc
        return orig.sqlstate


# ----- the demo city prepared for analysis -------------------------------------------
ANALYSIS_LAYERS = ("venues", "greenways", "school_facilities", "health_stations")


@dataclass
class DemoAnalysis:
    """The demo city's network, demand and facilities, snapped once."""

    layers: dict
    network: object
    demand: object
    facilities: object
    engine: object


@pytest.fixture(scope="session")
def demo_analysis(demo_city) -> DemoAnalysis:
    from geo.coverage import CoverageEngine
    from geo.demand import demand_from_raster
    from geo.facilities import build_facility_set
    from geo.network import build_walk_network

    net = build_walk_network(demo_city.layers["walk_network"])
    demand = demand_from_raster(demo_city.population_tif, metric_crs=net.crs)
    facilities = build_facility_set({k: demo_city.layers[k] for k in ANALYSIS_LAYERS}, crs=net.crs,
                                    entrances=demo_city.layers["greenway_entrances"])
    return DemoAnalysis(demo_city.layers, net, demand, facilities, CoverageEngine(demand, facilities, network=net))


# ----- the running app -------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120.0, path: str = "/_stcore/health") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + path, timeout=2) as r:
                body = r.read().decode().strip()
                if r.status == 200 and (path != "/_stcore/health" or body == "ok"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the app did not answer at {url} within {timeout:g} s")


def serve(cmd: list[str], env: dict[str, str], log_name: str, port: int, health: str = "/_stcore/health"):
    """Start the app with ``cmd`` (run from the project root) on ``port``; yields its URL, stops it after."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, path=health)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """End a process started in its own session, and its children: SIGTERM, then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def ogc_server(store: Path | str | None, log_name: str, env: dict[str, str] | None = None, *extra: str):
    """The data exchange server (``python -m services.ogc_api``) over ``store`` (a GeoPackage path; ``None`` with
    ``env`` naming ``DATABASE_URL`` for PostGIS) on a free loopback port; yields its URL, stops it after."""
    port = _free_port()
    env = env if env is not None else {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    cmd = [sys.executable, "-m", "services.ogc_api", *(["--store", str(store)] if store else []), "--port", str(port),
           *extra]
    yield from serve(cmd, env, log_name, port, health="/conformance?f=json")


def app_on_copy(demo_gpkg: Path, tmp_path: Path, log_name: str, **env_extra: str):
    """The app (``streamlit run app.py``) on a copy of the demo city that the test may write to, with its own
    instance folder; yields (URL, the copy's path).  ``env_extra`` may use ``{port}``."""
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_gpkg, path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ONEMAP_GPKG=str(path), ONEMAP_INSTANCE_DIR=str(tmp_path / "instance"),
               **{k: v.format(port=port) for k, v in env_extra.items()})
    cmd = [os.path.join(os.path.dirname(sys.executable), "streamlit"), "run", "app.py", "--server.port", str(port),
           "--server.headless", "true"]
    for url in serve(cmd, env, log_name, port):
        yield url, path


@pytest.fixture(scope="session")
def demo_app():
    """`make demo` as a new user runs it (GeoPackage store, demo city), on a free port."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ONEMAP_GPKG")}
    yield from serve(["make", "-s", "demo", f"PORT={port}"], env, "demo_app.log", port)


def shown(element) -> str:
    """What a person reads in a Streamlit message or caption (AppTest gives its Markdown, escapes included)."""
    import re

    return re.sub(r"\\(.)", r"\1", element.value)

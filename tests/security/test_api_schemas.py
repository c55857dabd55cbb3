"""Every HTTP API by property, from its own OpenAPI document (schemathesis), on both stores: whatever a client
sends — valid by the schema or not — the answer is never a 5xx and always what the document says (status,
content type, headers, body schema). Seeded and bounded: at least 500 requests per API and store."""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from services.booking_api import build_booking_app, issue_key
from tests.bookings.helpers import set_up_court

#: Cases per operation and mode: the booking API has 5 operations (at most 5 × 2 × 70 = 700 requests; an operation
#: with few inputs has fewer distinct invalid ones).
BOOKING_EXAMPLES = 70


#: What every answer is held to: no server error, and the status, content type, headers and body the document
#: states. (The data exchange server is not held to refusing every request its document would not generate:
#: OGC API leaves servers free to ignore an unknown language, say, as pygeoapi does.)
CONFORMANCE = (checks.not_a_server_error, openapi_checks.status_code_conformance,
               openapi_checks.content_type_conformance, openapi_checks.response_headers_conformance,
               openapi_checks.response_schema_conformance)


def run_operations(schema, *, examples: int, headers: dict | None = None, skip: tuple[str, ...] = (),
                   only: tuple | None = None) -> int:
    """Call every operation of ``schema`` with ``examples`` generated cases in each mode (valid and not), each
    checked by every schemathesis check (or ``only`` these); the number of requests made."""
    made = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if any(s in operation.label for s in skip):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            calls = []

            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case) -> None:
                calls.append(1)
                case.call_and_validate(headers=headers, checks=list(only) if only else None)

            try:
                check()
            except Unsatisfiable:  # an operation without inputs has no invalid request to send
                assert mode == GenerationMode.NEGATIVE, operation.label
            made += len(calls)
    return made


@pytest.fixture
def booking_api(store, demo_city):
    set_up_court(store, demo_city)
    key = issue_key(store, "接口测试", per_minute=1_000_000)[1]
    return build_booking_app(store), key


def test_the_booking_api_answers_every_request_as_its_openapi_says(booking_api):
    app, key = booking_api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    made = run_operations(schema, examples=BOOKING_EXAMPLES, headers={"X-API-Key": key})
    assert made >= 500, made


#: Cases per operation and mode on the data exchange server (98 operations over 13 collections): the
#: analyses are real runs, so their executions get fewer.
OGC_EXAMPLES, EXECUTION_EXAMPLES = 7, 3


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def exchange(request, tmp_path):
    """The data exchange server over the demo city on either store, with a partner key for its jobs."""
    from services.ogc_api import build_app

    if request.param == "gpkg":
        from layers.stores.geopackage import GeoPackageStore

        shutil.copyfile(request.getfixturevalue("demo_gpkg"), tmp_path / "city.gpkg")
        store = GeoPackageStore(tmp_path / "city.gpkg")
    else:
        store = request.getfixturevalue("city_db")
    key = issue_key(store, "数据交换测试", per_minute=1_000_000)[1]
    yield build_app(store, booking_store=store, folder=tmp_path / "pygeoapi"), key
    if request.param == "gpkg":
        store.close()


def test_the_data_exchange_server_answers_every_request_as_its_openapi_says(exchange, monkeypatch):
    monkeypatch.setenv("ONEMAP_JOBS_MAX", "64")
    monkeypatch.setenv("ONEMAP_JOBS_PER_KEY", "64")
    app, key = exchange
    schema = schemathesis.openapi.from_asgi("/openapi?f=json", app)
    made = run_operations(schema, examples=OGC_EXAMPLES, headers={"X-API-Key": key}, skip=("/execution",),
                          only=CONFORMANCE)
    made += run_operations(schema.include(path_regex="/execution$"), examples=EXECUTION_EXAMPLES,
                           headers={"X-API-Key": key}, only=CONFORMANCE)
    assert made >= 500, made


def test_the_data_exchange_document_resolves_offline(demo_gpkg, tmp_path):
    """A client on an intranet can read every part of the document: no reference leaves the server."""
    import json

    from starlette.testclient import TestClient

    from layers.stores.geopackage import GeoPackageStore
    from services.ogc_api import build_app

    shutil.copyfile(demo_gpkg, tmp_path / "city.gpkg")
    with GeoPackageStore(tmp_path / "city.gpkg") as store, \
            TestClient(build_app(store, folder=tmp_path / "pygeoapi")) as client:
        doc = client.get("/openapi?f=json").json()
        assert client.get("/openapi?f=html").headers["content-type"].startswith("text/html")
    refs = {v for v in json.dumps(doc).split('"$ref": ')[1:]}
    assert refs and not [r for r in refs if not r.startswith('"#/')], [r[:80] for r in refs if not r.startswith('"#/')]
    assert "jsonld" not in doc["components"]["parameters"]["f"]["schema"]["enum"]

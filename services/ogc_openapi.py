"""The data exchange server's OpenAPI document, self-contained and true to what the server answers.

pygeoapi writes its document from the configuration, but points to the OGC's schemas on the internet
(``https://schemas.opengis.net/…``, a GitHub file for ``sortby``): on an intranet no client can resolve
them, and nothing checks the server against them. This module rewrites pygeoapi's document once at
start-up into one a client (and schemathesis, in the tests) can use offline:

- every remote reference becomes a local component written here from OGC API – Features Part 1 and
  Processes Part 1 (landing page, collection, feature, features, exception, process list, job status);
- each operation lists the answers this server adds to pygeoapi's own — 400 for a refused query or
  filter, 401 and 429 for jobs without a key or beyond the limits, 404, 405 for writes, 413 for a body
  over the limit, 503 (with ``Retry-After``) when the store cannot be reached;
- an execution's request body is each process's own inputs (their types, enums and ranges), and its
  answer an object.

Served as JSON at ``/openapi?f=json`` (and ``/openapi`` with ``Accept: application/json``); the HTML
page stays pygeoapi's.
"""

from __future__ import annotations

import copy
from typing import Any

#: Media types a page of the server may come in (``f=json``, ``f=jsonld``, ``f=html``, GeoJSON for features).
PAGE_TYPES = ("application/json", "application/geo+json", "application/ld+json", "text/html")

EXCEPTION = {"type": "object", "required": ["code"],
             "properties": {"code": {"type": "string"}, "type": {"type": "string"},
                            "description": {"type": "string"}}}
LINK = {"type": "object", "required": ["href"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                       "title": {"type": "string"}, "hreflang": {"type": "string"}}}
FEATURE = {"type": "object", "required": ["type"],
           "properties": {"type": {"type": "string", "enum": ["Feature"]},
                          "id": {},
                          "geometry": {"type": "object", "nullable": True},
                          "properties": {"type": "object", "nullable": True},
                          "links": {"type": "array", "items": {"$ref": "#/components/schemas/onemap_link"}}}}
FEATURES = {"type": "object", "required": ["type", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array", "items": {"$ref": "#/components/schemas/onemap_feature"}},
                           "numberMatched": {"type": "integer", "minimum": 0},
                           "numberReturned": {"type": "integer", "minimum": 0},
                           "links": {"type": "array", "items": {"$ref": "#/components/schemas/onemap_link"}}}}
JOB_STATUS = {"type": "object", "required": ["jobID", "status"],
              "properties": {"jobID": {"type": "string"}, "status": {"type": "string"},
                             "processID": {"type": "string"}, "message": {"type": "string", "nullable": True}}}


def _page(description: str, schema: dict | None = None) -> dict:
    """A response that may come as JSON (with ``schema``), JSON-LD, GeoJSON or an HTML page."""
    content = {t: {"schema": {"type": "string"}} if t == "text/html" else {"schema": schema or {"type": "object"}}
               for t in PAGE_TYPES}
    return {"description": description, "content": content}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/onemap_exception"}},
                        "text/html": {"schema": {"type": "string"}}}}


RESPONSES = {
    "onemap_landing": _page("a landing page, the conformance classes or the collections"),
    "onemap_collection": _page("one collection"),
    "onemap_feature": _page("one feature", {"$ref": "#/components/schemas/onemap_feature"}),
    "onemap_features": _page("a page of features", {"$ref": "#/components/schemas/onemap_features"}),
    "onemap_process_list": _page("the processes"),
    "onemap_job": _page("a job's status", {"$ref": "#/components/schemas/onemap_job"}),
    "onemap_invalid": _error("a refused parameter, filter or input"),
    "onemap_not_found": _error("no such collection, feature, process or job (of this key)"),
    "onemap_server_error": _error("a server error"),
    "onemap_no_key": _error("a job needs the partner's key (X-API-Key)"),
    "onemap_not_allowed": _error("the layers are read-only here"),
    "onemap_too_large": _error("a body over the limit"),
    "onemap_busy": _error("beyond the limit of requests or analyses at once; see Retry-After"),
    "onemap_unavailable": _error("the store cannot be reached just now; see Retry-After"),
}
#: A remote reference of pygeoapi's document (by the last part of its address) → the local component.
REMOTE = {
    "responses/LandingPage": "#/components/responses/onemap_landing",
    "responses/Collection": "#/components/responses/onemap_collection",
    "responses/Feature": "#/components/responses/onemap_feature",
    "responses/Features": "#/components/responses/onemap_features",
    "responses/InvalidParameter": "#/components/responses/onemap_invalid",
    "responses/NotFound": "#/components/responses/onemap_not_found",
    "responses/NotFound.yaml": "#/components/responses/onemap_not_found",
    "responses/ServerError": "#/components/responses/onemap_server_error",
    "responses/ServerError.yaml": "#/components/responses/onemap_server_error",
    "responses/ProcessList.yaml": "#/components/responses/onemap_process_list",
    "responses/ExecuteAsync.yaml": "#/components/responses/onemap_job",
    "schemas/exception.yaml": "#/components/schemas/onemap_exception",
    "schemas/execute.yaml": "#/components/schemas/onemap_execute",
    "schemas/link": "#/components/schemas/onemap_link",
    "parameters/datetime": "#/components/parameters/onemap_datetime",
    "parameters/featureId": "#/components/parameters/onemap_feature_id",
    "parameters/sortby.yaml": "#/components/parameters/onemap_sortby",
}
PARAMETERS = {
    "onemap_datetime": {"name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
                        "description": "an instant or interval (RFC 3339), e.g. 2026-09-01T00:00:00Z/..",
                        "schema": {"type": "string"}},
    "onemap_feature_id": {"name": "featureId", "in": "path", "required": True, "description": "a feature's id",
                          "schema": {"type": "string"}},
    "onemap_sortby": {"name": "sortby", "in": "query", "required": False, "style": "form", "explode": False,
                      "description": "queryables to sort by, each with an optional + or -",
                      "schema": {"type": "array", "items": {"type": "string"}}},
}


def _local(node: Any) -> Any:
    """``node`` with every remote reference replaced by its local component."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("http"):
            tail = ref.split("#/components/")[-1] if "#/components/" in ref else "/".join(ref.split("/")[-2:])
            local = REMOTE.get(tail)
            if local is None:
                raise ValueError(f"no local component for {ref}")
            return {"$ref": local}
        return {k: _local(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_local(v) for v in node]
    return node


def _extra(path: str, method: str) -> dict[str, str]:
    """The answers this server adds to an operation (status → local response)."""
    out = {"400": "onemap_invalid", "404": "onemap_not_found", "503": "onemap_unavailable"}
    if path.startswith("/collections"):
        out |= {"405": "onemap_not_allowed", "413": "onemap_too_large"}
    if path.startswith("/processes") and method == "post":
        out |= {"401": "onemap_no_key", "413": "onemap_too_large", "429": "onemap_busy"}
    if path.startswith("/jobs"):
        out |= {"401": "onemap_no_key"}
    return out


def local_openapi(document: dict, processes: dict[str, dict]) -> dict:
    """pygeoapi's ``document`` made self-contained and true to this server (module docstring); ``processes``
    maps a process id to its description (``inputs`` as JSON schemas)."""
    doc = _local(copy.deepcopy(document))
    components = doc.setdefault("components", {})
    components.setdefault("responses", {}).update(copy.deepcopy(RESPONSES))
    components.setdefault("parameters", {}).update(copy.deepcopy(PARAMETERS))
    for response in components["responses"].values():  # pygeoapi's own: as JSON schema or an HTML page too
        content = response.get("content", {})
        if "application/json" in content:
            for kind in ("application/schema+json", "text/html"):
                content.setdefault(kind, {"schema": {"type": "string"}} if kind == "text/html"
                                   else copy.deepcopy(content["application/json"]))
    fmt = components["parameters"].get("f", {}).get("schema", {})
    if "enum" in fmt:  # JSON-LD is not offered (the server refuses it)
        fmt["enum"] = [v for v in fmt["enum"] if v != "jsonld"]
    components.setdefault("schemas", {}).update({
        "onemap_exception": EXCEPTION, "onemap_link": LINK, "onemap_feature": FEATURE,
        "onemap_features": FEATURES, "onemap_job": JOB_STATUS,
        "onemap_execute": {"type": "object", "properties": {"inputs": {"type": "object"}}},
        # pygeoapi describes queryables as {"queryables": […]}; it answers (as OGC API – Features Part 3 says) with
        # a JSON Schema of the properties
        "queryables": {"type": "object", "required": ["properties"],
                       "properties": {"properties": {"type": "object"}, "type": {"type": "string"},
                                      "title": {"type": "string"}}}})
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict) or method not in ("get", "post", "put", "delete", "options", "head"):
                continue
            responses = op.setdefault("responses", {})
            for status, name in _extra(path, method).items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
            if path.startswith("/jobs") and method == "get":
                op.setdefault("parameters", []).append({"name": "X-API-Key", "in": "header", "required": False,
                                                        "schema": {"type": "string"}})
            pid = path.split("/")[2] if path.startswith("/processes/") and path.endswith("/execution") else None
            if pid in processes:
                _execution(op, processes[pid])
            if path.startswith("/jobs/") and method == "delete":
                responses["200"] = {"$ref": "#/components/responses/onemap_job"}
    return doc


def _execution(op: dict, process: dict) -> None:
    """An execution's body: the process's own inputs; its answer: an object (or the job's status)."""
    inputs = {name: spec.get("schema", {}) for name, spec in process.get("inputs", {}).items()}
    required = [name for name, spec in process.get("inputs", {}).items() if spec.get("minOccurs", 0) > 0]
    body = {"type": "object", "required": ["inputs"],
            "properties": {"inputs": {"type": "object", "properties": inputs, "required": required}}}
    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    op["responses"]["200"] = {"description": "the process's outputs",
                              "content": {"application/json": {"schema": {"type": "object"}}}}
    op.setdefault("parameters", []).append({"name": "X-API-Key", "in": "header", "required": False,
                                            "schema": {"type": "string"}})


class OpenAPIDocument:
    """ASGI middleware answering ``/openapi`` in JSON with the local document (HTML stays pygeoapi's)."""

    def __init__(self, app, document: dict) -> None:
        import json

        self.app = app
        self.raw = json.dumps(document, ensure_ascii=False).encode("utf-8")

    async def __call__(self, scope, receive, send) -> None:
        """The document, or the rest of the server."""
        if scope["type"] == "http" and scope["path"].rstrip("/") == "/openapi" and scope["method"] in ("GET", "HEAD"):
            from starlette.datastructures import Headers, QueryParams

            f = QueryParams(scope.get("query_string", b"").decode("latin-1")).get("f")
            html = f == "html" or (f is None and "text/html" in Headers(scope=scope).get("accept", ""))
            if not html:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/vnd.oai.openapi+json;version=3.0"),
                                        (b"content-length", str(len(self.raw)).encode())]})
                await send({"type": "http.response.body", "body": self.raw if scope["method"] == "GET" else b""})
                return
        await self.app(scope, receive, send)


__all__ = ["local_openapi", "OpenAPIDocument", "RESPONSES", "REMOTE"]

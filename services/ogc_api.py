"""Read-only OGC API – Features over the stored layers, for QGIS and other departments' systems.

    python -m services.ogc_api --port 5080                      # the configured store (DATABASE_URL / GeoPackage)
    python -m services.ogc_api --store postgresql://… --role viewer

Serves OGC API – Features – Part 1 (Core, GeoJSON): the landing page, ``/conformance``,
``/collections`` (one per stored vector layer, with its extent), ``/collections/{id}/items``
(``limit`` with its default and maximum stated in ``/api``, ``offset``, ``bbox`` in
longitude/latitude pushed down to the store's spatial index, ``datetime`` on the features'
``updated_at``, paged with ``next`` links whose query is URL-encoded) and
``/collections/{id}/items/{featureId}``.  A parameter the API does not define, or a bbox
that is not four finite numbers with min ≤ max, gets 400, as Core asks.  Handlers are plain
functions that Starlette runs in its thread pool, so a slow read of one layer never holds up
another client.  Only GET and HEAD are answered; any write method gets 405.  On PostGIS,
``--role viewer`` reads through the database's read-only role, so even a bug here could not
change a layer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import threading
from datetime import datetime, timezone
from urllib.parse import urlencode

import anyio
import pandas as pd
import shapely
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from geo.errors import OneMapError
from layers.catalogue import CATALOGUE
from layers.logging_config import configure_logging
from layers.stores import Store, open_store
from services.booking_api import build_booking_app

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
log = logging.getLogger(__name__)
#: Query parameters of /items; any other is refused with 400.
ITEMS_PARAMETERS = frozenset({"limit", "offset", "bbox", "datetime", "f"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
GEOJSON = "application/geo+json"


class _Json(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")


def _error(status: int, code: str, text: str) -> Response:
    return _Json({"code": code, "description": text}, status_code=status)


class LayerCache:
    """Layers read once per layer version (the store is asked which versions are current).

    Each layer has its own lock, so reading the streets does not hold up a read of the venues.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._frames: dict[tuple[str, int], object] = {}

    def versions(self) -> dict[str, int]:
        """Current version of every stored vector layer."""
        return {i.name: i.layer_version for i in self.store.layers.list() if i.kind == "vector" and i.name in CATALOGUE}

    def frame(self, name: str, version: int):
        """The layer at ``version`` (read once)."""
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            key = (name, version)
            if key not in self._frames:
                frame = self.store.layers.read(name)
                with self._guard:
                    self._frames = {k: v for k, v in self._frames.items() if k[0] != name}
                    self._frames[key] = frame
            return self._frames[key]


def queryable_fields(name: str) -> list[str]:
    """The fields of a layer a client may filter on (``?name=…``): every catalogue field."""
    return [f.name for f in CATALOGUE[name].all_fields]


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minLon,minLat,maxLon,maxLat`` as four finite numbers with min ≤ max (``ValueError`` otherwise)."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("bbox takes four numbers")
    x0, y0, x1, y1 = (float(v) for v in parts)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 > x1 or y0 > y1:
        raise ValueError("bbox must be finite with min ≤ max")
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise ValueError("bbox is longitude/latitude in degrees")
    return x0, y0, x1, y1


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """An instant or an interval (``a/b``, ``../b``, ``a/..``) as UTC bounds (``ValueError`` otherwise)."""
    def one(v: str) -> datetime | None:
        if v in ("..", ""):
            return None
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)

    if "/" in text:
        a, b = text.split("/", 1)
        lo, hi = one(a), one(b)
        if lo is None and hi is None:
            raise ValueError("an interval needs one end")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError("the interval ends before it starts")
        return lo, hi
    t = one(text)
    if t is None:
        raise ValueError("an instant is needed")
    return t, t


def _feature(row: dict, geometry) -> dict:
    props = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            props[k] = None
        elif isinstance(v, pd.Timestamp):
            props[k] = v.isoformat()
        elif hasattr(v, "item"):
            props[k] = v.item()
        else:
            props[k] = v
    return {"type": "Feature", "id": props.get("feature_id"), "properties": props,
            "geometry": None if geometry is None else json.loads(shapely.to_geojson(geometry))}


def http_threads() -> int:
    """Worker threads for blocking handlers: ``ONEMAP_HTTP_THREADS``, else 16."""
    try:
        return max(1, int(os.environ.get("ONEMAP_HTTP_THREADS", "16")))
    except ValueError:
        return 16


def build_app(store: Store, *, title: str = "健身一张图 · Fitness One Map",
              booking_store: Store | None = None) -> Starlette:
    """The OGC API – Features application over ``store`` (read-only)."""
    cache = LayerCache(store)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def collection_doc(request: Request, name: str, version: int) -> dict:
        spec = CATALOGUE[name]
        frame = cache.frame(name, version)
        bbox = [float(v) for v in frame.total_bounds] if len(frame) else [-180.0, -90.0, 180.0, 90.0]
        url = f"{base(request)}/collections/{name}"
        return {"id": name, "title": spec.label_zh, "description": f"{spec.label_en} (layer version {version})",
                "itemType": "feature", "crs": [CRS84],
                "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
                "links": [{"href": url, "rel": "self", "type": "application/json", "title": name},
                          {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": spec.label_zh},
                          {"href": f"{url}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                           "type": "application/schema+json", "title": "queryables"}]}

    def landing(request: Request) -> Response:
        b = base(request)
        return _Json({"title": title, "description": "Read-only OGC API – Features of the alliance's layers.",
                      "links": [{"href": f"{b}/", "rel": "self", "type": "application/json"},
                                {"href": f"{b}/api", "rel": "service-desc",
                                 "type": "application/vnd.oai.openapi+json;version=3.0"},
                                {"href": f"{b}/conformance", "rel": "conformance", "type": "application/json"},
                                {"href": f"{b}/collections", "rel": "data", "type": "application/json"}]})

    def conformance(request: Request) -> Response:
        return _Json({"conformsTo": CONFORMANCE})

    def api(request: Request) -> Response:
        paths = {"/": {"get": {"summary": "Landing page", "responses": {"200": {"description": "ok"}}}},
                 "/conformance": {"get": {"summary": "Conformance", "responses": {"200": {"description": "ok"}}}},
                 "/collections": {"get": {"summary": "Layers", "responses": {"200": {"description": "ok"}}}}}
        for name in cache.versions():
            paths[f"/collections/{name}/items"] = {"get": {
                "summary": f"Features of {name}", "parameters": [
                    {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
                    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
                    {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                     "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
                    {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "GeoJSON FeatureCollection"}}}}
        return _Json({"openapi": "3.0.3", "info": {"title": title, "version": "1.0"}, "paths": paths})

    def collections(request: Request) -> Response:
        docs = [collection_doc(request, n, v) for n, v in sorted(cache.versions().items())]
        return _Json({"collections": docs,
                      "links": [{"href": f"{base(request)}/collections", "rel": "self", "type": "application/json"}]})

    def lookup(request: Request) -> tuple[str, int] | Response:
        name = request.path_params["collection"]
        versions = cache.versions()
        if name not in versions:
            return _error(404, "NotFound", f"No collection {name!r}; there are {', '.join(sorted(versions))}.")
        return name, versions[name]

    def collection(request: Request) -> Response:
        got = lookup(request)
        return got if isinstance(got, Response) else _Json(collection_doc(request, *got))

    def items(request: Request) -> Response:
        got = lookup(request)
        if isinstance(got, Response):
            return got
        name, version = got
        q = request.query_params
        fields = queryable_fields(name)
        unknown = sorted(set(q.keys()) - ITEMS_PARAMETERS - set(fields))
        if unknown:
            return _error(400, "InvalidParameterValue", f"Unknown parameter(s) {', '.join(unknown)}; this API "
                          f"takes {', '.join(sorted(ITEMS_PARAMETERS))} and the queryables of {name} "
                          f"({', '.join(fields)}).")
        try:
            limit = int(q.get("limit", DEFAULT_LIMIT))
            offset = int(q.get("offset", 0))
            if not (1 <= limit) or offset < 0:
                raise ValueError
        except ValueError:
            return _error(400, "InvalidParameterValue", "limit must be a positive integer and offset ≥ 0.")
        limit = min(limit, MAX_LIMIT)
        if q.get("f", "json") not in ("json", "geojson"):
            return _error(400, "InvalidParameterValue", "f takes json or geojson.")
        if "bbox" in q:
            try:
                bbox = parse_bbox(q["bbox"])
            except ValueError as exc:
                return _error(400, "InvalidParameterValue",
                              f"bbox {q['bbox']!r}: {exc}; write minLon,minLat,maxLon,maxLat in degrees.")
            frame = store.layers.read(name, bbox=bbox)  # the store's spatial index (GiST, R-tree)
        else:
            frame = cache.frame(name, version)
        if "datetime" in q:
            try:
                lo, hi = parse_datetime(q["datetime"])
            except ValueError as exc:
                return _error(400, "InvalidParameterValue", f"datetime {q['datetime']!r}: {exc} (RFC 3339, "
                              "e.g. 2026-09-01T00:00:00Z or 2026-09-01T00:00:00Z/..).")
            when = frame["updated_at"]
            keep = when.notna()
            if lo is not None:
                keep &= when >= lo
            if hi is not None:
                keep &= when <= hi
            frame = frame[keep]
        for key in fields:  # property filters: equality on the value as text
            if key in q:
                frame = frame[frame[key].astype(str) == q[key]]
        page = frame.iloc[offset:offset + limit]
        attrs = page.drop(columns="geometry").to_dict("records")
        feats = [_feature(r, g) for r, g in zip(attrs, page.geometry.to_numpy())]
        url = f"{base(request)}/collections/{name}/items"
        keep_params = [(k, v) for k, v in q.multi_items() if k not in ("offset", "limit")]

        def link(at: int) -> str:
            return f"{url}?{urlencode([('offset', at), ('limit', limit), *keep_params])}"

        links = [{"href": link(offset), "rel": "self", "type": GEOJSON}]
        if offset + limit < len(frame):
            links.append({"href": link(offset + limit), "rel": "next", "type": GEOJSON})
        if offset > 0:
            links.append({"href": link(max(offset - limit, 0)), "rel": "prev", "type": GEOJSON})
        body = {"type": "FeatureCollection", "features": feats, "numberMatched": int(len(frame)),
                "numberReturned": len(feats), "timeStamp": datetime.now(timezone.utc).isoformat(), "links": links}
        return _Json(body, media_type=GEOJSON)

    def queryables(request: Request) -> Response:
        got = lookup(request)
        if isinstance(got, Response):
            return got
        name, _version = got
        types = {"text": "string", "hours": "string", "int": "integer", "float": "number", "bool": "boolean",
                 "datetime": "string", "date": "string"}
        props = {f.name: {"title": f.label_zh, "description": f.label_en, "type": types[f.type]}
                 for f in CATALOGUE[name].all_fields}
        props["geometry"] = {"$ref": "https://geojson.org/schema/Geometry.json"}
        return _Json({"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "object",
                      "$id": f"{base(request)}/collections/{name}/queryables", "title": CATALOGUE[name].label_zh,
                      "properties": props}, media_type="application/schema+json")

    def item(request: Request) -> Response:
        got = lookup(request)
        if isinstance(got, Response):
            return got
        name, version = got
        frame = cache.frame(name, version)
        hit = frame[frame["feature_id"] == request.path_params["feature_id"]]
        if hit.empty:
            return _error(404, "NotFound", f"{name} has no feature {request.path_params['feature_id']!r}.")
        attrs = hit.drop(columns="geometry").to_dict("records")[0]
        return _Json(_feature(attrs, hit.geometry.iloc[0]), media_type=GEOJSON)

    read = ["GET", "HEAD"]
    booking = [Mount("/booking", app=build_booking_app(booking_store))] if booking_store is not None else []

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # Store reads and bookings run in worker threads; fewer threads than Starlette's 40 keep the
        # GIL from queueing them behind each other (a request's tail), and stay within the store's pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = http_threads()
        yield

    return Starlette(lifespan=lifespan, routes=[*booking,
        Route("/", landing, methods=read), Route("/conformance", conformance, methods=read),
        Route("/api", api, methods=read), Route("/collections", collections, methods=read),
        Route("/collections/{collection}", collection, methods=read),
        Route("/collections/{collection}/items", items, methods=read),
        Route("/collections/{collection}/queryables", queryables, methods=read),
        Route("/collections/{collection}/items/{feature_id}", item, methods=read),
    ])


def main(argv: list[str] | None = None) -> int:
    """Start the read-only server (loopback by default)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m services.ogc_api", description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: the configured store)")
    parser.add_argument("--role", choices=("viewer",), help="on PostGIS, read through the department viewer role")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=5080)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        store = open_store(args.store)
        bookings = store  # bookings are written through the app's own connection
        if args.role:
            from layers.stores.postgis.roles import role_name

            if not hasattr(store, "as_role"):
                raise OneMapError("--role needs a PostGIS store.")
            store = store.as_role(role_name(store.schema, args.role))
    except OneMapError as exc:
        print(f"error: {exc}")
        return 4
    print(f"OGC API – Features (read-only) over {store.description} on http://{args.host}:{args.port}/; "
          f"the booking API on /booking/ (OpenAPI at /booking/openapi.json)")
    uvicorn.run(build_app(store, booking_store=bookings), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The one map's data exchange server: pygeoapi (OGC API – Features, HTML pages, CRS, CQL2) over the stored
layers, with the booking API beside it.

    python -m services.ogc_api --port 5080                      # the configured store (DATABASE_URL / GeoPackage)
    python -m services.ogc_api --store postgresql://… --role viewer

pygeoapi's configuration is made from the layer catalogue at start-up
(:mod:`services.pygeoapi_config`): one collection per published stored layer, Chinese and
English titles, extents, queryables, ``crs``/``bbox-crs`` in CRS84, EPSG:4326, CGCS2000
(EPSG:4490) and the city's Gauss–Krüger zone, ``sortby``, property filters, CQL2 text
(``filter=venue_kind='pool' AND capacity>500``) and the paging limits stated in ``/openapi``.
Only reads are answered on ``/collections``: any write method gets 405 before pygeoapi sees
it. On PostGIS the features are read through the database's read-only viewer role, so even a
bug here could not change a layer. A layer stored after start-up is served after a restart.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import anyio
import yaml
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.middleware import Middleware
from starlette.routing import Mount

import i18n  # noqa: F401  (the edge: every error and note below reads as a sentence)
from config.log_setup import configure_logging
from config.settings import settings
from geo.errors import OneMapError
from layers.stores import Store, open_store
from services.booking_api import build_booking_app
from services.jobs import JobGuard
from services.ogc_openapi import OpenAPIDocument, local_openapi
from services.outage import RETRY_AFTER, OutageGuard
from services.processes import DESCRIPTIONS
from services.provider_errors import DropOutageTracebacks
from services.pygeoapi_config import build_config
from services.query_checks import MAX_FILTER_BODY, body_filter_problem, items_problem

log = logging.getLogger(__name__)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def http_threads() -> int:
    """Worker threads for blocking handlers: the ``http_threads`` setting (16)."""
    return settings().http_threads


_ITEMS = re.compile(r"^/collections/([^/]+)/items(/[^/]*)?/?$")


class CollectionGuard:
    """What pygeoapi lets through and Core refuses, answered before it (pure ASGI, so a body is read once,
    bounded): 405 for any write to ``/collections`` (the layers change only through the app and its
    checks); 400 for an ``/items`` parameter the API does not define, a bbox that is not finite with
    min ≤ max (and within ±180/±90 in longitude/latitude), a ``datetime`` that is not RFC 3339, and a
    filter — in the query or as a CQL2-JSON body — that is too big or names a field that is not a
    queryable (:mod:`services.query_checks`); 413 for a body over the limit; and 400 for ``f=jsonld``
    anywhere (pygeoapi 0.21 writes it broken for an empty page)."""

    def __init__(self, app, queryables: dict[str, list[str]]) -> None:
        self.app = app
        self.queryables = queryables

    async def __call__(self, scope, receive, send) -> None:
        """Refuse what must be refused, pass the rest to pygeoapi."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if QueryParams(scope.get("query_string", b"").decode("latin-1")).get("f") == "jsonld":
            await _send(send, 400, "InvalidParameterValue", "f=jsonld is not offered here (pygeoapi 0.21 writes "
                                                            "broken JSON-LD for some pages); use f=json or f=html.")
            return
        if path.startswith("/collections") and method not in READ_METHODS:
            await _send(send, 405, "MethodNotAllowed", "The layers are read-only here; each department edits its "
                                                       "own layer in the one map.", {"allow": "GET, HEAD, OPTIONS"})
            return
        hit = _ITEMS.match(path)
        if not hit or hit.group(1) not in self.queryables:
            await self.app(scope, receive, send)
            return
        queryables = self.queryables[hit.group(1)]
        problem = items_problem(QueryParams(scope.get("query_string", b"").decode("latin-1")), queryables)
        body = await _read_bounded(receive, MAX_FILTER_BODY)
        if body is None:
            await _send(send, 413, "InvalidParameterValue", f"A request body may have at most {MAX_FILTER_BODY} "
                                                            "bytes.")
            return
        if problem is None and body.strip():
            problem = body_filter_problem(body, queryables)
        if problem:
            await _send(send, 400, "InvalidParameterValue", problem)
            return
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class RetryAfter:
    """Every 503 the server answers says when to try again (pygeoapi's own errors carry no ``Retry-After``)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Add ``Retry-After`` to a 503 that lacks one."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def stamped(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 503:
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"retry-after" for k, _ in headers):
                    headers.append((b"retry-after", str(RETRY_AFTER).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)


async def _read_bounded(receive, limit: int) -> bytes | None:
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _send(send, status: int, code: str, text: str, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps({"code": code, "description": text}, ensure_ascii=False).encode("utf-8")
    pairs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": raw})


warnings.filterwarnings("ignore", message=r"Table '.*' specifies columns 'fid' as primary_key")


def pygeoapi_app(config: dict, folder: Path):
    """pygeoapi's Starlette application for ``config`` (its files written under ``folder``).

    pygeoapi reads its configuration when its module is imported; a second call in the same
    process (tests) reloads the module with the new files.
    """
    from pygeoapi.openapi import get_oas

    folder.mkdir(parents=True, exist_ok=True)
    config_path, openapi_path = folder / "pygeoapi-config.yml", folder / "pygeoapi-openapi.json"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.environ["PYGEOAPI_CONFIG"], os.environ["PYGEOAPI_OPENAPI"] = str(config_path), str(openapi_path)
    openapi_path.write_text(json.dumps(get_oas(config, fail_on_invalid_collection=False), ensure_ascii=False,
                                       default=str), encoding="utf-8")
    if "pygeoapi.starlette_app" in sys.modules:
        module = importlib.reload(sys.modules["pygeoapi.starlette_app"])
    else:
        module = importlib.import_module("pygeoapi.starlette_app")
    module.APP.debug = False  # no tracebacks to clients
    logging.getLogger("pygeoapi").setLevel(logging.ERROR)  # its per-request chatter (absent offsets, locales)
    for name in ("pygeoapi", "pygeoapi.api"):
        logging.getLogger(name).addFilter(DropOutageTracebacks())
    return module.APP


def build_app(store: Store, *, booking_store: Store | None = None, url: str = "http://127.0.0.1:5080",
              folder: Path | None = None) -> Starlette:
    """The data exchange server over ``store`` (read-only), answering at ``url``; with ``booking_store``, the
    booking API on ``/booking``."""
    if folder is None:  # a private folder (0700: the configuration holds the database login), removed at exit
        folder = Path(tempfile.mkdtemp(prefix="onemap-pygeoapi-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    folder = Path(folder)
    config = build_config(store, url=url.rstrip("/"), folder=folder)
    features = pygeoapi_app(config, folder)
    booking = [Mount("/booking", app=build_booking_app(booking_store))] if booking_store is not None else []

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # Store reads and bookings run in worker threads; fewer threads than Starlette's 40 keep the
        # GIL from queueing them behind each other (a request's tail), and stay within the store's pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = http_threads()
        yield

    queryables = {name: list(r["providers"][0]["properties"]) for name, r in config["resources"].items()
                  if r["type"] == "collection"}
    jobs = JobGuard(features, config=config, folder=folder, keys=booking_store or store)
    document = local_openapi(json.loads((folder / "pygeoapi-openapi.json").read_text(encoding="utf-8")),
                             DESCRIPTIONS)
    app = Starlette(lifespan=lifespan, middleware=[Middleware(OutageGuard, where="data exchange server"),
                                                   Middleware(RetryAfter),
                                                   Middleware(OpenAPIDocument, document=document),
                                                   Middleware(CollectionGuard, queryables=queryables)],
                    routes=[*booking, Mount("/", app=jobs)])
    app.state.jobs = jobs  # its purge, for the command line and the tests
    return app


def main(argv: list[str] | None = None) -> int:
    """Start the server (loopback by default)."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m services.ogc_api", description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL (default: the configured store)")
    parser.add_argument("--role", choices=("viewer",), help="on PostGIS, read through the department viewer role")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=5080)
    parser.add_argument("--url", help="the address clients use (default: http://HOST:PORT); links are made from it")
    parser.add_argument("--no-booking", action="store_true",
                        help="leave the booking API out (onemap serve runs it on its own, with several workers)")
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
        url = args.url or f"http://{args.host}:{args.port}"
        app = build_app(store, booking_store=None if args.no_booking else bookings, url=url)
    except OneMapError as exc:
        print(f"error: {exc}")
        return 4
    print(f"OGC API (pygeoapi, read-only) over {store.description} on {url}/"
          + ("" if args.no_booking else "; the booking API on /booking/ (OpenAPI at /booking/openapi.json)"))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

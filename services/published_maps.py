"""``GET /maps/<key>.html``: the published one-map files, and ``GET /tiles/<key>/<layer>/<z>/<x>/<y>.pbf``: the
vector tiles their big layers are drawn from, behind the app's sign-in.

While the store has accounts, a map is answered only for a link the app signed for a
signed-in account that still exists (:func:`webmap.publish.signed_map_url`); any other
request gets 403, and every refusal is logged.  The single-user default (no accounts)
serves them plainly.
"""

from __future__ import annotations

import functools
import logging

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from geo.errors import OneMapError
from layers.errors import is_outage
from layers.stores import Store, open_store
from office.accounts import has_accounts
from services.outage import OUTAGES, retry_headers
from webmap.publish import link_is_valid, published_path

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _store() -> Store:
    return open_store()


def _refused(request: Request, key: str, store: Store) -> Response | None:
    """403 unless the request carries a valid signed link for map ``key`` (while the store has accounts)."""
    if not has_accounts(store):
        return None
    q = request.query_params
    user = q.get("u", "")
    if user and link_is_valid(key, user, q.get("e", ""), q.get("s", "")) and store.accounts.get(user) is not None:
        return None
    log.warning("published map %s refused (%s): no valid signed link (user %r, from %s)", key, request.url.path,
                user, request.client.host if request.client else "?")
    return PlainTextResponse("Sign in to the one map to see this map.", status_code=403)


def serve_map(request: Request, *, store: Store | None = None) -> Response:
    """One published map, or 403/404 (a sync endpoint: Starlette runs it in its thread pool)."""
    key = request.path_params["key"]
    path = published_path(key)
    if path is None:
        return PlainTextResponse("No such map.", status_code=404)
    try:
        store = store or _store()
        refused = _refused(request, key, store)
    except Exception as exc:
        if not (is_outage(exc) or isinstance(exc, OneMapError)):
            raise
        OUTAGES.record(exc, "published maps")
        return PlainTextResponse("The map cannot be served now; try again in a moment.", status_code=503,
                                 headers=retry_headers())
    if refused is not None:
        return refused
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer"})


def serve_tile(request: Request, *, store: Store | None = None) -> Response:
    """One vector tile of a published map's layer, or 400/403/404 (sync: run in the thread pool)."""
    from webmap.tiles import layer_tile

    p = request.path_params
    key, layer = p["key"], p["layer"]
    if published_path(key) is None:
        return PlainTextResponse("No such map.", status_code=404)
    try:
        store = store or _store()
        refused = _refused(request, key, store)
        if refused is not None:
            return refused
        data = layer_tile(store, layer, int(p["z"]), int(p["x"]), int(p["y"]))
    except Exception as exc:
        if is_outage(exc):
            OUTAGES.record(exc, "map tiles")
            return PlainTextResponse("The tile cannot be served now; try again in a moment.", status_code=503,
                                     headers=retry_headers())
        if not isinstance(exc, OneMapError):
            raise
        log.warning("tile %s/%s/%s/%s refused: %s", layer, p["z"], p["x"], p["y"], exc)
        return PlainTextResponse(str(exc), status_code=404)
    return Response(data, media_type="application/vnd.mapbox-vector-tile",
                    headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"})


ROUTES = [Route("/maps/{key}.html", serve_map, methods=["GET", "HEAD"]),
          Route("/tiles/{key}/{layer}/{z:int}/{x:int}/{y:int}.pbf", serve_tile, methods=["GET", "HEAD"])]

__all__ = ["ROUTES", "serve_map", "serve_tile"]

"""``GET /maps/<key>.html``: the published one-map files, behind the app's sign-in.

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
from layers.accounts import has_accounts
from layers.stores import Store, open_store
from webmap.publish import link_is_valid, published_path

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _store() -> Store:
    return open_store()


def serve_map(request: Request, *, store: Store | None = None) -> Response:
    """One published map, or 403/404 (a sync endpoint: Starlette runs it in its thread pool)."""
    key = request.path_params["key"]
    path = published_path(key)
    if path is None:
        return PlainTextResponse("No such map.", status_code=404)
    try:
        store = store or _store()
        guarded = has_accounts(store)
    except OneMapError as exc:
        log.error("published map %s: cannot open the store to check sign-in: %s", key, exc)
        return PlainTextResponse("The map cannot be served now.", status_code=503)
    if guarded:
        q = request.query_params
        user = q.get("u", "")
        if not (user and link_is_valid(key, user, q.get("e", ""), q.get("s", ""))
                and store.accounts.get(user) is not None):
            log.warning("published map %s refused: no valid signed link (user %r, from %s)", key, user,
                        request.client.host if request.client else "?")
            return PlainTextResponse("Sign in to the one map to see this map.", status_code=403)
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer"})


ROUTES = [Route("/maps/{key}.html", serve_map, methods=["GET", "HEAD"])]

__all__ = ["ROUTES", "serve_map"]

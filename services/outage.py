"""When the store cannot be reached: every HTTP surface answers 503 with ``Retry-After``, and the log says so once.

A partner must tell "try again" from "your request is wrong": a database restarted, a dropped
connection, a locked or missing GeoPackage are answered ``503 Service Unavailable`` with a JSON
error in the API's shape (``{"code": "StoreUnavailable", "description": …}``) and a
``Retry-After`` header, never a 500 with a traceback. Each request runs in one transaction, so a
request cut off this way left nothing half-written; one whose commit was under way when the
connection dropped either happened whole or not at all, and a retry with the same
``Idempotency-Key`` tells which.

The server log gets one line when an outage begins and one a minute while it lasts (with the
number of requests answered 503), not a traceback per request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

from layers.errors import is_outage

log = logging.getLogger(__name__)
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 2
#: Seconds between the log's lines while an outage lasts.
LOG_EVERY = 60.0


class OutageLog:
    """One log line when the store is first found unreachable, then one per :data:`LOG_EVERY` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0.0
        self._count = 0

    def record(self, exc: BaseException, where: str) -> None:
        """Count one request answered 503; log when due."""
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        with self._lock:
            self._count += 1
            now = time.monotonic()
            if now - self._last < LOG_EVERY:
                return
            count, self._count, self._last = self._count, 0, now
        log.warning("store unavailable (%s): %s; %d request(s) answered 503 since the last line", where, reason,
                    count)


OUTAGES = OutageLog()


def unavailable_body() -> dict:
    """The JSON error of a 503 (the booking API's and the OGC API's shape)."""
    return {"code": "StoreUnavailable",
            "description": f"The data store cannot be reached just now. Try again in {RETRY_AFTER} s; a booking "
                           "retried with the same Idempotency-Key is answered as the first was, never made twice."}


def internal_body(reference: str) -> dict:
    """The JSON error of an unexpected failure: a reference the server log carries, no traceback."""
    return {"code": "InternalError",
            "description": f"The server could not answer this request (reference {reference}); the alliance's IT "
                           "office can look it up in the server log."}


def retry_headers() -> dict[str, str]:
    """The headers of a 503: when to try again."""
    return {"Retry-After": str(RETRY_AFTER)}


class OutageGuard:
    """ASGI middleware: an exception from the app that :func:`layers.errors.is_outage` recognises becomes
    a 503 with ``Retry-After``; any other becomes a 500 with a reference id (logged with its traceback);
    a response the app already started is left as it is."""

    def __init__(self, app, *, where: str = "server") -> None:
        self.app = app
        self.where = where

    async def __call__(self, scope, receive, send) -> None:
        """Run the app; answer for it when it fails before answering."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # the last line: nothing reaches a client as a traceback
            if started:
                raise
            if is_outage(exc):
                OUTAGES.record(exc, self.where)
                await _send_json(send, 503, unavailable_body(), {"retry-after": str(RETRY_AFTER)})
                return
            reference = uuid.uuid4().hex[:12]
            log.exception("%s: unexpected failure on %s %s (reference %s)", self.where, scope.get("method"),
                          scope.get("path"), reference)
            await _send_json(send, 500, internal_body(reference), {})


async def _send_json(send, status: int, body: dict, headers: dict[str, str]) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    pairs = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": raw})


__all__ = ["OutageGuard", "OutageLog", "OUTAGES", "RETRY_AFTER", "unavailable_body", "internal_body",
           "retry_headers"]

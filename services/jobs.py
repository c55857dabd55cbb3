"""Who may run analyses on the data exchange server, how many at once, who sees a job, and how long it is kept.

pygeoapi runs a process synchronously or as a job (``Prefer: respond-async``) and keeps every
job's status and results in its job database, listed to anyone at ``/jobs``. On a server four
departments and their partners share, that lets one caller fill the memory with jobs, read or
delete another's results, and make the server call any address (a job's ``subscriber`` URLs).
:class:`JobGuard` stands in front of pygeoapi's ``/processes/…/execution`` and ``/jobs`` routes:

- **Bounded bodies**: an execution request is read only up to :data:`MAX_EXECUTE_BODY` bytes and
  nested at most :data:`MAX_DEPTH` deep; a ``subscriber`` (callback URLs) is refused.
- **Bounded work**: at most the ``jobs_max`` setting of executions run at once on this server, and
  at most ``jobs_per_key`` for one partner key; beyond, 429 with ``Retry-After``.
- **A job is its caller's**: asking for a job (``respond-async``) needs a partner key
  (``X-API-Key``, the booking API's keys); ``/jobs`` lists the caller's own jobs only, and a job, its
  results and its deletion answer 404 to anyone else. A synchronous run needs no key and its
  answer carries the results; its job record is nobody's to list.
- **Purged**: jobs (and their result files) older than ``jobs_retention_minutes`` are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from config.settings import settings
from office.contacts import key_hash

log = logging.getLogger(__name__)
#: The largest execution request read.
MAX_EXECUTE_BODY = 65_536
#: Deepest JSON nesting of an execution request.
MAX_DEPTH = 12
#: Seconds a caller over a limit is asked to wait.
BUSY_RETRY_AFTER = 10
#: Seconds between purges of old jobs.
PURGE_EVERY = 30.0
_EXECUTE = re.compile(r"^/processes/([^/]+)/execution/?$")
_JOBS = re.compile(r"^/jobs/?$")
_JOB = re.compile(r"^/jobs/([^/]+)(/results)?/?$")
ACTIVE = ("accepted", "running")


class JobOwners:
    """Which partner key asked for which job, kept beside pygeoapi's job database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as con:
            con.execute("CREATE TABLE IF NOT EXISTS job_owners (job_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
                        "created REAL NOT NULL)")

    @contextlib.contextmanager
    def _connect(self):
        with self._lock, contextlib.closing(sqlite3.connect(self.path, timeout=10)) as con:
            with con:
                yield con

    def add(self, job_id: str, key_id: str) -> None:
        """Note that ``key_id`` (empty: no key) asked for ``job_id``."""
        with self._connect() as con:
            con.execute("INSERT OR REPLACE INTO job_owners VALUES (?, ?, ?)", (job_id, key_id, time.time()))

    def owner(self, job_id: str) -> str | None:
        """The key that asked for ``job_id`` (``None``: not known here)."""
        with self._connect() as con:
            row = con.execute("SELECT key_id FROM job_owners WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def all(self) -> dict[str, str]:
        """Every job known here → the key that asked for it."""
        with self._connect() as con:
            return dict(con.execute("SELECT job_id, key_id FROM job_owners").fetchall())

    def of(self, key_id: str) -> set[str]:
        """The jobs ``key_id`` asked for."""
        with self._connect() as con:
            return {r[0] for r in con.execute("SELECT job_id FROM job_owners WHERE key_id = ?", (key_id,))}

    def remove(self, job_ids: list[str]) -> None:
        """Forget jobs (purged or deleted)."""
        with self._connect() as con:
            con.executemany("DELETE FROM job_owners WHERE job_id = ?", [(j,) for j in job_ids])


class JobGuard:
    """ASGI middleware over pygeoapi's processes and jobs (module docstring)."""

    def __init__(self, app, *, config: dict, folder: Path, keys) -> None:
        from pygeoapi.process.manager.base import get_manager

        self.app = app
        self.manager = get_manager(config)
        self.owners = JobOwners(Path(folder) / "job_owners.db")
        self.keys = keys
        self._admit = asyncio.Lock()
        self._inflight: dict[str, int] = {}  # key id ("" for none) → executions admitted and not answered
        self._pending_async: dict[str, int] = {}
        self._purged = 0.0

    async def __call__(self, scope, receive, send) -> None:
        """Guard the process and job routes; pass everything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if _EXECUTE.match(path) and method == "POST":
            await self._execute(scope, receive, send)
        elif _JOBS.match(path):
            await self._list(scope, receive, send)
        elif _JOB.match(path):
            await self._one(scope, receive, send, _JOB.match(path).group(1))
        else:
            await self.app(scope, receive, send)

    # ----- the caller ---------------------------------------------------------------------------------

    async def _caller(self, scope) -> dict | None:
        given = _header(scope, b"x-api-key").strip()
        if not given:
            return None
        return await run_in_threadpool(self.keys.bookings.key_by_hash, key_hash(given))

    # ----- execution ----------------------------------------------------------------------------------

    async def _execute(self, scope, receive, send) -> None:
        from services.booking_api import json_depth

        body = await _bounded_body(receive, MAX_EXECUTE_BODY)
        if body is None:
            await _json(send, 413, "TooLarge", f"An execution request may have at most {MAX_EXECUTE_BODY} bytes.")
            return
        if json_depth(body) > MAX_DEPTH:
            await _json(send, 400, "InvalidParameterValue", f"The request nests deeper than {MAX_DEPTH} levels.")
            return
        try:
            doc = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict) or not isinstance(doc.get("inputs", {}), dict):
            await _json(send, 400, "InvalidParameterValue", 'An execution request is a JSON object: {"inputs": '
                                                             '{"name": value, …}}.')
            return
        if "subscriber" in doc:
            await _json(send, 400, "InvalidParameterValue", "Callbacks (subscriber) are not made from this "
                                                             "server; ask for the job's status at /jobs/{id}.")
            return
        await self._purge_now_and_then()
        wants_job = "respond-async" in _header(scope, b"prefer").lower()
        who = await self._caller(scope)
        if wants_job and who is None:
            await _json(send, 401, "NoKey", "A job (Prefer: respond-async) needs the partner's API key in "
                                            "X-API-Key; a synchronous run needs none.")
            return
        key_id = who["key_id"] if who else ""
        s = settings()
        async with self._admit:
            active, mine = await run_in_threadpool(self._active, key_id)
            active += sum(self._inflight.values()) + sum(self._pending_async.values())
            mine += self._inflight.get(key_id, 0) + self._pending_async.get(key_id, 0)
            if active >= s.jobs_max or (key_id and mine >= s.jobs_per_key):
                await _json(send, 429, "Busy", f"{active} analyses are running ({s.jobs_max} at most, "
                                               f"{s.jobs_per_key} per key); try again in {BUSY_RETRY_AFTER} s.",
                            {"retry-after": str(BUSY_RETRY_AFTER)})
                return
            counter = self._pending_async if wants_job else self._inflight
            counter[key_id] = counter.get(key_id, 0) + 1
        seen = False
        held: list[dict] = []  # a failed run's answer, held to tell an outage (503) from bad input (400)
        accepted: list[dict] = []  # a job's acceptance: answered with its status (pygeoapi sends null)

        async def watch(message) -> None:
            nonlocal seen
            if message["type"] == "http.response.start" and not seen:
                seen = True
                location = dict(message.get("headers") or []).get(b"location", b"").decode("latin-1")
                hit = re.search(r"/jobs/([^/?#]+)", location)
                if hit:
                    await run_in_threadpool(self.owners.add, hit.group(1), key_id)
                if wants_job:
                    self._pending_async[key_id] -= 1
                if message["status"] == 400:
                    held.append(message)
                    return
                if message["status"] == 201 and hit:
                    accepted.append({"start": message, "job": hit.group(1), "location": location})
                    return
            if accepted:
                if not message.get("more_body", False):
                    await _accepted(send, accepted[0], _EXECUTE.match(scope["path"]).group(1))
                return
            if held:
                held.append(message)
                if not message.get("more_body", False):
                    await _release(send, held)
                return
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), watch)
        finally:
            if wants_job and not seen:
                self._pending_async[key_id] -= 1
            if not wants_job:
                self._inflight[key_id] -= 1

    def _active(self, key_id: str) -> tuple[int, int]:
        """Jobs accepted or running on this server, and those of ``key_id`` (a synchronous run still under
        way has no owner yet: it is counted as in flight instead)."""
        owners = self.owners.all()
        jobs = self.manager.get_jobs(status=None).get("jobs", [])
        running = [owners[j["identifier"]] for j in jobs if j.get("status") in ACTIVE and j["identifier"] in owners]
        return len(running), sum(1 for k in running if key_id and k == key_id)

    # ----- jobs ---------------------------------------------------------------------------------------

    async def _list(self, scope, receive, send) -> None:
        who = await self._caller(scope)
        if who is None:
            await _json(send, 401, "NoKey", "Jobs are listed to the partner that asked for them: send its key in "
                                            "X-API-Key.")
            return
        await self._purge_now_and_then()
        mine = await run_in_threadpool(self.owners.of, who["key_id"])
        jobs = await run_in_threadpool(lambda: self.manager.get_jobs(status=None).get("jobs", []))
        own = [_status_info(j) for j in jobs if j.get("identifier") in mine]
        await _json_doc(send, 200, {"jobs": own, "numberMatched": len(own), "numberReturned": len(own),
                                    "links": []})

    async def _one(self, scope, receive, send, job_id: str) -> None:
        who = await self._caller(scope)
        owner = await run_in_threadpool(self.owners.owner, job_id)
        if who is None or owner is None or owner != who["key_id"]:
            await _json(send, 404, "NoSuchJob", f"No job {job_id[:64]} of this partner key.")
            return
        if scope["method"] == "DELETE":  # done here: pygeoapi 0.21's own answer to a deletion fails
            await run_in_threadpool(self.manager.delete_job, job_id)
            await run_in_threadpool(self.owners.remove, [job_id])
            await _json_doc(send, 200, {"jobID": job_id, "status": "dismissed", "message": "Job dismissed"})
            return
        await self.app(scope, receive, send)

    # ----- purging ------------------------------------------------------------------------------------

    async def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged < PURGE_EVERY:
            return
        self._purged = time.monotonic()
        await run_in_threadpool(self.purge)

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete finished jobs (and their results) older than the retention; how many."""
        limit = settings().jobs_retention_minutes * 60
        now = now or datetime.now(timezone.utc)
        old = []
        for job in self.manager.get_jobs(status=None).get("jobs", []):
            started = _when(job.get("finished") or job.get("created"))
            if started is not None and (now - started).total_seconds() > limit and job.get("status") not in ACTIVE:
                old.append(job["identifier"])
        for job_id in old:
            with contextlib.suppress(Exception):  # a result file already gone: the record goes anyway
                self.manager.delete_job(job_id)
        self.owners.remove(old)
        if old:
            log.info("purged %d job(s) older than %g min", len(old), limit / 60)
        return len(old)


async def _accepted(send, job: dict, process: str) -> None:
    """A job's acceptance as OGC API – Processes says: 201 with its status and where to follow it."""
    doc = {"jobID": job["job"], "processID": process, "type": "process", "status": "accepted",
           "links": [{"href": job["location"], "rel": "monitor", "type": "application/json", "title": "job status"}]}
    raw = json.dumps(doc).encode("utf-8")
    headers = [(k, v) for k, v in job["start"].get("headers") or []
               if k.lower() not in (b"content-length", b"content-type")]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({**job["start"], "headers": headers})
    await send({"type": "http.response.body", "body": raw})


async def _release(send, held: list[dict]) -> None:
    """Send a held failure: as 503 with ``Retry-After`` when the run failed for a store outage."""
    from services.processes import UNAVAILABLE

    start, bodies = held[0], held[1:]
    body = b"".join(m.get("body", b"") for m in bodies)
    if UNAVAILABLE.encode() in body:
        headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
        headers += [(b"retry-after", str(BUSY_RETRY_AFTER // 5).encode()), (b"content-length", str(len(body)).encode())]
        start = {**start, "status": 503, "headers": headers}
        bodies = [{"type": "http.response.body", "body": body, "more_body": False}]
    await send(start)
    for m in bodies:
        await send(m)


def _status_info(job: dict) -> dict:
    """A job as OGC API – Processes' statusInfo."""
    info = {"jobID": job.get("identifier"), "processID": job.get("process_id"), "type": "process",
            "status": job.get("status"), "message": job.get("message"), "progress": job.get("progress"),
            "created": job.get("created"), "started": job.get("started"), "finished": job.get("finished"),
            "updated": job.get("updated")}
    return {k: v for k, v in info.items() if v is not None}


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _header(scope, name: bytes) -> str:
    for k, v in scope.get("headers") or []:
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


async def _bounded_body(receive, limit: int) -> bytes | None:
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


def _replay(body: bytes, receive):
    sent = False

    async def again() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


async def _json_doc(send, status: int, doc: dict, headers: dict[str, str] | None = None) -> None:
    raw = json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8")
    pairs = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": raw})


async def _json(send, status: int, code: str, text: str, headers: dict[str, str] | None = None) -> None:
    await _json_doc(send, status, {"code": code, "description": text}, headers)


__all__ = ["JobGuard", "JobOwners", "MAX_EXECUTE_BODY", "BUSY_RETRY_AFTER"]

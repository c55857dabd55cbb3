"""``POST /field-reports``: a report filed from a map's 问题反馈 form (:class:`webmap.field_report_layer.ReportEntry`).

While the store has accounts the request must carry a link this server signed for a signed-in
account that still exists (the map's own query, or one signed for the page); the report is filed
as that account.  The body is bounded before it is read (its declared and its actual length, the
number of parts and files), photos are checked and re-encoded by :mod:`office.photos`, and every
refusal is answered as JSON with a message in the form's language and logged with its cause.
"""

from __future__ import annotations

import functools
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from geo.errors import OneMapError
from i18n import render_note, t
from layers.errors import is_outage
from layers.stores import Store, open_store
from office.accounts import SINGLE_USER, Account, has_accounts
from office.field_reports import file_report, locate
from office.photos import MAX_PHOTOS, max_photo_mb
from services.outage import OUTAGES, retry_headers
from webmap.publish import link_is_valid

log = logging.getLogger(__name__)
#: The form's own fields, besides the photos.
FIELDS = ("layer", "id", "lon", "lat", "kind", "category", "body", "anonymous", "lang")


@functools.lru_cache(maxsize=1)
def _store() -> Store:
    return open_store()


def max_body_bytes() -> int:
    """The largest request accepted: every photo at its limit, plus room for the text fields."""
    return int((MAX_PHOTOS * max_photo_mb() + 1) * 1024 * 1024)


def _answer(ok: bool, message: str, status: int, headers: dict[str, str] | None = None,
            **extra: object) -> JSONResponse:
    return JSONResponse({"ok": ok, "message": message, **extra}, status_code=status,
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **(headers or {})})


def _who(request: Request, store: Store) -> Account | None:
    """The account the signed query names, the single-user default, or ``None`` (refused)."""
    if not has_accounts(store):
        return SINGLE_USER
    q = request.query_params
    user, key = q.get("u", ""), q.get("k", "")
    if not user:
        return None
    keys = [k for k in (key, "field-reports") if k]
    if not any(link_is_valid(k, user, q.get("e", ""), q.get("s", "")) for k in keys):
        return None
    row = store.accounts.get(user)
    if row is None:
        return None
    return Account(user, row["role"], row.get("department"))


async def _read_form(request: Request):
    """The form, refused before reading when it declares more than :func:`max_body_bytes`, and stopped when it
    sends more than it declared."""
    limit = max_body_bytes()
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > limit:
        return None
    return await request.form(max_files=MAX_PHOTOS, max_fields=len(FIELDS) + 2)


async def file_from_map(request: Request, *, store: Store | None = None) -> JSONResponse:
    """File one report from the map form; JSON ``{ok, message, report_id?, department?, due_at?}``."""
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    try:
        store = store or _store()
        account = await run_in_threadpool(_who, request, store)
    except Exception as exc:
        if not (is_outage(exc) or isinstance(exc, OneMapError)):
            raise
        OUTAGES.record(exc, "field reports")
        return _answer(False, t("report_failed", lang), 503, headers=retry_headers())
    if account is None:
        log.warning("field report refused: no valid signed link (user %r, from %s)", request.query_params.get("u"),
                    request.client.host if request.client else "?")
        return _answer(False, t("report_sign_in", lang), 403)
    try:
        form = await _read_form(request)
    except Exception as exc:  # noqa: BLE001 — Starlette's multipart errors (too many parts, malformed) all refuse
        log.warning("field report from %s: unreadable form: %s", account.username, exc)
        return _answer(False, t("report_bad_form", lang, n=MAX_PHOTOS), 400)
    if form is None:
        log.warning("field report from %s: body over %d bytes (declared %s)", account.username, max_body_bytes(),
                    request.headers.get("content-length"))
        return _answer(False, t("report_too_big", lang, mb=f"{max_body_bytes() / 1048576:.0f}"), 413)
    lang = "en" if form.get("lang") == "en" else lang
    try:
        values = {k: form.get(k) for k in FIELDS}
        if any(v is not None and not isinstance(v, str) for v in values.values()):
            return _answer(False, t("report_bad_form", lang, n=MAX_PHOTOS), 400)
        photos = []
        for upload in form.getlist("photos"):
            if isinstance(upload, str):
                continue
            content = await upload.read(int(max_photo_mb() * 1024 * 1024) + 1)
            if content:
                photos.append((content, upload.filename or "photo"))
        row = await run_in_threadpool(_file, store, account, values, photos)
    except Exception as exc:
        if is_outage(exc):
            OUTAGES.record(exc, "field reports")
            return _answer(False, t("report_failed", lang), 503, headers=retry_headers())
        if not isinstance(exc, OneMapError):
            raise
        note = getattr(exc, "note", None)
        log.info("field report from %s refused: %s", account.username, exc)
        return _answer(False, render_note(note, lang) if note is not None else str(exc), 400)
    finally:
        await form.close()
    from i18n.values import value_label

    message = t("report_filed", lang, code=row["report_id"], department=value_label("department", row["department"],
                                                                                       lang), due=row["due_at"][:16])
    return _answer(True, message, 200, report_id=row["report_id"], department=row["department"],
                   due_at=row["due_at"])


def _file(store: Store, account: Account, values: dict, photos: list[tuple[bytes, str]]) -> dict:
    place, department, area, name = locate(store, layer=values.get("layer") or None,
                                           feature_id=values.get("id") or None, lon=values.get("lon"),
                                           lat=values.get("lat"), kind=values.get("kind") or "other")
    return file_report(store, place=place, department=department, area_code=area, place_name=name,
                       category=str(values.get("category") or ""), body=str(values.get("body") or ""),
                       photos=photos, account=account, anonymous=bool(values.get("anonymous")))


ROUTES = [Route("/field-reports", file_from_map, methods=["POST"])]

__all__ = ["ROUTES", "file_from_map", "max_body_bytes"]

"""Field reports (问题反馈): a problem found on the ground, routed to the department that owns it, handled
through a short workflow, every step kept.

- **Filing** (:func:`file_report`): on a stored feature (a venue, a school facility, a greenway, a
  health station; fitness points are venues) or at a bare map point with the kind of place it is
  about.  The report goes to the feature's own ``department``; for a bare point, to the department
  that answers for that kind (:func:`route_point`, configurable per district), or — outside every
  boundary of the city — to the alliance's office, which hands it on.  Its due time follows its
  category (:func:`due_hours`, configurable).  The reporter is kept as the signed-in account, or
  not at all (anonymous); either way the report's code (its id) shows its progress.
- **Workflow** (:func:`act`): new → accepted → in progress → resolved, or rejected with a reason
  from any open status; the holder may hand a report to another department with a reason (it
  arrives there as new).  Only the holding department's editors (or an administrator) act.
- **Data wrong**: while such a report is accepted or in progress its holder may correct the
  feature (:func:`correct_feature`); the edit's source names the report, so the feature's audit
  links to it, and the report's steps record the edit.
- **Over time**: :func:`reports_as_of` reads every report as it stood at a past moment from its
  steps, so a monthly report regenerated later counts the same.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from config.settings import settings
from layers.catalogue import DEPARTMENTS, get_spec
from layers.errors import AccessDeniedError, InputFileError, PersonalDataError
from layers.privacy import check_personal_data
from layers.stores.field_report_table import CATEGORIES, CLOSED, DUE_HOURS, STATUSES, due_hours
from office.accounts import Account
from office.photos import clean_photos

#: Layers a report may be on (fitness points are venues of kind park_fitness / fitness_square).
REPORT_LAYERS = ("venues", "school_facilities", "greenways", "health_stations")
#: What a bare point may be about: a layer kind, or "other".
POINT_KINDS = (*REPORT_LAYERS, "other")
#: Who triages what no department's layer answers for, and points outside the city.
TRIAGE = "alliance"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_BODY = 500
#: A workflow action → (statuses it starts from, status it leads to, whether a reason is required).
ACTIONS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "accept": (("new",), "accepted", False),
    "start": (("accepted",), "in_progress", False),
    "resolve": (("accepted", "in_progress"), "resolved", False),
    "reject": (("new", "accepted", "in_progress"), "rejected", True),
    "reassign": (("new", "accepted", "in_progress"), "new", True),
}


def stamp(when: dt.datetime) -> str:
    """A local time as stored (seconds, no zone)."""
    return when.strftime(TIME_FORMAT)


def due_at(category: str, filed: dt.datetime) -> dt.datetime:
    """When a report of ``category`` filed at ``filed`` is due."""
    return filed + dt.timedelta(hours=due_hours()[category])


def point_routes() -> dict[tuple[str, str | None], str]:
    """(kind, area code prefix or ``None``) → department for bare points.

    By default each layer kind goes to its layer's department and ``other`` to the alliance's office;
    ``ONEMAP_REPORT_ROUTES`` changes or adds routes, per district if wanted:
    ``greenways@510104=sports;other=sports``.
    """
    routes: dict[tuple[str, str | None], str] = {(k, None): get_spec(k).department for k in REPORT_LAYERS}
    routes[("other", None)] = TRIAGE
    setting = settings().report_routes.strip()
    for part in filter(None, (p.strip() for p in setting.split(";"))):
        left, _, dept = part.partition("=")
        kind, _, area = left.strip().partition("@")
        if kind not in POINT_KINDS or dept.strip() not in DEPARTMENTS:
            raise InputFileError.coded("report.route_setting", part=part, kinds=POINT_KINDS,
                                       departments=tuple(DEPARTMENTS))
        routes[(kind, area.strip() or None)] = dept.strip()
    return routes


def area_of(boundaries: gpd.GeoDataFrame | None, lon: float, lat: float) -> str | None:
    """The code of the finest boundary holding the point (community, then street, then district), or ``None``."""
    if boundaries is None or boundaries.empty:
        return None
    point = shapely.Point(lon, lat)
    frame = boundaries.to_crs(4326)
    for level in ("community", "street", "district"):
        rows = frame[(frame["level"] == level) & frame.geometry.covers(point)]
        if len(rows):
            return str(rows["code"].sort_values().iloc[0])
    return None


def route_point(kind: str, area_code: str | None, boundaries: gpd.GeoDataFrame | None = None) -> str:
    """The department a bare point's report goes to: by kind, the longest matching area prefix first;
    outside every boundary (``area_code`` ``None``) the alliance's office."""
    if kind not in POINT_KINDS:
        raise InputFileError.coded("report.kind", kind=kind, kinds=POINT_KINDS)
    if area_code is None:
        return TRIAGE
    routes = point_routes()
    # District codes are prefixes of their streets' and communities' codes in the demo and in the national scheme.
    matches = [(len(a), d) for (k, a), d in routes.items() if k == kind and a is not None and area_code.startswith(a)]
    return max(matches)[1] if matches else routes[(kind, None)]


@dataclass(frozen=True)
class Place:
    """Where a report is: a stored feature (layer and id) or a bare point with the kind of place it is about."""

    lon: float
    lat: float
    layer: str | None = None
    feature_id: str | None = None
    kind: str = "other"


def locate(store, *, layer: str | None = None, feature_id: str | None = None, lon: float | None = None,
           lat: float | None = None, kind: str = "other") -> tuple[Place, str, str | None, str | None]:
    """The place of a report, its department, its area code and the feature's name.

    Raises
    ------
    InputFileError
        An unknown layer or feature, or a point that is not a longitude/latitude.
    """
    boundaries = store.layers.read("boundaries") if "boundaries" in {i.name for i in store.layers.list()} else None
    if layer:
        if layer not in REPORT_LAYERS:
            raise InputFileError.coded("report.layer", layer=layer, layers=REPORT_LAYERS)
        frame = store.layers.read(layer)
        hit = frame[frame["feature_id"].astype(str) == str(feature_id)]
        if hit.empty:
            raise InputFileError.coded("report.no_feature", layer=layer, feature=str(feature_id))
        spec = get_spec(layer)
        point = hit.geometry.iloc[0].representative_point()
        department = str(hit["department"].iloc[0] or spec.department)
        name = hit[spec.name_field].iloc[0] if spec.name_field else None
        place = Place(round(point.x, 6), round(point.y, 6), layer, str(feature_id), layer)
        return place, department, area_of(boundaries, place.lon, place.lat), None if pd.isna(name) else str(name)
    try:
        lon_f, lat_f = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputFileError.coded("report.point", lon=str(lon), lat=str(lat)) from None
    if not (np.isfinite(lon_f) and np.isfinite(lat_f) and -180 <= lon_f <= 180 and -90 <= lat_f <= 90):
        raise InputFileError.coded("report.point", lon=str(lon), lat=str(lat))
    area = area_of(boundaries, lon_f, lat_f)
    return Place(round(lon_f, 6), round(lat_f, 6), kind=kind), route_point(kind, area), area, None


def file_report(store, *, place: Place, department: str, area_code: str | None, place_name: str | None,
                category: str, body: str, photos: list[tuple[bytes, str]] = (), account: Account | None = None,
                anonymous: bool = False, now: dt.datetime | None = None) -> dict:
    """File a report and return its row (its ``report_id`` is the code the reporter keeps).

    Raises
    ------
    InputFileError
        An unknown category, a text that is too long or holds a phone or ID number, or a photo
        refused by :func:`office.photos.clean_photos`; nothing is stored.
    """
    if category not in CATEGORIES:
        raise InputFileError.coded("report.category", category=category, categories=CATEGORIES)
    text = " ".join(str(body or "").split())
    if len(text) > MAX_BODY:
        raise InputFileError.coded("report.body_long", limit=MAX_BODY, n=len(text))
    try:
        check_personal_data(pd.DataFrame({"description": [text]}), source="field report")
    except PersonalDataError:
        raise PersonalDataError.coded("report.personal") from None
    cleaned = clean_photos(list(photos))
    now = (now or dt.datetime.now()).replace(microsecond=0)
    reporter = None if anonymous or account is None or account.single_user else account.username
    row = {"report_id": f"FR-{now:%Y%m%d}-{secrets.token_hex(4).upper()}", "category": category,
           "body": text or None, "lon": place.lon, "lat": place.lat, "place_layer": place.layer,
           "place_id": place.feature_id, "place_name": place_name, "area_code": area_code,
           "department": department, "reporter": reporter, "created_at": stamp(now),
           "due_at": stamp(due_at(category, now)), "changed_at": stamp(now),
           "changed_by": reporter or "anonymous", "reason": None}
    return store.field_reports.file(row, cleaned)


def may_act(account: Account, report: dict) -> bool:
    """Whether ``account`` may move ``report``: an editor of the holding department, or an administrator."""
    if account.role == "admin" or account.single_user:
        return True
    return account.role == "editor" and account.department == report["department"]


def act(store, account: Account, report_id: str, action: str, *, reason: str = "", to_department: str | None = None,
        now: dt.datetime | None = None) -> dict:
    """Take a workflow step on a report as ``account``; returns the new row.

    Raises
    ------
    AccessDeniedError
        The account does not hold the report (another department's, or a viewer).
    InputFileError
        An unknown action, a missing reason, an unknown or the same department to hand over to,
        or a step the report's status does not allow (someone else moved it first).
    """
    if action not in ACTIONS:
        raise InputFileError.coded("report.action", step=action, steps=tuple(ACTIONS))
    current = store.field_reports.get(report_id)
    if current is None:
        raise InputFileError.coded("report.unknown", report=report_id)
    if not may_act(account, current):
        raise AccessDeniedError.coded("report.not_yours", report=report_id, department=current["department"])
    allowed, status, needs_reason = ACTIONS[action]
    reason = " ".join(str(reason or "").split())
    if needs_reason and not reason:
        raise InputFileError.coded("report.reason_needed", step=action)
    if len(reason) > MAX_BODY:
        raise InputFileError.coded("report.body_long", limit=MAX_BODY, n=len(reason))
    if action == "reassign" and (to_department not in DEPARTMENTS or to_department == current["department"]):
        raise InputFileError.coded("report.reassign_to", department=str(to_department),
                                   departments=tuple(d for d in DEPARTMENTS if d != current["department"]))
    held = None if (account.role == "admin" or account.single_user) else account.department
    row = store.field_reports.move(report_id, allowed_from=allowed, status=status, department=held,
                                   now=stamp((now or dt.datetime.now()).replace(microsecond=0)),
                                   actor=account.username, reason=reason or None,
                                   to_department=to_department if action == "reassign" else None)
    if row is None:
        latest = store.field_reports.get(report_id) or current
        raise InputFileError.coded("report.wrong_status", report=report_id, step=action, state=latest["status"])
    return row


def correct_feature(store, account: Account, report_id: str, changes: dict, *, write_store=None,
                    now: dt.datetime | None = None):
    """Correct the feature a "data wrong" report is about, while the report is accepted or in progress.

    ``changes`` maps field names to new values; the edit is saved only if the feature is still at the
    version read here, with source ``field report <id>`` (its audit entry names the report), and the
    report's steps record it.  ``write_store`` is the store to write through (a department's role).

    Raises
    ------
    AccessDeniedError, InputFileError
        Not the holder, not a data-wrong report on a feature, not accepted yet, or a field that is not
        the layer's own; :class:`~layers.errors.LayerValidationError` for a value the layer refuses.
    """
    report = store.field_reports.get(report_id)
    if report is None:
        raise InputFileError.coded("report.unknown", report=report_id)
    if not may_act(account, report):
        raise AccessDeniedError.coded("report.not_yours", report=report_id, department=report["department"])
    if report["category"] != "data_wrong" or not report["place_layer"]:
        raise InputFileError.coded("report.not_data_wrong", report=report_id)
    if report["status"] not in ("accepted", "in_progress"):
        raise InputFileError.coded("report.accept_first", report=report_id, state=report["status"])
    layer, fid = report["place_layer"], str(report["place_id"])
    spec = get_spec(layer)
    own = {f.name for f in spec.fields}
    unknown = [k for k in changes if k not in own]
    if unknown:
        raise InputFileError.coded("report.edit_field", field=unknown[0], fields=", ".join(sorted(own)))
    frame = store.layers.read(layer)
    hit = frame[frame["feature_id"].astype(str) == fid].copy()
    if hit.empty:
        raise InputFileError.coded("report.no_feature", layer=layer, feature=fid)
    version = int(hit["version"].iloc[0])
    for k, v in changes.items():
        hit[k] = [v]
    hit["source"] = f"field report {report_id}"  # the feature's audit entry names the report
    target = write_store or store
    result = target.layers.edit(layer, hit, expected_versions={fid: version}, user=account.username,
                                source=f"field report {report_id}")
    store.field_reports.note_edit(report_id, department=None if account.role == "admin" else report["department"],
                                  now=stamp((now or dt.datetime.now()).replace(microsecond=0)),
                                  actor=account.username, reason=f"edit: {', '.join(sorted(changes))}")
    return result


def age_class(row: pd.Series | dict, now: dt.datetime) -> str:
    """``on_time`` (less than half the time used), ``due_soon``, ``overdue`` or ``closed``."""
    if row["status"] in CLOSED:
        return "closed"
    filed, due = pd.Timestamp(row["created_at"]), pd.Timestamp(row["due_at"])
    used = (pd.Timestamp(now) - filed) / max(due - filed, pd.Timedelta(seconds=1))
    return "overdue" if used >= 1 else "due_soon" if used >= 0.5 else "on_time"


def reports_as_of(store, moment: dt.datetime | str) -> pd.DataFrame:
    """Every report filed by ``moment`` as it stood then: its status, department and times from its steps.

    Adds ``closed_at`` (when it reached resolved or rejected, if it had by then) and ``overdue`` (open
    past its due time then, or closed after it).
    """
    moment_s = stamp(pd.Timestamp(moment).to_pydatetime())
    reports = store.field_reports.list()
    steps = store.field_reports.steps()
    reports = reports[reports["created_at"] <= moment_s].copy()
    steps = steps[(steps["at"] <= moment_s) & steps["report_id"].isin(reports["report_id"])]
    last = steps.sort_values("step_id").groupby("report_id").tail(1).set_index("report_id")
    reports["status"] = reports["report_id"].map(last["status"]).fillna("new")
    reports["department"] = reports["report_id"].map(last["department"]).fillna(reports["department"])
    closing = steps[steps["status"].isin(CLOSED)].groupby("report_id")["at"].min()
    reports["closed_at"] = reports["report_id"].map(closing).astype(object)
    open_late = ~reports["status"].isin(CLOSED) & (reports["due_at"] < moment_s)
    closed_late = reports["status"].isin(CLOSED) & (reports["closed_at"].fillna("").astype(str)
                                                     > reports["due_at"].astype(str))
    reports["overdue"] = (open_late | closed_late).to_numpy()
    return reports.drop(columns=["changed_at", "changed_by", "reason"]).reset_index(drop=True)


def open_reports_by_feature(reports: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """(layer, feature id) → categories of the open reports on it."""
    live = reports[~reports["status"].isin(CLOSED) & reports["place_layer"].notna()]
    out: dict[tuple[str, str], list[str]] = {}
    for row in live.itertuples():
        out.setdefault((row.place_layer, str(row.place_id)), []).append(row.category)
    return out


__all__ = ["CATEGORIES", "DUE_HOURS", "REPORT_LAYERS", "POINT_KINDS", "ACTIONS", "STATUSES", "TRIAGE", "Place",
           "due_hours", "due_at", "point_routes", "route_point", "area_of", "locate", "file_report", "act",
           "may_act", "correct_feature", "age_class", "reports_as_of", "open_reports_by_feature", "stamp"]

"""Incidents at a place (应急事件): recorded by the staff of the department that owns the place, kept as the
``incidents`` record table (no personal data; every row audited, never edited), and read back over time for
the alliance's review.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import geopandas as gpd
import pandas as pd

from layers.catalogue import get_spec
from layers.errors import InputFileError, PersonalDataError
from layers.privacy import check_personal_data
from layers.records import INCIDENT_KINDS, PLACE_LAYERS
from office.accounts import Account

#: Local time as recorded: minutes, no seconds, no zone (the city's own clock).
TIME_FORMAT = "%Y-%m-%d %H:%M"
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
MAX_WHERE = 60
#: An incident may be recorded up to this long after it happened (older ones belong to a delivery).
MAX_AGE = dt.timedelta(days=31)


def parse_time(text: str) -> dt.datetime:
    """``YYYY-MM-DD HH:MM`` as a local time; a clear error otherwise."""
    text = str(text).strip()
    try:
        if not _TIME.match(text):
            raise ValueError
        return dt.datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        raise InputFileError.coded("incident.time_format", text=text) from None


def record_incident(store, account: Account, *, place_layer: str, place_id: str, occurred_at: dt.datetime,
                    incident_kind: str, where_in_place: str = "", now: dt.datetime | None = None) -> dict:
    """Record an incident at a stored place as ``account`` and return the row written (with its id).

    Raises
    ------
    AccessDeniedError
        The account may not write the place's layer (only the owning department's staff record).
    InputFileError
        An unknown place, kind or time; a time in the future or older than :data:`MAX_AGE`; a
        location text that is too long or holds a phone or ID number. Nothing is written.
    """
    if place_layer not in PLACE_LAYERS:
        raise InputFileError.coded("incident.place_layer", layers=", ".join(PLACE_LAYERS), layer=place_layer)
    account.require_write(place_layer)
    if incident_kind not in INCIDENT_KINDS:
        raise InputFileError.coded("incident.kind", kind=incident_kind, kinds=", ".join(INCIDENT_KINDS))
    now = now or dt.datetime.now()
    occurred_at = occurred_at.replace(second=0, microsecond=0)
    if occurred_at > now + dt.timedelta(minutes=5):
        raise InputFileError.coded("incident.future", time=f"{occurred_at:%Y-%m-%d %H:%M}")
    if occurred_at < now - MAX_AGE:
        raise InputFileError.coded("incident.too_old", time=f"{occurred_at:%Y-%m-%d %H:%M}", days=MAX_AGE.days)
    where = " ".join(str(where_in_place or "").split())
    if len(where) > MAX_WHERE:
        raise InputFileError.coded("incident.where_long", limit=MAX_WHERE, n=len(where))
    try:
        check_personal_data(pd.DataFrame({"where_in_place": [where]}), source="incident form")
    except PersonalDataError:
        raise PersonalDataError.coded("incident.personal") from None
    places = store.layers.read(place_layer)
    hit = places[places["feature_id"].astype(str) == str(place_id)]
    if hit.empty:
        raise InputFileError.coded("incident.no_place", layer=place_layer, place=str(place_id))
    department = str(hit["department"].iloc[0] or get_spec(place_layer).department)
    row = {"incident_id": f"INC-{occurred_at:%Y%m%d%H%M}-{secrets.token_hex(3).upper()}",
           "place_layer": place_layer, "place_id": str(place_id), "occurred_at": occurred_at.strftime(TIME_FORMAT),
           "incident_kind": incident_kind, "where_in_place": where or None, "source": "incident form"}
    store.records.write("incidents", pd.DataFrame([row]), mode="append", user=account.username,
                        source="incident form", department=department)
    return row | {"department": department}


def incidents_on_map(store, *, since: dt.date | None = None, until: dt.date | None = None) -> gpd.GeoDataFrame:
    """Recorded incidents (between ``since`` and ``until``, days inclusive) at their places' points, newest
    first, with the place's name; incidents at a place no longer stored are kept without a point."""
    rows = store.records.read("incidents", with_department=True)
    if len(rows):
        day = pd.to_datetime(rows["occurred_at"]).dt.date
        keep = pd.Series(True, index=rows.index)
        if since is not None:
            keep &= day >= since
        if until is not None:
            keep &= day <= until
        rows = rows[keep]
    points, names = {}, {}
    for layer in rows["place_layer"].unique() if len(rows) else ():
        frame = store.layers.read(layer)
        spec = get_spec(layer)
        ids = frame["feature_id"].astype(str)
        points.update({(layer, f): g.representative_point() for f, g in zip(ids, frame.geometry)})
        names.update({(layer, f): n for f, n in zip(ids, frame[spec.name_field or "feature_id"])})
    keys = list(zip(rows["place_layer"], rows["place_id"].astype(str)))
    out = gpd.GeoDataFrame(rows.assign(place_name=[names.get(k) for k in keys]).reset_index(drop=True),
                           geometry=[points.get(k) for k in keys], crs=4326)
    return out.sort_values("occurred_at", ascending=False, kind="stable").reset_index(drop=True)


__all__ = ["record_incident", "incidents_on_map", "parse_time", "TIME_FORMAT", "MAX_AGE"]

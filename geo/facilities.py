"""Facilities as the analysis sees them: where they are entered, and when they are open.

Facility layers (venues, greenways, school facilities, health stations …) become one
:class:`FacilitySet` in a metric CRS.  Each facility gets *access points*: a point
facility is its point; a polygon venue is entered along its boundary (sampled every
``spacing`` metres), not at its centroid; a greenway at its entrances, or anywhere along
it where it has none.  Each facility also knows whether the public may use it at all
(``is_public``, ``open_to_public``) and, given a :class:`TimeSlot`, whether it is open
then (its ``opening_hours``, read by :mod:`geo.hours`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.definitions import CIRCLE_METRES
from geo.errors import AnalysisError, OpeningHoursError
from geo.geometry_kinds import AREAS, kind_is
from geo.hours import OpeningHours, parse_opening_hours
from geo.notes import Note, note
from geo.reach import AccessPoints

#: GB 50180-2018 life circles (the one definition is :mod:`geo.definitions`).
LIFE_CIRCLES_M: dict[str, float] = CIRCLE_METRES
#: Spacing of access points along polygon boundaries and entrance-less greenways (metres).
DEFAULT_ACCESS_SPACING_M = 25.0

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
             "周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6, "周天": 6}


@dataclass(frozen=True)
class TimeSlot:
    """A moment of the week: ``weekday`` 0 = Monday, ``minute`` after midnight, holiday flags."""

    weekday: int
    minute: int
    public_holiday: bool = False
    school_holiday: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise AnalysisError(f"weekday must be 0 (Monday) … 6 (Sunday), not {self.weekday}.")
        if not 0 <= self.minute < 1440:
            raise AnalysisError(f"minute must be 0 … 1439, not {self.minute}.")

    @classmethod
    def parse(cls, text: str) -> "TimeSlot":
        """Read ``"Tue 10:00"``, ``"Sat 09:00"``, ``"周二 19:00"``; ``+PH``/``+SH`` add holidays."""
        m = re.fullmatch(r"\s*(\S+?)\s*(\d{1,2}):(\d{2})\s*((?:\+\s*(?:PH|SH)\s*)*)", text, re.I)
        day = _WEEKDAYS.get(m.group(1).lower()[:3] if m and m.group(1).isascii() else (m.group(1) if m else ""))
        if m is None or day is None or int(m.group(2)) > 23 or int(m.group(3)) > 59:
            raise AnalysisError(f"Time slot {text!r} not understood; write e.g. 'Tue 10:00', 'Sat 09:00', "
                                "'周二 19:00', optionally with '+PH' (public holiday) or '+SH' (school holiday).")
        flags = m.group(4).upper()
        return cls(day, int(m.group(2)) * 60 + int(m.group(3)), "PH" in flags, "SH" in flags)

    def label(self) -> str:
        """``Tue 10:00`` style text."""
        day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][self.weekday]
        extra = (" +PH" if self.public_holiday else "") + (" +SH" if self.school_holiday else "")
        return f"{day} {self.minute // 60:02d}:{self.minute % 60:02d}{extra}"


#: Slots planners ask about most.
PRESET_SLOTS: dict[str, TimeSlot] = {
    "weekday 10:00": TimeSlot(1, 600),
    "weekday 19:00": TimeSlot(1, 1140),
    "Saturday 09:00": TimeSlot(5, 540),
}


@dataclass
class FacilitySet:
    """Facilities of several layers, indexed 0 … n-1, in a metric CRS.

    Attributes
    ----------
    table : DataFrame
        One row per facility: ``layer``, ``feature_id``, ``name``, ``usable`` (the public
        may use it), ``hours_known``.
    geometry : ndarray
        Shapely geometries in :attr:`crs`.
    access : AccessPoints
    hours : list
        Parsed :class:`~geo.hours.OpeningHours` or ``None`` where not given.
    notes : list of Note
        What was assumed or left out (unreadable hours, empty geometries).
    """

    crs: CRS
    table: pd.DataFrame
    geometry: np.ndarray
    access: AccessPoints
    hours: list[OpeningHours | None]
    unknown_hours_open: bool = True
    notes: list[Note] = field(default_factory=list)
    layer_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def layers(self) -> list[str]:
        """Layer names in the order given (empty layers included)."""
        return self.layer_names or list(dict.fromkeys(self.table["layer"]))

    def layer_mask(self, layer: str) -> np.ndarray:
        """Facilities of ``layer``."""
        if layer not in self.layers:
            raise AnalysisError(f"No facility layer {layer!r} in this analysis; it has {', '.join(self.layers)}.")
        return (self.table["layer"] == layer).to_numpy()

    def open_mask(self, slot: TimeSlot | None = None) -> np.ndarray:
        """Facilities the public may use, and (given ``slot``) that are open then.

        A facility without opening hours counts as open when :attr:`unknown_hours_open`.
        """
        usable = self.table["usable"].to_numpy(dtype=bool).copy()
        if slot is None:
            return usable
        for i in np.flatnonzero(usable):
            h = self.hours[i]
            if h is None:
                usable[i] = self.unknown_hours_open
            else:
                usable[i] = h.is_open(slot.weekday, slot.minute, public_holiday=slot.public_holiday,
                                      school_holiday=slot.school_holiday)
        return usable


def says_closed(value: object) -> bool:
    """Whether an open-to-public field says "no" (``False``, 0, "no", "否" …); missing or unknown says nothing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, (bool, np.bool_)):
        return not bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return not np.isnan(value) and value == 0
    if isinstance(value, str):
        return value.strip().lower() in ("false", "no", "0", "否", "不开放")
    return False


def _usable(frame: gpd.GeoDataFrame) -> np.ndarray:
    out = np.ones(len(frame), dtype=bool)
    for col in ("is_public", "open_to_public"):
        if col in frame.columns:
            out &= ~np.array([says_closed(v) for v in frame[col].astype(object)], dtype=bool)
    return out


def _parse_hours(frame: gpd.GeoDataFrame, layer: str, notes: list[Note]) -> list[OpeningHours | None]:
    if "opening_hours" not in frame.columns:
        return [None] * len(frame)
    out: list[OpeningHours | None] = []
    bad = []
    for i, text in enumerate(frame["opening_hours"]):
        if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
            out.append(None)
            continue
        try:
            out.append(parse_opening_hours(str(text)))
        except OpeningHoursError:
            bad.append(f"{i + 1}: {text}")
            out.append(None)
    if bad:
        notes.append(note("facilities.hours_unread", layer=layer, n=len(bad), rows=bad))
    return out


def _access_points(geoms: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates and owner index: points as they are, boundaries and lines sampled."""
    is_area = kind_is(geoms, AREAS)
    outline = np.where(is_area, shapely.boundary(geoms), geoms)
    dense = shapely.segmentize(outline, spacing)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    return coords, owner


def build_facility_set(layers: Mapping[str, gpd.GeoDataFrame], *, crs: CRS | str | int,
                       entrances: gpd.GeoDataFrame | None = None, entrance_key: str = "greenway_id",
                       entrance_layer: str = "greenways",
                       spacing: float = DEFAULT_ACCESS_SPACING_M, unknown_hours_open: bool = True,
                       name_fields: Mapping[str, str] | None = None) -> FacilitySet:
    """Gather facility layers into one indexed set with access points.

    Parameters
    ----------
    layers : mapping of layer name → GeoDataFrame
        Each with a CRS; ``feature_id`` is used when present.
    crs : CRS
        Metric CRS for the analysis (usually the network's).
    entrances : GeoDataFrame, optional
        Entrance points (e.g. ``greenway_entrances``) whose ``entrance_key`` names the
        ``feature_id`` of a facility of ``entrance_layer``; such a facility is entered
        only there.
    spacing : float
        Access-point spacing along polygon boundaries and entrance-less lines.
    unknown_hours_open : bool
        Whether a facility with no opening hours counts as open at a time slot.
    name_fields : mapping, optional
        Column holding each layer's display name (default ``name``, ``school`` for school facilities).

    Raises
    ------
    AnalysisError
        When no layer is given or a layer has no CRS.
    """
    if not layers:
        raise AnalysisError("No facility layer given; pass at least one (e.g. venues).")
    metric = CRS.from_user_input(crs)
    names = {"school_facilities": "school", **(name_fields or {})}
    notes: list[Note] = []
    tables, geoms, hours = [], [], []
    for layer, frame in layers.items():
        if frame.crs is None:
            raise AnalysisError(f"Facility layer {layer!r} has no coordinate system.")
        g = frame.to_crs(metric).geometry.to_numpy()
        missing = shapely.is_missing(g) | shapely.is_empty(g)
        if missing.any():
            notes.append(note("facilities.no_geometry", layer=layer, n=int(missing.sum())))
        if len(frame) == 0:
            notes.append(note("facilities.layer_empty", layer=layer))
        keep = ~missing
        sub = frame.loc[keep]
        name_col = names.get(layer, "name")
        tables.append(pd.DataFrame({
            "layer": layer,
            "feature_id": (sub["feature_id"].astype(str) if "feature_id" in sub.columns
                           else pd.Series([f"{layer}-{k + 1}" for k in np.flatnonzero(keep)])).to_numpy(),
            "name": (sub[name_col].astype("string").to_numpy() if name_col in sub.columns
                     else np.full(len(sub), None)),
            "usable": _usable(sub),
        }))
        geoms.append(g[keep])
        hours.extend(_parse_hours(sub, layer, notes))
    table = pd.concat(tables, ignore_index=True)
    geometry = np.concatenate(geoms) if geoms else np.zeros(0, dtype=object)
    table["hours_known"] = [h is not None for h in hours]
    coords, owner = _access_points(geometry, spacing)
    if entrances is not None and len(entrances):
        if entrance_key not in entrances.columns:
            raise AnalysisError(f"The entrances layer has no {entrance_key!r} column linking it to its facility.")
        ent = entrances.to_crs(metric)
        of_layer = (table["layer"] == entrance_layer).to_numpy()
        pos = pd.Series(np.flatnonzero(of_layer), index=table["feature_id"].to_numpy()[of_layer])
        pos = pos[~pos.index.duplicated()]
        target = pos.reindex(ent[entrance_key].astype(str).to_numpy()).to_numpy()
        linked = ~np.isnan(target)
        if (~linked).any():
            notes.append(note("facilities.entrances_unlinked", n=int((~linked).sum()), layer=entrance_layer))
        ent_owner = target[linked].astype(np.int64)
        has_entrance = np.zeros(len(table), dtype=bool)
        has_entrance[ent_owner] = True
        ent_xy = shapely.get_coordinates(ent.geometry.to_numpy()[linked])
        keep = ~has_entrance[owner]
        coords = np.vstack((coords[keep], ent_xy))
        owner = np.concatenate((owner[keep], ent_owner))
    access = AccessPoints(x=coords[:, 0].copy(), y=coords[:, 1].copy(), owner=owner.astype(np.int64),
                          n_facilities=len(table))
    return FacilitySet(crs=metric, table=table, geometry=geometry, access=access, hours=hours,
                       unknown_hours_open=unknown_hours_open, notes=notes, layer_names=list(layers))

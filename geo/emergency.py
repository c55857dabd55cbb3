"""Emergency linkage per venue: the nearest AED on foot (and back), the nearest open health station, the
ambulance from the nearest emergency hospital — against thresholds with their sources — and where new AEDs
would bring every venue within reach (the planning engine's set covering).

Walks are the nearby finder's (the coverage engine's network and snapping), at a brisk pace;
drives are :mod:`geo.drive`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.drive import DriveNetwork, drive_route, drive_times
from geo.errors import AnalysisError
from geo.facilities import TimeSlot
from geo.nearby import NearbyFinder, Origin
from geo.notes import Note, note
from geo.planning import Method, PlanningProblem, PlanResult, set_covering


@dataclass(frozen=True)
class EmergencyThresholds:
    """What a venue must reach, configurable; :data:`SOURCES` says where each default comes from."""

    #: Fetching an AED and coming back, seconds (a shock within about 3–5 minutes of collapse).
    aed_round_trip_s: float = 240.0
    #: A brisk walk carrying an AED, metres a minute (about 6 km/h).
    brisk_m_per_min: float = 100.0
    #: The ambulance's drive from the hospital, seconds (urban emergency response under 12 minutes).
    ambulance_s: float = 720.0

    @property
    def aed_reach_m(self) -> float:
        """The farthest an AED may be on foot: half the round trip at the brisk pace."""
        return self.aed_round_trip_s / 2 / 60 * self.brisk_m_per_min


#: The cited source of each default threshold: (Chinese, English).
SOURCES = {
    "aed_round_trip_s": ("美国心脏协会/欧洲复苏委员会心肺复苏指南：倒地后 3–5 分钟内除颤；"
                         "公众除颤计划按往返不超过 4 分钟布设（快步单程约 200 m）",
                         "AHA/ERC resuscitation guidelines: defibrillation within 3–5 min of collapse; public-access "
                         "AED programmes plan for a ≤ 4 min round trip (about 200 m at a brisk walk each way)"),
    "ambulance_s": ("《院前医疗急救管理办法》及国家卫健委《关于进一步完善院前医疗急救服务的指导意见》(2020)："
                    "城市地区平均急救呼叫满足率 100%，急救反应时间小于 12 分钟",
                    "National Health Commission, Guiding Opinions on Further Improving Pre-hospital Emergency "
                    "Medical Services (2020): in cities every emergency call is answered and the response time is "
                    "under 12 minutes"),
}

PROFILE_COLUMNS = ["feature_id", "name", "capacity", "aed_id", "aed_walk_m", "aed_round_trip_s", "aed_ok",
                   "station_id", "station_walk_m", "hospital", "hospital_confirmed", "ambulance_s", "ambulance_ok",
                   "fails", "rank"]


def _origins(finder: NearbyFinder, venues: gpd.GeoDataFrame) -> list[Origin]:
    pts = shapely.point_on_surface(venues.to_crs(finder.facilities.crs).geometry.to_numpy())
    ll = venues.to_crs(4326).geometry.representative_point()
    return [Origin(float(p.x), float(p.y), float(q.x), float(q.y), str(n or f))
            for p, q, n, f in zip(pts, ll, venues.get("name", venues["feature_id"]), venues["feature_id"])]


def emergency_profiles(finder: NearbyFinder, venues: gpd.GeoDataFrame, *, drive: DriveNetwork | None = None,
                       hospitals: gpd.GeoDataFrame | None = None, slot: TimeSlot | None = None,
                       thresholds: EmergencyThresholds = EmergencyThresholds(), aed_layer: str = "aeds",
                       station_layer: str = "health_stations") -> pd.DataFrame:
    """One row per venue: the nearest AED open at ``slot`` on foot and its round trip, the nearest open health
    station, the nearest hospital by ambulance; whether it meets each threshold; the failing venues ranked by
    capacity (rank 1 = the most people at risk).

    ``finder`` must hold the AED and health-station layers as facilities; ``hospitals`` are the
    emergency hospitals (points) and ``drive`` the road network the ambulance takes.
    """
    t = finder.facilities.table
    open_now = finder.facilities.open_mask(slot)
    aed = np.flatnonzero((t["layer"] == aed_layer).to_numpy() & open_now)
    station = np.flatnonzero((t["layer"] == station_layer).to_numpy() & open_now)
    reach = max(thresholds.aed_reach_m, 2000.0)
    origins = _origins(finder, venues)
    x, y = np.array([o.x for o in origins]), np.array([o.y for o in origins])
    aed_walk, aed_of = finder.nearest_from_many(x, y, aed, limit_m=reach)
    station_walk, station_of = finder.nearest_from_many(x, y, station, limit_m=reach)
    ids = t["feature_id"].to_numpy()
    out = pd.DataFrame({"feature_id": venues["feature_id"].astype(str).to_numpy(),
                        "aed_id": [ids[k] if k >= 0 else None for k in aed_of], "aed_walk_m": aed_walk,
                        "aed_round_trip_s": 2 * aed_walk / thresholds.brisk_m_per_min * 60,
                        "station_id": [ids[k] if k >= 0 else None for k in station_of],
                        "station_walk_m": station_walk})
    out["name"] = venues.get("name", venues["feature_id"]).to_numpy()
    out["capacity"] = pd.to_numeric(venues.get("capacity"), errors="coerce").to_numpy() \
        if "capacity" in venues.columns else np.nan
    out["hospital"], out["hospital_confirmed"], out["ambulance_s"] = None, None, np.inf
    if drive is not None and hospitals is not None and len(hospitals):
        hx = hospitals.to_crs(drive.crs).geometry.representative_point()
        vx = venues.to_crs(drive.crs).geometry.representative_point()
        got = drive_times(drive, np.column_stack([hx.x, hx.y]), np.column_stack([vx.x, vx.y]),
                          hour=slot.minute // 60 if slot is not None else None)
        names = hospitals.get("name", hospitals["feature_id"]).to_numpy()
        sure = hospitals["confirmed"].to_numpy(dtype=bool) if "confirmed" in hospitals.columns \
            else np.ones(len(hospitals), dtype=bool)
        out["ambulance_s"] = got.seconds
        out["hospital"] = [names[k] if k >= 0 else None for k in got.source]
        out["hospital_confirmed"] = [bool(sure[k]) if k >= 0 else None for k in got.source]
    out["aed_ok"] = out["aed_round_trip_s"] <= thresholds.aed_round_trip_s
    out["ambulance_ok"] = out["ambulance_s"] <= thresholds.ambulance_s
    out["fails"] = ~(out["aed_ok"] & out["ambulance_ok"])
    order = out[out["fails"]].sort_values(["capacity", "feature_id"], ascending=[False, True]).index
    out["rank"] = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(out.index).astype("Int64")
    return out[PROFILE_COLUMNS]


def aed_placement(finder: NearbyFinder, venues: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *,
                  thresholds: EmergencyThresholds = EmergencyThresholds(), weights: np.ndarray | None = None,
                  existing_walk_m: np.ndarray | None = None, method: Method = "heuristic",
                  time_limit: float = 30.0) -> PlanResult:
    """The fewest new AEDs (among ``candidates``: venue entrances, street points) so that every venue has one
    within the round trip — set covering with the planning engine's bounds and honest status.

    ``weights`` (default each venue's capacity, else 1) weigh the venues; ``existing_walk_m``
    (default none) is each venue's walk to its nearest AED today: venues already within reach
    need nothing.
    """
    reach = thresholds.aed_reach_m
    n_v = len(venues)
    t = finder.facilities.table
    venue_fac = np.array([np.flatnonzero((t["layer"] == "venues").to_numpy()
                                         & (t["feature_id"].astype(str) == f).to_numpy())[0]
                          for f in venues["feature_id"].astype(str)])
    rows, cols, vals = [], [], []
    for c, origin in enumerate(_origins(finder, candidates)):
        d = finder.distances(origin, limit_m=reach)[venue_fac]
        hit = np.flatnonzero(np.isfinite(d))
        rows += [c] * len(hit)
        cols += hit.tolist()
        vals += np.maximum(d[hit], 1e-9).tolist()  # a candidate at the venue itself still counts
    dist = sparse.csr_matrix((vals, (rows, cols)), shape=(len(candidates), n_v))
    if weights is None:
        cap = pd.to_numeric(venues.get("capacity"), errors="coerce") if "capacity" in venues.columns else None
        weights = np.nan_to_num(cap.to_numpy(dtype=float), nan=1.0) if cap is not None else np.ones(n_v)
    existing = np.full(n_v, np.inf) if existing_walk_m is None else np.asarray(existing_walk_m, float)
    existing = np.where(existing <= reach, existing, np.inf)
    weights = np.asarray(weights, float).copy()
    # A venue no candidate reaches (off the street network, or none near) cannot be covered by any choice:
    # it is left out of the target and named in the notes, rather than making the problem infeasible.
    reachable = np.isfinite(existing) | (np.diff(dist.tocsc().indptr) > 0)
    out_of_reach = venues["feature_id"].astype(str).to_numpy()[~reachable]
    weights[~reachable] = 0.0
    problem = PlanningProblem(weights, dist, existing, reach, candidates["feature_id"].astype(str).to_numpy())
    if problem.total <= 0 or weights[~np.isfinite(existing)].sum() <= 0:
        result = PlanResult("lscp", method, np.array([], dtype=np.int64), 0.0, "optimal", 0.0, 0.0, 0.0,
                            messages=[note("plan.target_met")])
    else:
        result = set_covering(problem, 1.0, method=method, time_limit=time_limit, lp_bound=True)
    if len(out_of_reach):
        result.messages.append(note("emergency.out_of_reach", n=len(out_of_reach),
                                    venues=", ".join(out_of_reach[:10])))
    return result


#: The responder table's columns (``geometry``: each route as a WGS-84 line).
RESPONDER_COLUMNS = ["rank", "kind", "feature_id", "name", "phone", "mode", "metres", "seconds", "within", "open",
                     "confirmed", "geometry"]


def _lookup(layers: Mapping[str, gpd.GeoDataFrame], layer: str, field: str) -> dict[str, object]:
    frame = layers.get(layer)
    if frame is None or field not in frame.columns:
        return {}
    return dict(zip(frame["feature_id"].astype(str), frame[field]))


def emergency_hospitals(hospitals: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The hospitals an ambulance may leave from: those with an emergency department and those whose emergency
    department is not confirmed yet (``emergency`` empty, as OpenStreetMap leaves most Chinese hospitals), with
    ``confirmed`` saying which; a hospital recorded without one (``emergency`` false) is left out.  A layer
    without the field counts every hospital as unconfirmed."""
    if "emergency" not in hospitals.columns:
        return hospitals.assign(confirmed=False)
    said = hospitals["emergency"].astype(object)
    known = said.notna().to_numpy()
    yes = np.array([bool(v) if k else False for v, k in zip(said, known)])
    return hospitals[yes | ~known].assign(confirmed=yes[yes | ~known])


def unconfirmed_note(hospitals: gpd.GeoDataFrame | None) -> Note | None:
    """A note naming how many of the hospitals used have an unconfirmed emergency department (None: none)."""
    if hospitals is None or "confirmed" not in hospitals.columns or hospitals["confirmed"].all():
        return None
    return note("emergency.unconfirmed", n=int((~hospitals["confirmed"].astype(bool)).sum()), total=len(hospitals))


def place_origin(finder: NearbyFinder, frame: gpd.GeoDataFrame, feature_id: str) -> Origin:
    """Where an incident at feature ``feature_id`` of ``frame`` (a stored layer) starts: inside the place."""
    hit = frame[frame["feature_id"].astype(str) == str(feature_id)]
    if hit.empty:
        raise AnalysisError.coded("emergency.no_place", place=str(feature_id))
    return _origins(finder, hit.head(1))[0]


def responders(finder: NearbyFinder, origin: Origin, layers: Mapping[str, gpd.GeoDataFrame], *,
               drive: DriveNetwork | None = None, slot: TimeSlot | None = None,
               thresholds: EmergencyThresholds = EmergencyThresholds(), per_kind: int = 3,
               hospitals_tried: int = 5) -> gpd.GeoDataFrame:
    """Who can help at ``origin`` now, ranked by the seconds until they are there, each with its route drawn.

    - AEDs (``aeds``): the ``per_kind`` nearest open at ``slot`` on foot; ``seconds`` is the
      fetch-and-return at the brisk pace (the AED is at the patient then), ``within`` against
      the round-trip threshold.
    - Health stations: the nearest open ones; a doctor walking over at the brisk pace.
    - Emergency hospitals (:func:`emergency_hospitals`: ``confirmed`` false for an unconfirmed emergency
      department): the ambulance's drive at ``slot``'s hour (congestion), ranked among the
      ``hospitals_tried`` nearest in a straight line.

    The AED and station walks are the nearby finder's (``metres`` equal its distances); the
    drives are :func:`geo.drive.drive_route`'s.  Closed AEDs and stations are left out.
    """
    t = finder.facilities.table
    open_now = finder.facilities.open_mask(slot)
    pace = thresholds.brisk_m_per_min
    rows: list[dict] = []
    d = finder.distances(origin, limit_m=max(4 * thresholds.aed_reach_m, 3000.0))
    for kind in ("aeds", "health_stations"):
        phones = _lookup(layers, kind, "phone")
        idx = np.flatnonzero((t["layer"] == kind).to_numpy() & open_now & np.isfinite(d))
        for i in idx[np.argsort(d[idx], kind="stable")][:per_kind]:
            route = finder.route(origin, int(i), m_per_min=pace, limit_m=float(d[i]) + 1.0)
            if route is None:
                continue
            fid = str(t["feature_id"].iloc[i])
            trip = 2 * route.seconds if kind == "aeds" else route.seconds
            rows.append({"kind": kind, "feature_id": fid, "name": t["name"].iloc[i], "phone": phones.get(fid),
                         "mode": "walk", "metres": route.metres, "seconds": trip,
                         "within": bool(trip <= thresholds.aed_round_trip_s) if kind == "aeds" else None,
                         "open": True, "confirmed": True, "geometry": route.lonlat()})
    hospitals = layers.get("hospitals")
    if drive is not None and hospitals is not None and len(hospitals):
        er = hospitals if "confirmed" in hospitals.columns else emergency_hospitals(hospitals)
        pts = er.to_crs(drive.crs).geometry.representative_point()
        here = gpd.GeoSeries([shapely.Point(origin.lon, origin.lat)], crs=4326).to_crs(drive.crs).iloc[0]
        near = np.argsort(np.hypot(pts.x.to_numpy() - here.x, pts.y.to_numpy() - here.y), kind="stable")
        hour = slot.minute // 60 if slot is not None else None
        for k in near[:hospitals_tried]:
            route = drive_route(drive, (float(pts.x.iloc[k]), float(pts.y.iloc[k])), (here.x, here.y), hour=hour)
            if route is None:
                continue
            row = er.iloc[k]
            rows.append({"kind": "hospitals", "feature_id": str(row["feature_id"]), "name": row.get("name"),
                         "phone": row.get("phone"), "mode": "drive", "metres": route.metres,
                         "seconds": route.seconds, "within": bool(route.seconds <= thresholds.ambulance_s),
                         "open": True, "confirmed": bool(row.get("confirmed", True)), "geometry": route.lonlat()})
    out = gpd.GeoDataFrame(rows, columns=[c for c in RESPONDER_COLUMNS if c != "rank"], geometry="geometry",
                           crs=4326)
    out = out.sort_values(["seconds", "kind", "feature_id"], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


@dataclass(frozen=True)
class EventCover:
    """The emergency cover of an event: its start and end as time slots, and the responders at its start
    (``open_through``: an AED or station still open at the end; hospitals always)."""

    start: TimeSlot
    end: TimeSlot
    responders: gpd.GeoDataFrame

    def of(self, kind: str) -> gpd.GeoDataFrame:
        """The responders of one kind, nearest first."""
        return self.responders[self.responders["kind"] == kind].reset_index(drop=True)


def event_cover(finder: NearbyFinder, origin: Origin, layers: Mapping[str, gpd.GeoDataFrame], *, day: dt.date,
                start_minute: int, end_minute: int, drive: DriveNetwork | None = None, public_holiday: bool = False,
                thresholds: EmergencyThresholds = EmergencyThresholds()) -> EventCover:
    """Who covers an event at ``origin`` on ``day`` from ``start_minute`` to ``end_minute`` (after midnight):
    the AEDs and health stations open when it starts (up to five of each) and whether they stay open to its
    end, and the two nearest emergency hospitals by ambulance at the starting hour.

    Raises
    ------
    AnalysisError
        When the event ends before it starts.
    """
    if not 0 <= start_minute < end_minute <= 1440:
        raise AnalysisError.coded("emergency.event_times", start=f"{start_minute // 60:02d}:{start_minute % 60:02d}",
                                  end=f"{end_minute // 60:02d}:{end_minute % 60:02d}")
    start = TimeSlot(day.weekday(), start_minute, public_holiday=public_holiday)
    end = TimeSlot(day.weekday(), end_minute - 1, public_holiday=public_holiday)
    got = responders(finder, origin, layers, drive=drive, slot=start, thresholds=thresholds, per_kind=5)
    hospitals = got[got["kind"] == "hospitals"].head(2)
    got = pd.concat([got[got["kind"] != "hospitals"], hospitals]).sort_values("rank")
    t = finder.facilities.table
    still = dict(zip(zip(t["layer"], t["feature_id"].astype(str)), finder.facilities.open_mask(end)))
    got["open_through"] = [True if k == "hospitals" else bool(still.get((k, f), False))
                           for k, f in zip(got["kind"], got["feature_id"])]
    got["rank"] = np.arange(1, len(got) + 1)
    return EventCover(start, end, gpd.GeoDataFrame(got.reset_index(drop=True), geometry="geometry", crs=4326))


__all__ = ["EmergencyThresholds", "SOURCES", "emergency_profiles", "aed_placement", "PROFILE_COLUMNS",
           "RESPONDER_COLUMNS", "responders", "place_origin", "EventCover", "event_cover", "emergency_hospitals",
           "unconfirmed_note"]

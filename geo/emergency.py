"""Emergency linkage per venue: the nearest AED on foot (and back), the nearest open health station, the
ambulance from the nearest emergency hospital — against thresholds with their sources — and where new AEDs
would bring every venue within reach (the planning engine's set covering).

Walks are the nearby finder's (the coverage engine's network and snapping), at a brisk pace;
drives are :mod:`geo.drive`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.drive import DriveNetwork, drive_times
from geo.facilities import TimeSlot
from geo.nearby import NearbyFinder, Origin
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


#: The cited source of each default threshold.
SOURCES = {
    "aed_round_trip_s": "AHA/ERC resuscitation guidelines: defibrillation within 3–5 min of collapse; public-access "
                        "AED programmes plan for a ≤ 4 min round trip (about 200 m at a brisk walk each way)",
    "ambulance_s": "《院前医疗急救管理办法》及国家卫健委《关于进一步完善院前医疗急救服务的指导意见》(2020): "
                   "城市地区平均急救呼叫满足率 100%，急救反应时间小于 12 分钟",
}

PROFILE_COLUMNS = ["feature_id", "name", "capacity", "aed_id", "aed_walk_m", "aed_round_trip_s", "aed_ok",
                   "station_id", "station_walk_m", "hospital", "ambulance_s", "ambulance_ok", "fails", "rank"]


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
    out["hospital"], out["ambulance_s"] = None, np.inf
    if drive is not None and hospitals is not None and len(hospitals):
        hx = hospitals.to_crs(drive.crs).geometry.representative_point()
        vx = venues.to_crs(drive.crs).geometry.representative_point()
        got = drive_times(drive, np.column_stack([hx.x, hx.y]), np.column_stack([vx.x, vx.y]),
                          hour=slot.minute // 60 if slot is not None else None)
        names = hospitals.get("name", hospitals["feature_id"]).to_numpy()
        out["ambulance_s"] = got.seconds
        out["hospital"] = [names[k] if k >= 0 else None for k in got.source]
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
    problem = PlanningProblem(np.asarray(weights, float), dist, existing, reach,
                              candidates["feature_id"].astype(str).to_numpy())
    return set_covering(problem, 1.0, method=method, time_limit=time_limit)


__all__ = ["EmergencyThresholds", "SOURCES", "emergency_profiles", "aed_placement", "PROFILE_COLUMNS"]

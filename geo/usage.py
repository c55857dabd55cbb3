"""Venue usage against capacity, beside the residents each venue serves.

A venue's *daily capacity* is how many visits it can take in a day: its ``capacity``
(people at once) times its open hours that day, divided by the length of a typical
session.  Its *utilisation* is the mean visits per day (from imported usage records)
over that capacity.  Its *catchment* is the residents within a walk of it, measured by
the coverage engine, so a bureau sees where a crowded venue also serves many residents
(demand exceeds supply) and where a quiet venue serves few.

A count is *implausible* when it exceeds what the venue could take even at its busiest:
its capacity turned over every :attr:`UsageSettings.shortest_session_hours` for as long as
it is open (all day when its hours are unknown), or a
:attr:`UsageSettings.max_resident_share` of every resident of the area coming to this one
venue on one day.  Such counts are refused at import (:func:`daily_ceiling` is the one
bound the import and this analysis share) and a stored venue whose mean is above it is
shown as doubtful, never as a utilisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo.coverage import CoverageEngine
from geo.crs import transformer
from geo.errors import AnalysisError
from geo.hours import OpeningHours
from geo.notes import Note, note

STATUS = ("over", "normal", "under", "implausible", "no_capacity", "no_data")


@dataclass(frozen=True)
class UsageSettings:
    """How usage is read against capacity.

    Attributes
    ----------
    session_hours : float
        Length of a typical visit; daily capacity is capacity × open hours / this.
    hours_when_unknown : float
        Open hours per day assumed for a venue without opening hours.
    over, under : float
        Utilisation at or above ``over`` is over-used; at or below ``under`` under-used.
    measure : {"visits", "bookings"}
        Which usage records count.
    shortest_session_hours : float
        The shortest visit there is: more visits in a day than capacity × open hours / this
        cannot have happened.
    max_resident_share : float
        More visits to one venue in one day than this share of all residents of the area
        cannot have happened (regular exercisers are about a third of residents, and they
        spread over every venue).
    """

    session_hours: float = 1.5
    hours_when_unknown: float = 12.0
    over: float = 0.85
    under: float = 0.30
    measure: str = "visits"
    shortest_session_hours: float = 0.5
    max_resident_share: float = 0.05

    def __post_init__(self) -> None:
        if not (self.session_hours > 0 and 0 < self.hours_when_unknown <= 24):
            raise AnalysisError("Session length must be positive and assumed open hours within 0–24.")
        if not (0 < self.shortest_session_hours <= self.session_hours and 0 < self.max_resident_share <= 1):
            raise AnalysisError("The shortest session must be positive and no longer than a typical one, and the "
                                "resident share within 0–1.")
        if not 0 <= self.under < self.over:
            raise AnalysisError(f"The under-used bound ({self.under}) must be below the over-used one ({self.over}).")


@dataclass
class UsageResult:
    """One row per venue (:attr:`table`) and what was assumed (:attr:`notes`)."""

    table: pd.DataFrame
    settings: UsageSettings
    catchment_m: float
    notes: list[Note] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Venues per status."""
        got = self.table["status"].value_counts()
        return {s: int(got.get(s, 0)) for s in STATUS}


def open_hours_per_day(hours: OpeningHours | None, *, week_of: date | None = None) -> float | None:
    """Mean open hours a day in an ordinary week (the week of ``week_of``, default this one); None when the
    hours are unknown."""
    return None if hours is None else hours.weekly_minutes(week_of=week_of) / 7 / 60


def daily_ceiling(capacity: np.ndarray, hours_per_day: np.ndarray, residents: float | None,
                  settings: UsageSettings | None = None) -> np.ndarray:
    """Most visits each venue can have had in one day (``inf`` where nothing bounds it).

    The smaller of capacity × open hours / the shortest session (a venue without a capacity
    is not bound by it; one whose hours are unknown or never open counts as open all day)
    and the resident share of all ``residents`` (None: not bound by it).
    """
    settings = settings or UsageSettings()
    capacity = np.asarray(capacity, dtype=float)
    hours = np.asarray(hours_per_day, dtype=float)
    hours = np.where(np.isfinite(hours) & (hours > 0), hours, 24.0)
    with np.errstate(invalid="ignore"):
        by_capacity = np.where(np.isfinite(capacity) & (capacity > 0),
                               capacity * hours / settings.shortest_session_hours, np.inf)
    by_residents = residents * settings.max_resident_share if residents is not None and residents > 0 else np.inf
    return np.minimum(by_capacity, by_residents)


def mean_daily(usage: pd.DataFrame, *, measure: str = "visits") -> pd.DataFrame:
    """Mean count per day per venue: daily rows count one day, weekly rows seven.

    Returns ``venue_id``, ``mean_daily``, ``days`` (days covered), ``first``, ``last``.
    """
    cols = ["venue_id", "mean_daily", "days", "first", "last"]
    if usage is None or usage.empty:
        return pd.DataFrame(columns=cols)
    u = usage[usage["measure"] == measure]
    if u.empty:
        return pd.DataFrame(columns=cols)
    days = np.where(u["period"].to_numpy() == "week", 7, 1)
    frame = pd.DataFrame({"venue_id": u["venue_id"].to_numpy(), "count": u["count"].astype(float).to_numpy(),
                          "days": days, "date": pd.to_datetime(u["date"]).to_numpy()})
    g = frame.groupby("venue_id")
    out = pd.DataFrame({"count": g["count"].sum(), "days": g["days"].sum(), "first": g["date"].min(),
                        "last": g["date"].max()}).reset_index()
    out["mean_daily"] = out["count"] / out["days"]
    return out[cols]


def catchment_residents(engine: CoverageEngine, facilities: np.ndarray, limit: float) -> np.ndarray:
    """Residents within ``limit`` metres' walk of each facility (by index), as the engine measures."""
    facilities = np.asarray(facilities, dtype=np.int64)
    pop = engine.demand.population
    out = np.zeros(len(facilities))
    if engine.network_reach is not None:
        mask = np.zeros(len(engine.facilities), dtype=bool)
        mask[facilities] = True
        catch = engine.network_reach.catchments(mask, limit=limit)
        m = catch.matrix
        reached = sparse.csr_matrix((np.ones(m.nnz), m.indices, m.indptr), shape=m.shape)
        return (reached @ pop)[facilities]
    tree = shapely.STRtree(shapely.points(engine.demand.x, engine.demand.y))
    for k, i in enumerate(facilities):
        hit = tree.query(engine.facilities.geometry[i], predicate="dwithin", distance=limit)
        out[k] = pop[hit].sum()
    return out


def venue_usage(engine: CoverageEngine, venues: gpd.GeoDataFrame, usage: pd.DataFrame, *,
                catchment_m: float = 1000.0, settings: UsageSettings | None = None) -> UsageResult:
    """Utilisation of every venue against its daily capacity, and its catchment's residents.

    Parameters
    ----------
    engine : CoverageEngine
        Its facility set holds the ``venues`` layer (the catchments and hours come from it).
    venues : GeoDataFrame
        The stored venues (``feature_id``, ``name``, ``capacity``).
    usage : DataFrame
        Rows of the ``venue_usage`` record table.
    catchment_m : float
        The walk that defines a venue's catchment (default the 15-minute life circle).

    Returns
    -------
    UsageResult
        Per venue: ``capacity``, ``open_hours_per_day`` (``hours_known``), ``daily_capacity``,
        ``mean_daily``, ``days``, ``ceiling`` (:func:`daily_ceiling`), ``utilisation`` (none where the
        mean is above the ceiling), ``status`` (one of :data:`STATUS`),
        ``catchment_residents``, ``residents_per_place`` and ``lon``/``lat``.
    """
    settings = settings or UsageSettings()
    if not np.isfinite(catchment_m) or catchment_m <= 0:
        raise AnalysisError(f"The catchment walk must be a positive number of metres, not {catchment_m}.")
    fs = engine.facilities
    if "venues" not in fs.layers:
        raise AnalysisError("The analysis has no venues layer; usage is read against venues.")
    idx = np.flatnonzero(fs.layer_mask("venues"))
    table = fs.table.iloc[idx]
    cap = venues.set_index(venues["feature_id"].astype(str))["capacity"] if "capacity" in venues.columns \
        else pd.Series(dtype=float)
    capacity = pd.to_numeric(cap.reindex(table["feature_id"].to_numpy()), errors="coerce").to_numpy(dtype=float)
    hours = [fs.hours[i] for i in idx]
    known = np.array([h is not None for h in hours])
    stated = np.array([np.nan if (d := open_hours_per_day(h)) is None else d for h in hours])
    per_day = np.where(known, stated, settings.hours_when_unknown)
    daily_capacity = capacity * per_day / settings.session_hours
    daily = mean_daily(usage, measure=settings.measure).set_index("venue_id")
    md = daily["mean_daily"].reindex(table["feature_id"].to_numpy()).to_numpy(dtype=float)
    days = daily["days"].reindex(table["feature_id"].to_numpy()).fillna(0).to_numpy(dtype=int)
    ceiling = daily_ceiling(capacity, stated, float(engine.demand.population.sum()), settings)
    doubtful = np.isfinite(md) & (md > ceiling)
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where((daily_capacity > 0) & ~doubtful, md / daily_capacity, np.nan)
    status = np.select([~np.isfinite(md), doubtful, ~(daily_capacity > 0), util >= settings.over,
                        util <= settings.under], ["no_data", "implausible", "no_capacity", "over", "under"], "normal")
    residents = catchment_residents(engine, idx, catchment_m)
    pts = shapely.point_on_surface(fs.geometry[idx])
    lon, lat = transformer(fs.crs, 4326).transform(shapely.get_x(pts), shapely.get_y(pts))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_place = np.where(capacity > 0, residents / capacity, np.nan)
    out = pd.DataFrame({
        "feature_id": table["feature_id"].to_numpy(), "name": table["name"].to_numpy(), "capacity": capacity,
        "open_hours_per_day": per_day, "hours_known": known, "daily_capacity": daily_capacity,
        "mean_daily": md, "days": days, "ceiling": ceiling, "utilisation": util, "status": status,
        "catchment_residents": residents, "residents_per_place": per_place, "lon": lon, "lat": lat})
    notes = []
    unknown = sorted(set(usage["venue_id"]) - set(out["feature_id"])) if usage is not None and len(usage) else []
    if unknown:
        notes.append(note("usage.unknown_ids", n=len(unknown), ids=[str(u) for u in unknown]))
    if (~known).any():
        notes.append(note("usage.hours_assumed", n=int((~known).sum()), hours=settings.hours_when_unknown))
    if (status == "no_data").any():
        notes.append(note("usage.no_records", n=int((status == "no_data").sum()), measure=settings.measure))
    if doubtful.any():
        notes.append(note("usage.implausible", n=int(doubtful.sum()),
                          names=[str(n) for n in table["name"].to_numpy()[doubtful]],
                          share=settings.max_resident_share, session=settings.shortest_session_hours))
    if (status == "no_capacity").any():
        notes.append(note("usage.no_capacity", n=int((status == "no_capacity").sum())))
    out = out.sort_values(["utilisation", "feature_id"], ascending=[False, True], na_position="last")
    return UsageResult(out.reset_index(drop=True), settings, float(catchment_m), notes)


__all__ = ["UsageSettings", "UsageResult", "venue_usage", "mean_daily", "catchment_residents", "daily_ceiling",
           "open_hours_per_day", "STATUS"]

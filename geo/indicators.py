"""The alliance's evaluation indicators, per unit, per department and over time.

Every figure is computed from stored layers read through a *layer source* (an object with
``vector(name)``, ``raster(name)``, ``label`` and ``describe()``, such as
:class:`layers.stores.snapshot.Snapshot`), which pins each layer to one version: the same
source gives the same indicators, and a source per quarter (or per change) gives a trend.

Indicators
----------
resource-open rate
    Share of school sports facilities open to the public, their mean weekly open hours,
    and the share meeting the weekday/weekend hours a city sets (Ningbo 2023: ≥ 2 h on
    weekdays, ≥ 8 h on weekend days).
service coverage rate
    Share of residents within each life-circle walk (300/500/1000 m) of any fitness
    resource, and of each department's own layer.
per-capita sports area
    Venue area (plus open school facilities) per resident, against 2.6 m².
health + fitness link
    Share of health stations with an open fitness resource within a 10-minute walk.
satisfaction
    Imported survey scores per unit and period, averaged weighted by respondents; a unit
    with fewer than ``min_respondents`` answers is suppressed (shown as no data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.coverage import ANY_LAYER, CoverageEngine, CoverageResult
from geo.errors import AnalysisError
from geo.facilities import LIFE_CIRCLES_M
from geo.inputs import FACILITY_LAYERS, engine_from_readers
from geo.nearby import NearbyFinder
from geo.notes import Note, note
from geo.units import (
    OUTSIDE,
    SPORTS_AREA_TARGET_M2_PER_RESIDENT,
    assign_units,
    coverage_by_unit,
    facility_units,
    school_open_share_by_unit,
    sports_area_by_unit,
)

#: Which department answers for which facility layer.
DEPARTMENT_LAYERS: dict[str, str] = {"sports": "venues", "education": "school_facilities",
                                     "parks": "greenways", "health": "health_stations"}


class LayerSource(Protocol):
    """Stored layers pinned to versions (see :class:`layers.stores.snapshot.Snapshot`)."""

    label: str

    def vector(self, name: str) -> gpd.GeoDataFrame | None:
        """A vector layer at its pinned version (``None`` when it did not exist)."""

    def raster(self, name: str) -> bytes | None:
        """A raster layer's GeoTIFF bytes at its pinned version (``None`` when it did not exist)."""

    def describe(self) -> str:
        """Which layer versions were read."""


@dataclass(frozen=True)
class IndicatorSettings:
    """Targets and thresholds of the evaluation (configurable per city)."""

    thresholds_m: tuple[float, ...] = tuple(LIFE_CIRCLES_M.values())
    service_threshold_m: float = LIFE_CIRCLES_M["15min"]
    area_target_m2: float = SPORTS_AREA_TARGET_M2_PER_RESIDENT
    weekday_hours_target: float = 2.0
    weekend_hours_target: float = 8.0
    min_respondents: int = 30
    station_walk_min: float = 10.0

    def __post_init__(self) -> None:
        if self.service_threshold_m not in self.thresholds_m:
            raise AnalysisError(f"The service threshold {self.service_threshold_m:g} m must be one of the "
                                f"thresholds {', '.join(f'{t:g}' for t in self.thresholds_m)}.")
        if self.min_respondents < 1:
            raise AnalysisError("At least one respondent is needed to publish a satisfaction score.")


@dataclass
class Indicators:
    """Indicators of one layer source.

    Attributes
    ----------
    units : DataFrame
        One row per unit of ``level``: residents, ``coverage_<t>`` for every threshold,
        ``m2_per_resident``, ``school_facilities``, ``open_rate``, ``weekly_open_hours``,
        ``satisfaction``, ``respondents`` (``satisfaction`` NaN where suppressed).
    city : dict
        The same figures for the whole city.
    departments : DataFrame
        ``department``, ``indicator``, ``value``, ``target``, ``meets`` per department.
    league : DataFrame
        Units ranked by their mean score across the four indicators (each scaled 0–1).
    source, versions :
        Which layer versions were read, as text and as ``(name, kind) → version``.
    """

    label: str
    level: str
    units: pd.DataFrame
    city: dict
    departments: pd.DataFrame
    league: pd.DataFrame
    source: str = ""
    notes: list[Note] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)


def school_hours(engine: CoverageEngine, settings: IndicatorSettings) -> pd.DataFrame:
    """Per school facility: open to the public, weekly open hours, meets the city's hours target."""
    fs = engine.facilities
    if "school_facilities" not in fs.layers:
        return pd.DataFrame(columns=["feature_id", "open", "weekly_hours", "meets_hours"])
    idx = np.flatnonzero(fs.layer_mask("school_facilities"))
    rows = []
    for i in idx:
        h = fs.hours[i]
        usable = bool(fs.table["usable"].iloc[i])
        days = [h.day_minutes(d) / 60 for d in range(7)] if h is not None and usable else [0.0] * 7
        meets = usable and all(x >= settings.weekday_hours_target for x in days[:5]) and \
            all(x >= settings.weekend_hours_target for x in days[5:])
        rows.append((fs.table["feature_id"].iloc[i], usable, sum(days), meets, h is not None))
    return pd.DataFrame(rows, columns=["feature_id", "open", "weekly_hours", "meets_hours", "hours_known"])


def satisfaction_by_unit(survey: pd.DataFrame | None, codes: Sequence[str], *, period: str | None = None,
                         min_respondents: int = 30) -> pd.DataFrame:
    """Weighted mean score and respondents per unit code (latest period, or ``period``).

    Units with fewer than ``min_respondents`` answers get ``satisfaction`` NaN and
    ``suppressed`` True: a small group's score is not published.
    """
    out = pd.DataFrame({"code": list(codes)})
    if survey is None or survey.empty:
        return out.assign(satisfaction=np.nan, respondents=0, suppressed=False, period=None)
    chosen = period or str(max(survey["period"].astype(str)))
    s = survey[survey["period"].astype(str) == chosen]
    w = s["respondents"].astype(float)
    g = pd.DataFrame({"code": s["unit_code"].astype(str), "ws": s["score"].astype(float) * w, "w": w}) \
        .groupby("code").sum()
    out = out.merge(g, left_on="code", right_index=True, how="left")
    out["respondents"] = out["w"].fillna(0).astype(int)
    out["suppressed"] = (out["respondents"] > 0) & (out["respondents"] < min_respondents)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = out["ws"] / out["w"]
    out["satisfaction"] = np.where(out["respondents"] >= min_respondents, score, np.nan)
    out["period"] = chosen
    return out[["code", "satisfaction", "respondents", "suppressed", "period"]]


def _scaled(units: pd.DataFrame, settings: IndicatorSettings) -> pd.DataFrame:
    """Each indicator on 0–1 for the league table (area capped at its target)."""
    return pd.DataFrame({
        "coverage": units[f"coverage_{settings.service_threshold_m:g}"],
        "area": np.minimum(units["m2_per_resident"] / settings.area_target_m2, 1.0),
        "open_rate": units["open_rate"],
        "satisfaction": units["satisfaction"] / 100.0,
    })


def compute_indicators(engine: CoverageEngine, boundaries: gpd.GeoDataFrame, *, venues: gpd.GeoDataFrame,
                       school_facilities: gpd.GeoDataFrame | None, survey: pd.DataFrame | None = None,
                       level: str = "street", period: str | None = None, label: str = "now",
                       settings: IndicatorSettings | None = None, need: Mapping[str, Mapping[str, float]] | None = None,
                       need_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
                       matching: Mapping[str, tuple] | None = None) -> Indicators:
    """All indicators for one set of layers.

    Parameters
    ----------
    engine : CoverageEngine
        Over the four facility layers.
    boundaries, venues, school_facilities : GeoDataFrame
        The stored layers of the same versions as the engine's.
    survey : DataFrame, optional
        Rows of the ``satisfaction`` record table.
    level : str
        Units of the per-unit table (``district``, ``street`` or ``community``).
    period : str, optional
        Survey period to report (default the latest).
    need, need_layers : optional
        Need groups (indicator → unit code → people, from the stored aggregates) and the stored facility
        layers their matching filters: each unit gains ``need_<indicator>``, the group's share within reach of
        the facilities that serve it, a modelled estimate published to whole percent (:mod:`geo.disclosure`).
    matching : mapping, optional
        Which facilities serve which need (:data:`geo.need.DEFAULT_MATCHING` unless the installation
        configured its own: :func:`layers.health.configured_matching`).
    """
    settings = settings or IndicatorSettings()
    assign = assign_units(engine.demand, boundaries, level=level)
    layers = [k for k in FACILITY_LAYERS if k in engine.facilities.layers]
    layer = ANY_LAYER if len(layers) > 1 else layers[0]
    result = engine.run(list(settings.thresholds_m), layers=layers)
    units = _unit_coverage(coverage_by_unit(result, assign, layer=layer))
    area = sports_area_by_unit(assign, engine.demand, venues, school_facilities=school_facilities,
                               target_m2=settings.area_target_m2).set_index("code")
    units["m2_per_resident"] = units["code"].map(area["m2_per_resident"]).to_numpy()
    hours = school_hours(engine, settings)
    _unit_schools(units, assign, school_facilities, hours)
    sat = satisfaction_by_unit(survey, list(units["code"]), period=period,
                               min_respondents=settings.min_respondents).set_index("code")
    _unit_satisfaction(units, sat)
    units.insert(0, "level", level)
    need_city: dict[str, float] = {}
    if need:
        from geo.need import DEFAULT_MATCHING, need_rates_by_unit

        frames = dict(need_layers or {}) | {"venues": venues, "school_facilities": school_facilities}
        rates, need_city = need_rates_by_unit(engine, boundaries, assign, need, frames, matching or DEFAULT_MATCHING)
        units = units.merge(rates, on="code", how="left")
    city = _city_figures(result, layer, settings, area, hours, sat) | need_city
    if "health_stations" in layers:
        city["stations_with_fitness_rate"] = _stations_with_fitness(engine, settings)
    departments = _department_table(result, layers, city, settings)
    return Indicators(label, level, units.reset_index(drop=True), city, departments,
                      _league(units, settings).reset_index(drop=True), notes=_notes(assign, units, hours, settings))


def _unit_coverage(cov: pd.DataFrame) -> pd.DataFrame:
    """One row per unit (code, name, residents) with its share covered at each threshold (``coverage_<m>``)."""
    units = cov.drop_duplicates("code")[["code", "name", "residents"]].reset_index(drop=True)
    rates = cov.pivot(index="code", columns="threshold_m", values="rate")
    for t in rates.columns:
        units[f"coverage_{t:g}"] = units["code"].map(rates[t]).to_numpy(dtype=float)
    return units


def _unit_schools(units: pd.DataFrame, assign, schools: gpd.GeoDataFrame | None, hours: pd.DataFrame) -> None:
    """Each unit's school facilities, the share open to the public and their weekly open hours."""
    share = school_open_share_by_unit(assign, schools if schools is not None
                                      else gpd.GeoDataFrame({"open_to_public": []}, geometry=[], crs=4326))
    share = share.set_index("code")
    units["school_facilities"] = units["code"].map(share["school_facilities"]).fillna(0).astype(int).to_numpy()
    units["open_rate"] = units["code"].map(share["share_open"]).to_numpy()
    units["weekly_open_hours"] = _hours_by_unit(hours, schools, assign, units["code"])


def _unit_satisfaction(units: pd.DataFrame, sat: pd.DataFrame) -> None:
    """Each unit's survey satisfaction, its respondents, and whether it is withheld for too few of them."""
    units["satisfaction"] = units["code"].map(sat["satisfaction"]).to_numpy()
    units["respondents"] = units["code"].map(sat["respondents"]).fillna(0).astype(int).to_numpy()
    units["satisfaction_suppressed"] = units["code"].map(sat["suppressed"]).fillna(False).astype(bool).to_numpy()


def _city_figures(result: CoverageResult, layer: str, settings: IndicatorSettings, area: pd.DataFrame,
                  hours: pd.DataFrame, sat: pd.DataFrame) -> dict:
    """The city's figures: residents, coverage at each threshold, sports area per resident (facilities outside
    every unit count too), school opening, and satisfaction weighted by respondents."""
    pop = result.population
    total = float(pop.sum())
    city: dict = {"residents": total}
    for t in settings.thresholds_m:
        city[f"coverage_{t:g}"] = float((pop * result.covered(layer, t)).sum() / total)
    city["m2_per_resident"] = float(area["sports_area_m2"].sum() / total)
    n_sch = int(len(hours))
    city["school_facilities"] = n_sch
    city["open_rate"] = float(hours["open"].mean()) if n_sch else float("nan")
    opened = hours[hours["open"]]
    city["weekly_open_hours"] = float(opened["weekly_hours"].mean()) if len(opened) else float("nan")
    city["meets_hours_rate"] = float(opened["meets_hours"].mean()) if len(opened) else float("nan")
    published = sat[sat["satisfaction"].notna()]
    city["satisfaction"] = float((published["satisfaction"] * published["respondents"]).sum()
                                 / published["respondents"].sum()) if len(published) else float("nan")
    city["survey_period"] = sat["period"].iloc[0] if len(sat) else None
    return city


def _stations_with_fitness(engine: CoverageEngine, settings: IndicatorSettings) -> float:
    """The share of health stations with a fitness place within the configured walk."""
    lonely = NearbyFinder(engine).stations_without_fitness(minutes=settings.station_walk_min)
    n_st = int(engine.facilities.layer_mask("health_stations").sum())
    return 1.0 - len(lonely) / n_st if n_st else float("nan")


def _league(units: pd.DataFrame, settings: IndicatorSettings) -> pd.DataFrame:
    """Units ranked by the mean of their scaled indicators (ties by code; units with none known last)."""
    scaled = _scaled(units, settings)
    league = units[["code", "name", "residents"]].copy()
    league["score"] = scaled.mean(axis=1, skipna=True).to_numpy()
    league["indicators_known"] = scaled.notna().sum(axis=1).to_numpy()
    league = league[league["code"] != OUTSIDE].sort_values(["score", "code"], ascending=[False, True],
                                                           na_position="last")
    league.insert(0, "rank", np.arange(1, len(league) + 1))
    return league


def _notes(assign, units: pd.DataFrame, hours: pd.DataFrame, settings: IndicatorSettings) -> list:
    """What the reader must know: the unit assignment's notes, withheld satisfaction, schools of unknown hours."""
    notes = list(assign.notes)
    if units["satisfaction_suppressed"].any():
        notes.append(note("indicators.suppressed", n=int(units["satisfaction_suppressed"].sum()),
                          k=settings.min_respondents))
    unknown_hours = hours[hours["open"] & ~hours["hours_known"]]
    if len(unknown_hours):
        notes.append(note("indicators.school_hours_unknown", n=len(unknown_hours)))
    return notes


def _hours_by_unit(hours: pd.DataFrame, schools: gpd.GeoDataFrame | None, assign, codes: pd.Series) -> np.ndarray:
    """Mean weekly open hours of the open school facilities in each unit."""
    out = pd.Series(np.nan, index=codes.to_numpy())
    if schools is None or len(schools) == 0 or hours.empty:
        return out.to_numpy()
    u = facility_units(schools, assign)
    unit_code = np.array(list(assign.units["code"]) + [OUTSIDE], dtype=object)[np.where(u >= 0, u, len(assign.units))]
    frame = pd.DataFrame({"feature_id": schools["feature_id"].astype(str).to_numpy(), "code": unit_code})
    frame = frame.merge(hours, on="feature_id")
    means = frame[frame["open"]].groupby("code")["weekly_hours"].mean()
    return codes.map(means).to_numpy(dtype=float)


def _department_table(result, layers: list[str], city: dict, settings: IndicatorSettings) -> pd.DataFrame:
    t = settings.service_threshold_m
    pop = result.population
    rows = []
    for dept, layer in DEPARTMENT_LAYERS.items():
        if layer not in layers:
            continue
        rate = np.nan if layer in result.no_data_layers else float((pop * result.covered(layer, t)).sum() / pop.sum())
        rows.append((dept, f"service_coverage_{t:g}m", rate, None))
    rows += [("sports", "m2_per_resident", city["m2_per_resident"], settings.area_target_m2),
             ("education", "open_rate", city["open_rate"], None),
             ("education", "weekly_open_hours", city["weekly_open_hours"], None),
             ("education", "meets_hours_rate", city["meets_hours_rate"], 1.0),
             ("health", "stations_with_fitness_rate", city.get("stations_with_fitness_rate", np.nan), 1.0),
             ("alliance", f"service_coverage_{t:g}m", city[f"coverage_{t:g}"], 1.0),
             ("alliance", "satisfaction", city["satisfaction"], None)]
    out = pd.DataFrame(rows, columns=["department", "indicator", "value", "target"])
    target = pd.to_numeric(out["target"], errors="coerce")
    out["meets"] = np.where(target.notna() & out["value"].notna(), out["value"] >= target, None)
    return out


def indicators_from(source: LayerSource, *, survey: pd.DataFrame | None = None, level: str = "street",
                    period: str | None = None, method: str = "network",
                    settings: IndicatorSettings | None = None, need: Mapping[str, Mapping[str, float]] | None = None,
                    matching: Mapping[str, tuple] | None = None) -> Indicators:
    """Indicators from stored layers alone (the engine, boundaries and facilities of ``source``).

    Raises
    ------
    AnalysisError
        When the source has no boundaries, population or venues.
    """
    boundaries = source.vector("boundaries")
    if boundaries is None or boundaries.empty:
        raise AnalysisError(f"{source.label}: no boundaries are stored; indicators are reported per unit.")
    venues = source.vector("venues")
    if venues is None:
        raise AnalysisError(f"{source.label}: no venues are stored.")
    engine = engine_from_readers(source.vector, source.raster, method=method)  # type: ignore[arg-type]
    out = compute_indicators(engine, boundaries, venues=venues, school_facilities=source.vector("school_facilities"),
                             survey=survey, level=level, period=period, label=source.label, settings=settings,
                             need=need, need_layers={k: source.vector(k) for k in ("greenways", "health_stations")},
                             matching=matching)
    out.source = source.describe()
    out.versions = dict(getattr(source, "versions", {}))
    return out


def indicator_trend(sources: Sequence[LayerSource], *, method: str = "network",
                    settings: IndicatorSettings | None = None) -> pd.DataFrame:
    """City-wide indicators at each source (a quarter's data, or each change), in order.

    Sources lacking the boundaries, population or venues are skipped with their reason
    in the ``note`` column rather than failing the whole trend.
    """
    rows = []
    for src in sources:
        try:
            ind = indicators_from(src, method=method, settings=settings)
        except AnalysisError as exc:
            rows.append({"label": src.label, "when": getattr(src, "when", None), "note": str(exc)})
            continue
        rows.append({"label": src.label, "when": getattr(src, "when", None), **{k: v for k, v in ind.city.items()
                                            if k not in ("survey_period", "satisfaction")},
                     "layers": ind.source, "note": ""})
    return pd.DataFrame(rows)


def satisfaction_trend(survey: pd.DataFrame | None, *, min_respondents: int = 30) -> pd.DataFrame:
    """City-wide satisfaction per survey period: respondent-weighted mean of the published units."""
    if survey is None or survey.empty:
        return pd.DataFrame(columns=["period", "satisfaction", "units_published", "units_suppressed"])
    rows = []
    for period in sorted(survey["period"].astype(str).unique()):
        codes = survey.loc[survey["period"].astype(str) == period, "unit_code"].astype(str).unique()
        got = satisfaction_by_unit(survey, list(codes), period=period, min_respondents=min_respondents)
        pub = got[got["satisfaction"].notna()]
        mean = float((pub["satisfaction"] * pub["respondents"]).sum() / pub["respondents"].sum()) \
            if len(pub) else np.nan
        rows.append((period, mean, len(pub), int(got["suppressed"].sum())))
    return pd.DataFrame(rows, columns=["period", "satisfaction", "units_published", "units_suppressed"])


__all__ = ["IndicatorSettings", "Indicators", "compute_indicators", "indicators_from", "indicator_trend",
           "satisfaction_by_unit", "satisfaction_trend", "school_hours", "DEPARTMENT_LAYERS", "LayerSource"]

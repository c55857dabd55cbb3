"""Statistics per administrative unit: district (区), street (街道), community (社区).

Demand cells are assigned to the unit their location falls in; facilities to the unit
holding their representative point.  Residents outside every unit are never dropped:
they are a row of their own (``outside every unit``) and a note.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coverage import CoverageResult
from geo.demand import Demand
from geo.errors import AnalysisError
from geo.geometry_kinds import AREAS, kind_is
from geo.notes import Note, note

#: National target: sports venue area per resident by 2025 (m²).
SPORTS_AREA_TARGET_M2_PER_RESIDENT = 2.6
#: Label of the row holding residents or facilities outside every unit.
OUTSIDE = "outside every unit"
#: The source of units drawn as a regular grid where the data hold no administrative boundaries.
GRID_SOURCE = "regular grid (no administrative boundaries in the data)"


@dataclass(frozen=True)
class UnitAssignment:
    """Which unit (row of :attr:`units`) each demand cell is in; -1 for none."""

    units: pd.DataFrame
    cell_unit: np.ndarray
    level: str
    crs: object
    notes: tuple[Note, ...] = ()


def units_of_level(boundaries: gpd.GeoDataFrame, level: str, crs) -> gpd.GeoDataFrame:
    """The boundaries of ``level`` (all of them when the layer has no ``level`` column) in ``crs``."""
    if boundaries is None or len(boundaries) == 0:
        raise AnalysisError("No boundaries loaded: per-unit statistics need the boundaries layer.")
    for col in ("code", "name"):
        if col not in boundaries.columns:
            raise AnalysisError(f"The boundaries layer has no {col!r} column.")
    if "level" in boundaries.columns:
        levels = sorted(boundaries["level"].dropna().unique())
        sub = boundaries[boundaries["level"] == level]
        if len(sub) == 0:
            raise AnalysisError(f"No boundary of level {level!r}; the layer has levels {', '.join(levels)}.")
    else:
        sub = boundaries
    return sub.to_crs(crs).reset_index(drop=True)


def _locate(x: np.ndarray, y: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the first polygon containing each point (-1 for none)."""
    out = np.full(len(x), -1, dtype=np.int64)
    if len(x) == 0:
        return out
    tree = shapely.STRtree(shapely.points(x, y))
    poly_i, pt_i = tree.query(polygons, predicate="intersects")
    order = np.lexsort((poly_i, pt_i))  # per point, the lowest polygon index first
    pt_i, poly_i = pt_i[order], poly_i[order]
    first = np.ones(len(pt_i), dtype=bool)
    first[1:] = pt_i[1:] != pt_i[:-1]
    out[pt_i[first]] = poly_i[first]
    return out


def assign_units(demand: Demand, boundaries: gpd.GeoDataFrame, *, level: str = "street") -> UnitAssignment:
    """Place every demand cell in a unit of ``level``.

    Raises
    ------
    AnalysisError
        No boundaries of that level, or no resident inside any of them (wrong place or CRS).
    """
    units = units_of_level(boundaries, level, demand.crs)
    cell_unit = _locate(demand.x, demand.y, units.geometry.to_numpy())
    outside = cell_unit < 0
    notes = []
    if outside.all():
        raise AnalysisError(f"No resident lies inside any {level} boundary; are the boundaries and the "
                            "population of the same place and in the right coordinate systems?")
    if outside.any():
        pop = demand.population
        notes.append(note("units.outside", residents=float(pop[outside].sum()),
                          share=float(pop[outside].sum() / pop.sum()), level=level))
    if "source" in units.columns and len(units) and units["source"].eq(GRID_SOURCE).all():
        notes.append(note("units.grid", level=level, n=len(units)))
    table = pd.DataFrame({"code": units["code"].astype(str), "name": units["name"].astype(str)})
    table["geometry"] = units.geometry.to_numpy()
    return UnitAssignment(units=table, cell_unit=cell_unit, level=level, crs=demand.crs, notes=tuple(notes))


def _unit_labels(assign: UnitAssignment) -> tuple[pd.Series, pd.Series]:
    codes = pd.Series(list(assign.units["code"]) + [OUTSIDE])
    names = pd.Series(list(assign.units["name"]) + [OUTSIDE])
    return codes, names


def coverage_by_unit(result: CoverageResult, assign: UnitAssignment, *, layer: str | None = None) -> pd.DataFrame:
    """Residents, covered residents and coverage rate per unit, per layer and threshold.

    One row per unit and (layer, threshold); units are in the boundaries' order, with the
    residents outside every unit last (only when there are any).
    """
    layers = [layer] if layer else result.layers
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    pop = result.population
    residents = np.bincount(idx, weights=pop, minlength=n_units + 1)
    codes, names = _unit_labels(assign)
    frames = []
    for lyr in layers:
        for th in result.thresholds[lyr]:
            cov = np.bincount(idx, weights=pop * result.covered(lyr, th), minlength=n_units + 1)
            no_data = lyr in result.no_data_layers
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(residents > 0, cov / residents, np.nan)
            frames.append(pd.DataFrame({
                "level": assign.level, "code": codes, "name": names, "layer": lyr, "threshold_m": th,
                "residents": residents, "covered": np.nan if no_data else cov,
                "uncovered": np.nan if no_data else residents - cov,
                "rate": np.nan if no_data else rate}))
    out = pd.concat(frames, ignore_index=True)
    if residents[n_units] == 0:
        out = out[out["code"] != OUTSIDE]
    return out.reset_index(drop=True)


def facility_units(frame: gpd.GeoDataFrame, assign: UnitAssignment) -> np.ndarray:
    """Unit (row of ``assign.units``) holding each feature's representative point; -1 for none."""
    pts = shapely.point_on_surface(frame.to_crs(assign.crs).geometry.to_numpy())
    return _locate(shapely.get_x(pts), shapely.get_y(pts), assign.units["geometry"].to_numpy())


def place_names(frame: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None, *, level: str = "street") -> list[str]:
    """The name of the ``level`` unit holding each feature ("" outside every unit, or without boundaries)."""
    if boundaries is None or len(frame) == 0 or "level" in boundaries.columns and \
            not (boundaries["level"] == level).any():
        return [""] * len(frame)
    units = units_of_level(boundaries, level, 4326)
    pts = shapely.point_on_surface(frame.to_crs(4326).geometry.to_numpy())
    hit = _locate(shapely.get_x(pts), shapely.get_y(pts), units.geometry.to_numpy())
    names = units["name"].astype(str).to_numpy()
    return [names[k] if k >= 0 else "" for k in hit]


def _area_m2(frame: gpd.GeoDataFrame, column: str, crs) -> tuple[np.ndarray, np.ndarray]:
    """Declared area, or the polygon's own area where none is declared; and 'unknown' flags."""
    declared = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) \
        if column in frame.columns else np.full(len(frame), np.nan)
    geoms = frame.to_crs(crs).geometry.to_numpy()
    is_area = kind_is(geoms, AREAS)
    area = np.where(np.isfinite(declared), declared, np.where(is_area, shapely.area(geoms), np.nan))
    return np.nan_to_num(area), ~np.isfinite(area)


def sports_area_by_unit(assign: UnitAssignment, demand: Demand, venues: gpd.GeoDataFrame, *,
                        school_facilities: gpd.GeoDataFrame | None = None,
                        target_m2: float = SPORTS_AREA_TARGET_M2_PER_RESIDENT) -> pd.DataFrame:
    """Sports area per resident in each unit against the national target (2.6 m²).

    Venue area is ``sports_area_m2`` (or the polygon's area when missing); school
    facilities open to the public add their ``area_m2`` when given.  Venues with no known
    area are counted in ``venues_area_unknown`` so a low figure can be read correctly.
    """
    n_units = len(assign.units)
    idx = np.where(assign.cell_unit >= 0, assign.cell_unit, n_units)
    residents = np.bincount(idx, weights=demand.population, minlength=n_units + 1)
    area = np.zeros(n_units + 1)
    unknown = np.zeros(n_units + 1, dtype=np.int64)
    count = np.zeros(n_units + 1, dtype=np.int64)
    parts = [(venues, "sports_area_m2", None)]
    if school_facilities is not None and len(school_facilities):
        parts.append((school_facilities, "area_m2", "open_to_public"))
    for frame, column, flag in parts:
        if frame is None or len(frame) == 0:
            continue
        if flag is not None:
            frame = frame[frame[flag].fillna(False).astype(bool)]
        u = facility_units(frame, assign)
        u = np.where(u >= 0, u, n_units)
        a, unk = _area_m2(frame, column, demand.crs)
        area += np.bincount(u, weights=a, minlength=n_units + 1)
        unknown += np.bincount(u, weights=unk, minlength=n_units + 1).astype(np.int64)
        count += np.bincount(u, minlength=n_units + 1)
    codes, names = _unit_labels(assign)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_capita = np.where(residents > 0, area / residents, np.nan)
    out = pd.DataFrame({"level": assign.level, "code": codes, "name": names, "residents": residents,
                        "facilities": count, "sports_area_m2": area, "m2_per_resident": per_capita,
                        "target_m2": target_m2, "meets_target": per_capita >= target_m2,
                        "venues_area_unknown": unknown})
    if residents[n_units] == 0 and count[n_units] == 0:
        out = out.iloc[:n_units]
    return out


def school_open_share_by_unit(assign: UnitAssignment, school_facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of school sports facilities open to the public, per unit.

    Units without any school facility get ``share`` NaN (nothing to open), not 0.
    """
    n_units = len(assign.units)
    codes, names = _unit_labels(assign)
    total = np.zeros(n_units + 1, dtype=np.int64)
    opened = np.zeros(n_units + 1, dtype=np.int64)
    if school_facilities is not None and len(school_facilities):
        if "open_to_public" not in school_facilities.columns:
            raise AnalysisError("The school facilities have no 'open_to_public' column.")
        u = facility_units(school_facilities, assign)
        u = np.where(u >= 0, u, n_units)
        total = np.bincount(u, minlength=n_units + 1)
        opened = np.bincount(u, weights=school_facilities["open_to_public"].fillna(False).astype(bool),
                             minlength=n_units + 1).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, opened / total, np.nan)
    out = pd.DataFrame({"level": assign.level, "code": codes, "name": names, "school_facilities": total,
                        "open_to_public": opened, "share_open": share})
    if total[n_units] == 0:
        out = out.iloc[:n_units]
    return out

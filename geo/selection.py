"""What a drawn area (or a picked unit) holds: who lives in it, which facilities it holds, and its
coverage at each life circle — the selection tools of a desktop GIS, on the run's own result.

A resident is *in* the area when the centre of their demand cell lies in it or on its edge (the
predicate :func:`geo.units.assign_units` uses), so a unit picked as the area gives exactly that
unit's row of the per-unit table, and an area holding the whole city gives the city's figures.
A facility is in the area when its geometry touches it (a park half inside is held).  Coverage in
the area is the coverage of the run (:meth:`geo.coverage.CoverageResult.covered`) counted over
the residents in it: the same definition every other surface uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from geo.coverage import CoverageResult
from geo.crs import crs_of, frame_to, gcj02_to_wgs84, transformer
from geo.definitions import minutes_for
from geo.errors import AnalysisError

_GEOD = Geod(ellps="WGS84")
#: Most vertices a drawn area may have (a hand-drawn polygon has tens).
MAX_VERTICES = 5_000


@dataclass(frozen=True)
class AreaSelection:
    """The figures of one area.

    Attributes
    ----------
    area_km2 : float
        Its area on the ground.
    residents : float
        Residents whose cell centre lies in it.
    coverage : DataFrame
        Per analysed layer and threshold: ``layer``, ``threshold_m``, ``minutes``, ``covered``, ``rate``
        (NaN when nobody lives in the area or the layer has no data).
    facilities : DataFrame
        ``layer`` and ``count`` of the facilities it holds, one row per given layer.
    held : DataFrame
        The facilities it holds, one row each: ``layer``, ``feature_id`` and ``name`` (``None`` where unnamed).
    """

    area_km2: float
    residents: float
    coverage: pd.DataFrame
    facilities: pd.DataFrame
    held: pd.DataFrame


def drawn_area(feature: Mapping, *, gcj02: bool = False) -> BaseGeometry:
    """A drawn GeoJSON feature (or geometry) as a valid WGS-84 polygon; back from GCJ-02 when the map was
    drawn on GCJ-02 tiles.

    Raises
    ------
    AnalysisError
        Not a polygon, too many vertices, coordinates outside longitude/latitude, or no area.
    """
    geometry = feature.get("geometry", feature) if isinstance(feature, Mapping) else None
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise AnalysisError.coded("selection.not_polygon", kind=str((geometry or {}).get("type", "—"))[:40]
                                  if isinstance(geometry, Mapping) else "—")
    numbers = list(islice(_numbers(geometry.get("coordinates")), 2 * MAX_VERTICES + 1))  # read no further
    if len(numbers) > 2 * MAX_VERTICES:
        raise AnalysisError.coded("selection.too_many_vertices", most=MAX_VERTICES)
    try:
        coords = np.array(numbers, dtype=float).reshape(-1, 2)
    except (ValueError, TypeError) as exc:
        raise AnalysisError.coded("selection.not_polygon", kind=str(geometry.get("type"))[:40]) from exc
    if len(coords) == 0 or not np.isfinite(coords).all() or (np.abs(coords[:, 0]) > 180).any() \
            or (np.abs(coords[:, 1]) > 90).any():
        raise AnalysisError.coded("selection.not_lonlat")
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise AnalysisError.coded("selection.not_polygon", kind=str(geometry.get("type"))[:40]) from exc
    if gcj02:
        shape = shapely.transform(shape, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    shape = shapely.make_valid(shape)
    polygons = [g for g in getattr(shape, "geoms", [shape]) if g.geom_type in ("Polygon", "MultiPolygon")]
    shape = shapely.union_all(polygons) if polygons else shapely.Polygon()
    if shape.is_empty or shape.area <= 0:
        raise AnalysisError.coded("selection.no_area")
    return shape


def _numbers(value: object, depth: int = 0):
    """The numbers of a GeoJSON coordinates array, in order (anything else makes the shape unusable)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 5:
        for item in value:
            yield from _numbers(item, depth + 1)
    else:
        yield "not a number"


def cells_in(result: CoverageResult, area: BaseGeometry, *, crs: object = 4326) -> np.ndarray:
    """Boolean per demand cell: its centre lies in ``area`` (given in ``crs``) or on its edge."""
    local = _to_crs(area, crs, result.demand.crs)
    points = shapely.points(result.demand.x, result.demand.y)
    shapely.prepare(local)
    return shapely.intersects(local, points)


def select_area(result: CoverageResult, area: BaseGeometry, facilities: Mapping[str, gpd.GeoDataFrame], *,
                crs: object = 4326) -> AreaSelection:
    """The residents, facilities and coverage of ``area`` (a polygon in ``crs``) in ``result``."""
    local = _to_crs(area, crs, result.demand.crs)
    inside = cells_in(result, local, crs=result.demand.crs)
    pop = result.population[inside]
    residents = float(pop.sum())
    rows = []
    for layer, thresholds in result.thresholds.items():
        for th in thresholds:
            no_data = layer in result.no_data_layers
            covered = np.nan if no_data else float(pop[result.covered(layer, th)[inside]].sum())
            rows.append({"layer": layer, "threshold_m": th, "minutes": minutes_for(th), "covered": covered,
                         "rate": np.nan if no_data or residents == 0 else covered / residents})
    counts, held = [], []
    shapely.prepare(local)
    for layer, frame in facilities.items():
        n = 0
        if frame is not None and len(frame):
            inside_area = shapely.intersects(local, frame_to(frame, result.demand.crs).geometry.to_numpy())
            n = int(inside_area.sum())
            chosen = frame[inside_area]
            ids = chosen["feature_id"] if "feature_id" in chosen.columns else chosen.index.to_series()
            names = chosen["name"] if "name" in chosen.columns else pd.Series([None] * len(chosen))
            held += [{"layer": layer, "feature_id": str(i), "name": None if pd.isna(nm) else str(nm)}
                     for i, nm in zip(ids, names)]
        counts.append({"layer": layer, "count": n})
    return AreaSelection(area_km2=ground_area_km2(_to_crs(area, crs, 4326)), residents=residents,
                         coverage=pd.DataFrame(rows, columns=["layer", "threshold_m", "minutes", "covered", "rate"]),
                         facilities=pd.DataFrame(counts, columns=["layer", "count"]),
                         held=pd.DataFrame(held, columns=["layer", "feature_id", "name"]))


def ground_area_km2(area_wgs84: BaseGeometry) -> float:
    """The area on the WGS-84 ellipsoid (km²) of a longitude/latitude polygon: what the map's measuring tool
    says of the same shape."""
    got, _perimeter = _GEOD.geometry_area_perimeter(area_wgs84)
    return abs(float(got)) / 1e6


def _to_crs(area: BaseGeometry, src: object, dst: object) -> BaseGeometry:
    """``area`` from ``src`` into ``dst`` (unchanged when they are the same)."""
    if crs_of(src) == crs_of(dst):
        return area
    fwd = transformer(src, dst)
    return shapely.transform(area, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))

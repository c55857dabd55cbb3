"""Gap areas: contiguous uncovered, populated cells drawn as polygons and ranked.

A gap is a set of grid cells, touching edge to edge (or corner to corner with
``connectivity=8``), each holding residents none of whom is within the threshold of a
facility.  Each gap becomes one polygon (holes kept) in the grid's CRS, ranked by the
residents it holds, so a bureau sees first where a new site would help most.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from scipy import ndimage

from geo.coverage import CoverageResult
from geo.errors import AnalysisError


def uncovered_grid(result: CoverageResult, layer: str, threshold: float) -> np.ndarray:
    """Uncovered residents per grid cell (rows × cols of the demand grid)."""
    grid = result.demand.grid
    rows, cols = grid.shape
    flat = result.demand.row * cols + result.demand.col
    d = result.demand
    inside = (d.row >= 0) & (d.row < rows) & (d.col >= 0) & (d.col < cols)
    weights = np.where(result.covered(layer, threshold), 0.0, result.population)
    return np.bincount(flat[inside], weights=weights[inside], minlength=rows * cols).reshape(rows, cols)


def gap_areas(result: CoverageResult, layer: str, threshold: float, *, min_residents: float = 0.0,
              connectivity: int = 4) -> gpd.GeoDataFrame:
    """Polygons of contiguous uncovered cells, ranked by uncovered residents (largest first).

    Parameters
    ----------
    result : CoverageResult
    layer, threshold :
        Which coverage to find the gaps of.
    min_residents : float
        Leave out gaps holding fewer residents.
    connectivity : 4 or 8
        Cells join a gap through a shared edge (4) or also a shared corner (8).

    Returns
    -------
    GeoDataFrame
        ``rank``, ``uncovered_residents``, ``cells``, ``area_km2``, ``layer``,
        ``threshold_m`` and the polygon, in the demand grid's CRS; an ``is_estimate``
        column says whether the residents are estimated.
    """
    if connectivity not in (4, 8):
        raise AnalysisError(f"connectivity must be 4 or 8, not {connectivity}.")
    if layer in result.no_data_layers:
        raise AnalysisError(f"{layer} has no feature, so it has no gaps to draw (no data, not a gap everywhere).")
    grid = result.demand.grid
    unc = uncovered_grid(result, layer, threshold)
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    labels, n = ndimage.label(unc > 0, structure=structure)
    columns = ["rank", "uncovered_residents", "cells", "area_km2", "layer", "threshold_m", "is_estimate"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=grid.crs)
    residents = ndimage.sum_labels(unc, labels, index=np.arange(1, n + 1))
    cells = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    polys: dict[int, list] = {}
    for geom, value in rasterio.features.shapes(labels.astype(np.int32), mask=labels > 0,
                                                connectivity=connectivity, transform=grid.transform):
        polys.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    geoms = [shapely.union_all(polys[k]) if len(polys[k]) > 1 else polys[k][0] for k in range(1, n + 1)]
    out = gpd.GeoDataFrame({"uncovered_residents": residents, "cells": cells}, geometry=geoms, crs=grid.crs)
    out = out[out["uncovered_residents"] >= max(min_residents, 1e-12)]
    out["area_km2"] = out.geometry.to_crs(result.demand.crs).area / 1e6
    out = out.sort_values("uncovered_residents", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["layer"] = layer
    out["threshold_m"] = float(threshold)
    out["is_estimate"] = result.demand.is_estimate
    return out[columns + ["geometry"]]


def gap_table(gaps: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ranking without geometry, with each gap's centre in longitude/latitude."""
    centre = gaps.geometry.representative_point().to_crs(4326)
    table = pd.DataFrame(gaps.drop(columns="geometry"))
    table["lon"], table["lat"] = centre.x.to_numpy(), centre.y.to_numpy()
    return table

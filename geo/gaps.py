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
from geo.units import OUTSIDE, UnitAssignment


def uncovered_grid(result: CoverageResult, layer: str, threshold: float) -> np.ndarray:
    """Uncovered residents per grid cell (rows × cols of the demand grid)."""
    grid = result.demand.grid
    rows, cols = grid.shape
    flat = result.demand.row * cols + result.demand.col
    d = result.demand
    inside = (d.row >= 0) & (d.row < rows) & (d.col >= 0) & (d.col < cols)
    weights = np.where(result.covered(layer, threshold), 0.0, result.population)
    return np.bincount(flat[inside], weights=weights[inside], minlength=rows * cols).reshape(rows, cols)


def _split(mask: np.ndarray, structure: np.ndarray, zone: np.ndarray, max_cells: int | None) -> tuple[np.ndarray, int]:
    """Label ``mask``'s cells in pieces: connected within one ``zone`` value, and no bigger than ``max_cells``
    (a larger piece is cut along square blocks of about that many cells)."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    n = 0

    def add(part: np.ndarray) -> None:
        nonlocal n
        lab, k = ndimage.label(part, structure=structure)
        hit = lab > 0
        labels[hit] = lab[hit] + n
        n += k

    for z in np.unique(zone[mask]):
        add(mask & (zone == z))
    if max_cells is None or n == 0:
        return labels, n
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    big = np.flatnonzero(sizes[1:] > max_cells) + 1
    if len(big):
        side = max(int(np.sqrt(max_cells)), 1)
        rows, cols = np.indices(mask.shape)
        block = (rows // side) * (mask.shape[1] // side + 1) + cols // side
        for b in big:
            piece = labels == b
            labels[piece] = 0
            for blk in np.unique(block[piece]):
                add(piece & (block == blk))
        used = np.unique(labels[labels > 0])
        remap = np.zeros(n + 1, dtype=np.int32)
        remap[used] = np.arange(1, len(used) + 1)
        labels, n = remap[labels], len(used)
    return labels, n


def gap_areas(result: CoverageResult, layer: str, threshold: float, *, min_residents: float = 0.0,
              connectivity: int = 4, units: UnitAssignment | None = None,
              max_km2: float | None = None) -> gpd.GeoDataFrame:
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
    units : UnitAssignment, optional
        Cut gaps at unit boundaries (streets, communities) and name each piece's unit: a
        piece is something one office can act on.
    max_km2 : float, optional
        Cut a larger piece along square blocks of about this area, so a gap spanning half
        the district becomes places a site could serve.

    Returns
    -------
    GeoDataFrame
        ``rank``, ``uncovered_residents``, ``cells``, ``area_km2``, ``unit_code`` and
        ``unit_name`` (empty without ``units``), ``layer``, ``threshold_m``, ``is_estimate``
        and the polygon, in the demand grid's CRS.
    """
    if connectivity not in (4, 8):
        raise AnalysisError(f"connectivity must be 4 or 8, not {connectivity}.")
    if max_km2 is not None and not max_km2 > 0:
        raise AnalysisError(f"max_km2 must be a positive area, not {max_km2}.")
    if layer in result.no_data_layers:
        raise AnalysisError(f"{layer} has no feature, so it has no gaps to draw (no data, not a gap everywhere).")
    grid = result.demand.grid
    unc = uncovered_grid(result, layer, threshold)
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    zone = np.full(grid.shape, -1, dtype=np.int64)
    if units is not None:
        d = result.demand
        inside = (d.row >= 0) & (d.row < grid.shape[0]) & (d.col >= 0) & (d.col < grid.shape[1])
        zone[d.row[inside], d.col[inside]] = units.cell_unit[inside]
    cell_km2 = abs(grid.transform.a * grid.transform.e) / 1e6 if grid.crs.is_projected else None
    max_cells = max(int(max_km2 / cell_km2), 1) if max_km2 is not None and cell_km2 else None
    labels, n = _split(unc > 0, structure, zone, max_cells)
    columns = ["rank", "uncovered_residents", "cells", "area_km2", "unit_code", "unit_name", "layer", "threshold_m",
               "is_estimate"]
    if n == 0:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=grid.crs)
    index = np.arange(1, n + 1)
    residents = ndimage.sum_labels(unc, labels, index=index)
    cells = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    piece_zone = ndimage.maximum(zone, labels, index=index).astype(np.int64)
    polys: dict[int, list] = {}
    for geom, value in rasterio.features.shapes(labels.astype(np.int32), mask=labels > 0,
                                                connectivity=connectivity, transform=grid.transform):
        polys.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    geoms = [shapely.union_all(polys[k]) if len(polys[k]) > 1 else polys[k][0] for k in range(1, n + 1)]
    out = gpd.GeoDataFrame({"uncovered_residents": residents, "cells": cells}, geometry=geoms, crs=grid.crs)
    if units is not None:
        known = piece_zone >= 0
        codes = units.units["code"].astype(str).to_numpy()
        names = units.units["name"].astype(str).to_numpy()
        out["unit_code"] = np.where(known, codes[np.maximum(piece_zone, 0)], OUTSIDE)
        out["unit_name"] = np.where(known, names[np.maximum(piece_zone, 0)], "")
    else:
        out["unit_code"], out["unit_name"] = "", ""
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


def defined_gaps(result: CoverageResult, layer: str, threshold: float,
                 boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The gaps as the product defines them (:mod:`geo.definitions`): cut at the boundaries of
    :data:`~geo.definitions.GAP_LEVEL` (when they are stored) and into blocks of about
    :data:`~geo.definitions.GAP_PIECE_KM2` — the same pieces on the coverage page, the print map, the reports,
    the scenario comparison, the exports and the data exchange server."""
    from geo.definitions import GAP_LEVEL, GAP_PIECE_KM2
    from geo.units import assign_units

    units = None
    if boundaries is not None and "level" in boundaries and (boundaries["level"] == GAP_LEVEL).any():
        units = assign_units(result.demand, boundaries, level=GAP_LEVEL)
    return gap_areas(result, layer, threshold, units=units, max_km2=GAP_PIECE_KM2)

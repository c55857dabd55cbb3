"""Demand: where residents live, as weighted points in a metric CRS on a known grid.

Population arrives as a raster (residents per cell, any CRS and resolution), as points
with a count, or as areas with a count (a community's census figure) that are spread over
their area.  Whatever the source, the result is a :class:`Demand`: one point per populated
piece, its residents, and the grid cell it sits in (the grid the gap areas are drawn on).
Totals are preserved: nothing is resampled, cells are moved (reprojected) not split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

from geo.crs import local_metric_crs, transformer
from geo.errors import DemandError
from geo.geometry_kinds import AREAS, POINTS, kind_is
from geo.notes import Note, note

#: Residents per km² of residential land assumed when estimating from land use.
DEFAULT_RESIDENTIAL_DENSITY_PER_KM2 = 25_000.0


@dataclass(frozen=True)
class Grid:
    """A regular grid: its CRS, affine transform (cell corners) and shape (rows, cols)."""

    crs: CRS
    transform: Affine
    shape: tuple[int, int]

    @property
    def cell_area(self) -> float:
        """Area of one cell in the grid CRS's units squared."""
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)


@dataclass
class Demand:
    """Residents as points in a metric CRS, each tied to a cell of :attr:`grid`.

    Attributes
    ----------
    x, y : ndarray
        Locations in :attr:`crs` (metres).
    population : ndarray
        Residents at each location (float64).
    crs : pyproj.CRS
        Metric CRS of ``x``/``y``.
    grid : Grid
        The grid gap areas are drawn on; ``row``/``col`` place each point in it.
    label : str
        What the numbers are (shown next to every result).
    is_estimate : bool
        True when the population is estimated (e.g. from residential land use).
    """

    x: np.ndarray
    y: np.ndarray
    population: np.ndarray
    crs: CRS
    grid: Grid
    row: np.ndarray
    col: np.ndarray
    label: str
    is_estimate: bool = False
    notes: list[Note] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.x)

    @property
    def total(self) -> float:
        """All residents."""
        return float(self.population.sum())

    def share_on_grid(self, covered: np.ndarray) -> np.ndarray:
        """Per grid cell, the share of its residents for whom ``covered`` (per point) holds; NaN where nobody lives."""
        rows, cols = self.grid.shape
        inside = (self.row >= 0) & (self.row < rows) & (self.col >= 0) & (self.col < cols)
        flat = self.row[inside] * cols + self.col[inside]
        pop = np.bincount(flat, weights=self.population[inside], minlength=rows * cols)
        got = np.bincount(flat, weights=self.population[inside] * np.asarray(covered, dtype=float)[inside],
                          minlength=rows * cols)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(pop > 0, got / pop, np.nan)
        return share.reshape(rows, cols)

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Locations in EPSG:4326."""
        return transformer(self.crs, 4326).transform(self.x, self.y)

    def points(self) -> gpd.GeoDataFrame:
        """The demand as a point layer in :attr:`crs`."""
        return gpd.GeoDataFrame({"population": self.population, "row": self.row, "col": self.col},
                                geometry=shapely.points(self.x, self.y), crs=self.crs)


def _usable_crs(crs_in: object, source: str) -> CRS:
    if crs_in is None:
        raise DemandError(
            f"{source}: the population raster has no coordinate system. Set one on the file "
            "(gdal_edit.py -a_srs EPSG:4490 file.tif) or pass crs= when reading it.")
    try:
        crs = CRS.from_user_input(crs_in.to_wkt() if hasattr(crs_in, "to_wkt") else crs_in)
    except Exception as exc:  # pyproj raises CRSError; rasterio objects may raise others
        raise DemandError(f"{source}: the coordinate system {crs_in!s:.80} is not one pyproj "
                          f"knows ({exc}); give an EPSG code with crs=.") from None
    if not (crs.is_geographic or crs.is_projected):
        raise DemandError(
            f"{source}: the raster's coordinate system ({crs.name}) is a local or engineering "
            "system that cannot be placed on the Earth; give its real CRS with crs= "
            "(e.g. EPSG:4547 for CGCS2000 / 3-degree Gauss–Krüger CM 114E).")
    return crs


def cell_lonlat(transform, raster_crs, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of the centres of raster cells (``rows``, ``cols`` of the whole raster): how every
    demand cell is placed, so a partition reading a window places its cells as one run does."""
    xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
    to_ll = transformer(raster_crs, 4326)
    lon, lat = to_ll.transform(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    return np.asarray(lon), np.asarray(lat)


def demand_from_raster(source: bytes | str | os.PathLike, *, crs: object | None = None,
                       metric_crs: CRS | str | int | None = None, label: str | None = None) -> Demand:
    """Read a population raster (residents per cell) with rasterio.

    Parameters
    ----------
    source : bytes or path
        A GeoTIFF (bytes from the store, or a file).
    crs : optional
        The raster's CRS where the file does not declare a usable one.
    metric_crs : optional
        CRS for distances; chosen for the raster's extent when not given.
    label : str, optional
        What the numbers are; defaults to the file name.

    Raises
    ------
    DemandError
        Unreadable file, no or unknown CRS, negative counts, or no resident at all.
    """
    name = "population" if isinstance(source, bytes) else Path(source).name
    try:
        if isinstance(source, bytes):
            with MemoryFile(source) as mem, mem.open() as ds:
                data, transform, file_crs, nodata = ds.read(1, masked=False), ds.transform, ds.crs, ds.nodata
        else:
            with rasterio.open(source) as ds:
                data, transform, file_crs, nodata = ds.read(1, masked=False), ds.transform, ds.crs, ds.nodata
    except RasterioIOError as exc:
        raise DemandError(f"{name}: not a readable raster ({exc}).") from None
    raster_crs = _usable_crs(crs if crs is not None else file_crs, name)
    values = data.astype(np.float64)
    valid = np.isfinite(values)
    if nodata is not None and np.isfinite(nodata):
        valid &= values != nodata
    negative = valid & (values < 0)
    if negative.any():
        r, c = np.argwhere(negative)[0]
        raise DemandError(f"{name}: {int(negative.sum())} cell(s) hold a negative count, e.g. row "
                          f"{r + 1}, column {c + 1} = {values[r, c]:g}. Residents per cell must be "
                          "0 or more; mark empty cells with the nodata value.")
    rows, cols = np.nonzero(valid & (values > 0))
    if len(rows) == 0:
        raise DemandError(f"{name}: no cell holds any resident (all cells are 0 or nodata).")
    lon, lat = cell_lonlat(transform, raster_crs, rows, cols)
    metric = CRS.from_user_input(metric_crs) if metric_crs is not None else local_metric_crs(
        (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))))
    mx, my = transformer(4326, metric).transform(lon, lat)
    return Demand(x=np.asarray(mx), y=np.asarray(my), population=values[rows, cols], crs=metric,
                  grid=Grid(raster_crs, transform, data.shape), row=rows.astype(np.int64),
                  col=cols.astype(np.int64), label=label or name)


def _aligned_grid(x0: float, y0: float, x1: float, y1: float, cell: float, crs: CRS) -> Grid:
    gx0, gy1 = np.floor(x0 / cell) * cell, np.ceil(y1 / cell) * cell
    ncol = max(int(np.ceil((x1 - gx0) / cell)), 1)
    nrow = max(int(np.ceil((gy1 - y0) / cell)), 1)
    if gx0 + ncol * cell <= x1:
        ncol += 1
    if gy1 - nrow * cell >= y0:
        nrow += 1
    return Grid(crs, Affine(cell, 0, gx0, 0, -cell, gy1), (nrow, ncol))


def demand_from_vector(frame: gpd.GeoDataFrame, *, column: str = "population", cell_size: float = 100.0,
                       metric_crs: CRS | str | int | None = None, label: str | None = None,
                       is_estimate: bool | None = None) -> Demand:
    """Demand from points with a count, or areas whose count is spread over their area.

    Areas are cut by a ``cell_size`` grid; each piece gets the area's count times its
    share of the area and sits at the piece's centroid, so every area's total is kept.

    Raises
    ------
    DemandError
        Empty layer, missing or non-numeric column, negative or missing counts (the row
        is named), or geometry that is neither point nor area.
    """
    if frame is None or len(frame) == 0:
        raise DemandError("The population layer is empty.")
    source = frame.attrs.get("source", "population layer")
    if column not in frame.columns:
        raise DemandError(f"{source}: no {column!r} column; columns are {', '.join(map(str, frame.columns))}.")
    if frame.crs is None:
        raise DemandError(f"{source}: the population layer has no coordinate system.")
    counts = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DemandError(f"{source}: row {i + 1}, field {column!r}: {frame[column].iloc[i]!r} is not a "
                          f"count of residents (a number 0 or more); {int(bad.sum())} row(s) like it.")
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    wrong = ~kind_is(geoms, POINTS + AREAS) | empty
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DemandError(f"{source}: row {i + 1} has {'no' if empty[i] else 'a line'} geometry; "
                          "population takes points or polygons.")
    if metric_crs is None:
        metric = local_metric_crs(tuple(frame.to_crs(4326).total_bounds))
    else:
        metric = CRS.from_user_input(metric_crs)
    geoms = frame.to_crs(metric).geometry.to_numpy()
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    grid = _aligned_grid(x0, y0, x1, y1, cell_size, metric)
    xs, ys, pops = [], [], []
    is_area = kind_is(geoms, AREAS)
    pts = np.flatnonzero(~is_area)
    if len(pts):
        # A multipoint's count is shared equally among its points.
        parts = shapely.get_parts(geoms[pts], return_index=True)
        share = counts[pts] / shapely.get_num_geometries(geoms[pts])
        xs.append(shapely.get_x(parts[0]))
        ys.append(shapely.get_y(parts[0]))
        pops.append(share[parts[1]])
    for i in np.flatnonzero(is_area):
        px, py, pw = _spread(geoms[i], counts[i], grid, cell_size)
        xs.append(px)
        ys.append(py)
        pops.append(pw)
    x, y, pop = np.concatenate(xs), np.concatenate(ys), np.concatenate(pops)
    keep = pop > 0
    x, y, pop = x[keep], y[keep], pop[keep]
    if len(x) == 0:
        raise DemandError(f"{source}: every count in {column!r} is 0; there is no resident to analyse.")
    t = grid.transform  # north-up, built by _aligned_grid
    col_f, row_f = (x - t.c) / t.a, (y - t.f) / t.e
    estimate = bool(frame.get("is_estimate", pd.Series([False])).fillna(False).any()) \
        if is_estimate is None else is_estimate
    return Demand(x=x, y=y, population=pop, crs=metric, grid=grid,
                  row=np.floor(row_f).astype(np.int64), col=np.floor(col_f).astype(np.int64),
                  label=label or source, is_estimate=estimate,
                  notes=[frame.attrs["note"]] if isinstance(frame.attrs.get("note"), Note) else [])


def _spread(area, count: float, grid: Grid, cell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut ``area`` by the grid; pieces weighted by their share of the area."""
    x0, y0, x1, y1 = area.bounds
    t = grid.transform
    c0, c1 = int((x0 - t.c) // cell), int((x1 - t.c) // cell)
    r0, r1 = int((t.f - y1) // cell), int((t.f - y0) // cell)
    cc, rr = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
    cells = shapely.box(t.c + cc.ravel() * cell, t.f - (rr.ravel() + 1) * cell,
                        t.c + (cc.ravel() + 1) * cell, t.f - rr.ravel() * cell)
    pieces = shapely.intersection(cells, area)
    weight = shapely.area(pieces)
    total = weight.sum()
    if total <= 0:
        p = area.representative_point()
        return np.array([p.x]), np.array([p.y]), np.array([count])
    keep = weight > 0
    centre = shapely.centroid(pieces[keep])
    inside = shapely.intersects(centre, area)
    # A bent piece's centroid can fall outside it; use a point on the piece instead.
    centre = np.where(inside, centre, shapely.point_on_surface(pieces[keep]))
    return shapely.get_x(centre), shapely.get_y(centre), count * weight[keep] / total


def estimate_population_from_land_use(land_use: gpd.GeoDataFrame, *, land_use_column: str = "land_use",
                                      residential_values: tuple[str, ...] = ("residential",),
                                      residents_per_km2: float = DEFAULT_RESIDENTIAL_DENSITY_PER_KM2,
                                      total: float | None = None) -> gpd.GeoDataFrame:
    """Estimate residents from residential land where no population data exists.

    Each residential area gets ``area × residents_per_km2`` residents, or a share of
    ``total`` in proportion to its area when a district total is known.  The result is a
    ``population`` layer marked ``is_estimate`` so every figure drawn from it says so.

    Raises
    ------
    DemandError
        When the layer has no residential land.
    """
    if land_use_column not in land_use.columns:
        raise DemandError(f"The land-use layer has no {land_use_column!r} column to find residential land in.")
    res = land_use[land_use[land_use_column].isin(residential_values)]
    res = res[kind_is(res.geometry.to_numpy(), AREAS)]
    if len(res) == 0:
        raise DemandError(f"No residential land ({land_use_column} in {residential_values}) to estimate "
                          "population from; load a population raster or layer instead.")
    metric = local_metric_crs(tuple(res.to_crs(4326).total_bounds))
    # Overlapping residential polygons would count the same homes twice: dissolve first.
    merged = shapely.union_all(res.to_crs(metric).geometry.make_valid().to_numpy())
    parts = shapely.get_parts(merged)
    parts = parts[kind_is(parts, AREAS)]
    area = shapely.area(parts)
    pop = area / 1e6 * residents_per_km2 if total is None else total * area / area.sum()
    out = gpd.GeoDataFrame({"population": pop, "is_estimate": True}, geometry=parts, crs=metric)
    out = out.to_crs(4326)
    out.attrs["source"] = "land_use"
    out.attrs["note"] = (note("demand.from_land_use_density", areas=len(res), density=residents_per_km2)
                         if total is None else note("demand.from_land_use_total", areas=len(res), total=total))
    return out

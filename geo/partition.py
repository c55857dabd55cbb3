"""Coverage cut into partitions with halos, so each can run on its own machine and the whole equals one run.

A partition owns the demand cells whose centres fall in its rectangle (half-open, in the
run's one metric CRS, so every cell belongs to exactly one) and reads everything within a
halo around it: every walk-network line and every facility that intersects the rectangle
grown by the largest cutoff plus the snap bounds — whole features, never clipped, so a
greenway's access points and the network's nodes are those of the single run. A walk of at
most the cutoff from an owned cell never leaves that halo, so each owned cell's nearest
facility, its distance and hence its coverage are those of the single run (the test names
cells whose nearest facility lies in another partition). Results keep the owned cells only;
:func:`assemble` puts them back together as one :class:`~geo.coverage.CoverageResult`, which
every per-unit table, gap map and surface takes as it is.

Inputs are read by each partition itself from a :class:`Source` the caller passes in — GeoParquet
files and a GeoTIFF written once by :func:`write_inputs` (:class:`InputSource`), or the store
(:class:`layers.partition_source.StoreSource`, PostGIS by bbox) — never shipped from the client.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import rasterio
import rasterio.windows
import shapely
from pyproj import CRS

from geo.coverage import ANY_LAYER, CoverageEngine, CoverageResult
from geo.crs import crs_of, frame_to, transformer
from geo.demand import Demand, Grid, cell_lonlat
from geo.errors import AnalysisError, NetworkError
from geo.facilities import build_facility_set
from geo.inputs import FACILITY_LAYERS, empty_layer
from geo.network import DEFAULT_MAX_SNAP_M, WALK_COLUMNS, WalkNetwork, build_walk_network_in_batches

#: Layers a partition reads besides the facility layers.
CONTEXT_LAYERS = ("walk_network", "greenway_entrances")


@functools.lru_cache(maxsize=16)
def _crs_of_metadata(projjson: str | None) -> CRS:
    return CRS.from_user_input(json.loads(projjson)) if projjson else CRS.from_user_input("OGC:CRS84")


@functools.lru_cache(maxsize=32)
def _parquet_dataset(path: str, mtime_ns: int, size: int, thread: int):
    """A GeoParquet file opened once per version and thread: its footer (row groups and their statistics,
    several MB for a province's streets) is parsed once, not on every partition's read."""
    import pyarrow.dataset as ds

    return ds.dataset(path, format="parquet")


def read_parquet_bbox(path: str | os.PathLike[str], bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The features of a GeoParquet file whose bbox covering column meets ``bbox`` (the file's CRS), as
    ``geopandas.read_parquet(path, bbox=bbox)`` reads them — row groups of other places are skipped on their
    statistics — but with the file's CRS parsed once per process, not on every read (about 20 ms each,
    seven reads per partition)."""
    return next(read_parquet_bbox_batches(path, bbox, rows=None))  # one table: one frame


def read_parquet_bbox_batches(path: str | os.PathLike[str], bbox: tuple[float, float, float, float], *,
                              rows: int | None = 25_000, columns: Sequence[str] | None = None
                              ) -> Iterator[gpd.GeoDataFrame]:
    """:func:`read_parquet_bbox` in batches of at most ``rows`` features (all at once when None), in the file's
    order, with only ``columns`` of the attributes (those of them the file has; all when None): a province's
    streets are read without holding them all as line objects at once."""
    import pyarrow.compute as pc

    stat = os.stat(path)
    dataset = _parquet_dataset(str(path), stat.st_mtime_ns, stat.st_size, threading.get_ident())
    meta = json.loads(dataset.schema.metadata[b"geo"])
    column = meta.get("primary_column", "geometry")
    spec = meta["columns"][column]
    cover = spec.get("covering", {}).get("bbox")
    if cover is None:  # written without a bbox column: geopandas filters on the geometries
        yield gpd.read_parquet(path, bbox=bbox)
        return
    if "crs" not in spec:  # GeoParquet: no crs means longitude/latitude on WGS 84
        crs = _crs_of_metadata(None)
    else:
        crs = None if spec["crs"] is None else _crs_of_metadata(json.dumps(spec["crs"], sort_keys=True))
    x0, y0, x1, y1 = bbox
    field = lambda k: pc.field(*cover[k])  # noqa: E731
    where = (field("xmin") <= x1) & (field("xmax") >= x0) & (field("ymin") <= y1) & (field("ymax") >= y0)
    names = [c for c in dataset.schema.names if c != cover["xmin"][0] and (
        columns is None or c == column or c in columns)]
    tables = [dataset.to_table(filter=where, columns=names)] if rows is None else (
        pa.Table.from_batches([b]) for b in dataset.to_batches(
            filter=where, columns=names, batch_size=rows, batch_readahead=1, fragment_readahead=1))
    for table in tables:
        if rows is not None and table.num_rows == 0:
            continue
        geometry = shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False))
        attributes = table.drop_columns([column]).to_pandas()
        yield gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometry, index=attributes.index), crs=crs)


class Source(Protocol):
    """Where partitions read their inputs; passed in by the caller, so this module reads no store itself: a folder
    (:class:`InputSource`) or a store (:class:`layers.partition_source.StoreSource`)."""

    def vector(self, name: str, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame | None:
        """Features of ``name`` whose extent meets ``bbox`` (lon/lat), or ``None`` when not stored."""

    def vector_batches(self, name: str, bbox: tuple[float, float, float, float],
                       columns: Sequence[str] | None = None) -> Iterator[gpd.GeoDataFrame]:
        """:meth:`vector` in batches, in order, with only ``columns`` of the attributes where the source can (nothing
        when not stored)."""

    def whole(self, name: str) -> gpd.GeoDataFrame | None:
        """Every feature of a small layer such as ``boundaries``, or ``None`` when not stored."""

    def population(self) -> str | bytes:
        """The population GeoTIFF (a path, or its bytes)."""


@dataclass(frozen=True)
class InputSource:
    """A folder of GeoParquet files and ``population.tif`` (:func:`write_inputs`), which partitions read their halo
    from (workers that share the folder read only the row groups their bbox meets)."""

    folder: str

    def vector(self, name: str, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame | None:
        """Features of ``name`` whose extent meets ``bbox`` (lon/lat), or ``None`` when not stored."""
        path = Path(self.folder) / f"{name}.parquet"
        return read_parquet_bbox(path, bbox) if path.exists() else None

    def vector_batches(self, name: str, bbox: tuple[float, float, float, float],
                       columns: Sequence[str] | None = None) -> Iterator[gpd.GeoDataFrame]:
        """:meth:`vector` in batches of 25,000 features, with only ``columns`` of the attributes."""
        path = Path(self.folder) / f"{name}.parquet"
        if path.exists():
            yield from read_parquet_bbox_batches(path, bbox, columns=columns)

    def whole(self, name: str) -> gpd.GeoDataFrame | None:
        """Every feature of a small layer such as ``boundaries``, or ``None`` when not stored."""
        path = Path(self.folder) / f"{name}.parquet"
        return gpd.read_parquet(path) if path.exists() else None

    def population(self) -> str | bytes:
        """The population GeoTIFF's path."""
        return str(Path(self.folder) / "population.tif")


def write_inputs(store, folder: str | os.PathLike[str]) -> InputSource:
    """The store's network, facility layers, boundaries and population as GeoParquet (with bbox columns, so a partition
    reads only its halo) and a GeoTIFF in ``folder``, for workers that share that folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stored = {i.name for i in store.layers.list() if i.kind == "vector"}
    for name in (*CONTEXT_LAYERS, *FACILITY_LAYERS, "boundaries"):
        if name in stored:
            store.layers.read(name).to_parquet(out / f"{name}.parquet", write_covering_bbox=True)
    data = store.rasters.read("population")
    if data is None:
        raise AnalysisError("No population raster is stored; a partitioned run reads one.")
    (out / "population.tif").write_bytes(data)
    return InputSource(folder=str(out))


@dataclass(frozen=True)
class Part:
    """One partition: a key and its rectangle (x0, y0, x1, y1) in the run's metric CRS (half-open).

    A partition by administrative unit also carries the unit's polygon (``shape``, WKB in the
    run's CRS) and the polygons of the units before it (``exclude``): it owns the cells in its
    rectangle whose centres lie in ``shape`` and not in ``exclude`` (a centre on a shared border
    belongs to the first unit).
    """

    key: str
    box: tuple[float, float, float, float]
    shape: bytes | None = None
    exclude: bytes | None = None

    def owns(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Which of the points (the run's CRS) this partition owns."""
        x0, y0, x1, y1 = self.box
        own = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
        if self.shape is not None and own.any():
            shape = shapely.from_wkb(self.shape)
            shapely.prepare(shape)
            own[own] = shapely.intersects_xy(shape, x[own], y[own])
        if self.exclude is not None and own.any():
            exclude = shapely.from_wkb(self.exclude)
            shapely.prepare(exclude)
            own[own] = ~shapely.intersects_xy(exclude, x[own], y[own])
        return own


@dataclass(frozen=True)
class Plan:
    """What every partition must agree on: the metric CRS, the distances, the halo and the grid."""

    crs: str
    thresholds: tuple[float, ...]
    layers: tuple[str, ...]
    extent: tuple[float, float, float, float]  # the population raster's extent in ``crs``
    max_snap_m: float = DEFAULT_MAX_SNAP_M
    max_demand_snap_m: float = DEFAULT_MAX_SNAP_M
    method: str = "network"

    @property
    def cutoff(self) -> float:
        """The longest distance computed."""
        return max(self.thresholds)

    @property
    def halo_m(self) -> float:
        """How far around its rectangle a partition reads: the cutoff, a facility's snap to the network and a
        cell's, and once more a facility's snap (the lines it may snap to)."""
        return self.cutoff + 2 * self.max_snap_m + self.max_demand_snap_m


@contextlib.contextmanager
def _open_raster(source: str | bytes):
    """The raster at a path, or in bytes (its memory file kept open while the dataset is read)."""
    from rasterio.io import MemoryFile

    if isinstance(source, bytes):
        with MemoryFile(source) as mem, mem.open() as ds:
            yield ds
    else:
        with rasterio.open(source) as ds:
            yield ds


def owned_demand(source: Source, plan: Plan, part: Part) -> Demand:
    """The populated cells whose centres fall in ``part``: only the raster window around it is read, and each
    cell is placed by the whole raster's transform and its global row and column, as one run places it."""
    metric = crs_of(plan.crs)
    with _open_raster(source.population()) as ds:
        transform, raster_crs, shape = ds.transform, ds.crs, (ds.height, ds.width)
        to_metric = transformer(raster_crs, metric)
        ex0, ey0, ex1, ey1 = to_metric.transform_bounds(*ds.bounds, densify_pts=21)
        x0, y0, x1, y1 = part.box
        box = (max(x0, ex0), max(y0, ey0), min(x1, ex1), min(y1, ey1))
        rows = cols = np.empty(0, dtype=np.int64)
        pop = np.empty(0)
        if box[0] < box[2] and box[1] < box[3]:
            bounds = transformer(metric, raster_crs).transform_bounds(*box, densify_pts=21)
            window = rasterio.windows.from_bounds(*bounds, transform=transform)
            window = window.round_offsets(op="floor").round_lengths(op="ceil")
            full = rasterio.windows.Window(0, 0, ds.width, ds.height)
            if rasterio.windows.intersect(window, full):
                window = window.intersection(full)
                pad = rasterio.windows.Window(max(int(window.col_off) - 1, 0), max(int(window.row_off) - 1, 0),
                                              int(window.width) + 2, int(window.height) + 2).intersection(full)
                data = ds.read(1, window=pad, masked=False).astype(np.float64)
                valid = np.isfinite(data) & (data > 0)
                if ds.nodata is not None and np.isfinite(ds.nodata):
                    valid &= data != ds.nodata
                r, c = np.nonzero(valid)
                rows, cols, pop = r + int(pad.row_off), c + int(pad.col_off), data[r, c]
    lon, lat = cell_lonlat(transform, raster_crs, rows, cols)
    mx, my = transformer(4326, metric).transform(lon, lat)
    mx, my = np.atleast_1d(np.asarray(mx, float)), np.atleast_1d(np.asarray(my, float))
    own = part.owns(mx, my)
    return Demand(x=mx[own], y=my[own], population=pop[own], crs=metric, grid=Grid(raster_crs, transform, shape),
                  row=rows[own].astype(np.int64), col=cols[own].astype(np.int64), label="population")


def halo_of(plan: Plan, part: Part) -> tuple[shapely.Polygon, tuple[float, float, float, float]]:
    """What ``part`` reads around its rectangle (cut to the population's extent): the halo as a box in the
    run's CRS and as a lon/lat bbox."""
    x0, y0, x1, y1 = part.box
    e0, f0, e1, f1 = plan.extent
    h = plan.halo_m
    halo = shapely.box(max(x0, e0) - h, max(y0, f0) - h, min(x1, e1) + h, min(y1, f1) + h)
    bbox = transformer(plan.crs, 4326).transform_bounds(*halo.bounds, densify_pts=21)
    return halo, bbox


def features_within(frame: gpd.GeoDataFrame | None, halo: shapely.Polygon, crs: CRS) -> gpd.GeoDataFrame | None:
    """Whole features (not clipped) that meet the halo, in ``crs`` and the input's order."""
    if frame is None or frame.empty:
        return frame
    frame = frame_to(frame, crs)
    return frame[frame.intersects(halo).to_numpy()]


def entrances_of(source: Source, plan: Plan, greenways: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Every entrance of ``greenways`` (whole features a partition read), wherever it lies — a greenway
    with none of its entrances in the halo must not fall back to access all along its line — read around
    the greenways (grown by the halo, so an entrance set back from its line is found too)."""
    if greenways is None or greenways.empty:
        return None
    metric = crs_of(plan.crs)
    x0, y0, x1, y1 = frame_to(greenways, metric).total_bounds
    h = plan.halo_m
    bbox = transformer(metric, 4326).transform_bounds(x0 - h, y0 - h, x1 + h, y1 + h,
                                                                             densify_pts=21)
    found = source.vector("greenway_entrances", bbox)
    if found is None or "greenway_id" not in found.columns:
        return found
    return found[found["greenway_id"].astype(str).isin(greenways["feature_id"].astype(str))]


def walk_network_within(source: Source, halo: shapely.Polygon, bbox: tuple[float, float, float, float],
                        metric: CRS) -> WalkNetwork | None:
    """The walking network of the streets meeting ``halo``, read batch by batch (each reduced to its vertices before
    the next is read), or None when there are none."""
    seen = 0

    def batches() -> Iterator[gpd.GeoDataFrame]:
        nonlocal seen
        for batch in source.vector_batches("walk_network", bbox, WALK_COLUMNS):
            batch = features_within(batch, halo, metric)
            seen += len(batch)
            yield batch

    try:
        return build_walk_network_in_batches(batches(), crs=metric)
    except NetworkError:
        if seen == 0:  # no street meets this halo: straight lines, as with no layer at all
            return None
        raise


def run_part(source: Source, plan: Plan, part: Part) -> pd.DataFrame:
    """The owned cells of ``part`` with their distance and nearest facility per layer (the run's one CRS)."""
    metric = crs_of(plan.crs)
    demand = owned_demand(source, plan, part)
    columns = ["row", "col", "population", *[f"distance_{k}" for k in plan.layers],
               *[f"nearest_{k}" for k in plan.layers]]
    if len(demand) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    halo, bbox = halo_of(plan, part)
    network = walk_network_within(source, halo, bbox, metric) if plan.method == "network" else None
    layers = {k: features_within(source.vector(k, bbox), halo, metric) for k in plan.layers}
    layers = {k: v if v is not None else empty_layer() for k, v in layers.items()}
    entrances = entrances_of(source, plan, layers.get("greenways"))
    facilities = build_facility_set(layers, crs=metric, entrances=entrances)
    engine = CoverageEngine(demand, facilities, network=network, method=plan.method, max_snap_m=plan.max_snap_m,
                            max_demand_snap_m=plan.max_demand_snap_m)
    result = engine.run(list(plan.thresholds), layers=list(plan.layers))
    out = pd.DataFrame({"row": demand.row, "col": demand.col, "population": demand.population})
    for k in plan.layers:
        out[f"distance_{k}"] = result.distance[k].to_numpy()
        out[f"nearest_{k}"] = pd.Categorical(result.nearest_ids(k))  # small to send back: codes and the ids
    return out


def make_plan(source: Source, thresholds: Sequence[float], *, layers: Sequence[str] = FACILITY_LAYERS,
              crs: str | None = None, method: str = "network") -> Plan:
    """The run's plan: the metric CRS (the population's CGCS2000 Gauss–Krüger zone unless given), the
    population's extent in it, the distances and layers."""
    from geo.crs import local_metric_crs

    with _open_raster(source.population()) as ds:
        lonlat = transformer(ds.crs, 4326).transform_bounds(*ds.bounds, densify_pts=21)
        metric = CRS.from_user_input(crs) if crs else local_metric_crs(lonlat)
        extent = transformer(ds.crs, metric).transform_bounds(*ds.bounds, densify_pts=21)
    return Plan(crs=metric.to_wkt(), thresholds=tuple(sorted(float(t) for t in thresholds)), layers=tuple(layers),
                extent=tuple(float(v) for v in extent), method=method)


def raster_grid(source: Source) -> Grid:
    """The population raster's grid (the cells a result is drawn on)."""
    with _open_raster(source.population()) as ds:
        return Grid(ds.crs, ds.transform, (ds.height, ds.width))


def tiles(plan: Plan, nx: int, ny: int) -> list[Part]:
    """``nx`` × ``ny`` rectangles over the plan's extent, the outer ones open to infinity (every cell owned)."""
    x0, y0, x1, y1 = plan.extent
    xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
    xs[-1], ys[-1] = np.inf, np.inf
    xs[0], ys[0] = -np.inf, -np.inf
    return [Part(f"{i}-{j}", (float(xs[i]), float(ys[j]), float(xs[i + 1]), float(ys[j + 1])))
            for i in range(nx) for j in range(ny)]


def unit_parts(plan: Plan, boundaries: gpd.GeoDataFrame, *, level: str, rest: tuple[int, int] = (2, 2)
               ) -> list[Part]:
    """One partition per administrative unit of ``level`` (city, district, street…; in code order), and
    ``rest`` tiles for the cells outside every unit (empty ones cost nothing: a partition with no
    cells reads no other input). Every cell is owned exactly once."""
    from geo.units import units_of_level

    metric = crs_of(plan.crs)
    units = units_of_level(boundaries, level, metric)
    units = units.assign(geometry=shapely.make_valid(units.geometry.to_numpy()))
    units = units[~units.geometry.is_empty].sort_values("code", key=lambda c: c.astype(str), kind="stable")
    shapes = units.geometry.to_numpy()
    tree = shapely.STRtree(shapes)
    parts = []
    for k, (code, shape) in enumerate(zip(units["code"].astype(str), shapes)):
        before = [int(i) for i in tree.query(shape) if i < k]
        exclude = shapely.union_all(shapes[before]) if before else None
        parts.append(Part(f"{level}-{code}", tuple(float(v) for v in shape.bounds), shapely.to_wkb(shape),
                          None if exclude is None else shapely.to_wkb(exclude)))
    everything = shapely.union_all(shapes)
    for p in tiles(plan, *rest):
        inside = shapely.clip_by_rect(everything, *(max(min(v, 1e12), -1e12) for v in p.box))
        parts.append(Part(f"outside-{p.key}", p.box, None, None if inside.is_empty else shapely.to_wkb(inside)))
    return parts


def _categorical(column: pd.Series) -> pd.Categorical:
    """A partition's nearest-facility ids as a categorical of strings (missing where none is in reach)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        cat = column.array
        return cat.rename_categories([str(v) for v in cat.categories])
    return pd.Categorical([None if v is None or v != v else str(v) for v in column])


def assemble(parts: Sequence[pd.DataFrame], plan: Plan, grid: Grid) -> CoverageResult:
    """The partitions' cells as one coverage result (cells in row, column order)."""
    parts = [p for p in parts if len(p)]
    # one list of facility ids for all partitions (each sent its own), every partition's codes mapped to it
    named = {(i, k): _categorical(p[f"nearest_{k}"]) for i, p in enumerate(parts) for k in plan.layers}
    ids = sorted(set().union(*(set(c.categories) for c in named.values())))
    row = np.concatenate([p["row"].to_numpy(np.int64) for p in parts])
    col = np.concatenate([p["col"].to_numpy(np.int64) for p in parts])
    order = np.lexsort((col, row))
    row, col = row[order], col[order]
    if ((row[1:] == row[:-1]) & (col[1:] == col[:-1])).any():
        raise AnalysisError("Two partitions own the same cell; their rectangles overlap.")

    def gathered(column: str, how) -> np.ndarray:
        return np.concatenate([how(p[column]) for p in parts])[order]

    metric = crs_of(plan.crs)
    lon, lat = cell_lonlat(grid.transform, grid.crs, row, col)
    mx, my = transformer(4326, metric).transform(lon, lat)
    demand = Demand(x=np.asarray(mx), y=np.asarray(my), population=gathered("population", lambda c: c.to_numpy(float)),
                    crs=metric, grid=grid, row=row, col=col, label="population")
    dist = {k: gathered(f"distance_{k}", lambda c: c.to_numpy(float)) for k in plan.layers}
    index = pd.Index(ids)

    def codes(cat: pd.Categorical) -> np.ndarray:  # a partition's few ids placed in the one list, then its cells
        remap = np.append(index.get_indexer(cat.categories), -1).astype(np.int64)
        return remap[np.asarray(cat.codes, dtype=np.int64)]  # code -1 (none in reach) → the appended -1

    near = {k: np.concatenate([codes(named[i, k]) for i in range(len(parts))])[order] for k in plan.layers}
    ths = {k: tuple(plan.thresholds) for k in plan.layers}
    if len(plan.layers) > 1:
        dist[ANY_LAYER] = np.min(np.column_stack([dist[k] for k in plan.layers]), axis=1)
        ths[ANY_LAYER] = tuple(plan.thresholds)
    return CoverageResult(distance=pd.DataFrame(dist), nearest_index=pd.DataFrame(near),
                          facility_ids=np.array(ids, dtype=object), population=demand.population, thresholds=ths,
                          method={k: plan.method for k in ths}, demand=demand, slot=None, cutoff=plan.cutoff)


__all__ = ["InputSource", "Part", "Plan", "assemble", "entrances_of", "features_within", "halo_of", "make_plan",
           "owned_demand", "raster_grid", "run_part", "tiles", "unit_parts", "write_inputs"]

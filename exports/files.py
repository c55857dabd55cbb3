"""File exports of layers and results: GeoPackage, GeoJSON, Shapefile (.zip), CSV, XLSX, GeoTIFF.

Every writer keeps Chinese text (UTF-8 everywhere; a Shapefile gets a ``.cpg`` saying so)
and georeferencing (vectors keep their CRS; surfaces are written on the demand grid with
its transform and CRS).  Writers build the file beside its target and move it into place,
so a failed export never leaves half a file under the name asked for.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely

from exports.sheets import csv_bytes, excel_writer, write_csv, write_sheet
from geo.coverage import CoverageResult
from geo.demand import Grid
from geo.errors import AnalysisError

VectorFormat = Literal["gpkg", "geojson", "shp"]
SurfaceKind = Literal["distance", "covered", "population"]
#: Layer-name characters kept in file and table names.
_SAFE = "_-"


def _safe_name(name: str) -> str:
    out = "".join(ch if ch.isalnum() or ch in _SAFE else "_" for ch in str(name))
    if not out:
        raise AnalysisError(f"{name!r} cannot name a layer or file.")
    return out


def _replace_into(tmp: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    return target


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL can write: nullable and datetime-with-zone types made plain."""
    out = frame.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        dtype = out[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
        elif isinstance(dtype, (pd.BooleanDtype, pd.StringDtype)) or str(dtype) in ("Int64", "Float64"):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def write_vectors(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *,
                  fmt: VectorFormat | None = None) -> Path:
    """Write one or more layers: several layers in one GeoPackage, or one GeoJSON / zipped Shapefile.

    Raises
    ------
    AnalysisError
        No layer, a layer without a CRS, several layers for a one-layer format, or an
        unknown format.
    """
    target = Path(path)
    fmt = fmt or {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".zip": "shp"}.get(
        target.suffix.lower())
    if fmt not in ("gpkg", "geojson", "shp"):
        raise AnalysisError(f"{target.name}: choose a vector format (gpkg, geojson, shp), "
                            f"not {fmt or target.suffix!r}.")
    if not layers:
        raise AnalysisError("Nothing to export: no layer given.")
    if fmt != "gpkg" and len(layers) > 1:
        raise AnalysisError(f"{fmt} holds one layer; export {len(layers)} layers to a GeoPackage instead.")
    for name, frame in layers.items():
        if frame.crs is None:
            raise AnalysisError(f"Layer {name!r} has no coordinate system; it cannot be exported georeferenced.")
    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.exists() else None) as tmpdir:
        tmp = Path(tmpdir)
        if fmt == "gpkg":
            out = tmp / "export.gpkg"
            for name, frame in layers.items():
                pyogrio.write_dataframe(_plain_columns(frame), out, layer=_safe_name(name), driver="GPKG",
                                        append=out.exists())
        elif fmt == "geojson":
            out = tmp / "export.geojson"
            (name, frame), = layers.items()
            pyogrio.write_dataframe(_plain_columns(frame), out, driver="GeoJSON", layer=_safe_name(name))
        else:
            (name, frame), = layers.items()
            folder = tmp / "shp"
            folder.mkdir()
            _write_shapefiles(frame, folder, _safe_name(name))
            out = tmp / "export.zip"
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(folder.iterdir()):
                    z.write(f, f.name)
        return _replace_into(out, target)


_FAMILIES = {"Point": "point", "MultiPoint": "point", "LineString": "line", "MultiLineString": "line",
             "Polygon": "polygon", "MultiPolygon": "polygon"}


def _cut(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` bytes of UTF-8, never inside a character."""
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-8")) > size:
            break
        out += ch
    return out.rstrip()


def shapefile_field_names(columns: list[str]) -> dict[str, str]:
    """Column → a unique name of at most 10 bytes of UTF-8 (the DBF limit; a Chinese name keeps 3 whole
    characters rather than being cut inside one)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        short = _cut(str(col), 10)
        k = 1
        while short.lower() in used:
            suffix = str(k)
            short = _cut(str(col), 10 - len(suffix)) + suffix
            k += 1
        used.add(short.lower())
        out[col] = short
    return out


def _write_shapefiles(frame: gpd.GeoDataFrame, folder: Path, stem: str) -> None:
    """One shapefile per geometry family (a shapefile holds one), UTF-8 with a .cpg, and
    ``fields.csv`` giving each shortened field name's full name."""
    plain = _plain_columns(frame)
    names = shapefile_field_names([c for c in plain.columns if c != plain.geometry.name])
    plain = plain.rename(columns=names)
    family = plain.geom_type.map(_FAMILIES)
    if family.isna().any():
        bad = plain.geom_type[family.isna()].iloc[0]
        raise AnalysisError(f"A shapefile cannot hold {bad} geometry; export to GeoPackage instead.")
    groups = sorted(family.unique())
    for fam in groups:
        part = plain[family == fam]
        name = stem if len(groups) == 1 else f"{stem}_{fam}"
        pyogrio.write_dataframe(part, folder / f"{name}.shp", driver="ESRI Shapefile", encoding="UTF-8",
                                promote_to_multi=fam != "point")
        (folder / f"{name}.cpg").write_text("UTF-8", encoding="ascii")
    write_csv(pd.DataFrame({"field": list(names.values()), "full_name": list(names.keys())}), folder / "fields.csv")


def write_tables(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write tables: one CSV (UTF-8 with BOM, so Excel shows Chinese), or one XLSX sheet each.

    Raises
    ------
    AnalysisError
        No table, several tables for a CSV, or another extension.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if not tables:
        raise AnalysisError("Nothing to export: no table given.")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if suffix == ".csv":
            if len(tables) > 1:
                raise AnalysisError(f"A CSV holds one table; export {len(tables)} tables to an XLSX instead.")
            (frame,) = tables.values()
            tmp.write_bytes(csv_bytes(_drop_geometry(frame)))
        elif suffix == ".xlsx":
            with excel_writer(tmp) as xl:
                for sheet, frame in tables.items():
                    write_sheet(xl, _drop_geometry(frame), str(sheet)[:31])
        else:
            raise AnalysisError(f"{target.name}: tables export to .csv or .xlsx, not {suffix or 'no extension'}.")
        return _replace_into(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


#: A layer table's coordinate columns: key → (Chinese, English) header (read back by the CSV importer).
COORDINATE_HEADERS = {"lon": ("经度", "Longitude"), "lat": ("纬度", "Latitude")}


def layer_table(frame: gpd.GeoDataFrame, layer: str, lang: str = "zh", *, projected: bool = False) -> pd.DataFrame:
    """A stored layer as a table a GIS or Excel user reuses, in ``lang``.

    Every field under its label, coded values (kinds, fees, departments, yes/no) and opening hours in words of
    ``lang`` (the importer reads either language's words back as the codes), in English a name's pinyin beside
    it (:func:`i18n.names.romanised`), then each feature's longitude and
    latitude in WGS-84 (a line's or area's point on its surface), and with ``projected`` its x/y in the CGCS2000
    3-degree Gauss–Krüger zone of the layer (metres), the zone named in the headers.
    """
    from i18n.values import crs_text, value_label
    from layers.catalogue import CATALOGUE

    en = lang == "en"
    spec = CATALOGUE.get(layer)
    fields = {f.name: f for f in spec.all_fields} if spec is not None else {}
    out = pd.DataFrame(index=frame.index)
    for col in (c for c in frame.columns if c != frame.geometry.name):
        f = fields.get(col)
        values = frame[col]
        if f is not None and (f.choices is not None or f.type in ("hours", "bool")):
            values = values.map(lambda v, n=col: value_label(n, v, lang) or None)
        elif isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        out[(f.label_en if en else f.label_zh) if f is not None else col] = values
        if en and f is not None and spec is not None and col == spec.name_field:  # the name's sound beside it
            from i18n.names import romanised

            out[f"{f.label_en} (pinyin)"] = values.map(romanised)
    geoms = frame.geometry
    present = geoms.notna() & ~geoms.is_empty
    points = gpd.GeoSeries(np.where(present, geoms.representative_point(), None), crs=frame.crs, index=frame.index)
    wgs = points.to_crs(4326)
    out[COORDINATE_HEADERS["lon"][en]] = np.round(wgs.x, 7)
    out[COORDINATE_HEADERS["lat"][en]] = np.round(wgs.y, 7)
    if projected and present.any():
        from geo.crs import local_metric_crs

        zone = local_metric_crs(tuple(wgs[present].total_bounds))
        xy = points.to_crs(zone)
        name = crs_text(zone, lang)
        out[f"X ({name}, m)" if en else f"X（{name}，米）"] = np.round(xy.x, 2)
        out[f"Y ({name}, m)" if en else f"Y（{name}，米）"] = np.round(xy.y, 2)
    return out.reset_index(drop=True)


def write_layer_tables(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike[str], lang: str = "zh", *,
                       projected: bool = False) -> Path:
    """Stored layers as CSV (one layer) or XLSX (a sheet each, named in ``lang``): see :func:`layer_table`."""
    from i18n.values import value_label

    return write_tables({value_label("layer", name, lang) or name: layer_table(frame, name, lang, projected=projected)
                         for name, frame in layers.items()}, path)


def coverage_tables(result: CoverageResult, layer: str, threshold: float, boundaries: gpd.GeoDataFrame | None,
                    lang: str = "zh", *, one: bool = False) -> dict[str, pd.DataFrame]:
    """A coverage export's tables: the summary with each figure's label (every layer and distance), then the
    chosen layer's coverage per street and its gaps (:func:`geo.gaps.defined_gaps`) with their centres in
    longitude/latitude, and every grid cell; ``one``: the summary alone (a CSV holds one table)."""
    from geo.definitions import GAP_LEVEL
    from geo.gaps import defined_gaps, gap_table
    from geo.units import assign_units, coverage_by_unit
    from i18n.definitions import labelled_summary

    tables = {"summary": labelled_summary(result.summary(), lang)}
    if one:
        return tables
    if boundaries is not None and "level" in boundaries and (boundaries["level"] == GAP_LEVEL).any():
        units = assign_units(result.demand, boundaries, level=GAP_LEVEL)
        tables[f"by_{GAP_LEVEL}"] = coverage_by_unit(result, units, layer=layer)
    tables["gaps"] = gap_table(defined_gaps(result, layer, threshold, boundaries))
    tables["cells"] = result.cells()
    return tables


def _drop_geometry(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if isinstance(frame, gpd.GeoDataFrame) else frame
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def surface(result: CoverageResult, kind: SurfaceKind, *, layer: str | None = None,
            threshold: float | None = None) -> tuple[np.ndarray, float]:
    """A surface on the demand grid and its nodata value.

    ``distance``: metres to the nearest ``layer`` facility (the smallest over a cell's
    residents' locations; beyond the cutoff = nodata); ``covered``: 1 where every resident
    of the cell is within ``threshold``, 0 where none is, the covered share between;
    ``population``: residents per cell.
    """
    demand = result.demand
    rows, cols = demand.grid.shape
    inside = (demand.row >= 0) & (demand.row < rows) & (demand.col >= 0) & (demand.col < cols)
    flat = demand.row[inside] * cols + demand.col[inside]
    nodata = -9999.0
    pop = np.bincount(flat, weights=result.population[inside], minlength=rows * cols)
    if kind == "population":
        grid = np.where(pop > 0, pop, nodata)
    elif kind == "distance":
        if layer is None:
            raise AnalysisError("Say which layer's distance surface to export.")
        d = result.distance[layer].to_numpy()[inside]
        grid = np.full(rows * cols, np.inf)
        np.minimum.at(grid, flat, d)
        grid = np.where(np.isfinite(grid), grid, nodata)
    elif kind == "covered":
        if layer is None or threshold is None:
            raise AnalysisError("Say which layer and threshold the covered surface is for.")
        share = demand.share_on_grid(result.covered(layer, threshold)).ravel()
        grid = np.where(np.isfinite(share), share, nodata)
    else:
        raise AnalysisError(f"Surface kind {kind!r} is not one of distance, covered, population.")
    return grid.reshape(rows, cols).astype(np.float32), nodata


def share_cells(result: CoverageResult, layer: str, threshold: float) -> gpd.GeoDataFrame:
    """Populated grid cells as squares with ``share``, the part of their residents covered (for print maps)."""
    demand = result.demand
    share = demand.share_on_grid(result.covered(layer, threshold))
    rows, cols = np.nonzero(np.isfinite(share))
    t = demand.grid.transform
    x0, y0 = t.c + cols * t.a, t.f + rows * t.e
    boxes = shapely.box(x0, y0, x0 + t.a, y0 + t.e)
    return gpd.GeoDataFrame({"share": share[rows, cols]}, geometry=boxes, crs=demand.grid.crs)


def write_surface(result: CoverageResult, path: str | os.PathLike[str], kind: SurfaceKind, *,
                  layer: str | None = None, threshold: float | None = None) -> Path:
    """Write :func:`surface` as a GeoTIFF on the demand grid (its CRS and transform)."""
    data, nodata = surface(result, kind, layer=layer, threshold=threshold)
    return write_grid(result.demand.grid, data, nodata, path,
                      kind=kind, layer=layer or "", threshold_m=str(threshold or ""),
                      units={"distance": "metres", "covered": "share of residents",
                             "population": "residents per cell"}[kind],
                      estimate=str(result.demand.is_estimate))


def cells_on_grid(grid: Grid, row: np.ndarray, col: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-cell values (row, column of ``grid``) as a float32 array with nodata where no cell is."""
    nodata = -9999.0
    data = np.full(grid.shape, nodata, dtype=np.float32)
    data[np.asarray(row, dtype=np.int64), np.asarray(col, dtype=np.int64)] = np.asarray(values, dtype=np.float32)
    return data, nodata


def write_grid(grid: Grid, data: np.ndarray, nodata: float, path: str | os.PathLike[str], **tags: str) -> Path:
    """Write one band on ``grid`` (its CRS and transform) as a GeoTIFF with ``tags``, replacing ``path`` whole."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".tif", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with rasterio.open(tmp, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                           dtype="float32", crs=grid.crs.to_wkt(), transform=grid.transform, nodata=nodata,
                           compress="deflate") as ds:
            ds.write(data.astype(np.float32), 1)
            ds.update_tags(**tags)
        return _replace_into(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()

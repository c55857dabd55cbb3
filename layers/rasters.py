"""Raster layers (population surfaces) as GeoTIFF bytes: checking and opening them."""

from __future__ import annotations

import contextlib
from typing import Iterator

import rasterio
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

from layers.errors import InputFileError, UploadLimitError
from layers.limits import UploadLimits


def check_geotiff(content: bytes, *, name: str, source: str, limits: UploadLimits | None = None) -> None:
    """Refuse bytes that are not a georeferenced single-band GeoTIFF.

    Raises
    ------
    InputFileError
        Naming the source and what is wrong (not a GeoTIFF, no CRS, no georeferencing,
        more than one band).
    UploadLimitError
        More cells than :class:`~layers.limits.UploadLimits` allows (from the header alone).
    """
    limits = limits or UploadLimits.from_env()
    if not content:
        raise InputFileError(f"{source}: the raster for layer {name!r} is empty.")
    try:
        with MemoryFile(content) as mem, mem.open() as ds:
            if ds.driver != "GTiff":
                raise InputFileError(f"{source}: raster layer {name!r} must be a GeoTIFF, not {ds.driver}.")
            if ds.crs is None:
                raise InputFileError(f"{source}: the GeoTIFF has no coordinate system; "
                                     "set one (e.g. with gdal_edit.py -a_srs EPSG:4490) and load it again.")
            if ds.transform.is_identity:
                raise InputFileError(f"{source}: the GeoTIFF has no georeferencing (identity transform).")
            if ds.count != 1:
                raise InputFileError(f"{source}: raster layer {name!r} takes one band of values per cell; "
                                     f"this file has {ds.count}.")
            cells = ds.width * ds.height
            if cells > limits.max_raster_cells:  # read from the header: no pixel has been decompressed
                raise UploadLimitError(f"{source}: {ds.width:,} × {ds.height:,} cells; a raster may have at most "
                                       f"{limits.max_raster_cells:,}. Resample it to a coarser cell size.")
    except RasterioIOError as exc:
        raise InputFileError(f"{source}: not a readable GeoTIFF ({exc}).") from None


@contextlib.contextmanager
def open_geotiff(content: bytes) -> Iterator[rasterio.io.DatasetReader]:
    """Open GeoTIFF bytes as a rasterio dataset (a context manager)."""
    with MemoryFile(content) as mem, mem.open() as ds:
        yield ds


def population_total(tif: bytes) -> float:
    """Sum of residents in a population GeoTIFF (nodata excluded)."""
    with MemoryFile(tif) as mem, mem.open() as ds:
        data = ds.read(1, masked=True)
    return float(data.sum())


def stored_residents(store) -> float | None:
    """Residents in the store's population layer; None when it holds none."""
    if "population" not in {i.name for i in store.layers.list() if i.kind == "raster"}:
        return None
    return population_total(store.rasters.read("population"))

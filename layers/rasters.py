"""Raster layers (population surfaces) as GeoTIFF bytes: checking and opening them."""

from __future__ import annotations

import contextlib
from typing import Iterator

import rasterio
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

from layers.errors import InputFileError


def check_geotiff(content: bytes, *, name: str, source: str) -> None:
    """Refuse bytes that are not a georeferenced single-band GeoTIFF.

    Raises
    ------
    InputFileError
        Naming the source and what is wrong (not a GeoTIFF, no CRS, no georeferencing,
        more than one band).
    """
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
    except RasterioIOError as exc:
        raise InputFileError(f"{source}: not a readable GeoTIFF ({exc}).") from None


@contextlib.contextmanager
def open_geotiff(content: bytes) -> Iterator[rasterio.io.DatasetReader]:
    """Open GeoTIFF bytes as a rasterio dataset (a context manager)."""
    with MemoryFile(content) as mem, mem.open() as ds:
        yield ds

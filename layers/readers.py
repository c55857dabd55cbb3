"""Reading a department's file into a frame the validator and the stores take.

This is the plain path: GeoPackage, GeoJSON, Shapefile (folder, .shp or .zip), KML —
anything GDAL reads with a declared CRS and columns already named as the catalogue
names them.  Errors name the file and say what would be accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo.errors import InputFileError

#: Largest file the readers open (bytes); larger deliveries go through the CLI in parts.
MAX_FILE_BYTES = 150 * 1024 * 1024
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".kml")


def read_vector_file(path: str | os.PathLike[str], *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a vector file; ``frame.attrs["source"]`` is the file's name.

    Raises
    ------
    InputFileError
        Missing, empty, too large, unsupported or unreadable file; several layers and
        none chosen; no coordinate system declared.
    """
    p = Path(path)
    name = p.name
    if not p.exists():
        raise InputFileError(f"{name}: file not found at {p}.")
    if p.is_file():
        size = p.stat().st_size
        if size == 0:
            raise InputFileError(f"{name}: the file is empty.")
        if size > MAX_FILE_BYTES:
            raise InputFileError(f"{name}: {size / 2**20:.0f} MB is over the {MAX_FILE_BYTES / 2**20:.0f} MB "
                                 "limit; split the delivery or load it with the command line.")
    if p.suffix.lower() not in VECTOR_SUFFIXES and not p.is_dir():
        raise InputFileError(f"{name}: {p.suffix or 'no extension'} is not a vector format read here; "
                             f"use one of {', '.join(VECTOR_SUFFIXES)}.")
    target = f"/vsizip/{p}" if p.suffix.lower() == ".zip" else str(p)
    try:
        layers = pyogrio.list_layers(target)
        if layer is None and len(layers) > 1:
            spatial = [str(n) for n, g in layers if g is not None]
            if len(spatial) != 1:
                raise InputFileError(f"{name}: holds several layers ({', '.join(str(n) for n, _ in layers)}); "
                                     "choose one.")
            layer = spatial[0]
        frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{name}: cannot be read as a vector file ({first}).") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputFileError(f"{name}: has no geometry column; a table needs coordinates or shapes.")
    frame.attrs["source"] = name
    return frame

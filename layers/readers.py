"""Reading a department's file into a frame the validator and the stores take.

This is the plain path: GeoPackage, GeoJSON, Shapefile (folder, .shp or .zip), KML —
anything GDAL reads with a declared CRS and columns already named as the catalogue
names them.  Errors name the file and say what would be accepted.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from layers.errors import InputFileError

#: Largest file the readers open (bytes); larger deliveries go through the CLI in parts.
MAX_FILE_BYTES = 150 * 1024 * 1024
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".kml")


def check_file(p: Path) -> None:
    """Refuse a delivery that is missing, empty or over :data:`MAX_FILE_BYTES`.

    Raises
    ------
    InputFileError
        Naming the file and the limit.
    """
    if not p.exists():
        raise InputFileError(f"{p.name}: file not found at {p}.")
    if p.is_file():
        size = p.stat().st_size
        if size == 0:
            raise InputFileError(f"{p.name}: the file is empty.")
        if size > MAX_FILE_BYTES:
            raise InputFileError(f"{p.name}: {size / 2**20:.0f} MB is over the {MAX_FILE_BYTES / 2**20:.0f} MB "
                                 "limit; split the delivery or load it with the command line.")


def _dbf_bytes(p: Path) -> tuple[bytes | None, bool]:
    """The .dbf of a shapefile (file, folder or .zip) and whether a .cpg declares its encoding."""
    try:
        if p.suffix.lower() == ".zip":
            with zipfile.ZipFile(p) as z:
                names = z.namelist()
                dbf = [n for n in names if n.lower().endswith(".dbf")]
                cpg = any(n.lower().endswith(".cpg") for n in names)
                return (z.read(dbf[0]) if dbf else None), cpg
        base = next(iter(sorted(p.glob("*.shp"))), None) if p.is_dir() else p
        if base is None or base.suffix.lower() != ".shp":
            return None, False
        dbf = next((c for c in base.parent.glob(base.stem + ".*") if c.suffix.lower() == ".dbf"), None)
        cpg = any(c.suffix.lower() == ".cpg" for c in base.parent.glob(base.stem + ".*"))
        return (dbf.read_bytes() if dbf else None), cpg
    except (OSError, zipfile.BadZipFile):
        return None, False


def shapefile_encoding(p: Path) -> str | None:
    """The text encoding of a shapefile's .dbf when no .cpg says it: UTF-8 if its bytes
    decode as UTF-8, otherwise GB18030 (a superset of the GBK Chinese offices use).
    ``None`` when a .cpg is present (GDAL reads it) or there is no .dbf."""
    raw, has_cpg = _dbf_bytes(p)
    if raw is None or has_cpg or len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def read_vector_file(path: str | os.PathLike[str], *, layer: str | None = None,
                     encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a vector file; ``frame.attrs["source"]`` is the file's name.

    Shapefiles without a .cpg are read as UTF-8 or GB18030, whichever their text is
    (``encoding`` overrides).

    Raises
    ------
    InputFileError
        Missing, empty, too large, unsupported or unreadable file; several layers and
        none chosen; no coordinate system declared.
    """
    p = Path(path)
    name = p.name
    check_file(p)
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
        if encoding is None and (p.suffix.lower() in (".shp", ".zip") or p.is_dir()):
            encoding = shapefile_encoding(p)
        frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=True, encoding=encoding)
    except Exception as exc:  # GDAL/pyogrio raise many types (even IndexError) for broken files
        if isinstance(exc, InputFileError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputFileError(f"{name}: cannot be read as a vector file ({first}).") from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputFileError(f"{name}: has no geometry column; a table needs coordinates or shapes.")
    frame.attrs["source"] = name
    return frame

"""Reading a department's file into a frame the validator and the stores take.

This is the plain path: GeoPackage, GeoJSON, Shapefile (folder, .shp or .zip), KML —
anything GDAL reads with a declared CRS and columns already named as the catalogue
names them.  Every read is bounded first (:mod:`layers.limits`): a zip is checked from
its directory and extracted into a workspace that is removed afterwards, vertices are
counted batch by batch before any geometry is built.  Errors name the file and say what
would be accepted.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.notes import ProgressFn, report
from layers.errors import InputFileError, UploadLimitError
from layers.limits import Deadline, UploadLimits, check_file_size, extract_zip, upload_workspace, wkb_vertices

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".kml")
#: What a shapefile needs beside its .shp.
SHAPEFILE_PARTS = (".shx", ".dbf")
#: Bytes of a .dbf read to tell its text encoding.
ENCODING_SAMPLE = 1 << 20


def check_file(p: Path, limits: UploadLimits | None = None) -> None:
    """Refuse a delivery that is missing, empty or over the size limit.

    Raises
    ------
    InputFileError
        Naming the file and the limit.
    """
    if not p.exists():
        raise InputFileError.coded("file.missing", file=p.name)
    if p.is_file():
        if p.stat().st_size == 0:
            raise InputFileError.coded("file.empty", file=p.name)
        check_file_size(p, limits or UploadLimits.from_env())


def _dbf_sample(base: Path) -> tuple[bytes | None, bool]:
    """The start of a shapefile's .dbf and whether a .cpg declares its encoding."""
    siblings = list(base.parent.glob(base.stem + ".*"))
    dbf = next((c for c in siblings if c.suffix.lower() == ".dbf"), None)
    cpg = any(c.suffix.lower() == ".cpg" for c in siblings)
    if dbf is None:
        return None, cpg
    with open(dbf, "rb") as fh:
        return fh.read(ENCODING_SAMPLE), cpg


def _zipped_dbf_sample(p: Path) -> tuple[bytes | None, bool]:
    """The start of the .dbf inside a zipped shapefile (read as a stream, never expanded whole)."""
    try:
        with zipfile.ZipFile(p) as z:
            names = z.namelist()
            dbf = [n for n in names if n.lower().endswith(".dbf")]
            cpg = any(n.lower().endswith(".cpg") for n in names)
            if not dbf:
                return None, cpg
            with z.open(dbf[0]) as fh:
                return fh.read(ENCODING_SAMPLE), cpg
    except (OSError, zipfile.BadZipFile):
        return None, False


def shapefile_encoding(p: Path) -> str | None:
    """The text encoding of a shapefile's .dbf when no .cpg says it: UTF-8 if its first megabyte decodes as
    UTF-8, otherwise GB18030 (a superset of the GBK Chinese offices use).  ``None`` when a .cpg is present
    (GDAL reads it) or there is no .dbf."""
    if p.suffix.lower() == ".zip":
        raw, has_cpg = _zipped_dbf_sample(p)
    else:
        base = next(iter(sorted(p.glob("*.shp"))), None) if p.is_dir() else p
        if base is None or base.suffix.lower() != ".shp":
            return None
        raw, has_cpg = _dbf_sample(base)
    if raw is None or has_cpg or len(raw) < 32:
        return None
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 4 and len(raw) == ENCODING_SAMPLE:
            return "UTF-8"  # the sample cut a character in two
        return "GB18030"


def _shapefile_in(folder: Path, name: str) -> Path:
    """The one dataset inside an extracted zip or a folder: a complete shapefile, or one vector file."""
    files = [f for f in folder.rglob("*") if f.is_file() and not f.name.startswith(("._", "."))]
    shps = [f for f in files if f.suffix.lower() == ".shp"]
    if len(shps) > 1:
        raise InputFileError.coded("file.several_shapefiles", file=name, n=len(shps), names=[s.name for s in shps])
    if shps:
        shp = shps[0]
        have = {f.suffix.lower() for f in shp.parent.glob(shp.stem + ".*")}
        missing = [s for s in SHAPEFILE_PARTS if s not in have]
        if missing:
            raise InputFileError.coded("file.zip_shapefile_parts", file=name, shp=shp.name,
                                       missing=[shp.stem + m for m in missing])
        return shp
    others = [f for f in files if f.suffix.lower() in (".gpkg", ".geojson", ".json", ".kml")]
    if len(others) == 1:
        return others[0]
    raise InputFileError.coded("file.zip_no_layer", file=name, names=[f.name for f in files])


def _sniff_content(p: Path, name: str) -> None:
    """Name the real problem of a file GDAL would only call unreadable (an HTML page saved as .geojson …)."""
    if p.is_dir() or p.suffix.lower() in (".gpkg", ".shp", ".zip"):
        return
    with open(p, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        raise InputFileError.coded("file.html", file=name, suffix=p.suffix)
    if p.suffix.lower() in (".geojson", ".json") and head and not head.startswith((b"{", b"[")):
        raise InputFileError.coded("file.not_geojson", file=name)


def _bound_gdal(limits: UploadLimits) -> None:
    """GDAL's own bound: its GeoJSON parser streams features and refuses one larger than a feature may be
    (before opening a file, so not even listing its layers parses a giant feature)."""
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": str(limits.max_geojson_feature_mb)})


def count_vertices(target: str, *, name: str, layer: str | None, limits: UploadLimits, deadline: Deadline,
                   progress: ProgressFn | None = None) -> int:
    """Vertices in a dataset, read batch by batch as WKB (no geometry is built); refuses one over the limits.

    Raises
    ------
    UploadLimitError
        A feature over the per-feature limit (its row named), the file over the per-file
        limit, or the time budget spent.
    """
    total, row = 0, 0
    _bound_gdal(limits)
    try:
        expected = max(int(pyogrio.read_info(target, layer=layer).get("features") or 0), 0)
    except Exception:  # some drivers cannot count without reading; the bar then shows rows only
        expected = 0
    try:
        with pyogrio.open_arrow(target, layer=layer, columns=[], batch_size=5000, use_pyarrow=True) as (meta, reader):
            geom = meta["geometry_name"] or "wkb_geometry"
            for batch in reader:
                deadline.check()
                for wkb in batch.column(geom).to_pylist():
                    row += 1
                    n = wkb_vertices(wkb)
                    if n > limits.max_vertices_per_feature:
                        raise UploadLimitError.coded("upload.feature_vertices", file=name, row=row, n=n,
                                                     limit=limits.max_vertices_per_feature)
                    total += n
                report(progress, row / expected if expected else 0.0, "progress.rows", rows=row)
                if total > limits.max_vertices_per_file:
                    raise UploadLimitError.coded("upload.file_vertices", file=name, limit=limits.max_vertices_per_file)
    except pyogrio.errors.DataSourceError as exc:
        if "too complex/large" in str(exc):
            raise UploadLimitError.coded("upload.geojson_feature", file=name, mb=limits.max_geojson_feature_mb,
                                         limit=limits.max_vertices_per_feature) from None
        raise
    return total


def read_vector_file(path: str | os.PathLike[str], *, layer: str | None = None, encoding: str | None = None,
                     limits: UploadLimits | None = None, progress: ProgressFn | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a vector file within the upload limits; ``frame.attrs["source"]`` is the file's name.

    Shapefiles without a .cpg are read as UTF-8 or GB18030, whichever their text is
    (``encoding`` overrides).

    Raises
    ------
    InputFileError
        Missing, empty, unsupported, damaged or incomplete files (a shapefile without its
        .shx/.dbf, an HTML page named .geojson); several layers and none chosen.
    UploadLimitError
        A file over a limit of :class:`~layers.limits.UploadLimits`; nothing was read.
    """
    p = Path(path)
    name = p.name
    limits = limits or UploadLimits.from_env()
    check_file(p, limits)
    if p.suffix.lower() not in VECTOR_SUFFIXES and not p.is_dir():
        raise InputFileError.coded("file.not_vector", file=name, suffix=p.suffix, formats=list(VECTOR_SUFFIXES))
    deadline = Deadline(name, limits.max_seconds)
    if p.suffix.lower() == ".zip":
        with upload_workspace(prefix="zip-") as folder:
            extract_zip(p, folder, limits, deadline)
            return _read_bounded(_shapefile_in(folder, name), name=name, layer=layer, encoding=encoding,
                                 limits=limits, deadline=deadline, progress=progress)
    if p.suffix.lower() == ".shp":
        have = {f.suffix.lower() for f in p.parent.glob(p.stem + ".*")}
        missing = [s for s in SHAPEFILE_PARTS if s not in have]
        if missing:
            raise InputFileError.coded("file.shapefile_parts", file=name, missing=[p.stem + m for m in missing])
    if p.is_dir():
        p = _shapefile_in(p, name)
    return _read_bounded(p, name=name, layer=layer, encoding=encoding, limits=limits, deadline=deadline,
                         progress=progress)


def _read_bounded(p: Path, *, name: str, layer: str | None, encoding: str | None, limits: UploadLimits,
                  deadline: Deadline, progress: ProgressFn | None = None) -> gpd.GeoDataFrame:
    _sniff_content(p, name)
    target = str(p)
    _bound_gdal(limits)
    try:
        layers = pyogrio.list_layers(target)
        if layer is None and len(layers) > 1:
            spatial = [str(n) for n, g in layers if g is not None]
            if len(spatial) != 1:
                raise InputFileError(f"{name}: holds several layers ({', '.join(str(n) for n, _ in layers)}); "
                                     "choose one.")
            layer = spatial[0]
        if encoding is None and p.suffix.lower() == ".shp":
            encoding = shapefile_encoding(p)
        count_vertices(target, name=name, layer=layer, limits=limits, deadline=deadline, progress=progress)
        frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=True, encoding=encoding)
        for column in frame.columns:  # Arrow checks text lazily: a bad byte is found here, not later
            if column != frame.geometry.name and frame[column].dtype.kind in "OU" or \
                    pd.api.types.is_string_dtype(frame[column]):
                frame[column].to_numpy()
        deadline.check()
    except (InputFileError, UploadLimitError):
        raise
    except Exception as exc:  # GDAL/pyogrio raise many types (even IndexError) for broken files
        if "too complex/large" in str(exc):
            raise UploadLimitError.coded("upload.geojson_feature", file=name, mb=limits.max_geojson_feature_mb,
                                         limit=limits.max_vertices_per_feature) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.replace(str(p.parent), "…")  # no server paths in what a person reads
        raise InputFileError.coded("file.unreadable_vector", file=name, reason=first) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputFileError.coded("file.no_geometry", file=name)
    frame.attrs["source"] = name
    return frame

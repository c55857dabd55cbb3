"""Importing a department's file: read, map fields, convert coordinates, guard, validate, commit.

Two steps, so the steward sees everything before anything is written:

1. :func:`prepare_import` reads the file (GeoPackage, Shapefile folder or .zip, GeoJSON,
   KML, CSV/XLSX with lon/lat, OSM XML/PBF), refuses personal data, maps the columns
   (guessed or a saved :class:`~layers.fields.FieldMapping`), converts GCJ-02/BD-09 to
   WGS-84 when told the file is in them, repairs self-intersecting polygons where that is
   safe, and validates every row.  The :class:`ImportPlan` holds the stored-form rows, the
   per-row report and the warnings (swapped lat/lon, coordinates outside China).
2. :func:`commit_import` writes it: all rows or nothing, or only the valid rows when the
   steward chooses so; one transaction, recorded in the layer's history (who, when,
   file name, row counts); the previous version stays readable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import CHINESE_OFFSET_SYSTEMS, STORAGE_CRS, to_wgs84_from
from geo.errors import CRSError
from geo.geometry_kinds import AREAS, GeometryType, is_area, kind_is
from geo.notes import Note, ProgressFn, note
from layers.catalogue import get_spec
from layers.errors import InputFileError, LayerValidationError, Problem, ValidationReport
from layers.fields import FieldMapping, guess_mapping
from layers.privacy import check_personal_data
from layers.readers import VECTOR_SUFFIXES, check_file, read_vector_file
from layers.stores.base import Store, WriteResult
from layers.tables import FIRST_ROW, read_table, table_to_points
from layers.validate import drop_bad_rows, validate_layer

TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
#: Coordinate systems a steward can name: the offset systems, or anything pyproj reads.
COORDINATE_SYSTEMS = ("declared", "wgs84", "cgcs2000", "webmercator") + CHINESE_OFFSET_SYSTEMS
_NAMED = {"wgs84": 4326, "cgcs2000": 4490, "webmercator": 3857}
#: Longitude/latitude box of China used for plausibility warnings.
_CHINA = (73.0, 3.0, 136.0, 54.0)


@dataclass
class ImportPlan:
    """What an import would write, and everything found wrong or doubtful on the way."""

    layer: str
    source: str
    frame: gpd.GeoDataFrame
    report: ValidationReport
    mapping: FieldMapping
    n_read: int
    warnings: list[Note] = field(default_factory=list)

    @property
    def n_valid(self) -> int:
        """Rows without a problem."""
        return self.n_read - len(self.report.bad_rows)

    def summary(self) -> str:
        """Counts, warnings and the first problems, for a person to read."""
        lines = [f"{self.source} → {self.layer}: {self.n_read} row(s) read, {self.n_valid} valid."]
        lines += [f"warning: {w}" for w in self.warnings]
        if not self.report.ok:
            lines.append(self.report.summary())
        return "\n".join(lines)


def _resolve_crs(coord_system: str, crs: object | None) -> tuple[CRS | None, str | None]:
    """(CRS to assume when the file declares none, offset system to convert from)."""
    key = coord_system.lower().replace("-", "").replace("_", "")
    if key in CHINESE_OFFSET_SYSTEMS:
        return STORAGE_CRS, key
    if key in _NAMED:
        return CRS.from_epsg(_NAMED[key]), None
    if key == "declared":
        if crs is None:
            return None, None
        try:
            return CRS.from_user_input(crs), None
        except Exception as exc:  # pyproj raises its own CRSError and others
            raise CRSError(f"Coordinate system {crs!r} is not known ({exc}); give an EPSG code "
                           "such as EPSG:4490.") from None
    raise CRSError(f"Coordinate system {coord_system!r} is not one of {', '.join(COORDINATE_SYSTEMS)}; "
                   "or pass crs='EPSG:…'.")


def _geojson_override(frame: gpd.GeoDataFrame, given: CRS, name: str) -> tuple[gpd.GeoDataFrame, Note | None]:
    """A GeoJSON always declares WGS-84 (GDAL says so whatever the file holds).  When the steward names
    another system and the coordinates are plainly not degrees, the named one is used, and said."""
    if given.equals(frame.crs):
        return frame, None
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    projected = len(xy) and (np.abs(xy[:, 0]) > 180).mean() > 0.5 or (len(xy) and (np.abs(xy[:, 1]) > 90).mean() > 0.5)
    if projected:
        return frame.set_crs(given, allow_override=True), note("import.geojson_projected", file=name,
                                                                 crs=given.name)
    return frame, note("import.geojson_degrees", file=name, crs=given.name)


def guess_crs(frame: gpd.GeoDataFrame, name: str) -> tuple[CRS | None, Note | None]:
    """The coordinate system of a table (CSV, XLSX: they never declare one), when its coordinates leave no doubt.

    Longitudes and latitudes in degrees inside China are read as WGS-84 (CGCS2000 differs
    by centimetres), with a note saying so and that AMap/Tencent or Baidu coordinates must
    be named (they are offset by hundreds of metres and cannot be told apart by range).
    Anything else (projected metres of an unknown zone) is left undecided: validation then
    asks for the system.
    """
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return None, None
    xy = shapely.get_coordinates(geoms[present])
    x, y = xy[:, 0], xy[:, 1]
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        x, y = x[np.isfinite(x) & np.isfinite(y)], y[np.isfinite(x) & np.isfinite(y)]
    inside = (x >= _CHINA[0]) & (x <= _CHINA[2]) & (y >= _CHINA[1]) & (y <= _CHINA[3])
    if len(x) and inside.mean() >= 0.95:
        return STORAGE_CRS, note("import.crs_guessed", file=name)
    return None, None


def _read(p: Path, *, file_layer: str | None, encoding: str | None, lon: str | None,
          lat: str | None, progress: ProgressFn | None = None) -> tuple[gpd.GeoDataFrame, list[Problem], np.ndarray]:
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        table = read_table(p)
        frame, problems = table_to_points(table, name=p.name, lon=lon, lat=lat)
        return frame, problems, np.arange(len(frame)) + FIRST_ROW
    if suffix in (".osm", ".pbf"):
        raise InputFileError(f"{p.name}: an OpenStreetMap extract holds several layers; import it with "
                             "import_osm(), which maps its tags to the catalogue.")
    if suffix in (".tif", ".tiff"):
        raise InputFileError(f"{p.name}: a raster; import population rasters with import_population_raster().")
    if suffix not in VECTOR_SUFFIXES and not p.is_dir():
        raise InputFileError(f"{p.name}: {suffix or 'no extension'} is not a format read here; use one of "
                             f"{', '.join(VECTOR_SUFFIXES + TABLE_SUFFIXES + ('.osm', '.pbf', '.tif'))}.")
    frame = read_vector_file(p, layer=file_layer, encoding=encoding, progress=progress)
    return frame, [], np.arange(1, len(frame) + 1)


def _convert_offset(frame: gpd.GeoDataFrame, system: str, name: str) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.is_geographic:
        raise CRSError(f"{name}: declares the projected system {frame.crs.name}, so it cannot also be "
                       f"{system.upper()} longitude/latitude; choose 'declared' instead.")
    geoms = frame.geometry.to_numpy()

    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84_from(system, xy[:, 0], xy[:, 1])
        return np.column_stack((lon, lat))

    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = geoms.copy()
    out[ok] = shapely.transform(geoms[ok], shift)
    return frame.set_geometry(gpd.GeoSeries(out, index=frame.index), crs=STORAGE_CRS)


def _plausibility(frame: gpd.GeoDataFrame, claims_china: bool, name: str) -> list[Note]:
    if frame.crs is None or len(frame) == 0:
        return []
    try:
        ll = frame.geometry.to_crs(STORAGE_CRS) if not frame.crs.equals(STORAGE_CRS) else frame.geometry
    except Exception:  # reprojection of broken coordinates is reported by validation
        return []
    pts = shapely.point_on_surface(ll.to_numpy()[~(ll.is_empty | ll.isna()).to_numpy()])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    fin = np.isfinite(x) & np.isfinite(y)
    x, y = x[fin], y[fin]
    if len(x) == 0:
        return []
    warnings = []
    in_china = (x >= _CHINA[0]) & (x <= _CHINA[2]) & (y >= _CHINA[1]) & (y <= _CHINA[3])
    swapped = (y >= _CHINA[0]) & (y <= _CHINA[2]) & (x >= _CHINA[1]) & (x <= _CHINA[3])
    if swapped.mean() > 0.5 and in_china.mean() < 0.5:
        warnings.append(note("import.swapped", file=name, share=float(swapped.mean())))
    elif claims_china and in_china.mean() < 1.0:
        warnings.append(note("import.outside_china", file=name, share=float(1 - in_china.mean())))
    return warnings


def _repair(frame: gpd.GeoDataFrame, rows: np.ndarray, name: str) -> tuple[gpd.GeoDataFrame, list[Note]]:
    """Self-intersecting polygons made valid where the result is still a non-empty area."""
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    area = kind_is(geoms, AREAS) & present
    with np.errstate(invalid="ignore"):
        finite = np.zeros(len(geoms), dtype=bool)
        finite[area] = [np.isfinite(shapely.get_coordinates(g)).all() for g in geoms[area]]
    bad = area & finite
    bad[bad] = ~shapely.is_valid(geoms[bad])
    if not bad.any():
        return frame, []
    fixed = shapely.make_valid(geoms[bad])
    collection = int(GeometryType.GEOMETRYCOLLECTION)
    polygonal = np.array([is_area(g) or (shapely.get_type_id(g) == collection
                                         and any(is_area(p) for p in shapely.get_parts(g))) for g in fixed])
    out = geoms.copy()
    repaired = []
    for k, i in enumerate(np.flatnonzero(bad)):
        g = fixed[k]
        if shapely.get_type_id(g) == collection:
            g = shapely.union_all([p for p in shapely.get_parts(g) if is_area(p)])
        if polygonal[k] and not g.is_empty and g.area > 0:
            out[i] = g
            repaired.append(int(rows[i]))
    if not repaired:
        return frame, []
    said = note("import.repaired", file=name, n=len(repaired), rows=repaired)
    return frame.set_geometry(gpd.GeoSeries(out, index=frame.index, crs=frame.crs)), [said]


def prepare_import(path: str | os.PathLike[str], layer: str, *, coord_system: str = "declared",
                   crs: object | None = None, mapping: FieldMapping | None = None,
                   department: str | None = None, file_layer: str | None = None,
                   encoding: str | None = None, lon_column: str | None = None,
                   lat_column: str | None = None, progress: ProgressFn | None = None) -> ImportPlan:
    """Read, check and validate a delivery for ``layer`` without writing anything.

    Parameters
    ----------
    path : path
        The delivered file (or a Shapefile folder).
    layer : str
        Catalogue layer to load into.
    coord_system : str
        ``"declared"`` (the file's own CRS, or ``crs`` when it has none), ``"wgs84"``,
        ``"cgcs2000"``, ``"webmercator"``, ``"gcj02"`` (AMap, Tencent) or ``"bd09"`` (Baidu).
    crs : optional
        The CRS to assume when the file declares none (e.g. ``"EPSG:4547"``).
    mapping : FieldMapping, optional
        A saved mapping; otherwise one is guessed from the column names.
    progress : callable, optional
        Hears the rows read.
    department : str, optional
        Owning department for rows that do not say.

    Raises
    ------
    InputFileError
        Unreadable, empty, oversized or unsupported files; personal data
        (:class:`~geo.errors.PersonalDataError`).
    CRSError
        An unknown coordinate system, or an offset system named for projected data.
    """
    spec = get_spec(layer)
    p = Path(path)
    check_file(p)
    assumed, offset = _resolve_crs(coord_system, crs)
    raw, coord_problems, rows = _read(p, file_layer=file_layer, encoding=encoding, lon=lon_column,
                                      lat=lat_column, progress=progress)
    check_personal_data(raw, source=p.name)
    mapping = mapping or guess_mapping([str(c) for c in raw.columns if c != raw.geometry.name], spec)
    if mapping.layer != layer:
        raise InputFileError(f"The field mapping is for layer {mapping.layer!r}, not {layer!r}.")
    frame = mapping.apply(raw)
    warnings: list[Note] = []
    if frame.crs is None and assumed is None and p.suffix.lower() in TABLE_SUFFIXES:  # a table never declares one
        assumed, guessed = guess_crs(frame, p.name)
        warnings += [guessed] if guessed else []
    if frame.crs is None and assumed is not None:
        frame = frame.set_crs(assumed)
    elif frame.crs is not None and assumed is not None and offset is None and p.suffix.lower() in (".geojson", ".json"):
        frame, overridden = _geojson_override(frame, assumed, p.name)
        warnings += [overridden] if overridden else []
    if offset is not None:
        frame = _convert_offset(frame, offset, p.name)
    claims_china = offset is not None or (frame.crs is not None and frame.crs.to_epsg() in
                                          {4490, *range(4491, 4555)})
    warnings += _plausibility(frame, claims_china, p.name)
    frame, repairs = _repair(frame, rows, p.name)
    warnings += repairs
    validated, report = validate_layer(frame, spec, source=p.name, department=department, row_numbers=rows)
    report.problems.extend(coord_problems)
    report.problems.sort(key=lambda q: (q.row or 0, q.field))
    return ImportPlan(layer=layer, source=p.name, frame=validated, report=report, mapping=mapping,
                      n_read=len(raw), warnings=warnings)


@dataclass(frozen=True)
class ChangePreview:
    """What committing an import would do to the stored layer, counted before anything is written."""

    mode: str
    added: int
    updated: int
    unchanged: int
    removed: int
    clashes: int
    stored_before: int

    @property
    def stored_after(self) -> int:
        """Features the layer would hold afterwards (unless the write is refused)."""
        return self.stored_before + self.added - self.removed

    @property
    def refused(self) -> bool:
        """Whether the write would be refused (an append of ids already stored)."""
        return self.mode == "append" and self.clashes > 0


def _rows_to_write(plan: ImportPlan, keep_valid: bool) -> gpd.GeoDataFrame:
    report, frame = plan.report, plan.frame
    if not report.ok:
        if not keep_valid or any(q.row is None for q in report.problems):
            raise LayerValidationError(report)
        frame = drop_bad_rows(frame, report, row_numbers=_row_numbers(plan))
        if frame.empty:
            raise LayerValidationError(report)
    return frame


def preview_changes(store: Store, plan: ImportPlan, *, mode: str, keep_valid: bool = False) -> ChangePreview:
    """Count what ``commit_import(store, plan, mode=mode)`` would add, update, leave and remove.

    Raises
    ------
    LayerValidationError
        As :func:`commit_import` would (nothing to write).
    """
    from layers.stores.layer_tables import WRITE_MODES
    from layers.stores.states import feature_texts

    if mode not in WRITE_MODES:
        raise InputFileError(f"Write mode {mode!r} is not one of {', '.join(WRITE_MODES)}.")
    spec = get_spec(plan.layer)
    incoming = _rows_to_write(plan, keep_valid)
    stored = store.layers.read(plan.layer)
    _, new_keys = feature_texts(spec, incoming)
    _, old_keys = feature_texts(spec, stored)
    shared = set(new_keys) & set(old_keys)
    changed = sum(1 for i in shared if new_keys[i] != old_keys[i])
    removed = len(set(old_keys) - set(new_keys)) if mode == "replace" else 0
    return ChangePreview(mode=mode, added=len(set(new_keys) - set(old_keys)), updated=changed,
                         unchanged=len(shared) - changed, removed=removed, clashes=len(shared),
                         stored_before=len(stored))


def commit_import(store: Store, plan: ImportPlan, *, user: str, mode: str,
                  keep_valid: bool = False) -> WriteResult:
    """Write a prepared import in one transaction: every row, or (``keep_valid``) the valid ones.

    ``mode`` has no default on purpose: ``append`` (new ids only), ``upsert`` (update the ids
    already stored, add the others) or ``replace`` (the layer becomes exactly these rows);
    :func:`preview_changes` says what each would do.

    Raises
    ------
    LayerValidationError
        When the plan has problems and ``keep_valid`` is False, when a problem concerns
        the whole file (no CRS), or when no row is valid; nothing is written.
    """
    frame = _rows_to_write(plan, keep_valid)
    return store.layers.write(plan.layer, frame, mode=mode, user=user, source=plan.source)


def _row_numbers(plan: ImportPlan) -> np.ndarray:
    first = FIRST_ROW if Path(plan.source).suffix.lower() in TABLE_SUFFIXES else 1
    return np.arange(len(plan.frame)) + first


def import_population_raster(store: Store, path: str | os.PathLike[str], *, user: str) -> int:
    """Check a population GeoTIFF and store it as the ``population`` raster; returns its version."""
    from layers.rasters import check_geotiff

    p = Path(path)
    check_file(p)
    content = p.read_bytes()
    check_geotiff(content, name="population", source=p.name)
    return store.rasters.write("population", content, user=user, source=p.name)


#: What an OpenStreetMap extract fills, in the order written.
OSM_LAYERS = ("walk_network", "venues", "school_facilities", "health_stations", "aeds", "hospitals", "greenways",
              "greenway_entrances", "metro_stations", "land_use", "boundaries")


def import_osm(store: Store, path: str | os.PathLike[str], *, user: str,
               layers: tuple[str, ...] = OSM_LAYERS) -> pd.DataFrame:
    """Import an OpenStreetMap extract into the catalogue layers; one row of counts per layer.

    Each layer is validated and written on its own (valid rows kept, refusals counted);
    a layer with no feature in the extract is left as it is.  Without administrative boundaries in
    the extract (and none stored), the streets' extent is cut into grid units
    (:func:`layers.units_grid.grid_units`); the ``how`` column says so.
    """
    from layers.osm import read_osm_layers
    from layers.units_grid import grid_units

    p = Path(path)
    check_file(p)
    mapped = read_osm_layers(p)
    how = {}
    stored = {i.name for i in store.layers.list()}
    if "boundaries" in layers and mapped["boundaries"].empty and "boundaries" not in stored \
            and len(mapped["walk_network"]):
        mapped["boundaries"] = grid_units(mapped["walk_network"], name=f"{p.stem}（OSM 范围）")
        how["boundaries"] = "grid"
    rows = []
    for name in layers:
        frame = mapped[name]
        if len(frame) == 0:
            rows.append({"layer": name, "read": 0, "written": 0, "refused": 0, "version": None,
                         "how": how.get(name, "")})
            continue
        spec = get_spec(name)
        validated, report = validate_layer(frame, spec, source=p.name)
        keep = drop_bad_rows(validated, report) if not report.ok else validated
        result = store.layers.write(name, keep, user=user, source=p.name) if len(keep) else None
        rows.append({"layer": name, "read": len(frame), "written": len(keep),
                     "refused": len(frame) - len(keep), "version": result.layer_version if result else None,
                     "how": how.get(name, "")})
    return pd.DataFrame(rows)

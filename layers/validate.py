"""Check a table against its layer's schema and bring it to the stored form.

:func:`validate_layer` never raises for a bad row: it lists every problem with its row
number (1-based, as a person counts rows in a table), field and value, and returns the
frame in the stored form (EPSG:4326, catalogue columns and types, normalised opening
hours, ids filled in).  Stores refuse to write a frame whose report is not clean unless
the caller asked to keep only the valid rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORAGE_CRS
from geo.errors import OpeningHoursError
from geo.geometry_kinds import type_ids, type_name
from geo.hours import normalize_opening_hours
from geo.notes import Note
from layers.catalogue import DEPARTMENTS, FieldSpec, LayerSpec
from layers.errors import Problem, ValidationReport
from layers.vocabulary import code_for

_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "开放", "有", "需要", "需预约", "open"}
_FALSE = {"false", "f", "no", "n", "0", "否", "不", "不开放", "无", "不需要", "closed"}
#: Columns filled by the store, not by the writer.
STORE_MANAGED = ("updated_at", "version", "layer_version")


def _null_mask(col: pd.Series) -> np.ndarray:
    """True where a value is missing: None/NaN/NaT or a blank string."""
    null = col.isna().to_numpy(dtype=bool).copy()
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        blank = col.astype(str).str.strip().eq("").to_numpy(dtype=bool)
        null |= blank
    return null


def empty_layer_frame(spec: LayerSpec) -> gpd.GeoDataFrame:
    """An empty frame with the stored columns and dtypes of ``spec``."""
    data = {f.name: pd.Series([], dtype=_dtype(f)) for f in spec.all_fields}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def _dtype(f: FieldSpec) -> str:
    return {"text": "object", "hours": "object", "int": "Int64", "float": "float64",
            "bool": "boolean", "datetime": "datetime64[ns, UTC]", "date": "object"}[f.type]


def _text(f: FieldSpec, col: pd.Series, null: np.ndarray, rows: np.ndarray, problems: list[Problem]) -> pd.Series:
    """Text as typed (a whole number read as a float loses its ``.0``); opening hours normalised to OSM syntax;
    a coded value's word in either language turned back into its code (an exported table read back)."""
    values: list[Any] = [None] * len(col)
    cache: dict[str, Any] = {}
    for i, (v, isnull) in enumerate(zip(col.tolist(), null)):
        if isnull:
            continue
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = str(v).strip()
        if f.type == "hours":
            if text not in cache:
                cache[text] = _hours(text)
            norm = cache[text]
            if isinstance(norm, OpeningHoursError):
                problems.append(Problem(int(rows[i]), f.name, v, str(norm), norm.note or Note(
                    "hours.unreadable", {"text": text, "detail": str(norm)})))
                continue
            text = norm
        elif f.choices is not None:
            text = code_for(f.name, text)
        values[i] = text
    return pd.Series(values, index=col.index, dtype="object")


def _hours(text: str) -> str | OpeningHoursError:
    """``text`` in OSM ``opening_hours`` syntax, or the error that says why it cannot be read."""
    try:
        return normalize_opening_hours(text)
    except OpeningHoursError as exc:
        return exc


def _number(f: FieldSpec, col: pd.Series, null: np.ndarray, rows: np.ndarray, problems: list[Problem]) -> pd.Series:
    """Numbers (whole for ``int``), within the field's bounds; anything else noted and left empty."""
    num = pd.to_numeric(col.where(~null), errors="coerce").astype("float64").to_numpy()
    bad = ~null & ~np.isfinite(num)
    _note_rows(problems, rows, f, col, bad, "check.not_number", type=f.type)
    if f.type == "int":
        frac = ~null & ~bad & (num != np.round(num))
        _note_rows(problems, rows, f, col, frac, "check.not_whole")
        bad |= frac
    ok = ~null & ~bad
    if f.minimum is not None:
        _note_rows(problems, rows, f, col, ok & (num < f.minimum), "check.below", minimum=f.minimum)
    if f.maximum is not None:
        _note_rows(problems, rows, f, col, ok & (num > f.maximum), "check.above", maximum=f.maximum)
    arr = num.copy()
    arr[null | bad] = np.nan
    out = pd.Series(arr, index=col.index)
    return out.round().astype("Int64") if f.type == "int" else out


def _note_rows(problems: list[Problem], rows: np.ndarray, f: FieldSpec, col: pd.Series, where: np.ndarray,
               code: str, **values: Any) -> None:
    """Note ``code`` for every row where ``where`` holds."""
    for i in np.flatnonzero(where):
        problems.append(Problem.coded(int(rows[i]), f.name, col.iloc[i], code, **values))


def _yes_no(v: Any) -> bool | None:
    """``v`` as yes or no (true/false, 1/0, 是/否 and the other words in ``_TRUE``/``_FALSE``), ``None`` if neither."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
        return bool(v)
    key = str(v).strip().lower()
    return True if key in _TRUE else False if key in _FALSE else None


def _bool(f: FieldSpec, col: pd.Series, null: np.ndarray, rows: np.ndarray, problems: list[Problem]) -> pd.Series:
    """Yes/no values; anything else noted."""
    values: list[Any] = [None] * len(col)
    for i, (v, isnull) in enumerate(zip(col.tolist(), null)):
        if isnull:
            continue
        values[i] = _yes_no(v)
        if values[i] is None:
            problems.append(Problem.coded(int(rows[i]), f.name, v, "check.not_yes_no"))
    return pd.Series(values, index=col.index, dtype="boolean")


def _date(f: FieldSpec, col: pd.Series, null: np.ndarray, rows: np.ndarray, problems: list[Problem]) -> pd.Series:
    """Calendar dates (2024-05-01, 2024/5/1, 2024年5月1日, 20240501); anything else noted."""
    values: list[Any] = [None] * len(col)
    for i, (v, isnull) in enumerate(zip(col.tolist(), null)):
        if isnull:
            continue
        text = str(v).strip().replace("年", "-").replace("月", "-").rstrip("日")
        got = pd.to_datetime(text, errors="coerce", format="mixed", yearfirst=True) \
            if not isinstance(v, (pd.Timestamp, dt.date)) else pd.Timestamp(v)
        if pd.isna(got) or (isinstance(v, str) and not any(ch in text for ch in "-/.") and len(text) != 8):
            problems.append(Problem.coded(int(rows[i]), f.name, v, "check.not_date"))
        else:
            values[i] = got.date()
    return pd.Series(values, index=col.index, dtype="object")


def _datetime(f: FieldSpec, col: pd.Series, null: np.ndarray, rows: np.ndarray,
              problems: list[Problem]) -> pd.Series:
    """Moments in UTC; anything else noted."""
    parsed = pd.to_datetime(col.where(~null), errors="coerce", utc=True)
    _note_rows(problems, rows, f, col, ~null & parsed.isna().to_numpy(), "check.not_datetime")
    return parsed.astype("datetime64[ns, UTC]")


#: How each field type is read.
_READERS = {"text": _text, "hours": _text, "int": _number, "float": _number, "bool": _bool, "date": _date,
            "datetime": _datetime}


def _coerce(spec: LayerSpec, f: FieldSpec, col: pd.Series, rows: np.ndarray,
            problems: list[Problem]) -> pd.Series:
    """Convert one column to the stored type, noting each value that cannot be, each value outside the field's
    choices and each missing required value."""
    null = _null_mask(col)
    out = _READERS[f.type](f, col, null, rows, problems)
    if f.choices is not None:
        for i, v in enumerate(out.tolist()):
            if v is not None and v not in f.choices:
                problems.append(Problem.coded(int(rows[i]), f.name, v, "check.not_choice", choices=list(f.choices)))
    if f.required:
        for i in np.flatnonzero(out.isna().to_numpy() & null):
            problems.append(Problem.coded(int(rows[i]), f.name, None, "check.required"))
    return out


def _check_geometry(spec: LayerSpec, geoms: np.ndarray, rows: np.ndarray,
                    problems: list[Problem]) -> None:
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    for i in np.flatnonzero(missing | empty):
        problems.append(Problem.coded(int(rows[i]), "geometry", None, "check.no_geometry"))
    present = ~missing & ~empty
    types = shapely.get_type_id(geoms)
    allowed = type_ids(spec.geometry_types)
    for i in np.flatnonzero(present & ~np.isin(types, allowed)):
        t = type_name(types[i])
        problems.append(Problem.coded(int(rows[i]), "geometry", t, "check.geometry_type", layer=spec.name,
                                      types=list(spec.geometry_types)))
    idx_present = np.flatnonzero(present)
    coords, owner = shapely.get_coordinates(geoms[idx_present], return_index=True)
    n_present = len(idx_present)
    nonfinite = np.bincount(owner, weights=~np.isfinite(coords).all(axis=1), minlength=n_present) > 0
    with np.errstate(invalid="ignore"):
        outside = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    out_of_range = np.bincount(owner, weights=outside, minlength=n_present) > 0
    first = np.full(n_present, -1)
    first[owner[::-1]] = np.arange(len(owner))[::-1]
    coords_ok = np.ones(len(geoms), dtype=bool)
    for k in np.flatnonzero(nonfinite):
        i = idx_present[k]
        problems.append(Problem.coded(int(rows[i]), "geometry", "non-finite", "check.non_finite"))
        coords_ok[i] = False
    for k in np.flatnonzero(out_of_range & ~nonfinite):
        i = idx_present[k]
        with np.errstate(over="ignore", invalid="ignore"):
            where = tuple(float(v) for v in np.round(coords[first[k]], 6))
        problems.append(Problem.coded(int(rows[i]), "geometry", where, "check.out_of_range"))
        coords_ok[i] = False
    check = present & coords_ok
    valid = np.ones(len(geoms), dtype=bool)
    valid[check] = shapely.is_valid(geoms[check])
    for i in np.flatnonzero(~valid):
        problems.append(Problem.coded(int(rows[i]), "geometry", "invalid", "check.invalid_geometry",
                                      reason=shapely.is_valid_reason(geoms[i])))


def validate_layer(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, source: str,
                   department: str | None = None,
                   row_numbers: np.ndarray | None = None) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check ``gdf`` against ``spec`` and return it in the stored form with a report.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Columns named as the catalogue names them (readers map other names first).
        Columns the catalogue does not know are dropped.
    spec : LayerSpec
        The layer kind.
    source : str
        Where the rows came from (file name, "demo city", …); fills ``source`` where empty.
    department : str, optional
        Fills ``department`` where empty; defaults to the layer's owning department.
    row_numbers : numpy.ndarray, optional
        The row number of each row in its source file, for messages (default 1..n).

    Returns
    -------
    (GeoDataFrame, ValidationReport)
        The frame in EPSG:4326 with the catalogue's columns, and every problem found.
    """
    n = len(gdf)
    rows = np.arange(1, n + 1) if row_numbers is None else np.asarray(row_numbers)
    report = ValidationReport(layer=spec.name, source=source, n_rows=n)
    problems = report.problems
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise TypeError("validate_layer needs a GeoDataFrame with an active geometry column")
    if gdf.crs is None:
        problems.append(Problem.coded(None, "crs", None, "check.no_crs"))
        return empty_layer_frame(spec), report
    frame = gdf.to_crs(STORAGE_CRS) if not gdf.crs.equals(STORAGE_CRS) else gdf
    geoms = frame.geometry.to_numpy()
    _check_geometry(spec, np.asarray(geoms, dtype=object), rows, problems)

    out: dict[str, pd.Series] = {}
    index = frame.index
    dept_default = department or spec.department
    if department is not None and department not in DEPARTMENTS:
        problems.append(Problem.coded(None, "department", department, "check.not_department",
                                      departments=list(DEPARTMENTS)))
    for f in spec.all_fields:
        if f.name in STORE_MANAGED:
            continue
        if f.name in frame.columns:
            col = frame[f.name]
        else:
            col = pd.Series([None] * n, index=index, dtype="object")
        if f.name == "feature_id":
            col = col.astype("object").where(~_null_mask(col), None)
            missing = col.isna().to_numpy()
            if missing.any():
                prefix = spec.name
                col = col.copy()
                col[missing] = [f"{prefix}-{uuid.uuid4().hex[:16]}" for _ in range(int(missing.sum()))]
        elif f.name == "department":
            col = col.astype("object").where(~_null_mask(col), dept_default)
        elif f.name == "source":
            col = col.astype("object").where(~_null_mask(col), source)
        out[f.name] = _coerce(spec, f, col, rows, problems)
    ids = out["feature_id"]
    dup = ids.duplicated(keep=False).to_numpy()
    for i in np.flatnonzero(dup):
        problems.append(Problem.coded(int(rows[i]), "feature_id", ids.iloc[i], "check.duplicate_id"))
    for f in spec.all_fields:
        if f.name in STORE_MANAGED:
            out[f.name] = pd.Series([None] * n, index=index, dtype=_dtype(f))
    result = gpd.GeoDataFrame({f.name: out[f.name] for f in spec.all_fields},
                              geometry=gpd.GeoSeries(geoms, index=index, crs=STORAGE_CRS),
                              crs=STORAGE_CRS)
    result = result.reset_index(drop=True)
    problems.sort(key=lambda p: (p.row or 0, p.field))
    return result, report


def coerce_column(f: FieldSpec, col: pd.Series, rows: np.ndarray, problems: list[Problem]) -> pd.Series:
    """Convert one column to ``f``'s stored type, appending a :class:`Problem` per bad value."""
    return _coerce(None, f, col, rows, problems)  # type: ignore[arg-type]


def drop_bad_rows(frame: gpd.GeoDataFrame, report: ValidationReport,
                  row_numbers: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Rows of a validated frame that have no problem (for 'commit the valid rows')."""
    rows = np.arange(1, len(frame) + 1) if row_numbers is None else np.asarray(row_numbers)
    keep = ~np.isin(rows, list(report.bad_rows))
    return frame.loc[keep].reset_index(drop=True)


__all__ = ["validate_layer", "drop_bad_rows", "empty_layer_frame", "coerce_column"]

"""``store.layers``: the catalogue's vector layers — list, read, write, edit, delete, restore.

Each layer keeps its current features and every earlier state of each feature (with the
layer version that superseded it), so any version can be read again and any feature or
layer restored; a restore is written as a new version, never by rewriting history.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from geo.crs import STORAGE_CRS
from geo.errors import OneMapError
from layers.catalogue import CATALOGUE, RASTER_LAYERS, LayerSpec, get_spec
from layers.errors import EditConflictError, LayerValidationError, Problem, StoreError, ValidationReport
from layers.stores.base import LayerInfo, WriteResult
from layers.stores.states import feature_states
from layers.validate import drop_bad_rows, empty_layer_frame, validate_layer

if TYPE_CHECKING:
    from layers.stores.base import Store

WriteMode = Literal["replace", "append", "upsert"]
WRITE_MODES: tuple[str, ...] = ("replace", "append", "upsert")


def check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` as four finite floats with min ≤ max.

    Raises
    ------
    OneMapError
        Naming the bad box and the form accepted.
    """
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise OneMapError(f"bbox {bbox!r} must be four numbers (min_lon, min_lat, max_lon, max_lat)") from None
    if not (np.isfinite([x0, y0, x1, y1]).all() and x0 <= x1 and y0 <= y1):
        raise OneMapError(f"bbox {bbox!r} must be finite with min ≤ max (min_lon, min_lat, max_lon, max_lat)")
    return x0, y0, x1, y1


def conform(spec: LayerSpec, frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Give a read frame the catalogue's columns, dtypes and order (sorted by ``feature_id``)."""
    empty = empty_layer_frame(spec)
    if frame is None or len(frame) == 0:
        return empty
    data = {}
    for f in spec.all_fields:
        col = frame[f.name] if f.name in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        dtype = empty[f.name].dtype
        if str(dtype) == "datetime64[ns, UTC]":
            col = pd.to_datetime(col, utc=True).astype(dtype)
        elif f.type == "date":  # a GeoPackage gives text, PostGIS dates: both as datetime.date
            day = pd.to_datetime(col, errors="coerce")
            col = pd.Series([d.date() if pd.notna(d) else None for d in day], index=frame.index, dtype=object)
        elif str(dtype) == "object":
            col = col.astype("object").where(col.notna(), None)
        else:
            col = col.astype(dtype)
        data[f.name] = col
    geom = gpd.GeoSeries(frame.geometry.to_numpy(), index=frame.index, crs=STORAGE_CRS)
    out = gpd.GeoDataFrame(data, geometry=geom, crs=STORAGE_CRS)
    return out.sort_values("feature_id", kind="stable").reset_index(drop=True)


def version_conflicts(expected: Mapping[str, int] | None, current: Mapping[str, int]) -> list[dict]:
    """Features whose stored version is not the expected one (``current`` None: gone)."""
    if expected is None:
        return []
    out = []
    for fid, want in expected.items():
        have = current.get(fid)
        if have is None or int(have) != int(want):
            out.append({"feature_id": fid, "expected": int(want), "current": None if have is None else int(have)})
    return out


def refuse_appended_ids(frame: gpd.GeoDataFrame, existing_ids: set[str], mode: str,
                        report: ValidationReport) -> None:
    """Refuse an append whose ids are already stored (nothing is written)."""
    if mode != "append":
        return
    clash = [i for i, fid in enumerate(frame["feature_id"]) if fid in existing_ids]
    if clash:
        for i in clash:
            report.problems.append(Problem(i + 1, "feature_id", frame["feature_id"].iloc[i],
                                           "already stored; use mode 'upsert' to update it"))
        raise LayerValidationError(report)


def utc_now() -> datetime:
    """Now, in UTC (every stored time is UTC)."""
    return datetime.now(timezone.utc)


class LayerTables(abc.ABC):
    """The vector layers of one store (the module docstring); backends supply the private steps."""

    def __init__(self, store: "Store") -> None:
        self._store = store

    # ----- reading ------------------------------------------------------------------------
    def list(self) -> list[LayerInfo]:
        """Stored layers (vector and raster) with their feature count and last change."""
        last = self._store.last_versions()
        infos = []
        for (kind, name), row in sorted(last.items()):
            if kind == "vector" and name in CATALOGUE:
                spec = CATALOGUE[name]
                label_zh, label_en = spec.label_zh, spec.label_en
            elif kind == "raster" and name in RASTER_LAYERS:
                label_zh, label_en = RASTER_LAYERS[name]
            else:
                continue
            infos.append(LayerInfo(name, kind, label_zh, label_en,
                                   int(row["n_total"]) if kind == "vector" else None,
                                   int(row["layer_version"]), row["changed_at"], row["changed_by"]))
        return infos

    def read(self, name: str, *, bbox: tuple[float, float, float, float] | None = None,
             unit: str | None = None, version: int | None = None) -> gpd.GeoDataFrame:
        """Read a layer's features in EPSG:4326.

        Parameters
        ----------
        name : str
            A catalogue layer name.
        bbox : tuple of float, optional
            ``(min_lon, min_lat, max_lon, max_lat)``: only features whose geometry
            intersects this box (exactly, not just their bounding boxes).
        unit : str, optional
            A boundary ``code``: only features intersecting that district/street/community.
        version : int, optional
            The layer as it was at that layer version (default: now).

        Returns
        -------
        geopandas.GeoDataFrame
            The catalogue's columns, sorted by ``feature_id``; empty (with those columns)
            when nothing is stored.
        """
        spec = get_spec(name)
        area = None
        if bbox is not None:
            area = box(*check_bbox(bbox))
        if unit is not None:
            units = self.read("boundaries")
            hit = units[units["code"] == str(unit)]
            if hit.empty:
                codes = ", ".join(units["code"].astype(str).head(20))
                raise OneMapError(f"No boundary unit with code {unit!r}; stored codes include: {codes or 'none'}.")
            unit_geom = shapely.union_all(hit.geometry.to_numpy())
            area = unit_geom if area is None else area.intersection(unit_geom)
        if version is not None:
            frame = self._read_version(spec, int(version), area.bounds if area is not None else None)
        else:
            frame = self._read_current(spec, area.bounds if area is not None else None)
        if area is not None and frame is not None and len(frame):
            shapely.prepare(area)
            frame = frame[shapely.intersects(area, frame.geometry.to_numpy())]
        return conform(spec, frame)

    # ----- writing ------------------------------------------------------------------------
    def write(self, name: str, gdf: gpd.GeoDataFrame, *, mode: WriteMode = "replace",
              user: str = "system", source: str | None = None,
              department: str | None = None, keep_valid: bool = False,
              expected_versions: Mapping[str, int] | None = None) -> WriteResult:
        """Validate ``gdf`` and write it as layer ``name`` in one transaction.

        Parameters
        ----------
        mode : {"replace", "append", "upsert"}
            ``replace``: the layer becomes exactly these features (earlier states are
            archived). ``append``: add features; an id already stored is refused.
            ``upsert``: add new ids and update the features whose ids are stored.
        user : str
            Who writes, for the version log.
        source : str, optional
            Where the rows came from; defaults to ``gdf.attrs["source"]`` or "unknown".
        keep_valid : bool
            False (default): any problem refuses the whole write. True: write only the
            rows without problems (the report still lists the others).
        expected_versions : mapping of feature_id → version, optional
            The versions the editor read; if any stored feature has another version now
            (someone saved in between), the whole write is refused.

        Raises
        ------
        LayerValidationError
            When rows have problems and ``keep_valid`` is False, or no row is valid;
            nothing is written.
        EditConflictError
            When ``expected_versions`` do not match; nothing is written, and the refused
            attempt is recorded in the audit trail.
        """
        spec = get_spec(name)
        if mode not in WRITE_MODES:
            raise OneMapError(f"Write mode {mode!r} is not one of {', '.join(WRITE_MODES)}.")
        source = source or str(gdf.attrs.get("source", "unknown"))
        frame, report = validate_layer(gdf, spec, source=source, department=department)
        if not report.ok:
            file_level = any(p.row is None for p in report.problems)
            if not keep_valid or file_level:
                raise LayerValidationError(report)
            frame = drop_bad_rows(frame, report)
            if frame.empty:
                raise LayerValidationError(report)
        return self._guarded_commit(spec, frame, mode=mode, user=user, source=source, report=report,
                                    expected=expected_versions)

    def _guarded_commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str, source: str,
                        report: ValidationReport, expected: Mapping[str, int] | None) -> WriteResult:
        try:
            return self._commit(spec, frame, mode=mode, user=user, source=source, report=report,
                                expected=dict(expected) if expected is not None else None)
        except EditConflictError as exc:
            attempted = feature_states(spec, frame)
            self._store.audit.record_refused(
                spec.name, [{**c, "attempted": attempted.get(c["feature_id"])} for c in exc.conflicts], user=user)
            raise

    def edit(self, name: str, gdf: gpd.GeoDataFrame, *, expected_versions: Mapping[str, int],
             user: str, source: str = "edit") -> WriteResult:
        """Save edited features, each only if it is still at the version the editor read.

        ``gdf`` holds whole features (all their fields and geometry) with their
        ``feature_id``; each must be stored and named in ``expected_versions``.

        Raises
        ------
        EditConflictError
            A feature was changed by someone else since (the message names it, its new
            version, who saved it and when); nothing is written and the refused values are
            kept in the audit trail.
        """
        ids = [str(i) for i in gdf["feature_id"]]
        missing = [i for i in ids if i not in expected_versions]
        if missing:
            raise StoreError(f"Say which version of {', '.join(missing[:5])} you edited (expected_versions).")
        return self.write(name, gdf, mode="upsert", user=user, source=source,
                          expected_versions={i: int(expected_versions[i]) for i in ids})

    def delete(self, name: str, feature_ids: Iterable[str], *, expected_versions: Mapping[str, int],
               user: str, source: str = "edit") -> WriteResult:
        """Delete features (kept in the archive and the audit), each only if still at the expected version."""
        spec = get_spec(name)
        ids = [str(i) for i in feature_ids]
        if not ids:
            raise StoreError("No feature to delete.")
        missing = [i for i in ids if i not in expected_versions]
        if missing:
            raise StoreError(f"Say which version of {', '.join(missing[:5])} you are deleting (expected_versions).")
        frame = gpd.GeoDataFrame({"feature_id": ids}, geometry=[None] * len(ids), crs=STORAGE_CRS)
        report = ValidationReport(layer=name, source=source, n_rows=len(ids))
        return self._guarded_commit(spec, frame, mode="delete", user=user, source=source, report=report,
                                    expected={i: int(expected_versions[i]) for i in ids})

    def feature_versions(self, name: str, feature_id: str) -> pd.DataFrame:
        """Every stored state of one feature, oldest first (current last), with its layer version span."""
        spec = get_spec(name)
        states = self._feature_states(spec, str(feature_id))
        if states.empty:
            raise StoreError(f"{name} has no feature {feature_id!r}, now or in its history.")
        return states.sort_values("version").reset_index(drop=True)

    def restore_feature(self, name: str, feature_id: str, *, version: int, user: str) -> WriteResult:
        """Bring a feature back to its attributes and geometry as of its ``version``.

        The restored state is written as a new version (history is never rewritten); a
        deleted feature comes back. Refused if someone changes the feature meanwhile.
        """
        states = self.feature_versions(name, feature_id)
        hit = states[states["version"] == int(version)]
        if hit.empty:
            raise StoreError(f"{name} {feature_id} has no version {version}; it has "
                             f"{', '.join(str(v) for v in states['version'])}.")
        current = self.read(name)
        now = current[current["feature_id"] == str(feature_id)]
        row = hit.drop(columns=["valid_to"], errors="ignore")
        row = gpd.GeoDataFrame(row, geometry="geometry", crs=STORAGE_CRS)
        source = f"restore of version {int(version)}"
        if now.empty:
            return self.write(name, row, mode="upsert", user=user, source=source)
        return self.edit(name, row, expected_versions={str(feature_id): int(now["version"].iloc[0])},
                         user=user, source=source)

    def restore(self, name: str, *, layer_version: int, user: str) -> WriteResult:
        """Make a layer again exactly what it was at ``layer_version`` (written as a new version)."""
        log = self._store.history(name)
        versions = sorted(int(v) for v in log.loc[log["kind"] == "vector", "layer_version"])
        if int(layer_version) not in versions:
            raise StoreError(f"{name} has no layer version {layer_version}; it has {', '.join(map(str, versions))}.")
        earlier = self.read(name, version=int(layer_version))
        if earlier.empty:
            raise StoreError(f"{name} held no feature at version {layer_version}; nothing to restore.")
        return self.write(name, earlier, mode="replace", user=user,
                          source=f"restore of layer version {int(layer_version)}")

    # ----- what each backend provides -----------------------------------------------------
    @abc.abstractmethod
    def _read_current(self, spec: LayerSpec, bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame | None:
        """Current rows, prefiltered by bounding box where given (the exact test is done by the caller)."""

    @abc.abstractmethod
    def _read_version(self, spec: LayerSpec, version: int,
                      bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame | None:
        """Rows as they were at ``version``."""

    @abc.abstractmethod
    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        """Write validated rows atomically and log the new layer version.

        ``mode`` ``delete`` removes the features named in ``frame`` (archiving them);
        ``expected`` (feature_id → version) is checked inside the transaction first.
        """

    @abc.abstractmethod
    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        """Current and archived rows of one feature (archived ones with ``valid_to``)."""


__all__ = ["LayerTables", "WRITE_MODES", "WriteMode", "check_bbox", "conform", "version_conflicts",
           "refuse_appended_ids", "utc_now"]

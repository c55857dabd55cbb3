"""The store interface shared by the GeoPackage and PostGIS stores.

A store keeps, per catalogue layer, the current features and every earlier state of
each feature (an archive with the layer version that superseded it), a log of layer
versions (who wrote what, when, from which source), and raster layers as GeoTIFF bytes.
Writes are all-or-nothing: a failed or refused write leaves the stored layer as it was.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import box

from geo.crs import STORAGE_CRS
from geo.errors import (EditConflictError, LayerValidationError, OneMapError, Problem, StoreError,
                        UnknownLayerError, ValidationReport)
from layers.catalogue import CATALOGUE, RASTER_LAYERS, LayerSpec, get_spec
from layers.records import RecordSpec, get_record_spec
from layers.validate import drop_bad_rows, empty_layer_frame, validate_layer

WriteMode = Literal["replace", "append", "upsert"]
WRITE_MODES: tuple[str, ...] = ("replace", "append", "upsert")
RECORD_MODES: tuple[str, ...] = ("upsert", "replace", "append")
#: Columns of :meth:`LayerStore.audit`.
AUDIT_COLUMNS = ["changed_at", "changed_by", "db_role", "layer", "feature_id", "action", "layer_version",
                 "old", "new", "txid"]
#: Columns that change on every write and do not make a change by themselves.
_BOOKKEEPING = {"version", "layer_version", "updated_at", "source", "fid"}
#: Columns of :meth:`LayerStore.history`.
HISTORY_COLUMNS = ["kind", "layer", "layer_version", "action", "changed_by", "changed_at",
                   "source", "n_written", "n_total"]


@dataclass(frozen=True)
class LayerInfo:
    """A stored layer as listed by :meth:`LayerStore.list_layers`."""

    name: str
    kind: Literal["vector", "raster"]
    label_zh: str
    label_en: str
    n_features: int | None
    layer_version: int
    changed_at: datetime | None
    changed_by: str | None


@dataclass(frozen=True)
class WriteResult:
    """What a write did."""

    layer: str
    layer_version: int
    mode: str
    n_written: int
    n_total: int
    report: ValidationReport


def _check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise OneMapError(f"bbox {bbox!r} must be four numbers (min_lon, min_lat, max_lon, max_lat)") from None
    if not (np.isfinite([x0, y0, x1, y1]).all() and x0 <= x1 and y0 <= y1):
        raise OneMapError(f"bbox {bbox!r} must be finite with min ≤ max (min_lon, min_lat, max_lon, max_lat)")
    return x0, y0, x1, y1


def stamp_versions(new: gpd.GeoDataFrame, existing: pd.DataFrame, layer_version: int,
                   now: datetime) -> gpd.GeoDataFrame:
    """Fill the store-managed columns of validated rows about to be written.

    ``existing`` holds ``feature_id`` and ``version`` of the current rows; a feature whose id
    is there gets the next version, a new one version 1.
    """
    out = new.copy()
    prev = dict(zip(existing["feature_id"], existing["version"])) if len(existing) else {}
    out["version"] = pd.array([int(prev.get(fid, 0) or 0) + 1 for fid in out["feature_id"]],
                              dtype="Int64")
    out["layer_version"] = pd.array([layer_version] * len(out), dtype="Int64")
    out["updated_at"] = pd.Series([now] * len(out), index=out.index,
                                  dtype="datetime64[ns, UTC]")
    return out


class LayerStore(abc.ABC):
    """A place that keeps the catalogue's layers; see the module docstring."""

    #: A short description for the UI ("GeoPackage /path/x.gpkg", "PostGIS db@host").
    description: str = ""

    # ----- the public interface -------------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        """Stored layers (vector and raster) with their feature count and last change."""
        last = self._last_versions()
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

    def read_layer(self, name: str, *, bbox: tuple[float, float, float, float] | None = None,
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
            area = box(*_check_bbox(bbox))
        if unit is not None:
            units = self.read_layer("boundaries")
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
        if area is not None and len(frame):
            shapely.prepare(area)
            frame = frame[shapely.intersects(area, frame.geometry.to_numpy())]
        return self._conform(spec, frame)

    def write_layer(self, name: str, gdf: gpd.GeoDataFrame, *, mode: WriteMode = "replace",
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
            self._record_refused(spec, [{**c, "attempted": attempted.get(c["feature_id"])} for c in exc.conflicts],
                                 user=user)
            raise

    # ----- editing features -------------------------------------------------------------
    def edit_features(self, name: str, gdf: gpd.GeoDataFrame, *, expected_versions: Mapping[str, int],
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
        return self.write_layer(name, gdf, mode="upsert", user=user, source=source,
                                expected_versions={i: int(expected_versions[i]) for i in ids})

    def delete_features(self, name: str, feature_ids: Iterable[str], *, expected_versions: Mapping[str, int],
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
        current = self.read_layer(name)
        now = current[current["feature_id"] == str(feature_id)]
        row = hit.drop(columns=["valid_to"], errors="ignore")
        row = gpd.GeoDataFrame(row, geometry="geometry", crs=STORAGE_CRS)
        source = f"restore of version {int(version)}"
        if now.empty:
            return self.write_layer(name, row, mode="upsert", user=user, source=source)
        return self.edit_features(name, row, expected_versions={str(feature_id): int(now["version"].iloc[0])},
                                  user=user, source=source)

    def restore_layer(self, name: str, *, layer_version: int, user: str) -> WriteResult:
        """Make a layer again exactly what it was at ``layer_version`` (written as a new version)."""
        log = self.history(name)
        versions = sorted(int(v) for v in log.loc[log["kind"] == "vector", "layer_version"])
        if int(layer_version) not in versions:
            raise StoreError(f"{name} has no layer version {layer_version}; it has {', '.join(map(str, versions))}.")
        earlier = self.read_layer(name, version=int(layer_version))
        if earlier.empty:
            raise StoreError(f"{name} held no feature at version {layer_version}; nothing to restore.")
        return self.write_layer(name, earlier, mode="replace", user=user,
                                source=f"restore of layer version {int(layer_version)}")

    def audit(self, layer: str | None = None, feature_id: str | None = None, *,
              changes_only: bool = True) -> pd.DataFrame:
        """Who changed what, when, with the values before and after (:data:`AUDIT_COLUMNS`), oldest first.

        A delete and an insert of the same feature in one transaction is one ``update``;
        ``refused`` rows keep the values of saves refused for a version conflict.  With
        ``changes_only``, rewrites that changed nothing but bookkeeping are left out.
        """
        raw = self._read_audit(layer, feature_id)
        if raw.empty:
            return pd.DataFrame(columns=AUDIT_COLUMNS)
        for col in ("old", "new"):
            raw[col] = pd.Series([parse_state(v) for v in raw[col]], index=raw.index, dtype=object)
        rows = []
        for _key, g in raw.groupby(["txid", "layer", "feature_id"], sort=False):
            kinds = list(g["action"])
            first = g.iloc[0].to_dict()
            if "delete" in kinds and "insert" in kinds:
                old = g.loc[g["action"] == "delete", "old"].iloc[0]
                new = g.loc[g["action"] == "insert", "new"].iloc[-1]
                rows.append({**first, "action": "update", "old": old, "new": new,
                             "layer_version": g["layer_version"].max()})
            else:
                rows.extend(g.to_dict("records"))
        out = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
        if changes_only:
            keep = [not (a == "update" and _same_state(o, n)) for a, o, n in zip(out["action"], out["old"], out["new"])]
            out = out[keep]
        out["changed_at"] = pd.to_datetime(out["changed_at"], utc=True, format="mixed")
        out["layer_version"] = pd.to_numeric(out["layer_version"]).astype("Int64")
        return out.sort_values(["changed_at", "layer", "feature_id"], kind="stable").reset_index(drop=True)

    @abc.abstractmethod
    def history(self, name: str) -> pd.DataFrame:
        """The version log of a layer (vector and raster), oldest first; :data:`HISTORY_COLUMNS`."""

    @abc.abstractmethod
    def write_raster(self, name: str, content: bytes, *, user: str = "system",
                     source: str = "unknown") -> int:
        """Store a GeoTIFF as raster layer ``name``; returns its new layer version."""

    @abc.abstractmethod
    def read_raster(self, name: str, *, version: int | None = None) -> bytes:
        """The GeoTIFF bytes of raster layer ``name`` (latest, or at ``version``)."""

    def save_scenario(self, name: str, payload: dict, *, user: str = "system",
                      overwrite: bool = False) -> None:
        """Save a named planning scenario (its inputs and results, as JSON-able data).

        Raises
        ------
        StoreError
            An empty or over-long name, a name already saved (unless ``overwrite``), or a
            payload that is not JSON.
        """
        text = self._scenario_json(name, payload)
        self._save_scenario(name.strip(), text, user=user, overwrite=overwrite)

    def load_scenario(self, name: str) -> dict:
        """The payload saved as ``name``, with ``saved_by`` and ``saved_at`` added.

        Raises
        ------
        UnknownLayerError
            When no scenario has that name (the message lists the saved ones).
        """
        row = self._load_scenario(name)
        if row is None:
            raise UnknownLayerError(name, list(self.list_scenarios()["name"]), stored=True)
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else dict(row["payload"])
        return {**payload, "name": name, "saved_by": row["saved_by"], "saved_at": str(row["saved_at"])}

    @abc.abstractmethod
    def list_scenarios(self) -> pd.DataFrame:
        """Saved scenarios: ``name``, ``saved_by``, ``saved_at``, newest first."""

    @abc.abstractmethod
    def _save_scenario(self, name: str, payload: str, *, user: str, overwrite: bool) -> None: ...

    @abc.abstractmethod
    def _load_scenario(self, name: str) -> dict | None: ...

    @staticmethod
    def _scenario_json(name: str, payload: dict) -> str:
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            raise StoreError(f"A scenario needs a name of 1 to 100 characters, not {name!r}.")
        try:
            return json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"Scenario {name!r} cannot be saved: its contents are not plain data ({exc}).") from None

    def write_records(self, kind: str, frame: pd.DataFrame, *, mode: str = "upsert", user: str = "system",
                      source: str = "unknown") -> int:
        """Write checked rows of record table ``kind`` (see :mod:`layers.records`) in one transaction.

        Earlier rows are never deleted: a row replaced by a later delivery keeps the
        version that superseded it, so :meth:`read_records` can give any earlier state.

        Parameters
        ----------
        mode : {"upsert", "replace", "append"}
            ``upsert``: rows whose key is stored replace those rows, others are added.
            ``replace``: the table becomes exactly these rows.  ``append``: add rows; a
            key already stored refuses the whole write.

        Returns
        -------
        int
            The new version of the record table (its history lists it under kind ``records``).

        Raises
        ------
        StoreError
            An unknown mode, no rows, or (``append``) a key already stored; nothing written.
        """
        spec = get_record_spec(kind)
        if mode not in RECORD_MODES:
            raise StoreError(f"Record write mode {mode!r} is not one of {', '.join(RECORD_MODES)}.")
        missing = [c for c in spec.field_names if c not in frame.columns and c != "source"]
        if missing:
            raise StoreError(f"The {kind} rows lack column(s) {', '.join(missing)}; check them with "
                             "layers.records.check_records first.")
        rows = frame.reindex(columns=spec.field_names).reset_index(drop=True)
        rows["source"] = rows["source"].where(rows["source"].notna(), source)
        if rows.empty:
            raise StoreError(f"No {kind} row to write.")
        return self._commit_records(spec, rows, mode=mode, user=user, source=source)

    def read_records(self, kind: str, *, version: int | None = None) -> pd.DataFrame:
        """Rows of record table ``kind`` now (or as they were at ``version``); empty when none."""
        spec = get_record_spec(kind)
        stored = self._read_record_rows(spec)
        if version is None:
            live = stored["valid_to"].isna()
        else:
            live = (stored["record_version"] <= int(version)) & (stored["valid_to"].isna() |
                                                                 (stored["valid_to"] > int(version)))
        out = stored.loc[live, spec.field_names].reset_index(drop=True)
        for f in spec.fields:
            if f.type == "date":
                out[f.name] = pd.to_datetime(out[f.name]).dt.date if len(out) else out[f.name]
            elif f.type == "int":
                out[f.name] = out[f.name].astype("Int64")
            elif f.type == "float":
                out[f.name] = out[f.name].astype(float)
        return out.sort_values(list(spec.key), kind="stable").reset_index(drop=True)

    @staticmethod
    def _superseded(spec: RecordSpec, current: pd.DataFrame, new: pd.DataFrame, mode: str) -> np.ndarray:
        """Row ids (``rid``) of current rows that ``new`` ends, by mode; refuses an append clash."""
        if mode == "replace" or current.empty:
            return current["rid"].to_numpy() if mode == "replace" else np.zeros(0, dtype=np.int64)
        key = list(spec.key)
        have = current[key].astype(str).agg("|".join, axis=1)
        incoming = set(new[key].astype(str).agg("|".join, axis=1))
        hit = have.isin(incoming).to_numpy()
        if mode == "append" and hit.any():
            first = current.loc[hit, key].iloc[0].to_dict()
            raise StoreError(f"{int(hit.sum())} {spec.name} row(s) are already stored (e.g. {first}); "
                             "use mode 'upsert' to update them. Nothing was written.")
        return current.loc[hit, "rid"].to_numpy()

    @staticmethod
    def _record_values(spec: RecordSpec, rows: pd.DataFrame) -> list[dict]:
        """Rows as plain Python values (dates as ISO text) for either backend."""
        out = []
        for rec in rows.to_dict("records"):
            clean = {}
            for f in spec.fields:
                v = rec.get(f.name)
                if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                    clean[f.name] = None
                elif f.type == "date":
                    clean[f.name] = pd.Timestamp(v).date()
                elif f.type == "int":
                    clean[f.name] = int(v)
                elif f.type == "float":
                    clean[f.name] = float(v)
                else:
                    clean[f.name] = str(v)
            out.append(clean)
        return out

    @abc.abstractmethod
    def _read_record_rows(self, spec: RecordSpec) -> pd.DataFrame:
        """Every stored row of a record table with ``rid``, ``record_version``, ``valid_to``."""

    @abc.abstractmethod
    def _commit_records(self, spec: RecordSpec, rows: pd.DataFrame, *, mode: str, user: str, source: str) -> int:
        """Supersede and insert rows atomically; log and return the new version."""

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> "LayerStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- what each backend provides ---------------------------------------------------
    @abc.abstractmethod
    def _last_versions(self) -> dict[tuple[str, str], dict]:
        """(kind, layer) → the latest version-log row as a dict."""

    @abc.abstractmethod
    def _read_current(self, spec: LayerSpec, bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame:
        """Current rows, prefiltered by bounding box where given (exact test done by caller)."""

    @abc.abstractmethod
    def _read_version(self, spec: LayerSpec, version: int,
                      bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame:
        """Rows as they were at ``version``."""

    @abc.abstractmethod
    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        """Write validated rows atomically and log the new layer version.

        ``mode`` ``delete`` removes the features named in ``frame`` (archiving them);
        ``expected`` (feature_id → version) is checked inside the transaction first.
        """

    #: Columns of the accounts table (the hash never leaves the store through list_accounts).
    ACCOUNT_COLUMNS = ("username", "password_hash", "role", "department", "failed_attempts", "locked_until",
                       "created_at", "last_sign_in")

    @abc.abstractmethod
    def _get_account(self, username: str) -> dict | None:
        """One account's row (with its password hash), or ``None``."""

    @abc.abstractmethod
    def _put_account(self, row: dict) -> None:
        """Insert or replace one account's row."""

    @abc.abstractmethod
    def _list_accounts(self) -> pd.DataFrame:
        """Every account without its password hash."""

    def list_accounts(self) -> pd.DataFrame:
        """User name, role, department, failures, lock and last sign-in of every account (no hashes)."""
        return self._list_accounts()

    @abc.abstractmethod
    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        """Current and archived rows of one feature (archived ones with ``valid_to``)."""

    @abc.abstractmethod
    def _read_audit(self, layer: str | None, feature_id: str | None) -> pd.DataFrame:
        """Raw audit rows (one per row inserted, updated, deleted or refused), :data:`AUDIT_COLUMNS`."""

    @abc.abstractmethod
    def _record_refused(self, spec: LayerSpec, conflicts: list[dict], *, user: str) -> None:
        """Append ``refused`` audit rows: the attempted values and the version they were based on."""

    @staticmethod
    def _conflicts(expected: dict[str, int] | None, current: Mapping[str, int]) -> list[dict]:
        """Features whose stored version is not the expected one (``current`` None: gone)."""
        if expected is None:
            return []
        out = []
        for fid, want in expected.items():
            have = current.get(fid)
            if have is None or int(have) != int(want):
                out.append({"feature_id": fid, "expected": int(want), "current": None if have is None else int(have)})
        return out

    # ----- shared helpers ---------------------------------------------------------------
    @staticmethod
    def _now() -> datetime:
        return datetime.now(timezone.utc)

    @staticmethod
    def _conform(spec: LayerSpec, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Give a read frame the catalogue's columns, dtypes and order."""
        empty = empty_layer_frame(spec)
        if frame is None or len(frame) == 0:
            return empty
        data = {}
        for f in spec.all_fields:
            col = frame[f.name] if f.name in frame.columns else pd.Series([None] * len(frame), index=frame.index)
            dtype = empty[f.name].dtype
            if str(dtype) == "datetime64[ns, UTC]":
                col = pd.to_datetime(col, utc=True).astype(dtype)
            elif str(dtype) == "object":
                col = col.astype("object").where(col.notna(), None)
            else:
                col = col.astype(dtype)
            data[f.name] = col
        geom = gpd.GeoSeries(frame.geometry.to_numpy(), index=frame.index, crs=STORAGE_CRS)
        out = gpd.GeoDataFrame(data, geometry=geom, crs=STORAGE_CRS)
        out = out.sort_values("feature_id", kind="stable").reset_index(drop=True)
        return out

    @staticmethod
    def _check_mode_ids(spec: LayerSpec, frame: gpd.GeoDataFrame, existing_ids: set[str],
                        mode: str, report: ValidationReport) -> None:
        """Refuse an append whose ids are already stored (nothing is written)."""
        if mode != "append":
            return
        clash = [i for i, fid in enumerate(frame["feature_id"]) if fid in existing_ids]
        if clash:
            for i in clash:
                report.problems.append(Problem(i + 1, "feature_id", frame["feature_id"].iloc[i],
                                               "already stored; use mode 'upsert' to update it"))
            raise LayerValidationError(report)

    @staticmethod
    def _unknown_raster(name: str, stored: list[str]) -> UnknownLayerError:
        if name not in RASTER_LAYERS:
            return UnknownLayerError(name, sorted(RASTER_LAYERS))
        return UnknownLayerError(name, stored, stored=True)


def feature_texts(spec: LayerSpec, frame: gpd.GeoDataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Per feature_id: its state as JSON text (fields and GeoJSON geometry), and the part of it
    that is content (no bookkeeping), for telling a real change from a rewrite.

    Vectorised: pandas writes the JSON and shapely the GeoJSON, so a 100,000-feature write
    costs a fraction of a second, not seconds.
    """
    if len(frame) == 0:
        return {}, {}
    cols = [f.name for f in spec.all_fields if f.name in frame.columns]
    content = [c for c in cols if c not in _BOOKKEEPING]
    kept = [c for c in cols if c in _BOOKKEEPING]
    plain = pd.DataFrame(frame[cols])

    def lines(columns: list[str]) -> list[str]:
        if not columns:
            return ["{}"] * len(plain)
        return plain[columns].to_json(orient="records", lines=True, date_format="iso",
                                      force_ascii=False).splitlines()

    body = lines(content)
    full = [f"{{{b[1:-1]}{',' if b != '{}' and c != '{}' else ''}{c[1:-1]}}}" for b, c in zip(lines(kept), body)]
    geoms = frame.geometry.to_numpy() if frame.geometry.name in frame.columns else np.full(len(frame), None)
    missing = shapely.is_missing(geoms)
    texts = np.full(len(frame), "null", dtype=object)
    if (~missing).any():
        texts[~missing] = shapely.to_geojson(geoms[~missing])
    ids = [str(i) for i in plain["feature_id"]]
    states = {i: f'{line[:-1]}, "geometry": {g}}}' for i, line, g in zip(ids, full, texts)}
    keys = {i: f"{line}|{g}" for i, line, g in zip(ids, body, texts)}
    return states, keys


def feature_states(spec: LayerSpec, frame: gpd.GeoDataFrame) -> dict[str, dict]:
    """feature_id → the feature's fields and GeoJSON geometry as plain JSON values."""
    states, _keys = feature_texts(spec, frame)
    return {i: json.loads(text) for i, text in states.items()}


def parse_state(state: dict | None) -> dict | None:
    """An audit state with its geometry as a GeoJSON object (stored states may hold it as text)."""
    if state and isinstance(state.get("geometry"), str):
        state = {**state, "geometry": json.loads(state["geometry"])}
    return state


def _round_coords(value):
    if isinstance(value, list):
        return [_round_coords(v) for v in value]
    return round(value, 7) if isinstance(value, float) else value


def _same_state(old: dict | None, new: dict | None) -> bool:
    """Whether two audit states differ only in bookkeeping (version, timestamps, source)."""
    if not old or not new:
        return False
    keys = (set(old) | set(new)) - _BOOKKEEPING
    for k in keys:
        a, b = old.get(k), new.get(k)
        if k == "geometry":
            if isinstance(a, str) and isinstance(b, str):
                if a != b:
                    return False
                continue
            a = _round_coords((parse_state({"geometry": a})["geometry"] or {}).get("coordinates"))
            b = _round_coords((parse_state({"geometry": b})["geometry"] or {}).get("coordinates"))
        if a != b and not (a in (None, "") and b in (None, "")):
            return False
    return True


def ensure_storage_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Set EPSG:4326 on a frame read without CRS metadata."""
    if frame.crs is None:
        return frame.set_crs(STORAGE_CRS)
    return frame

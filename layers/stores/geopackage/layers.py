"""``store.layers`` in a GeoPackage: per layer a table ``<layer>`` (current features) and
``<layer>__archive`` (earlier states, with ``valid_to``, the layer version that superseded
them), written by GDAL through the file's copy-on-write path."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.catalogue import LayerSpec
from layers.errors import EditConflictError, StoreUnavailableError, ValidationReport
from layers.stores.base import WriteResult
from layers.stores.geopackage.file import VERSIONS, feature_tables_of, quote
from layers.stores.geopackage.records import SQLITE_TYPES
from layers.stores.layer_tables import LayerTables, conform, refuse_appended_ids, utc_now, version_conflicts
from layers.stores.states import ensure_storage_crs, stamp_versions

if TYPE_CHECKING:
    from layers.stores.geopackage import GeoPackageStore

WRITE_OPTIONS = dict(driver="GPKG", geometry_type="Unknown", promote_to_multi=False,
                     layer_options={"GEOMETRY_NAME": "geom", "FID": "fid"})


def _widen(con: sqlite3.Connection, table: str, frame: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """``frame`` ready to append to an existing ``table``: the columns it has and the table lacks (a field the
    catalogue gained since the store was made) added to the table, committed on the copy being written before
    GDAL opens it; and the frame's columns put in the table's order (GDAL appends by position)."""
    have = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
    if not have:
        return frame
    geom = frame.geometry.name
    missing = [c for c in frame.columns if c != geom and c not in have]
    for col in missing:
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{col}" {SQLITE_TYPES[spec.field(col).type]}')
    if missing:
        con.commit()
    order = [c for c in have + missing if c in frame.columns and c != geom]
    return frame[order + [geom]]


def archive_table(name: str) -> str:
    """The table of a layer's earlier feature states."""
    return f"{name}__archive"


class GpkgLayers(LayerTables):
    """Vector layers in the GeoPackage file."""

    _store: "GeoPackageStore"

    @property
    def _file(self):
        return self._store.file

    def read_table(self, table: str, bounds: tuple[float, ...] | None,
                   where: str | None = None, path: Path | None = None) -> gpd.GeoDataFrame | None:
        """A feature table (through GDAL, with its spatial index for ``bounds``); ``None`` when absent."""
        path = path or self._file.path
        try:
            frame = pyogrio.read_dataframe(path, layer=table, bbox=bounds, where=where, use_arrow=True)
        except pyogrio.errors.DataLayerError:
            return None
        except pyogrio.errors.DataSourceError as exc:
            raise StoreUnavailableError(f"Cannot read {Path(path).name}: {exc}") from None
        return ensure_storage_crs(frame)

    def _read_current(self, spec: LayerSpec, bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame | None:
        if spec.name not in self._file.feature_tables():
            return None
        return self.read_table(spec.name, bounds)

    def _read_version(self, spec: LayerSpec, version: int,
                      bounds: tuple[float, ...] | None) -> gpd.GeoDataFrame | None:
        tables = self._file.feature_tables()
        parts = []
        if spec.name in tables:
            parts.append(self.read_table(spec.name, bounds, where=f"layer_version <= {version:d}"))
        if archive_table(spec.name) in tables:
            parts.append(self.read_table(archive_table(spec.name), bounds,
                                         where=f"layer_version <= {version:d} AND valid_to > {version:d}"))
        parts = [p for p in parts if p is not None and len(p)]
        if not parts:
            return None
        return pd.concat(parts, ignore_index=True)

    def _commit(self, spec: LayerSpec, frame: gpd.GeoDataFrame, *, mode: str, user: str,
                source: str, report: ValidationReport, expected: dict[str, int] | None = None) -> WriteResult:
        now = utc_now()
        with self._file.rewrite() as (tmp, con):
            version = self._file.next_version(con, "vector", spec.name)
            existing = self.read_table(spec.name, None, path=Path(tmp))
            if existing is None:
                existing = conform(spec, None)
            conflicts = version_conflicts(expected, dict(zip(existing["feature_id"], existing["version"])))
            if conflicts:
                self._explain(con, spec, conflicts, existing)
                raise EditConflictError(spec.name, conflicts)
            refuse_appended_ids(frame, set(existing["feature_id"]), mode, report)
            if mode == "delete":
                stamped = existing.iloc[0:0]
            else:
                stamped = stamp_versions(frame, self._known_versions(con, spec, existing), version, now)
            if mode == "replace":
                archived, kept = existing, existing.iloc[0:0]
            else:
                ids = set(frame["feature_id"] if mode == "delete" else stamped["feature_id"])
                matched = existing["feature_id"].isin(ids)
                archived, kept = existing[matched], existing[~matched]
            if len(archived):
                archived = conform(spec, archived)
                archived["valid_to"] = version
                archived = _widen(con, archive_table(spec.name), archived, spec)
                pyogrio.write_dataframe(archived, tmp, layer=archive_table(spec.name),
                                        append=archive_table(spec.name) in feature_tables_of(con),
                                        **WRITE_OPTIONS)
            current = conform(spec, pd.concat([kept, stamped], ignore_index=True) if len(kept) else stamped)
            pyogrio.write_dataframe(current, tmp, layer=spec.name, **WRITE_OPTIONS)
            # sqlite writes come after GDAL's (GDAL opens the file itself).
            self._store.audit.write_changes(con, spec, archived, stamped, user=user, when=now.isoformat(),
                                            version=version)
            self._file.log_version(con, "vector", spec.name, version, mode, user, now.isoformat(), source,
                                   len(stamped), len(current))
        return WriteResult(spec.name, version, mode, len(stamped), len(current), report)

    @staticmethod
    def _known_versions(con: sqlite3.Connection, spec: LayerSpec, existing: gpd.GeoDataFrame) -> pd.DataFrame:
        """Latest version of every feature, current or deleted (a feature that comes back continues its count)."""
        current = existing[["feature_id", "version"]]
        table = archive_table(spec.name)
        if table not in feature_tables_of(con):
            return current
        gone = pd.DataFrame(con.execute(f"SELECT feature_id, MAX(version) FROM {quote(table)} "
                                        "GROUP BY feature_id").fetchall(), columns=["feature_id", "version"])
        gone = gone[~gone["feature_id"].isin(set(current["feature_id"]))]
        return pd.concat([current, gone], ignore_index=True) if len(gone) else current

    @staticmethod
    def _explain(con: sqlite3.Connection, spec: LayerSpec, conflicts: list[dict],
                 existing: gpd.GeoDataFrame) -> None:
        """Add who saved the conflicting version, and when, from the version log."""
        lv = dict(zip(existing["feature_id"], existing["layer_version"]))
        for c in conflicts:
            if c["current"] is None:
                continue
            row = con.execute(f"SELECT changed_by, changed_at FROM {VERSIONS} WHERE kind = 'vector' AND layer = ? "
                              "AND layer_version = ?", (spec.name, int(lv[c["feature_id"]]))).fetchone()
            if row:
                c["changed_by"], c["changed_at"] = row[0], row[1]

    def _feature_states(self, spec: LayerSpec, feature_id: str) -> gpd.GeoDataFrame:
        quoted = feature_id.replace("'", "''")
        parts = []
        for table in (spec.name, archive_table(spec.name)):
            got = self.read_table(table, None, where=f"feature_id = '{quoted}'")
            if got is not None and len(got):
                parts.append(got)
        if not parts:
            return conform(spec, None)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


__all__ = ["GpkgLayers", "archive_table"]

"""A pygeoapi feature provider over the embedded GeoPackage store.

pygeoapi's own SQLite/GeoPackage and OGR providers filter by property and bbox only: they
cannot sort (``sortby``) nor take CQL2 (``filter``), and the OGR one pages by reading from
the start. This provider reads a layer through the store (once per layer version, so every
client sees the committed state and never a half-written one), filters it with pygeofilter's
GeoPandas backend (the same CQL2 parser pygeoapi hands the PostgreSQL provider), sorts with
pandas and pages by slicing; pygeoapi transforms the output CRS (``crs_transform``).

The provider holds only the id, the geometry and the published fields of the layer
(``properties`` of its configuration): a filter or sort naming any other field cannot be
applied whatever the channel, and is refused (400). A store that cannot be read is a 503.

Configured by :mod:`services.pygeoapi_config` as ``name: services.gpkg_provider.OneMapGPKGProvider``
with ``data`` the GeoPackage path and ``table`` the layer name.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.util import crs_transform

from geo.errors import OneMapError
from services.provider_errors import MAX_ID, refusal

log = logging.getLogger(__name__)

_lock = threading.Lock()
_layer_locks: dict[tuple[str, str], threading.Lock] = {}
_frames: dict[tuple[str, str], tuple[int, gpd.GeoDataFrame]] = {}

_JSON_TYPES = {"text": ("string", None), "hours": ("string", None), "int": ("integer", None),
               "float": ("number", None), "bool": ("boolean", None), "datetime": ("string", "date-time"),
               "date": ("string", "date")}


def layer_frame(path: str, name: str) -> gpd.GeoDataFrame:
    """The stored layer ``name`` of the GeoPackage at ``path``, read once per layer version."""
    from layers.stores.geopackage import GeoPackageStore

    with _lock:
        lock = _layer_locks.setdefault((path, name), threading.Lock())
    with lock:
        with GeoPackageStore(path) as store:
            version = next((i.layer_version for i in store.layers.list() if i.name == name), None)
            if version is None:
                raise ProviderQueryError(f"layer {name} is not stored")
            held = _frames.get((path, name))
            if held is None or held[0] != version:
                held = (version, store.layers.read(name))
                _frames[(path, name)] = held
    return held[1]


def _value(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


class OneMapGPKGProvider(BaseProvider):
    """Features of one layer of the GeoPackage store: bbox, datetime (``updated_at``), properties, CQL2,
    ``sortby``, ``properties=`` (select), ``skipGeometry``, paging."""

    def __init__(self, provider_def: dict) -> None:
        super().__init__(provider_def)
        self.table = provider_def["table"]
        self.id_field = provider_def.get("id_field", "feature_id")
        self.time_field = provider_def.get("time_field")
        self.get_fields()

    def get_fields(self) -> dict:
        """Every served field with its JSON type (the layer catalogue's types)."""
        if not self._fields:
            from layers.catalogue import CATALOGUE

            spec = CATALOGUE[self.table]
            for f in spec.all_fields:
                if f.name == self.id_field or (self.properties and f.name not in self.properties):
                    continue
                kind, fmt = _JSON_TYPES.get(f.type, ("string", None))
                self._fields[f.name] = {"type": kind, **({"format": fmt} if fmt else {})}
        return self._fields

    def _frame(self) -> gpd.GeoDataFrame:
        """The layer as served: the id, the published fields and the geometry, nothing else."""
        try:
            frame = layer_frame(str(self.data), self.table)
        except (OSError, sqlite3.Error, OneMapError) as exc:
            refused = refusal(exc, "reading " + self.table)
            if refused is None:
                raise
            raise refused from None
        keep = [self.id_field, *(c for c in self.get_fields() if c in frame.columns and c != self.id_field)]
        return frame[[*dict.fromkeys(keep), frame.geometry.name]]

    def _select(self, frame: gpd.GeoDataFrame, bbox, datetime_, properties, filterq) -> gpd.GeoDataFrame:
        keep = np.ones(len(frame), dtype=bool)
        if bbox:
            x0, y0, x1, y1 = (float(v) for v in bbox[:4])
            keep &= frame.geometry.intersects(shapely.box(x0, y0, x1, y1)).to_numpy()
        if datetime_ and self.time_field:
            keep &= _in_time(frame[self.time_field], datetime_)
        for name, value in properties or []:
            if name not in frame:
                raise ProviderInvalidQueryError(user_msg=f"{self.table} has no property {name}")
            keep &= (frame[name].astype(str) == str(value)).to_numpy()
        if filterq is not None:
            from pygeofilter.backends.geopandas.evaluate import to_filter

            try:
                hit = to_filter(frame, filterq, {f: f for f in frame.columns}, {})
            except Exception as exc:  # an unknown property or function, or too deep: a bad request, said plainly
                log.warning("CQL2 on %s refused: %s", self.table, type(exc).__name__)
                raise ProviderInvalidQueryError(user_msg=f"the filter cannot be applied to {self.table}: "
                                                         f"{exc}") from None
            keep &= np.asarray(pd.Series(hit, index=frame.index).fillna(False), dtype=bool)
        return frame[keep]

    @crs_transform
    def query(self, offset: int = 0, limit: int = 10, resulttype: str = "results", bbox=None, datetime_=None,
              properties=None, sortby=None, select_properties=None, skip_geometry: bool = False, q=None,
              filterq=None, crs_transform_spec=None, **kwargs) -> dict:
        """A page of the features that pass every filter, sorted, as GeoJSON."""
        frame = self._select(self._frame(), bbox, datetime_, properties, filterq)
        if sortby:
            keys = [s["property"] for s in sortby]
            missing = [k for k in keys if k not in frame]
            if missing:
                raise ProviderInvalidQueryError(user_msg=f"{self.table} cannot be sorted by {', '.join(missing)}")
            frame = frame.sort_values(keys + [self.id_field], ascending=[s["order"] == "+" for s in sortby] + [True],
                                      kind="stable", na_position="last")
        matched = len(frame)
        out = {"type": "FeatureCollection", "features": [], "numberMatched": matched}
        if resulttype == "hits":
            out["numberReturned"] = 0
            return out
        page = frame.iloc[int(offset):int(offset) + int(limit)]
        out["features"] = [self._feature(row, geom, select_properties, skip_geometry)
                           for row, geom in zip(page.drop(columns=page.geometry.name).to_dict("records"),
                                                page.geometry.to_numpy())]
        out["numberReturned"] = len(out["features"])
        return out

    @crs_transform
    def get(self, identifier, crs_transform_spec=None, **kwargs) -> dict:
        """One feature by its id."""
        if not str(identifier) or len(str(identifier)) > MAX_ID:
            raise ProviderItemNotFoundError(f"no feature {str(identifier)[:40]!r}")
        frame = self._frame()
        hit = frame[frame[self.id_field].astype(str) == str(identifier)]
        if hit.empty:
            raise ProviderItemNotFoundError(f"no feature {identifier}")
        row = hit.drop(columns=hit.geometry.name).iloc[0].to_dict()
        return self._feature(row, hit.geometry.iloc[0], None, False)

    def _feature(self, row: dict, geometry, select, skip_geometry: bool) -> dict:
        fields = self.get_fields()
        wanted = [f for f in (select or fields) if f in fields]
        return {"type": "Feature", "id": _value(row[self.id_field]),
                "properties": {f: _value(row.get(f)) for f in wanted},
                "geometry": None if skip_geometry or geometry is None else json.loads(shapely.to_geojson(geometry))}

    def __repr__(self) -> str:
        return f"<OneMapGPKGProvider> {self.data} {self.table}"


def _in_time(values: pd.Series, text: str) -> np.ndarray:
    """Which ``values`` fall in the OGC ``datetime`` instant or interval ``text``."""
    from services.query_checks import parse_datetime

    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    try:
        lo, hi = parse_datetime(text)
    except ValueError as exc:
        raise ProviderInvalidQueryError(user_msg=f"datetime {text!r}: {exc}") from None
    keep = stamps.notna().to_numpy().copy()
    if lo is not None:
        keep &= (stamps >= lo).to_numpy()
    if hi is not None:
        keep &= (stamps <= hi).to_numpy()
    return keep


__all__ = ["OneMapGPKGProvider", "layer_frame"]

"""Feature states as the version log and the audit trail keep them, and how two are compared.

A state is one feature's fields and GeoJSON geometry as plain JSON values.  Both stores
write states in bulk (pandas writes the JSON and shapely the GeoJSON), so a 100,000-feature
write costs a fraction of a second.
"""

from __future__ import annotations

import json
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import STORAGE_CRS
from layers.catalogue import LayerSpec

#: Columns that change on every write and do not make a change by themselves.
BOOKKEEPING = frozenset({"version", "layer_version", "updated_at", "source", "fid"})


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


def feature_texts(spec: LayerSpec, frame: gpd.GeoDataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """Per feature_id: its state as JSON text (fields and GeoJSON geometry), and the part of it
    that is content (no bookkeeping), for telling a real change from a rewrite."""
    if len(frame) == 0:
        return {}, {}
    cols = [f.name for f in spec.all_fields if f.name in frame.columns]
    content = [c for c in cols if c not in BOOKKEEPING]
    kept = [c for c in cols if c in BOOKKEEPING]
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


def same_state(old: dict | None, new: dict | None) -> bool:
    """Whether two audit states differ only in bookkeeping (version, timestamps, source)."""
    if not old or not new:
        return False
    keys = (set(old) | set(new)) - BOOKKEEPING
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


__all__ = ["BOOKKEEPING", "stamp_versions", "feature_texts", "feature_states", "parse_state", "same_state",
           "ensure_storage_crs"]

"""Vector tiles (Mapbox Vector Tile, EPSG:3857 web tiles) of the big layers, for maps that would otherwise carry
megabytes of GeoJSON: the walk network of a whole city (200,000 segments), the candidate sites, the population.

On PostGIS a tile is one ``ST_AsMVT`` query over the layer's spatial index; on the GeoPackage
the layer is read once per version into an STR-tree in web-mercator metres, and each tile's
features are clipped, moved into tile units and snapped to its 4096-unit grid with vectorised
shapely, and the features of each style value are merged and encoded as arrays
(:mod:`webmap.mvt`); tiles are kept once made. A layer is drawn from tiles once it holds more than
:func:`tile_min_features` features (``ONEMAP_TILE_MIN_FEATURES``, default 20,000).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from config.settings import settings
from geo.errors import OneMapError
from layers.catalogue import CATALOGUE
from webmap.mvt import LINESTRING, POINT, encode_layer

EXTENT = 4096
#: Tile units drawn beyond each edge, so lines and point symbols do not stop short at the seams.
BUFFER = 64
HALF = math.pi * 6378137.0
#: Values a layer's tile features carry besides their id (what the tile style reads).
TILE_PROPERTIES: dict[str, tuple[str, ...]] = {"land_use": ("land_use",), "school_facilities": ("open_to_public",)}
MAX_ZOOM = 22
#: Encoded tiles kept per layer version (a city at zooms 10 to 16 is a few thousand).
CACHED_TILES = 4096


def tile_min_features() -> int:
    """Features above which a layer is drawn from vector tiles (``ONEMAP_TILE_MIN_FEATURES``, default 20,000)."""
    try:
        return settings().tile_min_features
    except ValueError:
        return 20_000


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The web-mercator bounds (metres) of tile ``z/x/y`` (XYZ: y counted from the north)."""
    size = 2 * HALF / 2 ** z
    return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile address outside the web tiling (``OneMapError``)."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise OneMapError(f"No tile {z}/{x}/{y}: zoom is 0 to {MAX_ZOOM}, x and y 0 to 2^zoom - 1.")


class TileSource:
    """One layer's features in web-mercator metres with an STR-tree, cut into tiles on request."""

    def __init__(self, name: str, frame: gpd.GeoDataFrame) -> None:
        self.name = name
        merc = frame.to_crs(3857) if frame.crs is not None else frame.set_crs(4326).to_crs(3857)
        keep = merc.geometry.notna() & ~merc.geometry.is_empty
        merc = merc[keep.to_numpy()]
        self.geometry = merc.geometry.to_numpy()
        self.tree = shapely.STRtree(self.geometry)
        self.ids = merc["feature_id"].astype(str).to_numpy() if "feature_id" in merc else \
            np.arange(len(merc)).astype(str)
        self.values = {c: merc[c].to_numpy() for c in TILE_PROPERTIES.get(name, ()) if c in merc}
        types = set(shapely.get_type_id(self.geometry).tolist())
        self.kind = LINESTRING if types <= {1, 5} else POINT if types <= {0, 4} else None
        self._tiles: OrderedDict[tuple[int, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def tile(self, z: int, x: int, y: int) -> bytes:
        """The encoded tile ``z/x/y`` (one layer named after the layer; empty when nothing falls in it), made
        once and kept (the most recent :data:`CACHED_TILES` of the layer version)."""
        check_tile(z, x, y)
        with self._lock:
            held = self._tiles.get((z, x, y))
        if held is None:
            held = self._make(z, x, y)
            with self._lock:
                self._tiles[(z, x, y)] = held
                while len(self._tiles) > CACHED_TILES:
                    self._tiles.popitem(last=False)
        return held

    def _make(self, z: int, x: int, y: int) -> bytes:
        x0, y0, x1, y1 = tile_bounds(z, x, y)
        scale = EXTENT / (x1 - x0)
        pad = BUFFER / scale
        hits = self.tree.query(shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad), predicate="intersects")
        if len(hits) == 0:
            return mapbox_vector_tile.encode([{"name": self.name, "features": []}])
        hits = np.sort(hits)
        if self.kind is not None:  # lines or points: one merged feature per style value, encoded as arrays
            geoms = self.geometry[hits]
            if self.kind == LINESTRING:
                geoms = shapely.clip_by_rect(geoms, x0 - pad, y0 - pad, x1 + pad, y1 + pad)
            to_tile = (x0, y1, scale)
            if not self.values:
                return encode_layer(self.name, [({}, geoms)], self.kind, EXTENT, to_tile)
            keys = pd.DataFrame({c: self.values[c][hits] for c in self.values}).astype(str)
            groups = [(dict(zip(self.values, key if isinstance(key, tuple) else (key,))), geoms[rows])
                      for key, rows in keys.groupby(list(self.values), sort=True).indices.items()]
            return encode_layer(self.name, groups, self.kind, EXTENT, to_tile)
        geoms = shapely.clip_by_rect(self.geometry[hits], x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        geoms = shapely.transform(geoms, lambda c: np.column_stack([(c[:, 0] - x0) * scale, (y1 - c[:, 1]) * scale]))
        geoms = shapely.set_precision(geoms, 1.0)  # the tile's integer grid; what falls below a unit goes
        shown = ~shapely.is_empty(geoms)
        features = []
        for i, geom in zip(hits[shown], geoms[shown]):
            props = {"feature_id": self.ids[i]}
            for col, values in self.values.items():
                v = values[i]
                props[col] = v.item() if hasattr(v, "item") else v
            features.append({"geometry": geom, "properties": props})
        return mapbox_vector_tile.encode([{"name": self.name, "features": features}],
                                         default_options={"y_coord_down": True, "extents": EXTENT,
                                                          "check_winding_order": True})


_lock = threading.Lock()
_sources: OrderedDict[tuple, TileSource] = OrderedDict()
_building: dict[tuple, threading.Lock] = {}
CACHED_LAYERS = 4


def _source(store, name: str, version: int) -> TileSource:
    """The layer's tile source at ``version``, built once: a map's first tiles arrive together, and all but
    one of their requests wait for that one build instead of each reading the layer."""
    key = (store.description, name, version)
    with _lock:
        held = _sources.get(key)
        if held is not None:
            _sources.move_to_end(key)
            return held
        building = _building.setdefault(key, threading.Lock())
    with building:
        with _lock:
            held = _sources.get(key)
        if held is None:
            held = TileSource(name, store.layers.read(name))
            with _lock:
                _sources[key] = held
                while len(_sources) > CACHED_LAYERS:
                    _sources.popitem(last=False)
                _building.pop(key, None)
    return held


def postgis_tile(store, name: str, z: int, x: int, y: int) -> bytes:
    """Tile ``z/x/y`` of ``name`` made by PostGIS (``ST_AsMVT`` over the layer's spatial index)."""
    from layers.stores.postgis.schema import GEOMETRY_COLUMN

    check_tile(z, x, y)
    extra = "".join(f', t."{c}"' for c in TILE_PROPERTIES.get(name, ()))
    sql = text(f"""
        WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS box),
        rows AS (
            SELECT ST_AsMVTGeom(ST_Transform(t.{GEOMETRY_COLUMN}, 3857), env.box, {EXTENT}, {BUFFER}, true) AS geom,
                   t.feature_id{extra}
            FROM "{store.schema}"."{name}" t, env
            WHERE t.{GEOMETRY_COLUMN} && ST_Transform(ST_Expand(env.box, :pad), 4326)
        )
        SELECT ST_AsMVT(rows.*, :layer, {EXTENT}, 'geom') FROM rows WHERE rows.geom IS NOT NULL""")
    size = 2 * HALF / 2 ** z
    with store.engine.connect() as conn:
        data = conn.execute(sql, {"z": z, "x": x, "y": y, "pad": BUFFER * size / EXTENT, "layer": name}).scalar()
    return bytes(data or b"")


def layer_tile(store, name: str, z: int, x: int, y: int) -> bytes:
    """Tile ``z/x/y`` of the stored layer ``name`` at its current version.

    Raises
    ------
    OneMapError
        An unknown or unstored layer, or a tile address outside the tiling.
    """
    if name not in CATALOGUE:
        raise OneMapError(f"No layer {name!r}.")
    check_tile(z, x, y)
    from layers.stores.postgis import PostGISStore

    if isinstance(store, PostGISStore):
        return postgis_tile(store, name, z, x, y)
    version = next((i.layer_version for i in store.layers.list() if i.name == name and i.kind == "vector"), None)
    if version is None:
        raise OneMapError(f"Layer {name!r} is not stored.")
    return _source(store, name, version).tile(z, x, y)


__all__ = ["TileSource", "layer_tile", "postgis_tile", "tile_bounds", "tile_min_features", "check_tile", "EXTENT"]

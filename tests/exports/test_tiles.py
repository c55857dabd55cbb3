"""Vector tiles of a stored layer: a tile holds the features that cross it (as geopandas finds them), in tile
units, and PostGIS (ST_AsMVT) and the GeoPackage path cut the same tile alike."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from webmap.tiles import BUFFER, EXTENT, TileSource, check_tile, postgis_tile, tile_bounds

TILE = (14, 13380, 6759)  # over the demo city's centre


def _ids(data: bytes, layer: str) -> set[str]:
    decoded = mapbox_vector_tile.decode(data)
    return {f["properties"]["feature_id"] for f in decoded.get(layer, {}).get("features", [])}


def _lines(data: bytes, layer: str) -> list:
    """Every line drawn in the tile (a merged feature's parts counted one by one), in tile units."""
    decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    out = []
    for f in decoded.get(layer, {}).get("features", []):
        g = f["geometry"]
        out += [g["coordinates"]] if g["type"] == "LineString" else list(g["coordinates"])
    return out


def _crossing(frame, z: int, x: int, y: int) -> set[str]:
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = BUFFER * (x1 - x0) / EXTENT
    merc = frame.to_crs(3857)
    return set(merc.loc[merc.intersects(shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)), "feature_id"])


def test_a_tile_holds_the_features_that_cross_it(demo_city):
    streets = demo_city.layers["walk_network"]
    source = TileSource("walk_network", streets)
    lines, want = _lines(source.tile(*TILE), "walk_network"), _crossing(streets, *TILE)
    # one line per crossing segment (a few cut in two by the edge); only sub-unit specks drop out
    assert len(want) > 100 and 0.99 * len(want) <= len(lines) <= 1.05 * len(want)
    assert all(-BUFFER <= a <= EXTENT + BUFFER and -BUFFER <= b <= EXTENT + BUFFER for line in lines for a, b in line)
    assert all(len(line) >= 2 and all(p != q for p, q in zip(line, line[1:])) for line in lines)
    # the same lines as mapbox_vector_tile's own encoder makes from the same cut (ours merges them into one feature)
    x0, y0, x1, y1 = tile_bounds(*TILE)
    scale, pad = EXTENT / (x1 - x0), BUFFER * (x1 - x0) / EXTENT
    merc = streets.to_crs(3857).geometry
    cut = shapely.clip_by_rect(merc[merc.intersects(shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad))].to_numpy(),
                               x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    cut = shapely.transform(cut, lambda c: np.column_stack([(c[:, 0] - x0) * scale, (y1 - c[:, 1]) * scale]))
    reference = mapbox_vector_tile.encode([{"name": "walk_network", "features": [
        {"geometry": g, "properties": {}} for g in cut]}], default_options={"y_coord_down": True})
    assert sorted(map(str, lines)) == sorted(map(str, _lines(reference, "walk_network")))
    assert _lines(source.tile(14, 0, 0), "walk_network") == []  # far from the city: an empty tile
    with pytest.raises(Exception, match="No tile"):
        check_tile(3, 8, 0)


@pytest.mark.postgis
def test_postgis_cuts_the_same_tile(pg_store, demo_city):
    streets = demo_city.layers["walk_network"]
    pg_store.layers.write("walk_network", streets, user="init")
    from_pg = _ids(postgis_tile(pg_store, "walk_network", *TILE), "walk_network")
    from_py = _lines(TileSource("walk_network", streets).tile(*TILE), "walk_network")
    want = _crossing(streets, *TILE)
    assert from_pg <= want and len(from_pg) >= 0.99 * len(want)  # PostGIS keeps one feature per segment
    assert abs(len(from_py) - len(from_pg)) <= 0.05 * len(from_pg)


def test_a_maps_first_tiles_read_the_layer_once(demo_gpkg):
    """Sixteen tile requests arriving together build the layer's tile source once; the rest wait for it."""
    import threading

    from layers.stores.geopackage import GeoPackageStore
    from webmap.tiles import layer_tile

    class Counting:
        def __init__(self, store) -> None:
            self.store, self.reads, self.description = store, 0, f"counting {store.description}"
            self.layers = self

        def list(self):
            return self.store.layers.list()

        def read(self, name, **kw):
            self.reads += 1
            return self.store.layers.read(name, **kw)

    with GeoPackageStore(demo_gpkg) as store:
        counting = Counting(store)
        z, x, y = TILE
        got: list[bytes] = []
        threads = [threading.Thread(target=lambda k=k: got.append(layer_tile(counting, "walk_network", z, x + k % 4,
                                                                              y + k // 4)))
                   for k in range(16)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
    assert counting.reads == 1 and len(got) == 16 and any(len(g) > 100 for g in got)

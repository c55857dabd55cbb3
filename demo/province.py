"""A synthetic province for the partitioned run's tests and benchmark (clearly synthetic, like the demo city).

Each city is made of one or more blocks; a block is the demo city (8 km square, its streets,
greenway, venues, school facilities, health stations, population) built with its own seed,
so no two blocks are alike. Cities of 1, 2 or 4 blocks sit on a grid with open country
between them (``gap_km``), all in the demo's CGCS2000 Gauss–Krüger zone; blocks of one city
touch, so their streets meet at the seams only where they happen to. Every feature id and
unit code carries its block's prefix; each city has a ``city`` boundary (the union of its
blocks' districts, their parent), the unit a province run is split by.

:func:`write_province` writes the inputs a partitioned run reads (GeoParquet with bbox
columns, one population GeoTIFF for the province) into a folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.io import MemoryFile

from demo.city import build_demo_city
from geo.partition import InputSource

#: Layers a province carries (what coverage reads).
PROVINCE_LAYERS = ("walk_network", "greenways", "greenway_entrances", "venues", "school_facilities",
                   "health_stations", "boundaries")
BLOCK_KM = 8.0
#: City sizes in blocks, repeated over the cities (a mix of small, middling and large).
SIZES = (1, 2, 1, 4, 1, 2, 1, 1, 4, 2, 1, 2)


@dataclass(frozen=True)
class ProvinceSummary:
    """What was written: cities, blocks, street segments and populated cells."""

    cities: int
    blocks: int
    segments: int
    cells: int
    residents: float


def _block_offsets(n_cities: int, gap_km: float, sizes: Sequence[int] = SIZES) -> list[tuple[int, int, int]]:
    """(city, dx, dy) in cells of 100 m for every block: cities on a grid of square slots (as wide as the
    largest city), each city's blocks filling its slot row by row from the south-west."""
    per_row = max(1, int(np.ceil(np.sqrt(n_cities))))
    side = max(int(np.ceil(np.sqrt(s))) for s in sizes)
    slot = int(round((side * BLOCK_KM + gap_km) * 10))
    block = int(round(BLOCK_KM * 10))
    out = []
    for city in range(n_cities):
        size = sizes[city % len(sizes)]
        k = int(np.ceil(np.sqrt(size)))
        sx, sy = (city % per_row) * slot, (city // per_row) * slot
        out += [(city, sx + (i % k) * block, sy + (i // k) * block) for i in range(size)]
    return out


def _cities(boundaries: list[gpd.GeoDataFrame], blocks: list[tuple[int, int, int]], crs) -> gpd.GeoDataFrame:
    """A city-level boundary per city: the union of its blocks' districts, the districts' parent."""
    rows = []
    for city in sorted({c for c, _dx, _dy in blocks}):
        own = [f for f, (c, _dx, _dy) in zip(boundaries, blocks) if c == city]
        for f in own:
            f.loc[f["level"] == "district", "parent_code"] = f"{city:02d}"
        districts = pd.concat([f[f["level"] == "district"] for f in own])
        rows.append({"name": f"第{city + 1}市（虚构）", "code": f"{city:02d}", "level": "city", "parent_code": None,
                     "geometry": districts.union_all()})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def write_province(folder: str | os.PathLike[str], *, n_cities: int = 10, gap_km: float = 6.0,
                   seed: int = 2026, sizes: Sequence[int] = SIZES, templates: int | None = None,
                   row_group_size: int = 20_000) -> tuple[InputSource, ProvinceSummary]:
    """Build the province (deterministic for ``seed``) and write its inputs into ``folder``.

    ``sizes``: blocks per city, repeated over the cities. ``templates``: with a number, blocks reuse
    that many distinct demo cities in turn (a province of thousands of blocks is written in minutes;
    neighbouring blocks still differ); by default every block is built with its own seed. The
    GeoParquet files hold ``row_group_size`` rows per group in block order, so a partition's bbox
    read skips the groups of other places.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    blocks = _block_offsets(n_cities, gap_km, sizes)
    parts: dict[str, list[gpd.GeoDataFrame]] = {k: [] for k in PROVINCE_LAYERS}
    rasters = []
    built: dict[int, tuple] = {}
    for k, (city, dx, dy) in enumerate(blocks):
        which = k if templates is None else k % templates
        if which not in built:
            demo = build_demo_city(seed=seed + which)
            with MemoryFile(demo.population_tif) as mem, mem.open() as ds:
                data, transform, crs = ds.read(1).astype(np.float32), ds.transform, ds.crs
            built[which] = ({name: demo.layers[name].to_crs(crs) for name in PROVINCE_LAYERS}, data, transform, crs)
            if templates is None:
                built = {which: built[which]}  # one block at a time: nothing is reused
        layers, data, transform, crs = built[which]
        rasters.append((data, transform, dx, dy))
        shift = np.array([dx * abs(transform.a), dy * abs(transform.e)])
        prefix = f"c{city:02d}b{k:03d}-"
        for name in PROVINCE_LAYERS:
            frame = layers[name].copy()
            frame = frame.set_geometry(shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + shift),
                                       crs=crs)
            frame["feature_id"] = prefix + frame["feature_id"].astype(str)
            if name == "greenway_entrances" and "greenway_id" in frame:
                frame["greenway_id"] = prefix + frame["greenway_id"].astype(str)
            if name == "boundaries":
                frame["code"] = f"{city:02d}{k:03d}" + frame["code"].astype(str)
                frame["parent_code"] = [f"{city:02d}{k:03d}{v}" if isinstance(v, str) and v else v
                                        for v in frame["parent_code"]]
            parts[name].append(frame)
    parts["boundaries"].append(_cities(parts["boundaries"], blocks, crs))
    segments = sum(len(f) for f in parts["walk_network"])
    for name in list(parts):
        frame = gpd.GeoDataFrame(pd.concat(parts.pop(name), ignore_index=True), geometry="geometry", crs=crs)
        frame.to_crs(4326).to_parquet(out / f"{name}.parquet", write_covering_bbox=True,
                                      row_group_size=row_group_size)
        del frame
    first = rasters[0][1]
    width = max(dx for *_, dx, _dy in rasters) + rasters[0][0].shape[1]
    height = max(dy for *_, dy in rasters) + rasters[0][0].shape[0]
    top = first.f + max(dy for *_, dy in rasters) * abs(first.e)
    province = np.zeros((height, width), dtype=np.float32)
    for data, _transform, dx, dy in rasters:
        r0 = height - dy - data.shape[0]
        province[r0:r0 + data.shape[0], dx:dx + data.shape[1]] += data
    with rasterio.open(out / "population.tif", "w", driver="GTiff", width=width, height=height, count=1,
                       dtype="float32", crs=crs, transform=Affine(first.a, 0, first.c, 0, first.e, top), nodata=0,
                       compress="deflate", tiled=True) as ds:
        ds.write(province, 1)
    summary = ProvinceSummary(cities=n_cities, blocks=len(blocks), segments=segments,
                              cells=int((province > 0).sum()), residents=float(province.sum()))
    return InputSource(folder=str(out)), summary


__all__ = ["write_province", "ProvinceSummary", "PROVINCE_LAYERS"]

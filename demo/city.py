"""The demo city: a fictional Chinese urban district built by code (deterministic, seeded).

青溪区 (Qingxi District) is invented.  It is about 8 × 8 km with some 420,000 residents:
a dense old town west of the river, a second centre in the south-west, and a new town
on the east bank whose housing has run ahead of its sports facilities, so the coverage
analysis has gaps to find.  It has a 100 m population raster, six streets (街道) and
their communities (社区), a walkable street grid, a river with a greenway, a metro line,
venues, schools (some open to the public outside teaching hours), health stations and
candidate sites.  Its own streets, river, parks and blocks are its basemap.

Run ``python -m demo.city data/demo_city.gpkg`` to build it into a GeoPackage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, box

from geo.crs import local_metric_crs
from geo.hours import parse_opening_hours
from layers.rasters import population_total

SEED = 20_251_123
#: Label shown wherever the demo city appears.
DEMO_LABEL_ZH = "青溪区（虚构示范城区，数据为合成）"
DEMO_LABEL_EN = "Qingxi District (fictional demo city, synthetic data)"
DEMO_SOURCE = "demo city (synthetic)"
CENTRE_LONLAT = (114.0, 30.0)
SIZE_M = 8000.0
CELL_M = 100.0
GRID_M = 150.0
TOTAL_RESIDENTS = 420_000
DISTRICT_CODE = "990101"


@dataclass
class DemoCity:
    """The demo city's layers (EPSG:4326) and its population raster (GeoTIFF bytes)."""

    layers: dict[str, gpd.GeoDataFrame]
    population_tif: bytes
    metric_crs: str
    #: Record tables (venue usage, satisfaction surveys) by kind.
    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Earlier states of layers, written before the current ones so the history has a trend:
    #: (layer, frame, source) in write order.
    earlier: list[tuple[str, gpd.GeoDataFrame, str]] = field(default_factory=list)


class _Frame:
    """Local metric frame: x east, y north, in metres from the south-west corner."""

    def __init__(self) -> None:
        lon, lat = CENTRE_LONLAT
        self.crs = local_metric_crs((lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05))
        fwd = Transformer.from_crs(4326, self.crs, always_xy=True)
        cx, cy = fwd.transform(lon, lat)
        self.x0 = round(cx - SIZE_M / 2, -2)
        self.y0 = round(cy - SIZE_M / 2, -2)

    def gdf(self, records: list[dict], geoms: list) -> gpd.GeoDataFrame:
        moved = [shapely.affinity.translate(g, self.x0, self.y0) for g in geoms]
        frame = gpd.GeoDataFrame(records, geometry=moved, crs=self.crs)
        return frame.to_crs(4326)


def _river_x(y: np.ndarray | float) -> np.ndarray | float:
    return 5200.0 + 320.0 * np.sin(np.asarray(y) / 1300.0) + 0.02 * np.asarray(y)


def _river() -> LineString:
    ys = np.linspace(-50, SIZE_M + 50, 120)
    return LineString(np.column_stack([_river_x(ys), ys]))


_OLD = (2400.0, 4300.0)
_SECOND = (3300.0, 1500.0)


def _density(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    d_old = np.hypot(x - _OLD[0], y - _OLD[1])
    d_sec = np.hypot(x - _SECOND[0], y - _SECOND[1])
    dens = 16000 * np.exp(-(d_old ** 2) / (2 * 1500.0 ** 2)) + 9000 * np.exp(-(d_sec ** 2) / (2 * 900.0 ** 2))
    # New town: residential compounds on the east bank, built ahead of its facilities.
    compounds = [(6500, 6300, 700), (7300, 5200, 550), (6600, 3300, 650), (7400, 2000, 500), (6100, 7400, 450)]
    for cx, cy, r in compounds:
        dens += 12000 * np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * r ** 2)) ** 2)
    dens += 1200
    dens *= 0.65 + 0.7 * rng.random(x.shape)
    return dens


def _population_raster(frame: _Frame, parks: list, river_area, rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    n = int(SIZE_M / CELL_M)
    centres = (np.arange(n) + 0.5) * CELL_M
    xx, yy = np.meshgrid(centres, centres[::-1])
    dens = _density(xx, yy, rng)
    pts = shapely.points(xx.ravel(), yy.ravel())
    blocked = shapely.intersects(river_area.buffer(30), pts)
    for park in parks:
        blocked |= shapely.contains(park, pts)
    dens = dens.ravel()
    dens[blocked] = 0.0
    raw = dens / dens.sum() * TOTAL_RESIDENTS
    counts = np.floor(raw).astype(np.int64)
    short = TOTAL_RESIDENTS - counts.sum()
    counts[np.argsort(-(raw - counts))[:short]] += 1  # largest remainders: total is exact
    grid = counts.reshape(n, n).astype(np.float32)
    transform = from_origin(frame.x0, frame.y0 + SIZE_M, CELL_M, CELL_M)
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=n, height=n, count=1, dtype="float32",
                      crs=frame.crs.to_wkt(), transform=transform, nodata=-1.0,
                      compress="deflate") as ds:
            ds.write(grid, 1)
            ds.update_tags(units="residents per cell", source=DEMO_SOURCE)
        return mem.read(), grid


_EW_NAMES = ["滨江路", "和平路", "建设路", "人民路", "解放路", "青年路", "文化路", "长乐路",
             "兴业路", "振兴路", "同心路", "望江路", "新华路", "育才路"]
_NS_NAMES = ["西城街", "锦绣街", "书院街", "府前街", "东门街", "柳荫街", "河畔街", "新城大道",
             "金桥街", "科创街", "明月街", "东湖街", "远景街", "天府街"]


def _street_network(rng: np.random.Generator, river_area) -> tuple[list[dict], list]:
    n = int(SIZE_M / GRID_M) + 1
    jitter = rng.normal(0, 12, size=(n, n, 2))
    jitter[0, :, :] = jitter[-1, :, :] = jitter[:, 0, :] = jitter[:, -1, :] = 0

    def node(i: int, j: int) -> tuple[float, float]:
        return (min(i * GRID_M, SIZE_M) + jitter[i, j, 0], min(j * GRID_M, SIZE_M) + jitter[i, j, 1])

    records, geoms = [], []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                i2, j2 = i + di, j + dj
                if i2 >= n or j2 >= n:
                    continue
                a, b = node(i, j), node(i2, j2)
                seg = LineString([a, b])
                arterial = (j % 4 == 0) if di == 1 else (i % 4 == 0)
                mid_x = (a[0] + b[0]) / 2
                new_town = mid_x > _river_x((a[1] + b[1]) / 2) + 200
                if seg.intersects(river_area) and not (arterial and (i if di == 0 else j) % 8 == 0):
                    continue  # bridges only on every other arterial
                if not arterial:
                    line_index = j if di == 1 else i
                    if new_town and (line_index % 2 == 1 or rng.random() < 0.18):
                        continue
                    if not new_town and rng.random() < 0.07:
                        continue
                oneway = maxspeed = None
                if arterial:
                    k = (j if di == 1 else i) // 4
                    name = (_EW_NAMES if di == 1 else _NS_NAMES)[k % 14]
                    highway = "primary" if k % 2 == 0 else "secondary"
                    maxspeed = "60" if highway == "primary" else None
                else:
                    name, highway = None, "residential"
                    # Old-town lanes: every fourth street one-way, east-west as drawn (eastbound),
                    # north-south against it (southbound).
                    if not new_town and (j if di == 1 else i) % 4 == 2:
                        oneway = "yes" if di == 1 else "-1"
                records.append({"name": name, "highway": highway, "oneway": oneway, "maxspeed": maxspeed})
                geoms.append(seg)
    return records, geoms


def _boundaries(rng: np.random.Generator) -> tuple[list[dict], list]:
    extent = box(0, 0, SIZE_M, SIZE_M)
    street_seeds = shapely.multipoints([(1500, 6300), (1400, 2800), (3600, 4800), (3700, 1200),
                                        (6900, 6000), (6800, 2200)])
    street_cells = shapely.get_parts(shapely.voronoi_polygons(street_seeds, extend_to=extent))
    street_names = ["书院街道", "西城街道", "府前街道", "长乐街道", "东湖街道", "新城街道"]
    records = [{"name": "青溪区（虚构）", "code": DISTRICT_CODE, "level": "district", "parent_code": None}]
    geoms = [extent]
    seeds_arr = shapely.get_coordinates(street_seeds)
    for cell in street_cells:
        cell = cell.intersection(extent)
        c = cell.representative_point()
        k = int(np.argmin(np.hypot(seeds_arr[:, 0] - c.x, seeds_arr[:, 1] - c.y)))
        code = f"{DISTRICT_CODE}{k + 1:03d}"
        records.append({"name": street_names[k], "code": code, "level": "street",
                        "parent_code": DISTRICT_CODE})
        geoms.append(cell)
        minx, miny, maxx, maxy = cell.bounds
        pts = []
        while len(pts) < 6:
            p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if cell.contains(p) and all(p.distance(q) > 500 for q in pts):
                pts.append(p)
        comm = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=cell))
        comm = sorted((g.intersection(cell) for g in comm), key=lambda g: (-g.centroid.y, g.centroid.x))
        prefix = street_names[k][:2]
        suffixes = ["东苑", "西苑", "南苑", "北苑", "中心", "花园", "新村", "里"]
        for m, g in enumerate(comm):
            if g.is_empty:
                continue
            records.append({"name": f"{prefix}{suffixes[m % len(suffixes)]}社区",
                            "code": f"{code}{m + 1:03d}", "level": "community", "parent_code": code})
            geoms.append(g)
    return records, geoms


def _parks() -> list:
    return [box(2000, 3900, 2500, 4300), box(3000, 1700, 3300, 2000), box(900, 5600, 1200, 5900),
            Point(1300, 1500).buffer(180), box(4300, 6500, 4650, 6900), box(6300, 4400, 6600, 4650)]


def _sample_point(rng: np.random.Generator, centre: tuple[float, float], spread: float,
                  avoid) -> Point:
    for _ in range(1000):
        p = Point(rng.normal(centre[0], spread), rng.normal(centre[1], spread))
        if 150 < p.x < SIZE_M - 150 and 150 < p.y < SIZE_M - 150 and not avoid.contains(p):
            return p
    raise RuntimeError("could not place a demo feature")  # unreachable with these parameters


_VENUE_TYPES = [
    # kind, Chinese suffix, area m2, capacity, hours, fee, weight
    ("fitness_square", "全民健身广场", 1500, 200, "Mo-Su 06:00-22:00", "free", 5),
    ("park_fitness", "公园健身点", 600, 60, "24/7", "free", 4),
    ("court", "篮球场", 900, 40, "Mo-Su 06:30-22:00", "free", 4),
    ("gym", "健身中心", 1200, 150, "Mo-Su 07:00-22:00", "paid", 3),
    ("pitch", "足球场", 7140, 60, "Mo-Fr 16:00-22:00; Sa,Su 08:00-22:00", "low_cost", 2),
    ("pool", "游泳馆", 2500, 300, "Mo-Su 09:00-21:00", "paid", 1),
    ("gymnasium", "体育馆", 5000, 2000, "Tu-Su 09:00-21:00", "low_cost", 1),
]


#: Venues of these kinds at every fourth place keep weekend-only hours, at the next one daytime hours on weekdays,
#: so the time slot a planner picks changes what is open.
_PART_TIME_KINDS = ("fitness_square", "court", "gym")
_PART_TIME = {0: "Sa,Su,PH 07:00-21:00", 1: "Mo-Fr 08:00-17:30; Sa,Su 08:00-21:00"}


def _venues(rng: np.random.Generator, avoid) -> tuple[list[dict], list]:
    records, geoms = [], []
    places = ([(_OLD, 1100)] * 46) + ([(_SECOND, 700)] * 14) + ([((5900, 5200), 350)] * 5) + \
             ([((7300, 2000), 300)] * 2)
    weights = np.array([t[-1] for t in _VENUE_TYPES], dtype=float)
    for k, (centre, spread) in enumerate(places):
        kind, suffix, area, cap, hours, fee, _ = _VENUE_TYPES[rng.choice(len(_VENUE_TYPES), p=weights / weights.sum())]
        if kind in _PART_TIME_KINDS and k % 4 in _PART_TIME:  # some squares and courts keep shorter hours
            hours = _PART_TIME[k % 4]
        p = _sample_point(rng, centre, spread, avoid)
        street = _EW_NAMES[int(p.y // 600) % 14]
        if kind == "pitch":
            geom = box(p.x - 52, p.y - 34, p.x + 52, p.y + 34)
        elif kind == "gymnasium":
            geom = box(p.x - 60, p.y - 45, p.x + 60, p.y + 45)
        else:
            geom = p
        records.append({
            "feature_id": f"venue-{k + 1:03d}", "name": f"{street}{suffix}", "venue_kind": kind,
            "sports_area_m2": float(round(area * rng.uniform(0.7, 1.3))),
            "capacity": int(cap * rng.uniform(0.7, 1.3)), "opening_hours": hours,
            "is_public": True, "fee": fee, "address": f"青溪区{street}{int(p.x) % 300 + 1}号"})
        geoms.append(geom)
    stadium = box(2700, 3000, 2900, 3160)
    records.append({"feature_id": "venue-000", "name": "青溪体育中心", "venue_kind": "stadium",
                    "sports_area_m2": 32000.0, "capacity": 20000, "opening_hours": "Mo-Su 06:00-21:30",
                    "is_public": True, "fee": "low_cost", "address": "青溪区人民路1号"})
    geoms.append(stadium)
    return records, geoms


_SCHOOL_NAMES = ["实验小学", "第一中学", "第二中学", "育才小学", "书院小学", "滨江中学", "外国语学校",
                 "东湖小学", "新城中学", "长乐小学", "府前小学", "锦绣中学", "河畔小学", "明德中学",
                 "科创小学", "望江中学", "柳荫小学", "金桥小学", "同心中学", "远景小学", "青年中学",
                 "天府小学", "兴业中学", "振兴小学", "文化中学", "解放小学", "新华中学", "和平小学"]
_SCHOOL_SCHEDULES = ["Mo-Fr 18:00-21:00; Sa,Su 08:00-18:00; SH 08:00-20:00",
                     "Mo-Fr 18:30-21:00; Sa,Su 09:00-17:00",
                     "Sa,Su 08:00-18:00; SH 08:00-18:00"]


def _schools(rng: np.random.Generator, avoid) -> tuple[list[dict], list]:
    records, geoms = [], []
    places = [(_OLD, 1300)] * 15 + [(_SECOND, 800)] * 6 + [((6700, 4500), 1100)] * 7
    for k, (centre, spread) in enumerate(places):
        p = _sample_point(rng, centre, spread, avoid)
        school = f"青溪区{_SCHOOL_NAMES[k]}"
        east = p.x > 5600
        is_open = (not east) and rng.random() < 0.55 or (east and k == 24)
        schedule = _SCHOOL_SCHEDULES[k % 3] if is_open else None
        records.append({"feature_id": f"school-{k + 1:03d}-track", "school": school,
                        "facility_kind": "track_field", "area_m2": float(round(rng.uniform(6000, 12000))),
                        "open_to_public": is_open, "opening_hours": schedule,
                        "booking_required": bool(is_open and rng.random() < 0.5)})
        geoms.append(box(p.x - 90, p.y - 45, p.x + 90, p.y + 45))
        if k % 2 == 0:
            records.append({"feature_id": f"school-{k + 1:03d}-court", "school": school,
                            "facility_kind": "court" if k % 4 else "gymnasium",
                            "area_m2": float(round(rng.uniform(600, 1500))),
                            "open_to_public": is_open, "opening_hours": schedule,
                            "booking_required": bool(is_open)})
            geoms.append(Point(p.x + 130, p.y))
    return records, geoms


def _health_stations(rng: np.random.Generator, avoid) -> tuple[list[dict], list]:
    records, geoms = [], []
    places = [(_OLD, 1300)] * 9 + [(_SECOND, 700)] * 4 + [((6600, 4200), 1300)] * 3
    for k, (centre, spread) in enumerate(places):
        p = _sample_point(rng, centre, spread, avoid)
        sports_medicine = k % 3 == 0
        records.append({
            "feature_id": f"health-{k + 1:03d}",
            "name": f"{_NS_NAMES[int(p.x // 600) % 14]}{'体卫融合服务站' if sports_medicine else '社区健康驿站'}",
            "station_kind": "sports_medicine_station" if sports_medicine else "community_health_station",
            "services": "fitness_test;exercise_prescription;health_education" if sports_medicine
            else "fitness_test;chronic_disease;health_education",
            "opening_hours": "Mo-Fr 08:30-17:30; Sa 09:00-12:00" if k % 2 else "Mo-Su 08:00-20:00",
            "phone": f"000-6100-{k + 1:04d}"})
        geoms.append(p)
    return records, geoms


def _metro(river) -> tuple[list[dict], list]:
    names = ["西站", "书院", "府前", "人民广场", "文化宫", "青溪桥", "东湖", "新城中心", "科创园"]
    records, geoms = [], []
    for k, name in enumerate(names):
        x = 400 + k * 900
        y = 4320 + 180 * np.sin(k)
        records.append({"feature_id": f"metro-{k + 1:02d}", "name": name, "line": "1号线"})
        geoms.append(Point(x, y))
    return records, geoms


#: The demo's AEDs: (layer, feature id, where beside it (m east, m north), building, floor, hours, owner).
_AED_SITES = [
    ("venues", "venue-000", (30, 0), "青溪体育中心东看台", "1层", "Mo-Su 06:00-21:30", "青溪体育中心"),
    ("venues", "venue-000", (-30, 0), "青溪体育中心西入口", "1层", "24/7", "青溪体育中心"),
    ("metro_stations", "metro-02", (15, 10), "书院站站厅", "B1层", "Mo-Su 06:00-23:00", "市轨道交通集团"),
    ("metro_stations", "metro-04", (15, 10), "人民广场站站厅", "B1层", "Mo-Su 06:00-23:00", "市轨道交通集团"),
    ("metro_stations", "metro-06", (15, 10), "青溪桥站站厅", "B1层", "Mo-Su 06:00-23:00", "市轨道交通集团"),
    ("metro_stations", "metro-08", (15, 10), "新城中心站站厅", "B1层", "Mo-Su 06:00-23:00", "市轨道交通集团"),
    ("health_stations", "health-001", (10, 10), "健康驿站服务大厅", "1层", None, "青溪区卫健委"),
    ("health_stations", "health-004", (10, 10), "健康驿站服务大厅", "1层", None, "青溪区卫健委"),
    ("health_stations", "health-007", (10, 10), "健康驿站服务大厅", "1层", None, "青溪区卫健委"),
    ("health_stations", "health-013", (10, 10), "健康驿站服务大厅", "1层", None, "青溪区卫健委"),
    ("venues", "venue-005", (20, 0), "场馆服务台", "1层", None, "青溪区体育局"),
    ("venues", "venue-020", (20, 0), "场馆服务台", "1层", None, "青溪区体育局"),
    ("venues", "venue-048", (20, 0), "场馆服务台", "1层", None, "青溪区体育局"),
    ("school_facilities", None, (0, 20), "学校门卫室", "1层", "Mo-Fr 07:00-18:00", "青溪区教育局"),
]


def _emergency(frame: _Frame, layers: dict[str, gpd.GeoDataFrame]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """AEDs beside some venues, metro stations, health stations and a school (so other venues have none near),
    and two hospitals with emergency departments, one each side of the river; no random draw, so the rest
    of the city is unchanged."""
    records, geoms = [], []
    for k, (layer, fid, (dx, dy), building, floor, hours, owner) in enumerate(_AED_SITES):
        frame_of = layers[layer].to_crs(frame.crs)
        row = frame_of.iloc[0] if fid is None else frame_of[frame_of["feature_id"] == fid].iloc[0]
        if hours is None:
            hours = row.get("opening_hours")
        p = row.geometry.representative_point()
        place = row.get("name") or row.get("school") or ""
        name = (building if building.startswith(place[:2]) else place) + "AED"
        records.append({"feature_id": f"aed-{k + 1:03d}", "name": name, "building": building,
                        "floor": floor, "opening_hours": hours, "owner": owner,
                        "last_inspection": dt.date(2026, 3 + k % 8, 1 + (7 * k) % 27),
                        "phone": f"000-6200-{k + 1:04d}"})
        geoms.append(Point(p.x + dx, p.y + dy))
    aeds = gpd.GeoDataFrame(records, geometry=geoms, crs=frame.crs).to_crs(4326)
    hospitals = frame.gdf([
        {"feature_id": "hospital-001", "name": "青溪区人民医院", "grade": "grade_3", "emergency": True,
         "chest_pain_centre": True, "stroke_centre": True, "phone": "000-6012-0120", "address": "青溪区府前街88号"},
        {"feature_id": "hospital-002", "name": "青溪区第二人民医院", "grade": "grade_2", "emergency": True,
         "chest_pain_centre": False, "stroke_centre": True, "phone": "000-6022-0120", "address": "青溪区新城大道200号"},
    ], [box(1450, 5000, 1650, 5150), box(6900, 3300, 7050, 3450)])
    return aeds, hospitals


def _greenway(river) -> tuple[list[dict], list, list[dict], list]:
    ys = np.linspace(250, SIZE_M - 250, 80)
    west = LineString(np.column_stack([_river_x(ys) - 75, ys]))
    loop = LineString(Point(2250, 4100).buffer(320).exterior.coords)
    ways = [{"feature_id": "greenway-01", "name": "青溪滨河绿道", "length_m": round(west.length, 1),
             "width_m": 6.0, "surface": "透水沥青"},
            {"feature_id": "greenway-02", "name": "中心公园健身步道", "length_m": round(loop.length, 1),
             "width_m": 3.0, "surface": "塑胶"}]
    entrances, ent_geoms = [], []
    for k, d in enumerate(np.arange(0, west.length, 550)):
        entrances.append({"feature_id": f"gw-entrance-01-{k + 1:02d}", "greenway_id": "greenway-01",
                          "name": f"滨河绿道{k + 1}号入口"})
        ent_geoms.append(west.interpolate(d))
    for k, d in enumerate(np.arange(0, loop.length, loop.length / 4)):
        entrances.append({"feature_id": f"gw-entrance-02-{k + 1:02d}", "greenway_id": "greenway-02",
                          "name": f"中心公园步道{k + 1}号入口"})
        ent_geoms.append(loop.interpolate(d))
    return ways, [west, loop], entrances, ent_geoms


def _candidates(rng: np.random.Generator, avoid) -> tuple[list[dict], list]:
    records, geoms = [], []
    places = [((6700, 4500), 1200, "vacant_land")] * 18 + [((7000, 6500), 700, "vacant_land")] * 6 + \
             [(_OLD, 1400, "street_point")] * 10 + [(_SECOND, 900, "rooftop")] * 4
    for k, (centre, spread, kind) in enumerate(places):
        p = _sample_point(rng, centre, spread, avoid)
        area = float(round(rng.uniform(800, 6000) if kind == "vacant_land" else rng.uniform(200, 900)))
        records.append({"feature_id": f"site-{k + 1:03d}", "name": f"候选场地{k + 1:02d}",
                        "site_kind": kind, "area_m2": area, "capacity": int(area / 10)})
        geoms.append(p)
    return records, geoms


def _land_use(rng: np.random.Generator, river_area, parks: list) -> tuple[list[dict], list]:
    records = [{"name": "青溪", "land_use": "water"}]
    geoms = [river_area.intersection(box(0, 0, SIZE_M, SIZE_M))]
    for k, park in enumerate(parks):
        records.append({"name": ["中心公园", "南湖公园", "书院公园", "西山公园", "北岸公园", "东湖公园"][k],
                        "land_use": "park"})
        geoms.append(park)
    taken = shapely.union_all([river_area.buffer(40)] + parks)
    step = 600.0
    for i in range(int(SIZE_M / step)):
        for j in range(int(SIZE_M / step)):
            block = box(i * step + 25, j * step + 25, (i + 1) * step - 25, (j + 1) * step - 25)
            block = block.difference(taken)
            if block.is_empty or block.area < 20000:
                continue
            x = block.centroid.x
            r = rng.random()
            if x > _river_x(block.centroid.y) + 300:
                use = "vacant" if r < 0.25 else ("industrial" if r < 0.35 else "residential")
            else:
                use = "commercial" if r < 0.15 else ("education" if r < 0.2 else "residential")
            for part in shapely.get_parts(block):
                if part.area >= 20000:
                    records.append({"name": None, "land_use": use})
                    geoms.append(part)
    return records, geoms


def build_demo_city(seed: int = SEED) -> DemoCity:
    """Build the demo city's layers and population raster (same seed, same city).

    Returns
    -------
    DemoCity
        Layers keyed by catalogue name (EPSG:4326) and the population GeoTIFF bytes.
    """
    rng = np.random.default_rng(seed)
    frame = _Frame()
    river = _river()
    river_area = river.buffer(45)
    parks = _parks()
    avoid = shapely.union_all([river_area.buffer(60)] + parks)
    layers: dict[str, gpd.GeoDataFrame] = {}

    tif, _grid = _population_raster(frame, parks, river_area, rng)
    recs, geoms = _street_network(rng, river_area)
    street_ends = np.unique(np.vstack([np.asarray(g.coords) for g in geoms]), axis=0)
    ways, way_geoms, entrances, ent_geoms = _greenway(river)
    # Riverside footpaths along the greenway are walkable too.
    for g in way_geoms:
        coords = np.asarray(g.coords)
        for a, b in zip(coords[:-1], coords[1:]):
            recs.append({"name": None, "highway": "footway", "oneway": None, "maxspeed": None})
            geoms.append(LineString([a, b]))
    # Each entrance has a path joining the greenway to the nearest street corner.
    path_vertices = np.vstack([np.asarray(g.coords) for g in way_geoms])
    for p in ent_geoms:
        xy = np.array([p.x, p.y])
        on_path = path_vertices[np.argmin(np.hypot(*(path_vertices - xy).T))]
        corner = street_ends[np.argmin(np.hypot(*(street_ends - xy).T))]
        recs.append({"name": None, "highway": "footway", "oneway": None, "maxspeed": None})
        geoms.append(LineString([on_path, xy, corner]))
    layers["walk_network"] = frame.gdf(recs, geoms)
    layers["walk_network"]["feature_id"] = [f"way-{k + 1:05d}" for k in range(len(recs))]
    layers["greenways"] = frame.gdf(ways, way_geoms)
    layers["greenway_entrances"] = frame.gdf(entrances, ent_geoms)
    for name, builder in (("venues", _venues), ("school_facilities", _schools),
                          ("health_stations", _health_stations), ("candidate_sites", _candidates)):
        recs, geoms = builder(rng, avoid)
        layers[name] = frame.gdf(recs, geoms)
    recs, geoms = _metro(river)
    layers["metro_stations"] = frame.gdf(recs, geoms)
    layers["aeds"], layers["hospitals"] = _emergency(frame, layers)
    recs, geoms = _boundaries(rng)
    layers["boundaries"] = frame.gdf(recs, geoms)
    layers["boundaries"]["feature_id"] = [f"unit-{c}" for c in layers["boundaries"]["code"]]
    recs, geoms = _land_use(rng, river_area, parks)
    layers["land_use"] = frame.gdf(recs, geoms)
    layers["land_use"]["feature_id"] = [f"landuse-{k + 1:04d}" for k in range(len(recs))]
    for g in layers.values():
        g["source"] = DEMO_SOURCE
    records = {"venue_usage": _usage_records(rng, layers["venues"]),
               "satisfaction": _survey_records(rng, layers["boundaries"])}
    return DemoCity(layers=layers, population_tif=tif, metric_crs=frame.crs.to_string(), records=records,
                    earlier=[("school_facilities", _schools_earlier(layers["school_facilities"]), EARLIER_SOURCE)])


#: The demo's usage records cover these eight weeks (Monday to Sunday).
USAGE_START = dt.date(2026, 8, 3)
USAGE_DAYS = 56
EARLIER_SOURCE = "demo city (synthetic), 2026 Q2 opening list"


#: People exercising at once where a venue's capacity counts spectators' seats (the stadium's 20,000, a
#: gymnasium's 2,000): visits were once made from the seats as if each turned over all day (196,173 a day at the
#: stadium, half the district).
EXERCISE_PLACES = {"stadium": 600, "gymnasium": 300}


def _usage_records(rng: np.random.Generator, venues: gpd.GeoDataFrame) -> pd.DataFrame:
    """Daily visits per venue: busy, ordinary and quiet venues, busier at weekends, each day's count within what
    the venue can take (:func:`geo.usage.daily_ceiling`)."""
    levels = np.array([0.12, 0.22, 0.45, 0.6, 0.7, 0.95, 1.15])
    weights = np.array([1, 2, 3, 4, 3, 2, 1], dtype=float)
    rows = []
    days = [USAGE_START + dt.timedelta(days=d) for d in range(USAGE_DAYS)]
    for v in venues.itertuples():
        hours = parse_opening_hours(v.opening_hours) if v.opening_hours else None
        level = rng.choice(levels, p=weights / weights.sum())
        places = EXERCISE_PLACES.get(v.venue_kind, v.capacity)
        for d in days:  # a day's visits follow that day's open hours (none on a closed day)
            open_h = hours.day_minutes(d.weekday(), on=d) / 60 if hours is not None else 12.0
            weekend = 1.25 if d.weekday() >= 5 else 0.9
            count = places * open_h / 1.5 * level * weekend * rng.uniform(0.85, 1.15)
            rows.append((v.feature_id, d, "day", "visits", int(round(count)), DEMO_SOURCE))
    return pd.DataFrame(rows, columns=["venue_id", "date", "period", "measure", "count", "source"])


def _survey_records(rng: np.random.Generator, boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    """Mean satisfaction per street and quarter; one street's sample is too small to publish."""
    streets = boundaries.loc[boundaries["level"] == "street", "code"].tolist()
    rows = []
    for period in ("2026Q2", "2026Q3"):
        for k, code in enumerate(streets):
            n = 6 if k == len(streets) - 1 else int(rng.integers(40, 160))
            rows.append((code, period, float(round(rng.uniform(68, 92), 1)), n, DEMO_SOURCE))
    return pd.DataFrame(rows, columns=["unit_code", "period", "score", "respondents", "source"])


def _schools_earlier(schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The school list a quarter earlier: every third school now open was not yet."""
    earlier = schools.copy()
    opened = earlier["open_to_public"].astype(bool).to_numpy()
    school_no = earlier["feature_id"].str.extract(r"school-(\d+)", expand=False).astype(int).to_numpy()
    later = opened & (school_no % 3 == 0)
    earlier.loc[later, "open_to_public"] = False
    earlier.loc[later, "opening_hours"] = None
    earlier.loc[later, "booking_required"] = False
    earlier["source"] = EARLIER_SOURCE
    return earlier


def write_demo_city(store, city: DemoCity | None = None, *, user: str = "demo-builder",
                    bookings: bool = True, reports: bool = True) -> dict[str, int]:
    """Write the demo city into ``store``; returns feature counts per layer.

    ``bookings``: also the bookable resources, courses, school calendar and three weeks of
    bookings around today (:mod:`demo.bookings`).  ``reports``: also four months of field
    reports in every state (:mod:`demo.reports`).
    """
    city = city or build_demo_city()
    counts = {}
    earlier = {name: (frame, source) for name, frame, source in city.earlier}
    for name, frame in city.layers.items():
        first, source = earlier.get(name, (frame, DEMO_SOURCE))
        result = store.layers.write(name, first, user=user, source=source)
        counts[name] = result.n_total
    store.rasters.write("population", city.population_tif, user=user, source=DEMO_SOURCE)
    # The current state of layers with an earlier one comes last, so the history reads as a trend.
    for name in earlier:
        counts[name] = store.layers.write(name, city.layers[name], user=user, source=DEMO_SOURCE).n_total
    for kind, rows in city.records.items():
        store.records.write(kind, rows, mode="replace", user=user, source=DEMO_SOURCE)
        counts[kind] = len(rows)
    from demo.health import write_health_records

    counts["health_indicators"], counts["health_indicators_refused"] = write_health_records(store, city, user=user)
    if bookings:
        from demo.bookings import book_demo, write_booking_records

        now = dt.datetime.now().replace(second=0, microsecond=0)
        write_booking_records(store, now.date(), user=user)
        counts.update({f"bookings_{k}": v for k, v in book_demo(store, now=now, user=user).items()})
    if reports:
        from demo.reports import write_demo_reports

        made = write_demo_reports(store, now=dt.datetime.now().replace(second=0, microsecond=0))
        counts.update({f"field_reports_{k}": v for k, v in sorted(made.items())})
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line: build the demo city into a GeoPackage (or a PostGIS URL)."""
    from geo.errors import OneMapError
    from layers.stores import open_store

    parser = argparse.ArgumentParser(prog="python -m demo.city", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="GeoPackage path to create, or a postgresql:// URL")
    parser.add_argument("--if-missing", action="store_true",
                        help="do nothing when the GeoPackage already exists")
    args = parser.parse_args(argv)
    target = args.target
    is_file = not target.startswith(("postgres://", "postgresql"))
    if is_file and args.if_missing and Path(target).exists():
        print(f"{target} exists; leaving it as it is (delete it to rebuild the demo city).")
        return 0
    if is_file and Path(target).exists():
        print(f"{target} exists; delete it first to rebuild the demo city.", file=sys.stderr)
        return 2
    try:
        city = build_demo_city()
        if is_file:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            # this builder's own partial file: two builders at once (make demo twice) each finish theirs
            partial = Path(target).with_name(f"{Path(target).name}.{os.getpid()}.building.gpkg")
            partial.unlink(missing_ok=True)
            with open_store(partial, create=True) as store:
                counts = write_demo_city(store, city)
            partial.replace(target)
            partial.with_name(partial.name + ".lock").unlink(missing_ok=True)  # the build's own lock file
        else:
            with open_store(target) as store:
                counts = write_demo_city(store, city)
    except OneMapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = population_total(city.population_tif)
    print(f"Built {DEMO_LABEL_EN} into {target}:")
    for name, n in counts.items():
        print(f"  {name:20s} {n:6d}")
    print(f"  population raster    {total:,.0f} residents in {CELL_M:.0f} m cells")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["build_demo_city", "write_demo_city", "DemoCity", "DEMO_LABEL_ZH", "DEMO_LABEL_EN",
           "DEMO_SOURCE"]

"""OpenStreetMap extracts (.osm XML or .pbf, read by GDAL's OSM driver) as catalogue layers.

Tags are mapped to the catalogue by what the feature is for:

- ``walk_network``: lines with a ``highway`` value (``foot``/``access`` kept, so the
  network builder can leave out ``foot=no`` and private ways);
- ``venues``: ``leisure`` pitch / sports_centre / stadium / swimming_pool /
  fitness_centre / fitness_station / track, outside school grounds;
- ``school_facilities``: the same inside school grounds (``amenity=school``), marked not
  open to the public, since OSM does not say whether a school opens its field;
- ``health_stations``: ``amenity`` hospital / clinic / doctors;
- ``aeds``: ``emergency=defibrillator`` (``defibrillator:location``, ``level``, ``opening_hours``,
  ``operator``, ``phone``);
- ``hospitals``: ``amenity=hospital`` or ``healthcare=hospital``; ``emergency=yes`` marks an
  emergency department, ``emergency=no`` none, and a hospital without the tag (most in China) is
  kept with its emergency department *unconfirmed* (``emergency`` empty): ambulance times use it,
  marked so, until the health commission confirms it (``emergency:phone`` or ``phone``);
- road lines also keep ``oneway`` (``yes``/``-1``/``no``; roundabouts one-way) and ``maxspeed``;
- ``metro_stations``: ``railway=station`` with ``station=subway`` (or ``subway=yes``);
- ``greenways``: ways named as greenways or trails (绿道, 健身步道 …), walking and cycling route
  relations (``route=foot|hiking|bicycle|running|fitness_trail``), and the paths inside each park
  (merged, at least :data:`PARK_TRAIL_MIN_M`); ``greenway_entrances`` where they meet a street;
- ``boundaries``: ``boundary=administrative`` at ``admin_level`` 6–7 (district), 8 (street) and
  9–10 (community), each with its parent; an extract without them gets none, and
  :func:`layers.units_grid.grid_units` gives regular units instead;
- ``land_use``: ``landuse`` residential / commercial / retail / industrial, parks.

OSM carries no population: :func:`geo.demand.estimate_population_from_land_use` makes an
estimate from the residential land, labelled as one.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.errors import InputFileError
from layers.vocabulary import CODED_VALUES

OSM_SOURCE = "OpenStreetMap contributors (ODbL)"
_SPORT_LEISURE = {"pitch": "pitch", "sports_centre": "gymnasium", "stadium": "stadium",
                  "swimming_pool": "pool", "fitness_centre": "gym", "fitness_station": "park_fitness",
                  "track": "pitch", "sports_hall": "gymnasium"}
_SCHOOL_KIND = {"pitch": "pitch", "track": "track_field", "swimming_pool": "pool", "sports_centre": "gymnasium",
                "sports_hall": "gymnasium", "stadium": "track_field", "fitness_station": "other",
                "fitness_centre": "gymnasium"}
_HEALTH = {"hospital": "hospital", "clinic": "clinic", "doctors": "clinic"}
_ONE_WAY = {"yes": "yes", "true": "yes", "1": "yes", "-1": "-1", "reverse": "-1", "no": "no", "false": "no",
            "0": "no"}
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})
_LAND_USE = {"residential": "residential", "commercial": "commercial", "retail": "commercial",
             "industrial": "industrial", "grass": "green", "village_green": "green", "meadow": "green"}
_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_other_tags(text: object) -> dict[str, str]:
    """GDAL's ``other_tags`` text (``"k"=>"v","k2"=>"v2"``) as a dict."""
    if not isinstance(text, str):
        return {}
    return {k: v for k, v in _TAG.findall(text)}


def _tag_column(frame: pd.DataFrame, key: str) -> pd.Series:
    own = frame[key] if key in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    extra = frame["other_tags"].map(lambda t: parse_other_tags(t).get(key)) if "other_tags" in frame.columns \
        else pd.Series([None] * len(frame), index=frame.index)
    return own.where(own.notna(), extra)


def _read(path: Path, layer: str) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # GDAL raises several types for a broken or foreign file
        raise InputFileError(f"{path.name}: cannot read OSM layer {layer!r} ({exc}).") from None


def _read_optional(path: Path, layer: str) -> gpd.GeoDataFrame:
    """An OSM layer the extract may lack (an empty frame then)."""
    if layer not in {name for name, _kind in pyogrio.list_layers(path)}:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return _read(path, layer)


def _ids(prefix: str, frame: pd.DataFrame) -> list[str]:
    ids = frame["osm_id"] if "osm_id" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    if "osm_way_id" in frame.columns:
        ids = ids.where(ids.notna(), "w" + frame["osm_way_id"].astype("string"))
    return [f"osm-{prefix}-{v}" for v in ids.astype("string").fillna("x")]


def _emergency_layers(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, ...]:
    """``emergency=defibrillator`` points as AEDs; hospitals (``amenity=hospital`` or ``healthcare=hospital``)
    with their ``emergency`` tag (yes, no, or empty when untagged: unconfirmed)."""
    aed = points[_tag_column(points, "emergency") == "defibrillator"]
    access = _tag_column(aed, "opening_hours")
    access = access.where(access.notna(), _tag_column(aed, "defibrillator:access").map({"yes": "24/7"}))
    aeds = gpd.GeoDataFrame({
        "feature_id": _ids("aed", aed), "name": aed["name"].fillna("AED"),
        "building": _tag_column(aed, "defibrillator:location"), "floor": _tag_column(aed, "level"),
        "opening_hours": access, "owner": _tag_column(aed, "operator"), "phone": _tag_column(aed, "phone"),
    }, geometry=aed.geometry, crs=4326)
    parts = []
    for frame in (points, areas):
        is_hospital = (_tag_column(frame, "amenity") == "hospital") | (_tag_column(frame, "healthcare") == "hospital")
        parts.append(frame[is_hospital])
    h = pd.concat([parts[0], parts[1].assign(geometry=parts[1].geometry.representative_point())], ignore_index=True)
    h = gpd.GeoDataFrame(h, geometry="geometry", crs=4326)
    phone = _tag_column(h, "emergency:phone")
    tagged = _tag_column(h, "emergency").str.lower()
    emergency = pd.Series([True if v in _YES else (False if v in _NO else None) for v in tagged], index=h.index,
                          dtype=object)  # untagged: not confirmed (most Chinese hospitals in OSM)
    hospitals = gpd.GeoDataFrame({
        "feature_id": _ids("hospital", h), "name": h["name"].fillna("医院"),
        "emergency": emergency,
        "phone": phone.where(phone.notna(), _tag_column(h, "phone")),
        "address": _tag_column(h, "addr:full"),
    }, geometry=h.geometry, crs=4326)
    return aeds, hospitals


#: Route relations walked or cycled for exercise (``route=…``).
_TRAIL_ROUTES = frozenset({"foot", "hiking", "walking", "running", "bicycle", "fitness_trail"})
#: Names that say a way is a greenway or fitness trail.
_TRAIL_NAME = re.compile(r"绿道|健身步道|健康步道|慢行道|步道|greenway|fitness trail", re.I)
#: Ways a walker uses off the street (paths inside a park count as its trail).
_PATHS = frozenset({"footway", "path", "cycleway", "pedestrian", "track", "steps", "bridleway"})
#: A park's paths make a trail when they add up to this much (metres).
PARK_TRAIL_MIN_M = 300.0
#: Administrative levels of China in OSM (``admin_level``) → the catalogue's unit levels.
_ADMIN_LEVELS = {"6": "district", "7": "district", "8": "street", "9": "community", "10": "community"}
#: Where greenways came from, said in the layer's source.
GREENWAY_SOURCES = {"named": "ways named as greenways", "route": "walking and cycling route relations",
                    "park": "paths inside parks"}


def _length_m(geoms: gpd.GeoSeries) -> np.ndarray:
    if not len(geoms):
        return np.zeros(0)
    return geoms.to_crs(geoms.estimate_utm_crs()).length.to_numpy()


def _greenways(lines: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Greenways and fitness trails: ways named as such, walking/cycling route relations, and the paths inside
    each park (merged per park, when long enough), each with ``how`` saying which."""
    parts = []
    highway = lines["highway"] if "highway" in lines.columns else pd.Series([None] * len(lines), index=lines.index)
    named = lines[lines["name"].fillna("").str.contains(_TRAIL_NAME) | (_tag_column(lines, "route") == "fitness_trail")]
    for name, group in named.groupby(named["name"].fillna("绿道"), sort=True):
        parts.append({"name": name, "how": "named", "osm": group, "geometry": shapely.union_all(group.geometry)})
    if len(routes):
        route = _tag_column(routes, "route")
        for _, r in routes[route.isin(list(_TRAIL_ROUTES))].iterrows():
            parts.append({"name": r.get("name") or "绿道", "how": "route", "osm": routes.loc[[_]],
                          "geometry": r.geometry})
    leisure = _tag_column(areas, "leisure")
    parks = areas[leisure.isin(["park", "garden", "nature_reserve"])]
    paths = lines[highway.isin(list(_PATHS))]
    if len(parks) and len(paths):
        taken = shapely.union_all([p["geometry"] for p in parts]) if parts else None
        for _, park in parks.iterrows():
            inside = paths[paths.intersects(park.geometry)]
            if inside.empty:
                continue
            geom = shapely.intersection(shapely.union_all(inside.geometry.to_numpy()), park.geometry)
            if taken is not None:
                geom = shapely.difference(geom, taken.buffer(1e-5))
            if geom.is_empty or _length_m(gpd.GeoSeries([geom], crs=4326))[0] < PARK_TRAIL_MIN_M:
                continue
            park_name = park.get("name")
            parts.append({"name": f"{park_name if isinstance(park_name, str) and park_name else '公园'}步道",
                          "how": "park", "osm": inside, "geometry": geom})
    if not parts:
        return gpd.GeoDataFrame({"feature_id": [], "name": [], "how": [], "length_m": []},
                                geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    geoms = [shapely.line_merge(g) if g.geom_type == "MultiLineString" else g for g in
             (p["geometry"] for p in parts)]
    geoms = [g if g.geom_type in ("LineString", "MultiLineString") else
             shapely.multilinestrings(shapely.get_parts(g)[shapely.get_type_id(shapely.get_parts(g)) == 1])
             for g in geoms]
    frame = gpd.GeoDataFrame({
        "feature_id": [f"osm-greenway-{p['how']}-{k + 1:03d}" for k, p in enumerate(parts)],
        "name": [p["name"] for p in parts], "how": [p["how"] for p in parts],
    }, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)
    frame = frame[~frame.geometry.is_empty].reset_index(drop=True)
    frame["length_m"] = np.round(_length_m(frame.geometry), 1)
    return frame


def _entrances(greenways: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, *, merge_m: float = 30.0) -> gpd.GeoDataFrame:
    """Entrances: where a greenway meets a street (a road that is not itself a path), one per ``merge_m``."""
    streets = roads[~roads["highway"].isin(list(_PATHS))]
    rows = []
    if len(greenways) and len(streets):
        metric = greenways.estimate_utm_crs()
        g_m, s_m = greenways.to_crs(metric), streets.to_crs(metric)
        tree = shapely.STRtree(s_m.geometry.to_numpy())
        for gid, name, geom in zip(greenways["feature_id"], greenways["name"], g_m.geometry):
            hits = tree.query(geom, predicate="intersects")
            pts = [p for h in hits for p in shapely.get_parts(shapely.intersection(geom, s_m.geometry.iloc[h]))
                   if p.geom_type == "Point"]
            kept: list = []
            for p in pts:
                if all(p.distance(q) > merge_m for q in kept):
                    kept.append(p)
            for k, p in enumerate(kept, start=1):
                rows.append({"feature_id": f"{gid}-entrance-{k:02d}", "greenway_id": gid,
                             "name": f"{name} 出入口 {k}", "geometry": p})
        if rows:
            return gpd.GeoDataFrame(rows, geometry="geometry", crs=metric).to_crs(4326)
    return gpd.GeoDataFrame({"feature_id": [], "greenway_id": [], "name": []},
                            geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def _boundaries(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Administrative boundaries (``boundary=administrative``) at the district, street and community levels, each
    with its parent (the smallest unit of a higher level containing it)."""
    admin = areas[(_tag_column(areas, "boundary") == "administrative")
                  & _tag_column(areas, "admin_level").isin(list(_ADMIN_LEVELS))].copy()
    if admin.empty:
        return gpd.GeoDataFrame({"feature_id": [], "name": [], "code": [], "level": [], "parent_code": []},
                                geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    level = _tag_column(admin, "admin_level").map(_ADMIN_LEVELS)
    ref = _tag_column(admin, "ref:GB").fillna(_tag_column(admin, "ref"))
    ids = _ids("admin", admin)
    codes = [str(r) if isinstance(r, str) and r else i.removeprefix("osm-admin-") for r, i in zip(ref, ids)]
    out = gpd.GeoDataFrame({"feature_id": ids, "name": admin["name"].fillna("").to_numpy(), "code": codes,
                            "level": level.to_numpy(), "parent_code": None}, geometry=admin.geometry.to_numpy(),
                           crs=4326)
    rank = {"district": 0, "street": 1, "community": 2}
    inside = out.geometry.representative_point()
    for i in range(len(out)):
        higher = [(out.geometry.iloc[j].area, out["code"].iloc[j]) for j in range(len(out))
                  if rank[out["level"].iloc[j]] < rank[out["level"].iloc[i]] and out.geometry.iloc[j].contains(
                      inside.iloc[i])]
        out.loc[i, "parent_code"] = min(higher)[1] if higher else None
    return out


def read_osm_layers(path: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Read an OSM extract into catalogue layers (EPSG:4326).

    Raises
    ------
    InputFileError
        When the file is missing or GDAL cannot read it as OSM.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file.")
    lines = _read(path, "lines")
    points = _read(path, "points")
    areas = _read(path, "multipolygons")
    out: dict[str, gpd.GeoDataFrame] = {}

    roads = lines[lines["highway"].notna()].copy()
    oneway = _tag_column(roads, "oneway").map(_ONE_WAY.get)
    roundabout = _tag_column(roads, "junction").isin(["roundabout", "circular"])
    oneway = oneway.where(oneway.notna() | ~roundabout, "yes")  # a roundabout is one-way unless tagged otherwise
    out["walk_network"] = gpd.GeoDataFrame({
        "feature_id": _ids("way", roads), "name": roads["name"], "highway": roads["highway"],
        "oneway": oneway, "maxspeed": _tag_column(roads, "maxspeed"),
        "foot": _tag_column(roads, "foot"), "access": _tag_column(roads, "access"),
    }, geometry=roads.geometry, crs=4326)

    leisure = _tag_column(areas, "leisure")
    amenity = _tag_column(areas, "amenity")
    schools = areas[amenity.isin(["school"])]
    school_union = shapely.union_all(schools.geometry.to_numpy()) if len(schools) else None
    sport_areas = areas[leisure.isin(list(_SPORT_LEISURE))].copy()
    p_leisure = _tag_column(points, "leisure")
    sport_points = points[p_leisure.isin(list(_SPORT_LEISURE))].copy()
    sport = pd.concat([sport_areas.assign(_kind=leisure[sport_areas.index]),
                       sport_points.assign(_kind=p_leisure[sport_points.index])], ignore_index=True)
    sport = gpd.GeoDataFrame(sport, geometry="geometry", crs=4326)
    in_school = (shapely.intersects(shapely.point_on_surface(sport.geometry.to_numpy()), school_union)
                 if school_union is not None else np.zeros(len(sport), dtype=bool))
    metric = sport.estimate_utm_crs() if len(sport) else None
    area = sport.to_crs(metric).area.where(sport.geom_type.isin(["Polygon", "MultiPolygon"])) if len(sport) else []
    v = sport[~in_school]
    out["venues"] = gpd.GeoDataFrame({
        "feature_id": _ids("sport", v),
        "name": v["name"].fillna(v["_kind"].map(lambda k: CODED_VALUES["venue_kind"][_SPORT_LEISURE[k]][0])),
        "venue_kind": v["_kind"].map(_SPORT_LEISURE), "sports_area_m2": pd.Series(area, index=sport.index)[~in_school],
        "opening_hours": _tag_column(v, "opening_hours"), "is_public": True,
    }, geometry=v.geometry, crs=4326)
    s = sport[in_school]
    school_names = []
    for g in s.geometry:
        hit = schools[schools.intersects(g.representative_point())]
        school_names.append(hit["name"].iloc[0] if len(hit) and pd.notna(hit["name"].iloc[0]) else "学校")
    out["school_facilities"] = gpd.GeoDataFrame({
        "feature_id": _ids("school-sport", s), "school": school_names,
        "facility_kind": s["_kind"].map(_SCHOOL_KIND), "area_m2": pd.Series(area, index=sport.index)[in_school],
        "open_to_public": False, "opening_hours": _tag_column(s, "opening_hours"),
    }, geometry=s.geometry, crs=4326)

    h_pts = points[_tag_column(points, "amenity").isin(list(_HEALTH))]
    h_areas = areas[amenity.isin(list(_HEALTH))]
    health = pd.concat([h_pts.assign(_k=_tag_column(h_pts, "amenity")),
                        h_areas.assign(_k=amenity[h_areas.index],
                                       geometry=h_areas.geometry.representative_point())], ignore_index=True)
    out["health_stations"] = gpd.GeoDataFrame({
        "feature_id": _ids("health", health), "name": health["name"].fillna("医疗机构"),
        "station_kind": health["_k"].map(_HEALTH), "opening_hours": _tag_column(health, "opening_hours"),
    }, geometry=health.geometry, crs=4326)

    out["aeds"], out["hospitals"] = _emergency_layers(points, areas)

    railway = _tag_column(points, "railway")
    station = _tag_column(points, "station")
    subway = _tag_column(points, "subway")
    metro = points[(railway == "station") & ((station == "subway") | (subway == "yes"))]
    out["metro_stations"] = gpd.GeoDataFrame({
        "feature_id": _ids("metro", metro), "name": metro["name"], "line": _tag_column(metro, "line"),
    }, geometry=metro.geometry, crs=4326)

    routes = _read_optional(path, "multilinestrings")
    out["greenways"] = _greenways(lines, routes, areas)
    out["greenway_entrances"] = _entrances(out["greenways"], roads)
    out["boundaries"] = _boundaries(areas)

    landuse = _tag_column(areas, "landuse")
    lu = areas[landuse.isin(list(_LAND_USE)) | leisure.isin(["park", "garden"])]
    kind = landuse[lu.index].map(_LAND_USE).where(lambda k: k.notna(), "park")
    out["land_use"] = gpd.GeoDataFrame({
        "feature_id": _ids("landuse", lu), "name": lu["name"], "land_use": kind,
    }, geometry=lu.geometry, crs=4326)
    for frame in out.values():
        frame["source"] = OSM_SOURCE
        frame.attrs["source"] = f"{path.name} ({OSM_SOURCE})"
    hows = out["greenways"].pop("how")  # how each greenway was found, kept in its source
    out["greenways"]["source"] = [f"{OSM_SOURCE}: {GREENWAY_SOURCES[h]}" for h in hows]
    return out

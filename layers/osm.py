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
- ``hospitals``: ``amenity=hospital`` or ``healthcare=hospital``, with ``emergency=yes`` marking an
  emergency department (``emergency:phone`` or ``phone``);
- road lines also keep ``oneway`` (``yes``/``-1``/``no``; roundabouts one-way) and ``maxspeed``;
- ``metro_stations``: ``railway=station`` with ``station=subway`` (or ``subway=yes``);
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


def _ids(prefix: str, frame: pd.DataFrame) -> list[str]:
    ids = frame["osm_id"] if "osm_id" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    if "osm_way_id" in frame.columns:
        ids = ids.where(ids.notna(), "w" + frame["osm_way_id"].astype("string"))
    return [f"osm-{prefix}-{v}" for v in ids.astype("string").fillna("x")]


def _emergency_layers(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, ...]:
    """``emergency=defibrillator`` points as AEDs; hospitals (``amenity=hospital`` or ``healthcare=hospital``)
    with their ``emergency`` tag (only ``emergency=yes`` ones take ambulance calls)."""
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
    hospitals = gpd.GeoDataFrame({
        "feature_id": _ids("hospital", h), "name": h["name"].fillna("医院"),
        "emergency": _tag_column(h, "emergency").fillna("").str.lower().isin(_YES),
        "phone": phone.where(phone.notna(), _tag_column(h, "phone")),
        "address": _tag_column(h, "addr:full"),
    }, geometry=h.geometry, crs=4326)
    return aeds, hospitals


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
        "feature_id": _ids("sport", v), "name": v["name"].fillna(v["_kind"].map(_SPORT_LEISURE)),
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

    landuse = _tag_column(areas, "landuse")
    lu = areas[landuse.isin(list(_LAND_USE)) | leisure.isin(["park", "garden"])]
    kind = landuse[lu.index].map(_LAND_USE).where(lambda k: k.notna(), "park")
    out["land_use"] = gpd.GeoDataFrame({
        "feature_id": _ids("landuse", lu), "name": lu["name"], "land_use": kind,
    }, geometry=lu.geometry, crs=4326)
    for frame in out.values():
        frame["source"] = OSM_SOURCE
        frame.attrs["source"] = f"{path.name} ({OSM_SOURCE})"
    return out

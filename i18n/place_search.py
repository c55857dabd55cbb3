"""Find a place by what a planner types: its Chinese name, its pinyin (whole or initials: ``qingxi``, ``qxtyzx``)
or English words (the pinyin the English pages show, and the kind: ``stadium``, ``school``, ``street``).

The index is built from the city's own layers — facilities by their names, units (district, street,
community) from the boundaries, roads and metro stations from the walk network's names — so it works offline.
Every word of the query must match one of a place's keys; exact names rank first, then names that start with
the query, then the rest, shorter names first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from i18n.names import romanised, syllables
from i18n.values import value_label
from layers.catalogue import CATALOGUE

#: Which column names a feature of each layer, and which column gives its kind (``None``: the layer's own).
NAMED_LAYERS: dict[str, tuple[str, str | None]] = {
    "venues": ("name", "venue_kind"), "school_facilities": ("school", "facility_kind"),
    "health_stations": ("name", "station_kind"), "hospitals": ("name", None), "aeds": ("name", None),
    "greenways": ("name", None), "greenway_entrances": ("name", None), "metro_stations": ("name", None),
    "candidate_sites": ("name", "site_kind"), "land_use": ("name", "land_use"),
}
#: Words for the units and roads (the boundaries' ``level``; ``road``: a named way of the walk network).
KIND_WORDS: dict[str, tuple[str, str]] = {
    "district": ("区", "district"), "street": ("街道", "street subdistrict"), "community": ("社区", "community"),
    "road": ("道路", "road street"),
}
_SPACES = re.compile(r"[\s·,，、()（）'’-]+")


@dataclass(frozen=True)
class Place:
    """One place a search can fly to: its name, what it is (a layer or a unit level), a point and its bounds
    (WGS-84: west, south, east, north)."""

    name: str
    kind: str
    lon: float
    lat: float
    bounds: tuple[float, float, float, float]


def _fold(text: str) -> str:
    return _SPACES.sub("", str(text).lower())


def _keys(name: str, kind_words: str) -> tuple[str, ...]:
    """What a query word may match: the name, its pinyin whole and by initials, its English pinyin, its kind."""
    sounds = [s for s in syllables(name) if s.strip()]
    return (_fold(name), "".join(sounds).lower(), "".join(s[0] for s in sounds).lower(),
            _fold(romanised(name)), kind_words.lower())


class PlaceIndex:
    """The places of a city, searchable by :meth:`search`."""

    def __init__(self, places: list[Place], kind_words: Mapping[str, str]) -> None:
        self.places = places
        self._keys = [_keys(p.name, kind_words.get(p.kind, "")) for p in places]

    @classmethod
    def from_layers(cls, layers: Mapping[str, gpd.GeoDataFrame | None]) -> PlaceIndex:
        """Every named feature of ``layers`` (a layer name → its frame; missing layers are left out)."""
        places: list[Place] = []
        words: dict[str, str] = {k: f"{zh} {en}" for k, (zh, en) in KIND_WORDS.items()}
        for layer, (column, kind_column) in NAMED_LAYERS.items():
            frame = layers.get(layer)
            if frame is None or frame.empty or column not in frame.columns:
                continue
            spec = CATALOGUE[layer]
            kinds = frame[kind_column] if kind_column in frame.columns else pd.Series(None, index=frame.index)
            for kind in set(kinds.dropna()):
                words[f"{layer}:{kind}"] = (f"{spec.label_zh} {spec.label_en} {value_label(kind_column, kind, 'zh')} "
                                            f"{value_label(kind_column, kind, 'en')}")
            words[layer] = f"{spec.label_zh} {spec.label_en}" + (" metro subway" if layer == "metro_stations" else "")
            places += _places(frame, column, [f"{layer}:{k}" if pd.notna(k) else layer for k in kinds])
        boundaries = layers.get("boundaries")
        if boundaries is not None and not boundaries.empty and {"name", "level"} <= set(boundaries.columns):
            places += _places(boundaries, "name", list(boundaries["level"].astype(str)))
        roads = layers.get("walk_network")
        if roads is not None and not roads.empty and "name" in roads.columns:
            named = roads[roads["name"].notna() & (roads["name"].astype(str).str.strip() != "")]
            dissolved = named.dissolve(by="name", as_index=False)[["name", "geometry"]]
            places += _places(dissolved, "name", ["road"] * len(dissolved))
        return cls(places, words)

    def search(self, query: str, limit: int = 10) -> list[Place]:
        """The places every word of ``query`` matches, best first (at most ``limit``)."""
        words = [_fold(w) for w in str(query).split() if _fold(w)]
        if not words:
            return []
        whole = _fold(query)
        hits = []
        for place, keys in zip(self.places, self._keys):
            if all(any(w in key for key in keys) for w in words):
                name = keys[0]
                rank = 0 if whole in (name, keys[1], keys[2]) else 1 if any(k.startswith(whole) for k in keys[:4]) \
                    else 2
                hits.append((rank, len(place.name), place.name, place))
        hits.sort(key=lambda h: h[:3])
        seen, out = set(), []
        for *_, place in hits:
            if (place.name, place.kind) not in seen:
                seen.add((place.name, place.kind))
                out.append(place)
            if len(out) == limit:
                break
        return out


def _places(frame: gpd.GeoDataFrame, column: str, kinds: list[str]) -> list[Place]:
    shown = frame.to_crs(4326) if frame.crs is not None else frame
    out = []
    for name, kind, geom in zip(shown[column], kinds, shown.geometry):
        if name is None or (isinstance(name, float) and name != name) or not str(name).strip() or geom is None \
                or geom.is_empty:
            continue
        pt = geom.representative_point()
        out.append(Place(str(name), kind, float(pt.x), float(pt.y), tuple(float(v) for v in geom.bounds)))
    return out


__all__ = ["Place", "PlaceIndex", "NAMED_LAYERS", "KIND_WORDS"]

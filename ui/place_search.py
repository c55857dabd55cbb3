"""The search box above a map: find a venue, school, station, unit, road or metro station by its name, pinyin,
initials or English words (:mod:`i18n.place_search`), then fly the map there."""

from __future__ import annotations

import math

import streamlit as st

from i18n import label, t
from i18n.names import place_name
from i18n.place_search import NAMED_LAYERS, Place, PlaceIndex
from i18n.values import value_label
from layers.catalogue import CATALOGUE
from layers.stores import Store
from ui.analysis import layer_versions
from ui.store_access import read_layer_cached

#: The layers a search reads (the named facilities, the units, and the walk network's road names).
SEARCHED = (*NAMED_LAYERS, "boundaries", "walk_network")


@st.cache_resource(show_spinner=False, max_entries=4)
def _index(_store: Store, store_key: str, versions: tuple) -> PlaceIndex:
    have = {name: v for name, kind, v in versions if kind == "vector"}
    return PlaceIndex.from_layers({name: read_layer_cached(_store, store_key, name, have[name])
                                   for name in SEARCHED if name in have})


def place_index(store: Store) -> PlaceIndex:
    """The stored layers' places (built once per layer versions)."""
    return _index(store, store.description, layer_versions(store))


def kind_text(kind: str, lang: str) -> str:
    """What a found place is, in ``lang``: the layer and its kind, the unit level, road or metro station."""
    layer, _, value = kind.partition(":")
    if layer in NAMED_LAYERS:
        spec = CATALOGUE[layer]
        shown = label(spec.label_zh, spec.label_en, lang)
        column = NAMED_LAYERS[layer][1]
        return f"{shown} · {value_label(column, value, lang)}" if value and column else shown
    if layer in ("district", "street", "community"):
        return t(f"level_{layer}", lang)
    return t("kind_road", lang) if layer == "road" else layer


def place_search(store: Store, lang: str, key: str) -> Place | None:
    """A search box and its results; the place picked (the best match until another is picked), or ``None``."""
    query = st.text_input(t("search_place", lang), key=f"{key}.query", placeholder=t("search_hint", lang))
    if not query.strip():
        return None
    hits = place_index(store).search(query)
    if not hits:
        st.caption(t("search_none", lang, q=query.strip()))
        return None
    pick = st.selectbox(t("search_results", lang), range(len(hits)), key=f"{key}.pick.{query.strip()}",
                        format_func=lambda k: f"{place_name(hits[k].name, lang)} · {kind_text(hits[k].kind, lang)}")
    return hits[pick]


def place_fragment(place: Place, gcj02: bool) -> str:
    """The ``#b=`` fragment that zooms a published map (:class:`webmap.hash_zoom.FitFromHash`) to ``place``."""
    from shapely.geometry import Point, box

    from webmap.hash_zoom import bounds_fragment

    w, s, e, n = place.bounds
    return bounds_fragment([box(w, s, e, n) if e > w and n > s else Point(place.lon, place.lat)], "EPSG:4326", gcj02)


def zoom_for(place: Place, width_px: int = 600) -> int:
    """A map zoom that shows ``place`` (a point: a street's view) in about ``width_px`` pixels."""
    w, s, e, n = place.bounds
    extent = max(e - w, (n - s) * 1.3, 1e-9)
    return int(max(3, min(17, math.floor(math.log2(width_px * 360 / (256 * extent))))))


__all__ = ["place_search", "place_index", "kind_text", "place_fragment", "zoom_for", "SEARCHED"]

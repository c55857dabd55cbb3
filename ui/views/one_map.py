"""一张图 / One map: every stored layer on one map, with toggles, pop-ups and a legend."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from demo.city import DEMO_SOURCE
from i18n import label, t
from layers.catalogue import CATALOGUE
from layers.rasters import population_total
from ui import show, state
from ui.auth import active_account
from ui.field_reports import filtered_reports, report_filters
from ui.map_settings import basemap_setting
from ui.place_search import place_fragment, place_search
from ui.store_access import get_store, read_layer_cached, read_raster_cached
from webmap.folium_map import LAYER_STYLES
from webmap.one_map import HIDDEN_BY_DEFAULT, draw_one_map, one_map_key, reports_state
from webmap.publish import MAP_URL, is_published, publish, signed_map_url

#: The map's height when the window is small (it otherwise fills the window below the figures).
MAP_MIN_HEIGHT = 520

lang = state.lang()
store = get_store()
infos = store.layers.list()
st.title(t("app_title", lang))
if not infos:
    st.info(t("no_layers", lang))
    st.stop()

vector = {i.name: i for i in infos if i.kind == "vector" and i.name in LAYER_STYLES}
raster = {i.name: i for i in infos if i.kind == "raster"}
demo = "venues" in vector and store.history("venues")["source"].eq(DEMO_SOURCE).any()
st.caption(("⚠ " + t("demo_banner", lang) + ("　" if lang != "en" else "  ")) * bool(demo) + t("targets", lang))

with st.sidebar:
    # in the sidebar, so the map keeps the whole window below the figures
    found = place_search(store, lang, "one_map.search")
    st.subheader(t("layers", lang))
    shown = []
    for name in LAYER_STYLES:
        if name in vector:
            info = vector[name]
            on = st.checkbox(f"{label(info.label_zh, info.label_en, lang)} ({info.n_features})",
                             value=name not in HIDDEN_BY_DEFAULT, key=f"{state.VISIBLE_LAYERS}.{name}")
            if on:
                shown.append(name)
    show_pop = "population" in raster and st.checkbox(t("population_surface", lang), value=True,
                                                     key=state.SHOW_POPULATION)
    reports = store.field_reports.list()
    report_filter = report_filters(reports, lang)
    show.caption(f"{t('store', lang)}: {store.description}")


@st.cache_data(show_spinner=False, max_entries=8)
def _residents(store_key: str, version: int) -> float:
    return population_total(read_raster_cached(store, store_key, "population", version))


def _build(basemap, gcj02: bool):
    """The folium map of the shown layers (only when no published map matches)."""
    frames = {name: read_layer_cached(store, store.description, name, vector[name].layer_version) for name in shown}
    tif = read_raster_cached(store, store.description, "population", raster["population"].layer_version) \
        if show_pop else None
    chosen = filtered_reports(reports, report_filter) if report_filter is not None else None
    return draw_one_map(frames, tif, lang, basemap, gcj02, reports=reports, shown_reports=chosen, now=now)


cols = st.columns(4)
map_slot = st.empty()  # the map is placed here first, so the browser starts loading it before the figures
basemap, gcj02 = basemap_setting()
now = dt.datetime.now()
# Shown reports are coloured by their age: the map is drawn again each hour while they are shown.
key = one_map_key(store.description, {n: i.layer_version for n, i in vector.items()}, shown,
                  raster["population"].layer_version if show_pop else None, lang,
                  basemap.tiles if basemap is not None else None, gcj02,
                  (reports_state(reports), None if report_filter is None else (report_filter, f"{now:%Y-%m-%d %H}")))
if not is_published(key):  # first request for these inputs: build the map once, then serve the file
    publish(_build(basemap, gcj02), key)
account = active_account()
url = signed_map_url(key, None if account.single_user else account.username)
map_slot.iframe(url + (place_fragment(found, gcj02) if found is not None else ""), height=MAP_MIN_HEIGHT)
# The map takes the rest of the window below the figures, all of it in view: a click focuses the map, and a
# map reaching past the window would make the page jump under the pointer.
st.html(f"<style>iframe[src*='{MAP_URL}']{{height:max({MAP_MIN_HEIGHT}px,calc(100vh - 285px))!important}}</style>")
for col, name in zip(cols, ("venues", "school_facilities", "health_stations")):
    spec = CATALOGUE[name]
    col.metric(label(spec.label_zh, spec.label_en, lang), vector[name].n_features if name in vector else 0)
if "population" in raster:
    cols[3].metric(t("residents", lang), f"{_residents(store.description, raster['population'].layer_version):,.0f}")

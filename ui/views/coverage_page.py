"""覆盖分析 / Coverage: who lives within a 5/10/15-minute walk, where the gaps are, per unit."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from exports.files import surface
from geo.coverage import ANY_LAYER
from geo.errors import OneMapError
from geo.facilities import PRESET_SLOTS, TimeSlot
from geo.gaps import gap_areas, gap_table
from geo.inputs import FACILITY_LAYERS
from geo.units import SPORTS_AREA_TARGET_M2_PER_RESIDENT, assign_units, coverage_by_unit, sports_area_by_unit
from i18n import label, t
from layers.catalogue import CATALOGUE
from ui import show, state
from ui.analysis import layer_versions, run_coverage
from ui.map_settings import basemap_setting
from ui.store_access import get_store, read_layer_cached
from webmap.folium_map import build_map, coverage_overlay, outlines, shift_latlon

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_coverage", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}

CIRCLES = {"circle_5": 300.0, "circle_10": 500.0, "circle_15": 1000.0}
SLOTS = {t("any_time", lang): None, **{k: v.label() for k, v in PRESET_SLOTS.items()}}
layer_names = {k: label(CATALOGUE[k].label_zh, CATALOGUE[k].label_en, lang) for k in FACILITY_LAYERS}
layer_names[ANY_LAYER] = t("all_layers", lang)

with st.form("coverage_form"):
    c1, c2, c3, c4 = st.columns(4)
    layer = c1.selectbox(t("facility_layers", lang), list(layer_names), format_func=layer_names.get,
                         key=state.COVERAGE_LAYER)
    circle = c2.radio(t("life_circle", lang), list(CIRCLES), index=1, format_func=lambda k: t(k, lang),
                      key=state.COVERAGE_CIRCLE)
    method = c3.radio(t("method", lang), ["network", "straight_line"], key=state.COVERAGE_METHOD,
                      format_func=lambda k: t("method_network" if k == "network" else "method_line", lang))
    slot_label = c4.selectbox(t("time_slot", lang), list(SLOTS), key=state.COVERAGE_SLOT)
    level = c4.selectbox(t("unit_level", lang), ["street", "district", "community"], key=state.COVERAGE_LEVEL,
                         format_func=lambda k: t(f"level_{k}", lang))
    st.form_submit_button(t("run", lang), type="primary")

threshold = CIRCLES[circle]
slot = TimeSlot.parse(SLOTS[slot_label]) if SLOTS[slot_label] else None
try:
    with st.spinner("…"):
        result = run_coverage(store, method=method, thresholds=tuple(CIRCLES.values()), slot=slot)
        boundaries = read_layer_cached(store, store.description, "boundaries", versions["boundaries"]) \
            if "boundaries" in versions else None
        units = assign_units(result.demand, boundaries, level=level) if boundaries is not None else None
        gaps = gap_areas(result, layer, threshold) if layer not in result.no_data_layers else None
except OneMapError as exc:
    show.error(t("analysis_error", lang) + str(exc))
    st.stop()

row = result.summary().set_index(["layer", "threshold_m"]).loc[(layer, threshold)]
k1, k2, k3, k4 = st.columns(4)
k1.metric(t("residents", lang), f"{row['residents']:,.0f}")
k2.metric(t("covered", lang), "—" if pd.isna(row["covered"]) else f"{row['covered']:,.0f}",
          delta=None if pd.isna(row["rate"]) else f"{row['rate']:.1%}", delta_color="off")
k3.metric(t("uncovered", lang), "—" if pd.isna(row["uncovered"]) else f"{row['uncovered']:,.0f}")
if units is not None and "venues" in versions:
    venues = read_layer_cached(store, store.description, "venues", versions["venues"])
    district = assign_units(result.demand, boundaries, level="district") \
        if level != "district" and "district" in set(boundaries.get("level", [])) else units
    schools = read_layer_cached(store, store.description, "school_facilities", versions["school_facilities"]) \
        if "school_facilities" in versions else None
    # The same count as the indicators: venues plus school facilities open to the public.
    area = sports_area_by_unit(district, result.demand, venues, school_facilities=schools)
    per_capita = float(area["sports_area_m2"].sum() / max(area["residents"].sum(), 1))
    k4.metric(t("per_capita", lang), f"{per_capita:.2f} m²",
              delta=f"{per_capita - SPORTS_AREA_TARGET_M2_PER_RESIDENT:+.2f} m² / 2.6 m²",
              delta_color="normal")
if result.demand.is_estimate:
    st.warning(t("estimate_note", lang))
for note in dict.fromkeys(result.notes):
    show.caption(note)

left, right = st.columns([3, 2])
with right:
    st.subheader(t("by_unit", lang))
    zoom = None
    if units is not None:
        table = coverage_by_unit(result, units, layer=layer)
        table = table[table["threshold_m"] == threshold][["code", "name", "residents", "covered", "uncovered", "rate"]]
        table = table.rename(columns={"name": t("unit_level", lang), "residents": t("residents", lang),
                                      "covered": t("covered", lang), "uncovered": t("uncovered", lang),
                                      "rate": t("rate", lang)})
        picked = st.dataframe(table.drop(columns="code"), hide_index=True, width="stretch", key=state.COVERAGE_ZOOM,
                              on_select="rerun", selection_mode="single-row",
                              column_config={t("rate", lang): st.column_config.ProgressColumn(
                                  t("rate", lang), format="percent", min_value=0, max_value=1)})
        st.caption(t("click_to_zoom", lang))
        st.bar_chart(table.set_index(t("unit_level", lang))[t("rate", lang)], height=220)
        rows = picked.selection.rows if picked is not None else []
        if rows:
            code = table["code"].iloc[rows[0]]
            hit = units.units[units.units["code"] == code]
            zoom = hit["geometry"].iloc[0] if len(hit) else None
    st.subheader(t("gap_ranking", lang))
    if gaps is not None and len(gaps):
        ranking = gap_table(gaps).head(20)[["rank", "uncovered_residents", "area_km2", "lon", "lat"]]
        st.dataframe(ranking.rename(columns={"rank": "#", "uncovered_residents": t("uncovered", lang),
                                             "area_km2": "km²"}),
                     hide_index=True, width="stretch", key="gap_ranking_table")

with left:
    share, _nodata = surface(result, "covered", layer=layer, threshold=threshold)
    share = share.astype(float)
    share[share < 0] = float("nan")
    grid = result.demand.grid
    overlay = coverage_overlay(share, grid.transform, grid.crs)
    frames = {}
    for name in ("boundaries", "greenways") + ((layer,) if layer != ANY_LAYER else FACILITY_LAYERS):
        if name in versions:
            frames[name] = read_layer_cached(store, store.description, name, versions[name])
    on_top = []
    if gaps is not None and len(gaps):
        top = gaps.head(20)[["rank", "uncovered_residents", "geometry"]]
        on_top.append(outlines(top, name="gaps", fields=["rank", "uncovered_residents"],
                               aliases=["#", t("uncovered", lang)],
                               style={"color": "#b30000", "weight": 2, "fill": False}))
    basemap, gcj02 = basemap_setting()
    m = build_map(frames, lang=lang, overlays=[overlay], on_top=on_top, height=620, basemap=basemap, gcj02=gcj02)
    if zoom is not None:
        b = pd.Series(zoom.bounds)
        from pyproj import Transformer

        tr = Transformer.from_crs(result.demand.crs, 4326, always_xy=True)
        (w, e), (s_, n) = tr.transform([b[0], b[2]], [b[1], b[3]])
        corners = [[s_, w], [n, e]]
        m.fit_bounds([shift_latlon(*c) for c in corners] if gcj02 else corners)
    st_folium(m, key="coverage_map", height=620, use_container_width=True, returned_objects=[])

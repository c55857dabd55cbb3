"""圈选统计 / Select an area: draw a polygon or a rectangle on a map (or pick a unit) and read who lives in it,
which facilities it holds and its coverage at each life circle (:mod:`geo.selection`)."""

from __future__ import annotations

import logging

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo.coverage import ANY_LAYER, CoverageResult
from geo.errors import OneMapError
from geo.inputs import FACILITY_LAYERS
from geo.selection import drawn_area, select_area
from i18n import label, t
from i18n.definitions import circle_label
from layers.catalogue import CATALOGUE
from ui import show, state
from ui.store_access import read_layer_cached
from ui.tables import show_table
from webmap.folium_map import build_map, coverage_image, coverage_overlay

log = logging.getLogger(__name__)
SELECT_MAP_HEIGHT = 460
DRAWN = "__drawn__"


def _select_map(frames: dict, share, grid, lang: str, threshold: float, basemap, gcj02: bool) -> folium.Map:
    """The map to draw on: the boundaries over this run's coverage (made per run: streamlit-folium renames the
    elements of the map it is given, so one map object cannot serve two renders)."""
    overlay = coverage_overlay(coverage_image(share, grid.transform, grid.crs), lang, threshold_m=threshold)
    return build_map(frames, lang=lang, overlays=[overlay], height=SELECT_MAP_HEIGHT, basemap=basemap,
                     gcj02=gcj02, passive=("boundaries",))


def selection_section(store, result: CoverageResult, *, versions: dict, layer: str, threshold: float,
                      units: object | None, lang: str, basemap, gcj02: bool) -> None:
    """The 圈选统计 section of the coverage page (drawn only when switched on: it holds a map of its own)."""
    st.subheader(t("select_area", lang))
    if not st.toggle(t("select_area_on", lang), key=state.COVERAGE_SELECT, help=t("select_area_help", lang)):
        return
    read = lambda name: read_layer_cached(store, store.description, name, versions[name])  # noqa: E731
    codes = [] if units is None else list(units.units["code"])
    names = {} if units is None else dict(zip(units.units["code"], units.units["name"]))
    pick = st.selectbox(t("select_what", lang), [DRAWN, *codes], key=state.COVERAGE_SELECT_UNIT,
                        format_func=lambda c: t("select_drawn", lang) if c == DRAWN else names.get(c, c))
    frames = {"boundaries": read("boundaries")} if "boundaries" in versions else {}
    share = result.demand.share_on_grid(result.covered(layer, threshold))
    m = _select_map(frames, share, result.demand.grid, lang, threshold, basemap, gcj02)
    out = st_folium(m, key="coverage.select_map", height=SELECT_MAP_HEIGHT, use_container_width=True,
                    returned_objects=["last_active_drawing"]) or {}
    try:
        if pick != DRAWN:
            area, crs = units.units.loc[units.units["code"] == pick, "geometry"].iloc[0], result.demand.crs
        elif out.get("last_active_drawing"):
            area, crs = drawn_area(out["last_active_drawing"], gcj02=gcj02), 4326
        else:
            st.caption(t("select_draw_first", lang))
            return
        facilities = {k: read(k) for k in FACILITY_LAYERS if k in versions}
        got = select_area(result, area, facilities, crs=crs)
    except OneMapError as exc:
        log.info("area selection refused: %s", exc)
        show.failure(exc, lang)
        return
    _show(got, lang, layer)


def _layer_name(key: str, lang: str) -> str:
    return t("all_layers", lang) if key == ANY_LAYER else label(CATALOGUE[key].label_zh, CATALOGUE[key].label_en,
                                                                lang)


def _show(got, lang: str, layer: str) -> None:
    """The selection's figures: area, residents, coverage per layer and life circle, facilities held."""
    c1, c2 = st.columns(2)
    c1.metric(t("area", lang), f"{got.area_km2:,.2f} km²")
    c2.metric(t("residents", lang), f"{got.residents:,.0f}")
    table = got.coverage.copy()
    table["layer"] = [_layer_name(k, lang) for k in table["layer"]]
    table["circle"] = [circle_label(m, lang) for m in table["threshold_m"]]
    show_table(table, {"layer": (t("facility_layers", lang), "text"), "circle": (t("life_circle", lang), "text"),
                       "covered": (t("covered", lang), "count"), "rate": (t("rate", lang), "bar")}, lang,
               key="coverage.select_table")
    held = got.facilities.copy()
    held["layer"] = [_layer_name(k, lang) for k in held["layer"]]
    show_table(held, {"layer": (t("facility_layers", lang), "text"), "count": (t("select_held", lang), "count")},
               lang, key="coverage.select_held")
    if len(got.held):
        listed = got.held.copy()
        listed["layer"] = [_layer_name(k, lang) for k in listed["layer"]]
        listed["name"] = [n if n else f"{lay} {fid}" for n, lay, fid in
                          zip(listed["name"], listed["layer"], listed["feature_id"])]
        show_table(listed, {"name": (t("site_name", lang), "text"), "layer": (t("facility_layers", lang), "text")},
                   lang, key="coverage.select_list", height=min(36 * (len(listed) + 1) + 4, 300))
    st.caption(t("select_rule", lang))


__all__ = ["selection_section"]

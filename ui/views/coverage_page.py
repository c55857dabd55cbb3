"""覆盖分析 / Coverage: who lives within a 5/10/15-minute walk, where the gaps are, per unit."""

from __future__ import annotations

import time

import folium
import pandas as pd
import streamlit as st

from exports.files import share_cells
from geo.coverage import ANY_LAYER
from geo.definitions import GAP_PIECE_KM2, LIFE_CIRCLES
from geo.errors import OneMapError
from geo.inputs import FACILITY_LAYERS
from geo.units import OUTSIDE, SPORTS_AREA_TARGET_M2_PER_RESIDENT
from i18n import label, render_note, t
from i18n.definitions import circle_label, figure_label, share_text
from layers.catalogue import CATALOGUE
from ui import show, state
from ui.analysis import coverage_view, layer_versions, run_coverage
from ui.auth import active_account
from ui.charts import rate_bars, show_chart
from ui.links import LinkField, flag, keep, one_of, restore
from ui.map_png import png_button, print_png, street_labels, titled
from ui.map_settings import basemap_setting
from ui.need import need_section
from ui.place_search import place_fragment, place_search
from ui.province_run import province_section
from ui.selection import selection_section
from ui.slots import CHOICES as SLOT_CHOICES
from ui.slots import slot_picker
from ui.stale import grey_when_changed
from ui.store_access import get_store, read_layer_cached
from ui.tables import show_table
from webmap.field_report_layer import ReportEntry
from webmap.folium_map import build_map, coverage_image, coverage_overlay, outlines
from webmap.hash_zoom import FitFromHash, bounds_fragment, view_fragment
from webmap.legend import LegendEntry
from webmap.publish import is_published, map_key, publish, signed_map_url

#: Gap pieces: cut at unit boundaries and at about this area, so each is a place one office can act on.
#: Gap pieces outlined on the map.
GAPS_DRAWN = 20
MAP_HEIGHT = 620

lang = state.lang()
store = get_store()
st.title(t("page_coverage", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}

CIRCLES = {f"circle_{c.minutes}": c.metres for c in LIFE_CIRCLES}
layer_names = {k: label(CATALOGUE[k].label_zh, CATALOGUE[k].label_en, lang) for k in FACILITY_LAYERS}
layer_names[ANY_LAYER] = t("all_layers", lang)

LEVELS = ["street", "district", "community"]
#: The page's inputs in its URL (?layer=venues&circle=15&level=community&method=network&slot=…&at=…).
LINK = {"layer": LinkField(state.COVERAGE_LAYER, FACILITY_LAYERS[0], one_of(list(layer_names))),
        "circle": LinkField(state.COVERAGE_CIRCLE, "circle_10", lambda m: one_of(list(CIRCLES))(f"circle_{m}"),
                            lambda k: k.removeprefix("circle_")),
        "level": LinkField(state.COVERAGE_LEVEL, LEVELS[0], one_of(LEVELS)),
        "method": LinkField(state.COVERAGE_METHOD, "network", one_of(["network", "straight_line"])),
        "slot": LinkField(state.COVERAGE_SLOT, next(iter(SLOT_CHOICES)), one_of(list(SLOT_CHOICES))),
        "at": LinkField(state.COVERAGE_SLOT + ".typed", "", str),
        "wide": LinkField(state.COVERAGE_WIDE, False, flag, lambda v: "1" if v else "0")}
restore("coverage", LINK)

with st.form("coverage_form"):
    c1, c2, c3, c4 = st.columns(4)
    layer = c1.selectbox(t("facility_layers", lang), list(layer_names), format_func=layer_names.get,
                         key=state.COVERAGE_LAYER)
    level = c1.selectbox(t("unit_level", lang), LEVELS, key=state.COVERAGE_LEVEL,
                         format_func=lambda k: t(f"level_{k}", lang))
    circle = c2.radio(t("life_circle", lang), list(CIRCLES),
                      format_func=lambda k: circle_label(CIRCLES[k], lang), key=state.COVERAGE_CIRCLE)
    method = c3.radio(t("method", lang), ["network", "straight_line"], key=state.COVERAGE_METHOD,
                      format_func=lambda k: t("method_network" if k == "network" else "method_line", lang))
    with c4:
        slot = slot_picker(lang, state.COVERAGE_SLOT)
    st.form_submit_button(t("run", lang), type="primary")
keep("coverage", LINK)
grey_when_changed(t("run", lang), t("stale_results", lang))  # old figures never read as the new inputs' answer

threshold = CIRCLES[circle]
try:
    with st.spinner(t("computing", lang)):
        result = run_coverage(store, method=method, thresholds=tuple(CIRCLES.values()), slot=slot)
        boundaries = read_layer_cached(store, store.description, "boundaries", versions["boundaries"]) \
            if "boundaries" in versions else None
        # what depends only on the inputs is computed once for every session that asks for them
        view = coverage_view(store, result, method=method, slot=slot, layer=layer, threshold=threshold, level=level)
        units, gaps = view.units, view.gaps
except OneMapError as exc:
    show.failure(exc, lang, prefix=t("analysis_error", lang))
    st.stop()

row = result.summary().set_index(["layer", "threshold_m"]).loc[(layer, threshold)]
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(t("residents", lang), f"{row['residents']:,.0f}")
k2.metric(t("covered", lang), "—" if pd.isna(row["covered"]) else f"{row['covered']:,.0f}")
k3.metric(figure_label(layer, threshold, lang), share_text(row["rate"]),
          help=t("rate_help", lang, m=f"{threshold:,.0f}"))
k4.metric(t("uncovered", lang), "—" if pd.isna(row["uncovered"]) else f"{row['uncovered']:,.0f}")
if view.per_capita is not None:
    k5.metric(t("per_capita", lang), f"{view.per_capita:.2f} m²",
              delta=t("per_capita_target", lang, target=f"{SPORTS_AREA_TARGET_M2_PER_RESIDENT:g}"),
              delta_color="off", delta_arrow="off")
if result.demand.is_estimate:
    st.warning(t("estimate_note", lang))
for note in dict.fromkeys([*result.notes, *(units.notes if units is not None else ())]):
    show.caption(render_note(note, lang))


def _zoom_to(kind: str, table_key: str, ids: list) -> None:
    """A row picked in a table becomes the map's zoom target (the latest pick wins)."""
    rows = st.session_state[table_key].selection.rows
    st.session_state[state.COVERAGE_ZOOM] = (kind, ids[rows[0]]) if rows else None


def _unit_name(code: str, name: str) -> str:
    return t("outside_units", lang) if code == OUTSIDE else name


# The map beside the tables, or across the page above them (a link keeps the choice).
if st.toggle(t("wide_map", lang), key=state.COVERAGE_WIDE, help=t("wide_map_help", lang)):
    left, right = st.container(), st.container()
else:
    left, right = st.columns([1, 1])


def _map() -> folium.Map:
    """The coverage map of these inputs (drawn only when no published map matches)."""
    share = result.demand.share_on_grid(result.covered(layer, threshold))
    grid = result.demand.grid
    overlay = coverage_overlay(coverage_image(share, grid.transform, grid.crs), lang, threshold_m=threshold)
    frames = {}
    for name in ("boundaries", "greenways") + ((layer,) if layer != ANY_LAYER else FACILITY_LAYERS):
        if name in versions:
            frames[name] = read_layer_cached(store, store.description, name, versions[name])
    on_top, extra = [], []
    if gaps is not None and len(gaps):
        top = gaps.head(GAPS_DRAWN).copy()
        top["unit_name"] = [_unit_name(c, n) for c, n in zip(top["unit_code"], top["unit_name"])]
        on_top.append(outlines(top, name="gaps", fields=["rank", "unit_name", "uncovered_residents"],
                               aliases=["#", t(f"level_{level}", lang), t("uncovered", lang)],
                               style={"color": "#b30000", "weight": 2, "fill": False}, lang=lang))
        extra.append(LegendEntry("outline", "#b30000", t("legend_gaps", lang, n=min(GAPS_DRAWN, len(gaps)))))
    m = build_map(frames, lang=lang, overlays=[overlay], on_top=on_top, legend_extra=extra, height=MAP_HEIGHT,
                  basemap=basemap, gcj02=gcj02, report_entry=ReportEntry(lang))
    # a unit or gap picked below zooms the published map through its URL; the reader's moves go into the link
    FitFromHash(keep_view=True).add_to(m)
    return m


with left:  # first: the map frame starts loading while the tables and the chart below it are drawn
    found = place_search(store, lang, "coverage.search")
    basemap, gcj02 = basemap_setting()
    # Published once per inputs and embedded by URL (as the one map): a visit draws no map.
    key = map_key("coverage", store.description, layer_versions(store), method, slot.label() if slot else None,
                  layer, threshold, level, lang, basemap.tiles if basemap is not None else None, gcj02)
    if not is_published(key):
        publish(_map(), key)
    zoom = st.session_state.get(state.COVERAGE_ZOOM)
    target = None
    if zoom and zoom[0] == "unit" and units is not None:
        target = units.units.loc[units.units["code"] == zoom[1], "geometry"]
    elif zoom and zoom[0] == "gap" and gaps is not None:
        target = gaps.loc[gaps["rank"] == zoom[1], "geometry"]
    account = active_account()
    url = signed_map_url(key, None if account.single_user else account.username, now=time.time() // 3600 * 3600)
    fragment = bounds_fragment(target, result.demand.crs, gcj02) if target is not None and len(target) else ""
    if found is not None:  # a place found by the search box wins over a picked row
        fragment = place_fragment(found, gcj02)
    if not fragment:  # a view sent in a link (?view=lat,lng,zoom)
        fragment = view_fragment(st.query_params.get("view"))
    st.iframe(url + fragment, height=MAP_HEIGHT)
    # The same map for print: the layers, the coverage, the gaps drawn, and the street names, at 300 dpi.
    printed = {"boundaries": boundaries} if boundaries is not None else {}
    for name in (layer,) if layer != ANY_LAYER else FACILITY_LAYERS:
        if name in versions:
            printed[name] = read_layer_cached(store, store.description, name, versions[name])
    if gaps is not None and len(gaps):
        printed["gaps"] = gaps.head(GAPS_DRAWN)
    png_button(lambda: print_png({**printed, "coverage": share_cells(result, layer, threshold)},
                                 title=titled(t("page_coverage", lang), figure_label(layer, threshold, lang), lang),
                                 lang=lang, unit_labels=street_labels(boundaries)),
               lang=lang, key="coverage.png", file_name=f"coverage_{layer}_{threshold:g}m.png")

with right:
    st.subheader(t("by_unit", lang))
    if view.table is not None:
        table = view.table.copy()
        table["name"] = [_unit_name(c, n) for c, n in zip(table["code"], table["name"])]
        show_table(table, {"name": (t(f"level_{level}", lang), "text"), "residents": (t("residents", lang), "count"),
                           "covered": (t("covered", lang), "count"), "rate": (t("rate", lang), "bar")}, lang,
                   key="coverage.units_table", on_select=lambda: _zoom_to("unit", "coverage.units_table",
                                                                          list(table["code"])),
                   selection_mode="single-row")
        st.caption(t("click_to_zoom", lang))
        show_chart(rate_bars(table, name="name", rate="rate", name_title=t(f"level_{level}", lang),
                             rate_title=t("rate", lang), lang=lang))

st.subheader(t("gap_ranking", lang))
if gaps is not None and len(gaps):
    pieces = gaps.copy()
    pieces["unit_name"] = [_unit_name(c, n) for c, n in zip(pieces["unit_code"], pieces["unit_name"])]
    show.caption(t("gap_pieces_note", lang, n=len(pieces), km2=f"{GAP_PIECE_KM2:g}",
                   level=t(f"level_{level}", lang)))
    show_table(pieces, {"rank": ("#", "count"), "unit_name": (t(f"level_{level}", lang), "text"),
                        "uncovered_residents": (t("uncovered", lang), "count"), "area_km2": (t("area", lang), "km2")},
               lang, key="coverage.gaps_table", height=320, selection_mode="single-row",
               on_select=lambda: _zoom_to("gap", "coverage.gaps_table", list(pieces["rank"])))
    st.caption(t("click_gap_to_zoom", lang))
elif gaps is not None:
    st.info(t("no_gaps", lang))

selection_section(store, result, versions=versions, layer=layer, threshold=threshold,
                  units=units, lang=lang, basemap=basemap, gcj02=gcj02)
need_section(store, result, layer=layer, threshold=threshold, boundaries=boundaries, lang=lang,
             run=(method, slot.label() if slot else None))
province_section(store, result, comparable=method == "network" and slot is None, boundaries=boundaries, lang=lang)

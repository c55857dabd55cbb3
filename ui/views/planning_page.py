"""选址规划 / Planning: where new sites cover the most residents; what if a school opens; scenarios."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from exports.files import share_cells
from exports.sheets import csv_bytes
from geo.definitions import LIFE_CIRCLES
from geo.errors import OneMapError
from geo.planning import marginal_curve, plan_notes
from geo.planning import solve as solve_plan
from geo.ranking import catchment_area
from geo.scenarios import MEASURES, UNIT_ROW, compare_scenarios, scenario_payload
from i18n import render_note, t
from i18n.definitions import circle_label
from i18n.values import site_name, value_label
from ui import show, state
from ui.analysis import get_planning, get_ranking, get_whatif, layer_versions, plan_coverage_image
from ui.auth import active_account, write_store
from ui.charts import marginal_chart, show_chart
from ui.formatting import format_change, format_measure
from ui.links import LinkField, flag, keep, number_in, one_of, opened_with, put_in_link, restore, some_of
from ui.map_png import png_button, print_png, street_labels, titled
from ui.map_settings import basemap_setting
from ui.need import need_planning_section
from ui.place_search import place_search, zoom_for
from ui.scenario_maps import scenario_maps
from ui.shared_map import shared_folium
from ui.stale import grey_when_changed
from ui.store_access import get_store, read_layer_cached
from ui.tables import shared_table, show_prepared, show_table
from webmap.folium_map import (
    build_map,
    coverage_overlay,
    dot_marker,
    labelled_marker,
    outlines,
    shift_element,
    unshift_click,
)
from webmap.legend import LegendEntry

#: Layers drawn on the planning map; polygons and lines are passive, so a click anywhere adds a site.
MAP_LAYERS = ("boundaries", "greenways", "venues")
PROBLEMS = ("mclp", "lscp", "pmedian", "capacitated")
PLANNED_ICON = "<div class='planned-site' style='font-size:22px;color:#7b3294'>★</div>"
PICKED_ICON = "<div class='picked-site' style='font-size:22px;color:#08519c'>◆</div>"
SOURCES = ("uploaded", "generated")

lang = state.lang()
store = get_store()
st.title(t("page_planning", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}

CUTOFFS = [c.metres for c in LIFE_CIRCLES]
#: The page's inputs in its URL (?problem=mclp&p=5&target=0.9&cutoff=500&sources=uploaded,generated&exact=0…).
LINK = {"problem": LinkField("planning.problem", PROBLEMS[0], one_of(PROBLEMS)),
        "p": LinkField("planning.p", 5, number_in(1, 200, int)),
        "target": LinkField("planning.target", 0.9, number_in(0.5, 1.0)),
        "cutoff": LinkField("planning.cutoff", CUTOFFS[1], one_of(CUTOFFS, float), lambda v: f"{v:g}"),
        "sources": LinkField("planning.sources", list(SOURCES), some_of(SOURCES), ",".join),
        "exact": LinkField("planning.exact", False, flag, lambda v: "1" if v else "0"),
        "limit": LinkField("planning.limit", 30, number_in(1, 600, int)),
        "wide": LinkField("planning.wide", False, flag, lambda v: "1" if v else "0")}
#: Not inputs but results a link names: the plan solved (?solved=1) and the ranked candidate picked (?site=<id>).
asked = opened_with("planning", ("solved", "site"))
restore("planning", LINK)

with st.form("plan_form"):
    c1, c2, c3, c4 = st.columns(4)
    problem_kind = c1.selectbox(t("problem", lang), PROBLEMS, format_func=lambda k: t(f"problem_{k}", lang),
                                key="planning.problem")
    p = c2.number_input(t("p_sites", lang), min_value=1, max_value=200, step=1, key="planning.p",
                        help=t("p_sites_help", lang))
    target = c2.slider(t("target", lang), 0.5, 1.0, step=0.01, key="planning.target", format="%.2f",
                       help=t("target_help", lang))
    cutoff = c3.selectbox(t("cutoff", lang), CUTOFFS, key="planning.cutoff",
                          format_func=lambda v: circle_label(v, lang))
    sources = c3.multiselect(t("candidate_sources", lang), SOURCES, key="planning.sources",
                             format_func=lambda k: t(f"source_{k}", lang))
    exact = c4.checkbox(t("exact", lang), key="planning.exact", help=t("exact_help", lang))
    time_limit = c4.number_input(t("time_limit", lang), min_value=1, max_value=600, key="planning.limit")
    solve = st.form_submit_button(t("solve", lang), type="primary")
keep("planning", LINK)
grey_when_changed(t("solve", lang), t("stale_plan", lang))  # the plan below never reads as the new inputs' answer

inputs = {"problem": problem_kind, "p": int(p), "target": float(target), "cutoff": float(cutoff),
          "sources": tuple(sources), "exact": bool(exact), "time_limit": int(time_limit)}
progress_slot = st.empty()
try:
    if not sources:
        show.warning(t("no_sources", lang))
        st.stop()
    with st.spinner(t("preparing_candidates", lang)):
        candidates, problem, notes = get_planning(store, cutoff=cutoff, layer="venues", sources=tuple(sources))
    solved = st.session_state.get(state.PLAN_RESULT)
    if asked.get("solved") == "1" and not (solved and solved[0] == inputs):
        solve = True  # a link to a solved plan: solved again with its inputs, as its sender saw it
    if asked.get("site") in set(candidates["candidate_id"]):
        st.session_state[state.PLAN_RANK_PICK] = (cutoff, tuple(sources), asked["site"])
    if solve:
        bar = progress_slot.progress(0.0, text=t("solving", lang))
        plan = solve_plan(problem, problem_kind, p=int(p), target=float(target),
                          method="exact" if exact else "heuristic", time_limit=time_limit,
                          progress=lambda f, n: bar.progress(f, text=render_note(n, lang)))
        st.session_state[state.PLAN_RESULT] = (inputs, plan)
    progress_slot.empty()
except OneMapError as exc:
    progress_slot.empty()
    show.failure(exc, lang, prefix=t("analysis_error", lang))
    st.stop()

solved = st.session_state.get(state.PLAN_RESULT)
plan = solved[1] if solved and solved[0] == inputs else None
put_in_link("solved", "1" if plan is not None else None)
if plan is None:
    st.info(t("solve_prompt", lang) if not solved else t("inputs_changed", lang))
else:
    said = plan_notes(problem, plan)
    show.success(render_note(said[0], lang) + " " + " ".join(render_note(n, lang) for n in said[1:2]))
    for message in said[2:]:
        show.caption(render_note(message, lang))
for note in dict.fromkeys(notes):
    show.caption(render_note(note, lang))

chosen = candidates.iloc[plan.sites] if plan is not None else candidates.iloc[[]]
# The map beside the chosen sites, or across the page above them (a link keeps the choice).
if st.toggle(t("wide_map", lang), key="planning.wide", help=t("wide_map_help", lang)):
    left, right = st.container(), st.container()
else:
    left, right = st.columns([1, 1])
with left:
    found = place_search(store, lang, "planning.search")
    frames = {k: read_layer_cached(store, store.description, k, versions[k]) for k in MAP_LAYERS if k in versions}
    overlay = coverage_overlay(plan_coverage_image(store, problem, cutoff=cutoff, sources=tuple(sources),
                                                   sites=tuple(plan.sites) if plan is not None else ()),
                               lang, threshold_m=cutoff)
    basemap, gcj02 = basemap_setting()
    # The base map (layers and the legend of every symbol) stays the same while plans and clicks change, so a
    # solve redraws only the results group, not the whole map.
    results = folium.FeatureGroup(name=t("plan_results", lang))
    placed = [overlay.image]
    for k, row in enumerate(chosen.to_crs(4326).itertuples(), start=1):
        pt = row.geometry.representative_point()
        shown_name = site_name(row.name, row.site_kind, row.candidate_id, lang)
        placed.append(labelled_marker(pt.y, pt.x, tooltip=f"{k}. {shown_name}", icon_html=PLANNED_ICON))
    added = st.session_state.get(state.PLAN_ADDED, [])
    for lon, lat in added:
        placed.append(dot_marker(lat, lon, radius=9, color="#000", fill=True, fill_color="#ffd400", fill_opacity=1.0))
    # a ranked candidate picked below (for these candidates: the pick names its inputs): its catchment
    pick = st.session_state.get(state.PLAN_RANK_PICK)
    at = candidates.index[candidates["candidate_id"] == pick[2]] if pick and pick[:2] == (cutoff, tuple(sources)) \
        else []
    put_in_link("site", str(pick[2]) if len(at) else None)
    if len(at):
        picked = candidates.index.get_loc(at[0])
        demand = get_whatif(store, cutoff=cutoff).engine.demand
        area = gpd.GeoDataFrame({"name": [site_name(candidates["name"].iloc[picked],
                                                    candidates["site_kind"].iloc[picked],
                                                    candidates["candidate_id"].iloc[picked], lang)]},
                                geometry=[catchment_area(problem, demand, picked)], crs=demand.crs)
        placed.append(outlines(area, name="catchment", fields=["name"], aliases=[t("site_name", lang)],
                               style={"color": "#08519c", "weight": 2, "fill": True, "fillOpacity": 0.15},
                               lang=lang))
        pt = candidates.to_crs(4326).geometry.iloc[picked].representative_point()
        placed.append(labelled_marker(pt.y, pt.x, tooltip=area["name"].iloc[0], icon_html=PICKED_ICON))
    for element in placed:
        (shift_element(element) if gcj02 else element).add_to(results)
    legend = [LegendEntry("star", "#7b3294", t("legend_new_sites", lang)),
              LegendEntry("dot", "#ffd400", t("legend_clicked_sites", lang)),
              LegendEntry("outline", "#08519c", t("legend_catchment", lang, m=f"{cutoff:,.0f}")), overlay.legend]
    # keyed by the walk: the base map, and its legend of what "covered" means, change with it; the base is built
    # once for every session with these inputs, each session adds its own results
    view = {"center": [found.lat, found.lon], "zoom": zoom_for(found)} if found is not None else {}
    clicked = shared_folium(
        ("planning", store.description, tuple(sorted(versions.items())), lang, cutoff, gcj02, repr(legend),
         None if basemap is None else (basemap.tiles, basemap.layer_name, repr(sorted(basemap.options.items())))),
        lambda: build_map(frames, lang=lang, height=560, legend_extra=legend, basemap=basemap, gcj02=gcj02,
                          passive=("boundaries", "greenways")),
        key=f"planning_map_{cutoff:g}", height=560, results=results, returned_objects=["last_clicked"], **view)
    point = (clicked or {}).get("last_clicked")
    where = unshift_click(point["lng"], point["lat"], gcj02) if point else None
    if where and where not in added:
        st.session_state[state.PLAN_ADDED] = [*added, where]
        st.rerun()
    st.caption(t("add_site", lang))
    # The plan for print: the layers, the coverage once the chosen sites are added, and the sites, at 300 dpi.
    new_sites = gpd.GeoDataFrame({"rank": list(range(1, len(chosen) + 1))}, geometry=chosen.to_crs(4326).geometry
                                 .representative_point().to_numpy(), crs=4326)
    png_button(lambda: print_png({**frames, "new_sites": new_sites, "coverage": share_cells(
        get_whatif(store, cutoff=cutoff).evaluate(add=new_sites[["geometry"]], add_layer="venues").result
        if len(new_sites) else get_whatif(store, cutoff=cutoff).base, "venues", cutoff)},
        title=titled(t("page_planning", lang), t("plan_png_title", lang, n=len(new_sites), m=f"{cutoff:,.0f}"), lang),
        lang=lang, unit_labels=street_labels(frames.get("boundaries"))),
        lang=lang, key="planning.png", file_name=f"plan_{len(new_sites)}_sites_{cutoff:g}m.png")
with right:
    st.subheader(t("sites_chosen", lang))
    if len(chosen):
        sites = chosen.to_crs(4326)
        pts = sites.geometry.representative_point()
        shown = sites.assign(k=range(1, len(sites) + 1),
                             label=[site_name(r.name, r.site_kind, r.candidate_id, lang) for r in sites.itertuples()])
        show_table(shown, {"k": ("#", "count"), "label": (t("site_name", lang), "text"),
                           "site_kind": (t("site_kind", lang), "label:site_kind"),
                           "origin": (t("site_origin", lang), "label:origin")}, lang, key="planning.sites_table")
    else:
        st.caption(t("no_sites_yet", lang))
    if problem_kind in ("mclp", "capacitated") and problem.n_candidates:
        st.subheader(t("marginal_curve", lang))
        known = {int(p): plan.bound} if plan is not None and problem_kind == "mclp" and plan.bound is not None else {}
        curve = pd.DataFrame(marginal_curve(problem, min(int(p) + 5, problem.n_candidates), known=known))
        show_chart(marginal_chart(curve, sites_title=t("curve_sites", lang), covered_title=t("covered", lang),
                                  covered_label=t("curve_covered", lang), bound_label=t("curve_bound", lang)))
        st.caption(t("curve_help", lang))

st.subheader(t("ranking_title", lang))
show.caption(t("ranking_help", lang, m=circle_label(cutoff, lang)))
ranked = get_ranking(store, problem, candidates, cutoff=cutoff, layer="venues", sources=tuple(sources))
RANKED_COLUMNS = {"position": (t("rank_position", lang), "count"), "label": (t("site_name", lang), "text"),
                  "site_kind": (t("site_kind", lang), "label:site_kind"), "origin": (t("site_origin", lang),
                                                                                    "label:origin"),
                  "street": (t("level_street", lang), "text"), "lon": (t("longitude", lang), "degrees"),
                  "lat": (t("latitude", lang), "degrees"), "alone": (t("rank_alone", lang), "count"),
                  "marginal": (t("rank_marginal", lang), "count"), "hours": (t("hours_assumed", lang), "text")}


def _pick_ranked() -> None:
    rows = st.session_state["planning.ranked_table"].selection.rows
    st.session_state[state.PLAN_RANK_PICK] = (cutoff, tuple(sources), ranked["candidate_id"].iloc[rows[0]]) \
        if rows else None


# the same ranking for every session with these inputs: its labelled table is made once and shared
ranked_shown, ranked_config = shared_table(
    ("planning.ranked", store.description, tuple(sorted(versions.items())), cutoff, tuple(sources)),
    lambda: ranked.assign(label=[site_name(r.name, r.site_kind, r.candidate_id, lang) for r in ranked.itertuples()],
                          hours=t("hours_any", lang)), RANKED_COLUMNS, lang)
show_prepared(ranked_shown, ranked_config, lang, key="planning.ranked_table", height=320,
              selection_mode="single-row", on_select=_pick_ranked)
st.download_button(t("ranking_download", lang), lambda: csv_bytes(ranked_shown),
                   file_name=f"{t('ranking_file', lang)}-{cutoff:g}m.csv", mime="text/csv", key="ranking_csv",
                   on_click="ignore")

need_planning_section(store, problem, candidates, get_whatif(store, cutoff=cutoff).engine.demand, kind=problem_kind,
                      p=int(p), target=float(target), exact=bool(exact), time_limit=int(time_limit), lang=lang)

st.subheader(t("what_if", lang))
whatif = get_whatif(store, cutoff=cutoff)
schools = read_layer_cached(store, store.description, "school_facilities", versions["school_facilities"]) \
    if "school_facilities" in versions else None
closed = schools.loc[~schools["open_to_public"].fillna(False).astype(bool)] if schools is not None else None
names = {} if closed is None else {
    r.feature_id: f"{r.school} · {value_label('facility_kind', r.facility_kind, lang)} ({r.feature_id})"
    for r in closed.itertuples()}
w1, w2 = st.columns(2)
to_open = w1.multiselect(t("open_school", lang), list(names), format_func=names.get, key="whatif_open",
                         placeholder=t("choose_schools", lang))
hours = w1.text_input(t("opening_hours_new", lang), value="周末 8:00-18:00", key="whatif_hours")
w2.caption(t("clicked_sites", lang) + ("：" if lang != "en" else ": ")
           + (t("added_sites", lang, n=len(added)) if added else t("no_added_sites", lang)))
if w2.button(t("clear_sites", lang), key="whatif_clear", disabled=not added):
    st.session_state[state.PLAN_ADDED] = []
    st.rerun()
if to_open or added:
    try:
        outcome = whatif.evaluate(open_=to_open, hours={fid: hours for fid in to_open}, add=added)
        change = outcome.change[outcome.change["threshold_m"] == cutoff]
        show_table(change, {"layer": (t("layer", lang), "label:layer"), "covered_before": (t("covered_before", lang),
                                                                                               "count"),
                            "covered_after": (t("covered_after", lang), "count"),
                            "newly_covered": (t("newly_covered", lang), "count"),
                            "rate_before": (t("rate_before", lang), "percent"),
                            "rate_after": (t("rate_after", lang), "percent")}, lang, key="whatif_change")
        for note in outcome.notes:
            show.caption(render_note(note, lang))
        show.caption(t("computed_in", lang, ms=f"{outcome.seconds * 1000:.0f}"))
    except OneMapError as exc:
        show.failure(exc, lang)

st.subheader(t("compare", lang))
s1, s2 = st.columns(2)
name = s1.text_input(t("scenario_name", lang), key="scenario_name")
if s1.button(t("save_scenario", lang), key="save_scenario", disabled=plan is None or not name.strip()):
    try:
        payload = scenario_payload(plan, candidates, whatif, layer="venues", threshold=cutoff,
                                   inputs={"p": int(p), "target": float(target), "cutoff_m": cutoff},
                                   boundaries=read_layer_cached(store, store.description, "boundaries",
                                                                versions["boundaries"])
                                   if "boundaries" in versions else None)
        account = active_account()
        account.require_write("candidate_sites")  # planning belongs with the sports bureau (and the admin)
        write_store(account).scenarios.save(name.strip(), payload, user=account.username, overwrite=True)
        show.success(f"{t('saved', lang)}: {name.strip()}", at=s1)
    except OneMapError as exc:
        show.failure(exc, lang, at=s1)
saved = list(store.scenarios.list()["name"])
picked = s2.multiselect(t("compare", lang), saved, default=saved[:2], key="compare_pick",
                        placeholder=t("choose_scenarios", lang))
if picked:
    table = compare_scenarios([store.scenarios.load(n) for n in picked])
    rows = [(t(f"measure_{code}", lang) if not code.startswith(UNIT_ROW)
             else t("measure_unit_rate", lang, unit=code[len(UNIT_ROW):]),
             [format_measure(MEASURES.get(code, "percent"), v, lang) for v in table.loc[code]])
            for code in table.index]
    shown = pd.DataFrame([values for _, values in rows], columns=list(table.columns),
                         index=[label for label, _ in rows])
    if len(picked) == 2:  # what changes from the first to the second
        a, b = table.columns
        shown[t("change_between", lang, a=a, b=b)] = [
            format_change(MEASURES.get(code, "percent"), table.loc[code, a], table.loc[code, b], lang)
            for code in table.index]
    st.dataframe(shown, width="stretch", key="compare_table")
    if len(picked) >= 2:
        scenario_maps(store, picked, versions=versions, lang=lang, basemap=basemap, gcj02=gcj02)

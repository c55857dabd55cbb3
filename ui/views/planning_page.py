"""选址规划 / Planning: where new sites cover the most residents; what if a school opens; scenarios."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import OneMapError
from geo.planning import marginal_curve
from geo.planning import solve as solve_plan
from geo.scenarios import compare_scenarios, scenario_payload
from i18n import render_note, t
from ui import show, state
from ui.analysis import get_engine, get_planning, get_whatif, layer_versions
from ui.auth import active_account, write_store
from ui.map_settings import basemap_setting
from ui.store_access import get_store, read_layer_cached
from webmap.folium_map import build_map, dot_marker, labelled_marker, unshift_click

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_planning", lang))
versions = {name: v for name, kind, v in layer_versions(store) if kind == "vector"}
PROBLEMS = {"mclp": ("最大覆盖 MCLP", "Maximal covering (MCLP)"), "lscp": ("集合覆盖 LSCP", "Set covering (LSCP)"),
            "pmedian": ("P中值 p-median", "p-median"), "capacitated": ("容量约束覆盖", "Capacitated covering")}

with st.form("plan_form"):
    c1, c2, c3, c4 = st.columns(4)
    problem_kind = c1.selectbox(t("problem", lang), list(PROBLEMS), format_func=lambda k: PROBLEMS[k][lang != "zh"])
    p = c2.number_input(t("p_sites", lang), min_value=1, max_value=200, value=5, step=1)
    target = c2.slider(t("target", lang), 0.5, 1.0, 0.9, 0.01)
    cutoff = c3.selectbox(t("cutoff", lang), [300.0, 500.0, 1000.0], index=2)
    sources = c3.multiselect("candidates", ["uploaded", "generated"], default=["uploaded", "generated"])
    exact = c4.checkbox(t("exact", lang))
    time_limit = c4.number_input("time limit (s)", min_value=1, max_value=600, value=30)
    solve = st.form_submit_button(t("solve", lang), type="primary")

try:
    with st.spinner(t("solving", lang)):
        engine = get_engine(store)
        candidates, problem, notes = get_planning(store, cutoff=cutoff, layer="venues", sources=tuple(sources))
        if solve or state.PLAN_RESULT not in st.session_state:
            bar = st.progress(0.0, text=t("solving", lang))
            plan = solve_plan(problem, problem_kind, p=int(p), target=float(target),
                              method="exact" if exact else "heuristic", time_limit=time_limit,
                              progress=lambda f, n: bar.progress(f, text=render_note(n, lang)))
            bar.empty()
            st.session_state[state.PLAN_RESULT] = plan
        plan = st.session_state[state.PLAN_RESULT]
except OneMapError as exc:
    show.error(t("analysis_error", lang) + str(exc))
    st.stop()

show.success(plan.describe())
for message in plan.messages + notes:
    show.caption(message)
chosen = candidates.iloc[plan.sites]

left, right = st.columns([3, 2])
with left:
    frames = {k: read_layer_cached(store, store.description, k, versions[k])
              for k in ("boundaries", "venues") if k in versions}
    on_top = []
    for row in chosen.to_crs(4326).itertuples():
        pt = row.geometry.representative_point()
        on_top.append(labelled_marker(pt.y, pt.x, tooltip=f"{row.name}（{row.site_kind}）",
                                      icon_html="<div style='font-size:20px;color:#7b3294'>★</div>"))
    for lon, lat in st.session_state.get(state.PLAN_ADDED, []):
        on_top.append(dot_marker(lat, lon, radius=9, color="#000", fill=True, fill_color="#ffd400"))
    basemap, gcj02 = basemap_setting()
    m = build_map(frames, lang=lang, height=560, on_top=on_top, basemap=basemap, gcj02=gcj02)
    clicked = st_folium(m, key="planning_map", height=560, use_container_width=True,
                        returned_objects=["last_clicked"])
    point = (clicked or {}).get("last_clicked")
    where = unshift_click(point["lng"], point["lat"], gcj02) if point else None
    if where and where not in st.session_state.get(state.PLAN_ADDED, []):
        st.session_state.setdefault(state.PLAN_ADDED, []).append(where)
        st.rerun()
with right:
    st.subheader(t("sites_chosen", lang))
    st.dataframe(chosen[["candidate_id", "name", "site_kind", "origin"]], hide_index=True, width="stretch")
    if problem_kind in ("mclp", "capacitated"):
        st.subheader(t("marginal_curve", lang))
        curve = pd.DataFrame(marginal_curve(problem, min(int(p) + 5, problem.n_candidates)))
        st.line_chart(curve.set_index("sites")[["covered", "bound"]], height=220)

st.subheader(t("what_if", lang))
whatif = get_whatif(store, cutoff=cutoff)
schools = read_layer_cached(store, store.description, "school_facilities", versions["school_facilities"]) \
    if "school_facilities" in versions else None
closed = [] if schools is None else \
    list(schools.loc[~schools["open_to_public"].fillna(False).astype(bool), "feature_id"])
w1, w2 = st.columns(2)
to_open = w1.multiselect(t("open_school", lang), closed, key="whatif_open")
hours = w1.text_input("opening hours", value="周末 8:00-18:00", key="whatif_hours")
added = st.session_state.get(state.PLAN_ADDED, [])
w2.caption(t("add_site", lang) + (f" — {t('added_site', lang)}: " + "; ".join(f"{x:.4f}, {y:.4f}" for x, y in added)
                                 if added else ""))
if w2.button("↺", key="whatif_clear"):
    st.session_state[state.PLAN_ADDED] = []
    st.rerun()
if to_open or added:
    try:
        outcome = whatif.evaluate(open_=to_open, hours={fid: hours for fid in to_open}, add=added)
        st.dataframe(outcome.change, hide_index=True, width="stretch", key="whatif_change")
        show.caption(f"{outcome.seconds * 1000:.0f} ms")
    except OneMapError as exc:
        show.error(str(exc))

st.subheader(t("compare", lang))
s1, s2 = st.columns(2)
name = s1.text_input(t("scenario_name", lang), key="scenario_name")
if s1.button(t("save_scenario", lang), key="save_scenario") and name.strip():
    try:
        payload = scenario_payload(plan, candidates, whatif, layer="venues", threshold=cutoff,
                                   inputs={"p": int(p), "target": float(target), "cutoff_m": cutoff})
        account = active_account()
        account.require_write("candidate_sites")  # planning belongs with the sports bureau (and the admin)
        write_store(account).scenarios.save(name.strip(), payload, user=account.username, overwrite=True)
        show.success(f"{t('saved', lang)}: {name.strip()}", at=s1)
    except OneMapError as exc:
        show.error(str(exc), at=s1)
saved = list(store.scenarios.list()["name"])
picked = s2.multiselect(t("compare", lang), saved, default=saved[:2], key="compare_pick")
if picked:
    st.dataframe(compare_scenarios([store.scenarios.load(n) for n in picked]).astype(str), width="stretch")

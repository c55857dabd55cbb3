"""The operations page's three sections: nearby finder, venue usage, evaluation indicators."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from exports.nearby_sheet import sheet_rows, write_nearby_csv, write_nearby_sheet
from geo.errors import OneMapError
from geo.facilities import PRESET_SLOTS, TimeSlot
from geo.indicators import satisfaction_trend
from geo.nearby import NearbyResult, Origin, parse_coordinates
from i18n import label, t
from layers.catalogue import DEPARTMENTS
from layers.limits import upload_workspace
from layers.records import commit_records, prepare_records
from layers.stores import Store
from ui import show, state
from ui.analysis import get_finder, get_indicators, get_trend, get_usage, layer_versions
from ui.auth import active_account, write_store
from ui.map_settings import basemap_setting
from ui.store_access import read_layer_cached
from ui.uploads import saved_upload
from webmap.folium_map import build_map, dot_marker, labelled_marker, unshift_click

#: The layer whose editors may import each record table (usage belongs with the venues).
RECORD_LAYER = {"venue_usage": "venues", "satisfaction": "boundaries"}
STATUS_COLORS = {"over": "#d7301f", "normal": "#41ab5d", "under": "#2171b5", "no_data": "#969696",
                 "no_capacity": "#969696"}


def _layer(store: Store, name: str):
    versions = {n: v for n, kind, v in layer_versions(store) if kind == "vector"}
    return read_layer_cached(store, store.description, name, versions[name]) if name in versions else None


def _slot_picker(lang: str, key: str) -> TimeSlot | None:
    slots = {t("any_time", lang): None, **{k: v.label() for k, v in PRESET_SLOTS.items()}}
    c1, c2 = st.columns(2)
    picked = c1.selectbox(t("time_slot", lang), list(slots), key=key)
    typed = c2.text_input("周二 19:00 / Tue 19:00", key=key + ".typed")
    text = typed.strip() or slots[picked]
    return TimeSlot.parse(text) if text else None


def nearby_tab(store: Store, lang: str) -> None:
    """From a health station, typed coordinates or a map click: open resources within a walk."""
    finder = get_finder(store)
    stations = finder.facilities.table.query("layer == 'health_stations'")
    c1, c2 = st.columns([2, 1])
    mode = c1.radio(t("origin", lang), ["station", "coords", "click"], horizontal=True, key=state.NEARBY_MODE,
                    format_func=lambda k: t(f"origin_{k}", lang))
    minutes = c2.slider(t("walk_minutes", lang), 5, 30, 15, 5, key=state.NEARBY_MINUTES)
    slot = _slot_picker(lang, state.NEARBY_SLOT)
    origin: Origin | None = None
    if mode == "station":
        if stations.empty:
            st.info(t("no_layers", lang))
            return
        fid = st.selectbox(t("origin_station", lang), list(stations["feature_id"]), key=state.NEARBY_STATION,
                           format_func=dict(zip(stations["feature_id"], stations["name"])).get)
        origin = finder.origin_of_station(fid)
    elif mode == "coords":
        text = st.text_input(t("coords_hint", lang), key=state.NEARBY_COORDS)
        system = st.selectbox(t("coord_system", lang), ["wgs84", "gcj02", "bd09"], key=state.NEARBY_SYSTEM)
        if text.strip():
            origin = finder.origin_at(*parse_coordinates(text), system=system)
    else:
        clicked = st.session_state.get(state.NEARBY_CLICK)
        st.caption(t("click_hint", lang))
        if clicked:
            origin = finder.origin_at(clicked[0], clicked[1], label=f"{clicked[0]:.5f}, {clicked[1]:.5f}")
    result = finder.query(origin, minutes=minutes, slot=slot) if origin is not None else None
    left, right = st.columns([3, 2])
    with left:
        on_top = []
        if result is not None:
            o = result.origin
            on_top.append(labelled_marker(o.lat, o.lon, tooltip=o.label,
                                          icon_html="<div style='font-size:24px;color:#e31a1c'>★</div>"))
            for row in result.table.itertuples():
                on_top.append(labelled_marker(
                    row.lat, row.lon, tooltip=f"{row.rank}. {row.name} · {row.distance_m:,.0f} m",
                    icon_html=f"<div class='nearby-rank' style='background:#1b9e3a;color:#fff;"
                              f"border-radius:10px;width:20px;text-align:center'>{int(row.rank)}</div>"))
        frames = {k: _layer(store, k) for k in ("boundaries", "venues", "school_facilities", "greenways",
                                                "health_stations")}
        basemap, gcj02 = basemap_setting()
        m = build_map({k: v for k, v in frames.items() if v is not None}, lang=lang, height=520, on_top=on_top,
                      basemap=basemap, gcj02=gcj02)
        got = st_folium(m, key="nearby_map", height=520, use_container_width=True,
                        returned_objects=["last_clicked"] if mode == "click" else [])
        point = (got or {}).get("last_clicked")
        where = unshift_click(point["lng"], point["lat"], gcj02) if point else None
        if mode == "click" and where and where != st.session_state.get(state.NEARBY_CLICK):
            st.session_state[state.NEARBY_CLICK] = where
            st.rerun()
    with right:
        if result is not None:
            _nearby_result(store, result, mode, lang)
    with st.expander(t("stations_lonely", lang)):
        st.dataframe(finder.stations_without_fitness(minutes=10, slot=slot), hide_index=True, width="stretch")


def _nearby_result(store: Store, result: NearbyResult, mode: str, lang: str) -> None:
    """The ranked list, its notes, and the printable sheet and CSV."""
    n = len(result.table)
    st.metric(f"{result.origin.label} · {t('nearby_found', lang)}", n)
    if n:
        st.dataframe(sheet_rows(result), hide_index=True, width="stretch", key="nearby_table")
    else:
        st.info(t("no_nearby", lang))
    for note in result.notes:
        show.caption(note)
    if st.button(t("make_sheet", lang), key="nearby_make"):
        with upload_workspace(prefix="sheet-") as folder:
            pdf = write_nearby_sheet(result, folder / "健身资源推荐单.pdf", streets=_layer(store, "walk_network"),
                                     issuer=result.origin.label if mode == "station" else "")
            csv = write_nearby_csv(result, folder / "健身资源清单.csv")
            pdf_bytes, csv_bytes = pdf.read_bytes(), csv.read_bytes()
        st.download_button(t("download_sheet", lang), pdf_bytes, file_name=pdf.name,
                           mime="application/pdf", key="nearby_pdf", on_click="ignore")
        st.download_button(t("download_csv", lang), csv_bytes, file_name=csv.name,
                           mime="text/csv", key="nearby_csv", on_click="ignore")


def record_import(store: Store, kind: str, lang: str, prompt: str) -> None:
    """Upload a usage or survey file, show its report and unknown references, commit on request."""
    upload = st.file_uploader(prompt, type=["csv", "xlsx"], key=f"records_upload_{kind}")
    if upload is None:
        return
    venues = _layer(store, "venues")
    bounds = _layer(store, "boundaries")
    try:
        with saved_upload(upload) as path:
            plan = prepare_records(path, kind, venues=venues[["feature_id", "name"]] if venues is not None else None,
                                   unit_codes=set(bounds["code"].astype(str)) if bounds is not None else None)
    except OneMapError as exc:
        show.error(str(exc))
        return
    (st.success if plan.report.ok else st.warning)(plan.summary())
    if not plan.report.ok:
        st.code(plan.report.summary(limit=20), language=None)
        st.dataframe(pd.DataFrame([{"row": p.row, "field": p.field, "value": str(p.value), "problem": p.message}
                                   for p in plan.report.problems]), hide_index=True, width="stretch",
                     key=f"records_report_{kind}")
    if len(plan.unknown):
        st.caption(t("unknown_refs", lang))
        st.dataframe(plan.unknown, hide_index=True, width="stretch", key=f"records_unknown_{kind}")
    for note in plan.notes:
        show.caption(note)
    c1, c2 = st.columns(2)
    account = active_account()
    try:
        if c1.button(t("commit_all", lang), key=f"records_all_{kind}", disabled=not plan.report.ok):
            account.require_write(RECORD_LAYER[kind])
            version = commit_records(write_store(account), plan, user=account.username)
            show.success(f"{t('import_done', lang)}: {kind} v{version}")
        if c2.button(t("commit_valid", lang), key=f"records_valid_{kind}", disabled=plan.valid.empty):
            account.require_write(RECORD_LAYER[kind])
            version = commit_records(write_store(account), plan, user=account.username, keep_valid=True)
            show.success(f"{t('import_done', lang)}: {kind} v{version} ({len(plan.valid)})")
    except OneMapError as exc:
        show.error(str(exc))


def usage_tab(store: Store, lang: str) -> None:
    """Utilisation against capacity on the map, beside the residents each venue serves."""
    c1, c2, c3 = st.columns(3)
    catchment = c1.selectbox(t("life_circle", lang), [300.0, 500.0, 1000.0], index=2, key=state.USAGE_CATCHMENT,
                             format_func=lambda v: t({300.0: "circle_5", 500.0: "circle_10",
                                                      1000.0: "circle_15"}[v], lang))
    over = c2.slider(t("over_bound", lang), 0.5, 1.5, 0.85, 0.05, key=state.USAGE_OVER)
    under = c3.slider(t("under_bound", lang), 0.05, 0.5, 0.30, 0.05, key=state.USAGE_UNDER)
    if store.records.read("venue_usage").empty:
        st.info(t("no_usage", lang))
    else:
        result = get_usage(store, catchment_m=catchment, over=over, under=min(under, over - 0.01))
        counts = result.counts()
        k = st.columns(4)
        for col, status in zip(k, ("over", "normal", "under", "no_data")):
            col.metric(t(f"status_{status}", lang), counts[status])
        left, right = st.columns([3, 2])
        table = result.table
        with left:
            top = max(float(table["catchment_residents"].max()), 1.0)
            on_top = [dot_marker(
                r.lat, r.lon, radius=4 + 12 * (r.catchment_residents / top) ** 0.5, color=STATUS_COLORS[r.status],
                fill=True, fill_opacity=0.75, weight=1,
                tooltip=f"{r.name} · {t('utilisation', lang)} {r.utilisation:.0%} · {t('catchment', lang)} "
                        f"{r.catchment_residents:,.0f}") for r in table.itertuples()]
            basemap, gcj02 = basemap_setting()
            m = build_map({k: v for k in ("boundaries",) if (v := _layer(store, k)) is not None}, lang=lang,
                          height=520, on_top=on_top, basemap=basemap, gcj02=gcj02)
            st_folium(m, key="usage_map", height=520, use_container_width=True, returned_objects=[])
            st.caption(f":red[●] {t('status_over', lang)}　:green[●] {t('status_normal', lang)}　"
                       f":blue[●] {t('status_under', lang)}　:gray[●] {t('status_no_data', lang)}　· "
                       f"{t('circle_size', lang)}")
        with right:
            shown = table[["name", "status", "utilisation", "mean_daily", "daily_capacity", "catchment_residents",
                           "residents_per_place"]].copy()
            shown["status"] = shown["status"].map(lambda s: t(f"status_{s}", lang))
            st.dataframe(shown.rename(columns={"utilisation": t("utilisation", lang),
                                               "catchment_residents": t("catchment", lang)}),
                         hide_index=True, width="stretch", key="usage_table",
                         column_config={t("utilisation", lang): st.column_config.ProgressColumn(
                             t("utilisation", lang), format="percent", min_value=0, max_value=1.5)})
            for note in result.notes:
                show.caption(note)
    record_import(store, "venue_usage", lang, t("usage_upload", lang))


def indicators_tab(store: Store, lang: str) -> None:
    """City KPIs, the department table, the per-unit table and league, the trend."""
    survey = store.records.read("satisfaction")
    periods = sorted(survey["period"].astype(str).unique(), reverse=True) if len(survey) else []
    c1, c2 = st.columns(2)
    level = c1.selectbox(t("unit_level", lang), ["street", "district", "community"], key=state.IND_LEVEL,
                         format_func=lambda k: t(f"level_{k}", lang))
    period = c2.selectbox(t("survey_period", lang), periods or [None], key=state.IND_PERIOD)
    ind = get_indicators(store, level=level, period=period)
    city = ind.city
    k = st.columns(5)
    k[0].metric(t("coverage_15", lang), f"{city['coverage_1000']:.1%}")
    k[1].metric(t("per_capita", lang), f"{city['m2_per_resident']:.2f} m²",
                delta=f"{city['m2_per_resident'] - 2.6:+.2f} m² / 2.6 m²")
    k[2].metric(t("open_rate", lang), f"{city['open_rate']:.0%}",
                delta=f"{city['weekly_open_hours']:.0f} h/周" if pd.notna(city["weekly_open_hours"]) else None,
                delta_color="off")
    k[3].metric(t("satisfaction", lang), "—" if pd.isna(city["satisfaction"]) else f"{city['satisfaction']:.1f}")
    k[4].metric(t("stations_fitness", lang), f"{city.get('stations_with_fitness_rate', float('nan')):.0%}")
    show.caption(ind.source)
    for note in ind.notes:
        show.caption(note)
    left, right = st.columns(2)
    with left:
        st.subheader(t("league", lang))
        st.dataframe(ind.league, hide_index=True, width="stretch", key="league_table")
        st.subheader(t("by_department", lang))
        dept = ind.departments.copy()
        dept["department"] = dept["department"].map(lambda d: label(*DEPARTMENTS[d], lang))
        dept["meets"] = dept["meets"].map(lambda v: "—" if v is None else ("✓" if v else "✗"))
        st.dataframe(dept, hide_index=True, width="stretch", key="dept_table")
    with right:
        st.subheader(t("by_unit", lang))
        st.dataframe(ind.units.drop(columns=["level"]), hide_index=True, width="stretch", key="units_table")
        st.subheader(t("trend", lang))
        by = st.radio(t("trend", lang), ["change", "quarter"], horizontal=True, key=state.IND_TREND,
                      format_func=lambda k: t(f"trend_by_{k}", lang), label_visibility="collapsed")
        trend = get_trend(store, by=by)
        if "open_rate" in trend.columns and len(trend) > 1:
            chart = trend[["coverage_1000", "open_rate"]].rename(
                columns={"coverage_1000": t("coverage_15", lang), "open_rate": t("open_rate", lang)})
            chart.index = [f"{k + 1}" for k in range(len(chart))]
            st.line_chart(chart, height=200, x_label="#", y_label="%")
        st.dataframe(trend.drop(columns=["layers"], errors="ignore"), hide_index=True, width="stretch",
                     key="trend_table")
        if len(survey):
            st.caption(t("satisfaction", lang))
            st.dataframe(satisfaction_trend(survey), hide_index=True, width="stretch", key="satisfaction_trend")
    record_import(store, "satisfaction", lang, t("survey_upload", lang))

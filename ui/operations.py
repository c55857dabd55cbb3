"""The operations page's three sections: nearby finder, venue usage, evaluation indicators."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from exports.nearby_sheet import sheet_rows, write_nearby_csv, write_nearby_sheet
from geo.definitions import LIFE_CIRCLES
from geo.errors import OneMapError
from geo.indicators import satisfaction_trend
from geo.nearby import NearbyResult, Origin, parse_coordinates
from geo.units import OUTSIDE, SPORTS_AREA_TARGET_M2_PER_RESIDENT, place_names
from geo.usage import STATUS
from i18n import LANGUAGES, render_note, t
from i18n.definitions import circle_label
from i18n.names import place_name
from i18n.values import value_label
from layers.limits import upload_workspace
from layers.stores import Store
from ui import show, state
from ui.analysis import get_finder, get_indicators, get_trend, get_usage
from ui.charts import share_lines, show_chart, value_bars
from ui.formatting import indicator_label, indicator_value
from ui.links import LinkField, number_in, one_of, text_of
from ui.map_settings import basemap_setting, report_entry
from ui.record_import import record_import, stored_layer, stored_layers
from ui.slots import CHOICES as SLOT_CHOICES
from ui.slots import slot_picker
from ui.tables import show_table
from webmap.folium_map import build_map, dot_marker, labelled_marker, unshift_click
from webmap.legend import LegendEntry

STATUS_COLORS = {"over": "#d7301f", "normal": "#41ab5d", "under": "#2171b5", "implausible": "#8856a7",
                 "no_capacity": "#636363", "no_data": "#bdbdbd"}



#: The page's inputs in its URL (?section=usage&catchment=1000&over=0.85 …; ?section=nearby&mode=station&station=…).
LINK = {"section": LinkField(state.OPS_SECTION, "nearby", one_of(["nearby", "usage", "indicators"])),
        "mode": LinkField(state.NEARBY_MODE, "station", one_of(["station", "coords", "click"])),
        "minutes": LinkField(state.NEARBY_MINUTES, 15, number_in(5, 30, int)),
        "station": LinkField(state.NEARBY_STATION, None, text_of(120)),
        "coords": LinkField(state.NEARBY_COORDS, "", text_of(120)),
        "system": LinkField(state.NEARBY_SYSTEM, "wgs84", one_of(["wgs84", "gcj02", "bd09"])),
        "slot": LinkField(state.NEARBY_SLOT, next(iter(SLOT_CHOICES)), one_of(list(SLOT_CHOICES))),
        "at": LinkField(state.NEARBY_SLOT + ".typed", "", text_of(40)),
        "need": LinkField(state.NEARBY_NEED, "all", text_of(40)),
        "catchment": LinkField(state.USAGE_CATCHMENT, LIFE_CIRCLES[2].metres,
                               one_of([c.metres for c in LIFE_CIRCLES], float), lambda v: f"{v:g}"),
        "over": LinkField(state.USAGE_OVER, 0.85, number_in(0.5, 1.5), lambda v: f"{v:g}"),
        "under": LinkField(state.USAGE_UNDER, 0.30, number_in(0.05, 0.5), lambda v: f"{v:g}"),
        "level": LinkField(state.IND_LEVEL, "street", one_of(["street", "district", "community"])),
        "period": LinkField(state.IND_PERIOD, None, text_of(40)),
        "trend": LinkField(state.IND_TREND, "change", one_of(["change", "quarter"]))}

def _station_choices(store: Store) -> dict[str, tuple[str, str]]:
    """Health stations by id: (``name · street (id)``, street).  Names repeat, so a choice is kept by id."""
    stations = stored_layer(store, "health_stations")
    if stations is None or stations.empty:
        return {}
    streets = place_names(stations, stored_layer(store, "boundaries"), level="street")
    return {str(r.feature_id): (" · ".join(x for x in (str(r.name or ""), street) if x) + f" ({r.feature_id})",
                                street) for r, street in zip(stations.itertuples(), streets)}


def nearby_tab(store: Store, lang: str) -> None:
    """From a health station, typed coordinates or a map click: open resources within a walk."""
    finder = get_finder(store)
    c1, c2 = st.columns([2, 1])
    mode = c1.radio(t("origin", lang), ["station", "coords", "click"], horizontal=True, key=state.NEARBY_MODE,
                    format_func=lambda k: t(f"origin_{k}", lang))
    minutes = c2.slider(t("walk_minutes", lang), 5, 30, step=5, key=state.NEARBY_MINUTES)
    c3, c4 = st.columns(2)
    with c3:
        slot = slot_picker(lang, state.NEARBY_SLOT)
    origin: Origin | None = None
    if mode == "station":
        choices = _station_choices(store)
        if not choices:
            st.info(t("no_stations", lang))
            return
        if st.session_state.get(state.NEARBY_STATION) not in choices:  # a link's station that is not one
            st.session_state.pop(state.NEARBY_STATION, None)
        fid = c4.selectbox(t("origin_station", lang), list(choices), key=state.NEARBY_STATION,
                           format_func=lambda k: choices[k][0])
        origin = replace(finder.origin_of_station(fid), place=choices[fid][1])
    elif mode == "coords":
        text = c4.text_input(t("coords_hint", lang), key=state.NEARBY_COORDS)
        system = c4.selectbox(t("coord_system", lang), ["wgs84", "gcj02", "bd09"], key=state.NEARBY_SYSTEM,
                              format_func=lambda k: t(f"crs_{k}", lang))
        if text.strip():
            try:
                origin = finder.origin_at(*parse_coordinates(text), system=system)
            except OneMapError as exc:
                show.failure(exc, lang, at=c4)
    else:
        clicked = st.session_state.get(state.NEARBY_CLICK)
        c4.caption(t("click_hint", lang))
        if clicked:
            origin = finder.origin_at(clicked[0], clicked[1], label=f"{clicked[0]:.5f}, {clicked[1]:.5f}")
    result = finder.query(origin, minutes=minutes, slot=slot) if origin is not None else None
    result = _for_need_group(store, result, lang)
    left, right = st.columns([3, 2])
    with left:
        on_top, extra = [], []
        if result is not None:
            o = result.origin
            on_top.append(labelled_marker(o.lat, o.lon, tooltip=o.label,
                                          icon_html="<div style='font-size:24px;color:#e31a1c'>★</div>"))
            extra.append(LegendEntry("star", "#e31a1c", t("legend_origin", lang)))
            for row in result.table.itertuples():
                on_top.append(labelled_marker(
                    row.lat, row.lon, tooltip=f"{row.rank}. {row.name} · {row.distance_m:,.0f} m",
                    icon_html=f"<div class='nearby-rank' style='background:#1b9e3a;color:#fff;"
                              f"border-radius:10px;width:20px;text-align:center'>{int(row.rank)}</div>"))
            if len(result.table):
                extra.append(LegendEntry("dot", "#1b9e3a", t("legend_ranked", lang)))
        frames = {k: stored_layer(store, k) for k in ("boundaries", "venues", "school_facilities", "greenways",
                                                "health_stations")}
        basemap, gcj02 = basemap_setting()
        m = build_map({k: v for k, v in frames.items() if v is not None}, lang=lang, height=520, on_top=on_top,
                      legend_extra=extra, basemap=basemap, gcj02=gcj02,
                      passive=("boundaries", "greenways") if mode == "click" else ())
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
        lonely = finder.stations_without_fitness(minutes=10, slot=slot)
        stations = stored_layer(store, "health_stations")
        if len(lonely) and stations is not None:
            places = dict(zip(stations["feature_id"].astype(str),
                              place_names(stations, stored_layer(store, "boundaries"), level="street")))
            lonely["street"] = lonely["feature_id"].astype(str).map(places)
        if lonely.empty:
            st.caption(t("no_lonely", lang))
        else:
            show_table(lonely, {"name": (t("station", lang), "text"), "street": (t("level_street", lang), "text"),
                                "nearest_m": (t("nearest_walk", lang), "metres"),
                                "nearest_min": (t("nearest_minutes", lang), "minutes"),
                                "feature_id": (t("site_id", lang), "text")}, lang, key="lonely_table")


def _for_need_group(store: Store, result: NearbyResult | None, lang: str) -> NearbyResult | None:
    """The nearby list kept to the facilities that serve a chosen need group (a station sending a
    hypertensive resident to exercise-prescription stations and fitness points within 15 minutes)."""
    from geo.need import serves_need
    from layers.health import INDICATORS, configured_matching

    if st.session_state.get(state.NEARBY_NEED) not in ["all", *INDICATORS]:  # a link's group that is not one
        st.session_state.pop(state.NEARBY_NEED, None)
    choice = st.selectbox(t("nearby_need", lang), ["all", *INDICATORS], key=state.NEARBY_NEED,
                          format_func=lambda c: t("nearby_need_all", lang) if c == "all" else
                          value_label("group", c, lang))
    if result is None or choice == "all":
        return result
    keep = serves_need(result.table, stored_layers(store), configured_matching().get(choice, ()))
    table = result.table[keep].reset_index(drop=True)
    table["rank"] = range(1, len(table) + 1)
    return replace(result, table=table)


def _nearby_result(store: Store, result: NearbyResult, mode: str, lang: str) -> None:
    """The ranked list, its notes, and the printable sheet and CSV."""
    n = len(result.table)
    st.metric(f"{show.plain(place_name(result.origin.label, lang))} · {t('nearby_found', lang)}", n)
    if n:
        st.dataframe(sheet_rows(result, lang), hide_index=True, width="stretch", key="nearby_table")
    else:
        st.info(t("no_nearby", lang))
    for note in result.notes:
        show.caption(render_note(note, lang))
    c1, c2 = st.columns([1, 3])
    doc_lang = c2.radio(t("doc_lang", lang), list(LANGUAGES), index=list(LANGUAGES).index(lang), horizontal=True,
                        format_func=LANGUAGES.get, key="nearby_doc_lang")
    if c1.button(t("make_sheet", lang), key="nearby_make"):
        with upload_workspace(prefix="sheet-") as folder:
            pdf = write_nearby_sheet(result, folder / f"{t('nearby_sheet_file', doc_lang)}.pdf",
                                     streets=stored_layer(store, "walk_network"), lang=doc_lang,
                                     issuer=result.origin.label if mode == "station" else "")
            csv = write_nearby_csv(result, folder / f"{t('nearby_list_file', doc_lang)}.csv", doc_lang)
            pdf_bytes, csv_bytes = pdf.read_bytes(), csv.read_bytes()
        st.download_button(t("download_sheet", lang), pdf_bytes, file_name=pdf.name,
                           mime="application/pdf", key="nearby_pdf", on_click="ignore")
        st.download_button(t("download_csv", lang), csv_bytes, file_name=csv.name,
                           mime="text/csv", key="nearby_csv", on_click="ignore")


def _usage_tip(r, lang: str) -> str:
    """A venue's circle: its name, status and what is known of its use (a doubtful count is not a utilisation)."""
    said = [r.name, value_label("status", r.status, lang)]
    if pd.notna(r.utilisation):
        said.append(f"{t('utilisation', lang)} {r.utilisation:.0%}")
    elif pd.notna(r.mean_daily):
        said.append(f"{t('mean_daily', lang)} {r.mean_daily:,.0f}")
    said.append(f"{t('catchment', lang)} {r.catchment_residents:,.0f}")
    return " · ".join(said)


def usage_tab(store: Store, lang: str) -> None:
    """Utilisation against capacity on the map, beside the residents each venue serves."""
    c1, c2, c3 = st.columns(3)
    catchment = c1.selectbox(t("life_circle", lang), [c.metres for c in LIFE_CIRCLES],
                             key=state.USAGE_CATCHMENT, format_func=lambda v: circle_label(v, lang))
    over = c2.slider(t("over_bound", lang), 0.5, 1.5, step=0.05, key=state.USAGE_OVER)
    under = c3.slider(t("under_bound", lang), 0.05, 0.5, step=0.05, key=state.USAGE_UNDER)
    if store.records.read("venue_usage").empty:
        st.info(t("no_usage", lang))
    else:
        result = get_usage(store, catchment_m=catchment, over=over, under=min(under, over - 0.01))
        counts = result.counts()
        # Every status a circle on the map can have is counted above it, in the colour and words of its legend.
        shown = [s for s in STATUS if counts[s] or s in ("over", "normal", "under")]
        for col, status in zip(st.columns(len(shown)), shown):
            col.metric(value_label("status", status, lang), counts[status])
        left, right = st.columns([3, 2])
        table = result.table
        with left:
            top = max(float(table["catchment_residents"].max()), 1.0)
            on_top = [dot_marker(
                r.lat, r.lon, radius=4 + 12 * (r.catchment_residents / top) ** 0.5, color=STATUS_COLORS[r.status],
                fill=True, fill_opacity=0.75, weight=1, tooltip=_usage_tip(r, lang)) for r in table.itertuples()]
            basemap, gcj02 = basemap_setting()
            extra = [LegendEntry("dot", STATUS_COLORS[k], value_label("status", k, lang)) for k in shown]
            m = build_map({k: v for k in ("boundaries",) if (v := stored_layer(store, k)) is not None}, lang=lang,
                          height=520, on_top=on_top, legend_extra=extra, basemap=basemap, gcj02=gcj02,
                          report_entry=report_entry(lang))
            st_folium(m, key="usage_map", height=520, use_container_width=True, returned_objects=[])
            st.caption(t("circle_size", lang))
        with right:
            show_table(table, {"name": (t("venue_name", lang), "text"), "status": (t("usage_status", lang),
                                                                                  "label:status"),
                               "utilisation": (t("utilisation", lang), "percent"),
                               "mean_daily": (t("mean_daily", lang), "decimal"),
                               "daily_capacity": (t("daily_capacity", lang), "count"),
                               "catchment_residents": (t("catchment", lang), "count"),
                               "residents_per_place": (t("residents_per_place", lang), "decimal")},
                       lang, key="usage_table")
            for note in result.notes:
                show.caption(render_note(note, lang))
    record_import(store, "venue_usage", lang, t("usage_upload", lang))


def indicators_tab(store: Store, lang: str) -> None:
    """City KPIs, the department table, the per-unit table and league, the trend."""
    survey = store.records.read("satisfaction")
    periods = sorted(survey["period"].astype(str).unique(), reverse=True) if len(survey) else []
    c1, c2 = st.columns(2)
    level = c1.selectbox(t("unit_level", lang), ["street", "district", "community"], key=state.IND_LEVEL,
                         format_func=lambda k: t(f"level_{k}", lang))
    if st.session_state.get(state.IND_PERIOD) not in (periods or [None]):  # a link's period that is not one
        st.session_state.pop(state.IND_PERIOD, None)
    period = c2.selectbox(t("survey_period", lang), periods or [None], key=state.IND_PERIOD)
    ind = get_indicators(store, level=level, period=period)
    city = ind.city
    k = st.columns(5)
    k[0].metric(t("coverage_15", lang), f"{city['coverage_1000']:.1%}")
    k[1].metric(t("per_capita", lang), f"{city['m2_per_resident']:.2f} m²",
                delta=t("per_capita_target", lang, target=f"{SPORTS_AREA_TARGET_M2_PER_RESIDENT:g}"),
                delta_color="off", delta_arrow="off")
    k[2].metric(t("open_rate", lang), f"{city['open_rate']:.0%}",
                delta=t("hours_a_week", lang, h=f"{city['weekly_open_hours']:.0f}")
                if pd.notna(city["weekly_open_hours"]) else None, delta_color="off", delta_arrow="off")
    k[3].metric(t("satisfaction", lang), "—" if pd.isna(city["satisfaction"]) else f"{city['satisfaction']:.1f}")
    k[4].metric(t("stations_fitness", lang), f"{city.get('stations_with_fitness_rate', float('nan')):.0%}")
    read = ("、" if lang != "en" else ", ").join(t("layer_at_version", lang, layer=value_label("layer", name, lang),
                                                   version=v) for (name, _kind), v in sorted(ind.versions.items()))
    show.caption(t("indicators_source", lang, layers=read))
    for note in ind.notes:
        show.caption(render_note(note, lang))
    left, right = st.columns(2)
    with left:
        st.subheader(t("league", lang))
        show_chart(value_bars(ind.league, name="name", value="score", name_title=t(f"level_{level}", lang),
                              value_title=t("league_score", lang), lang=lang))
        st.caption(t("league_help", lang))
        st.subheader(t("by_department", lang))
        dept = ind.departments
        st.dataframe(pd.DataFrame({
            t("department", lang): [value_label("department", d, lang) for d in dept["department"]],
            t("indicator", lang): [indicator_label(c, lang) for c in dept["indicator"]],
            t("value", lang): [indicator_value(c, v, lang) for c, v in zip(dept["indicator"], dept["value"])],
            t("target_value", lang): [indicator_value(c, v, lang) for c, v in zip(dept["indicator"], dept["target"])],
            t("meets", lang): ["—" if v is None else ("✓" if v else "✗") for v in dept["meets"]],
        }), hide_index=True, width="stretch", key="dept_table")
    with right:
        st.subheader(t("by_unit", lang))
        units = ind.units.assign(name=[t("outside_units", lang) if c == OUTSIDE else n
                                       for c, n in zip(ind.units["code"], ind.units["name"])])
        show_table(units, {"name": (t(f"level_{level}", lang), "text"), "residents": (t("residents", lang), "count"),
                           "coverage_1000": (t("coverage_15", lang), "percent"),
                           "m2_per_resident": (t("per_capita_short", lang), "decimal"),
                           "open_rate": (t("open_rate", lang), "percent"),
                           "weekly_open_hours": (t("weekly_hours", lang), "decimal"),
                           "satisfaction": (t("satisfaction", lang), "decimal"),
                           "respondents": (t("respondents", lang), "count")}
                   | {c: (t("need_share_of", lang, group=value_label("group", c[len("need_"):], lang)), "percent")
                      for c in units.columns if c.startswith("need_")}, lang, key="units_table")
        st.subheader(t("trend", lang))
        by = st.radio(t("trend", lang), ["change", "quarter"], horizontal=True, key=state.IND_TREND,
                      format_func=lambda k: t(f"trend_by_{k}", lang), label_visibility="collapsed")
        trend = get_trend(store, by=by)
        if "open_rate" in trend.columns and trend["when"].notna().any():
            show_chart(share_lines(trend, when="when", series={"coverage_1000": t("coverage_15", lang),
                                                              "open_rate": t("open_rate", lang),
                                                              "stations_with_fitness_rate": t("stations_fitness",
                                                                                              lang)},
                                   when_title=t("trend_when", lang), share_title=t("share", lang)))
            show_table(trend, {"when": (t("trend_when", lang), "datetime"),
                               "coverage_1000": (t("coverage_15", lang), "percent"),
                               "m2_per_resident": (t("per_capita_short", lang), "decimal"),
                               "open_rate": (t("open_rate", lang), "percent"),
                               "stations_with_fitness_rate": (t("stations_fitness", lang), "percent")},
                       lang, key="trend_table")
        else:
            st.caption(t("no_trend", lang))
        if len(survey):
            st.caption(t("satisfaction", lang))
            show_table(satisfaction_trend(survey), {"period": (t("survey_period", lang), "text"),
                                                    "satisfaction": (t("satisfaction", lang), "decimal"),
                                                    "units_published": (t("units_published", lang), "count"),
                                                    "units_suppressed": (t("units_suppressed", lang), "count")},
                       lang, key="satisfaction_trend")
    record_import(store, "satisfaction", lang, t("survey_upload", lang))

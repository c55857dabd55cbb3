"""The 应急 page's four sections: venue profiles against the thresholds, where new AEDs go, an incident and its
responders, and an event-day plan."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from exports.emergency_sheets import (
    KIND_COLOURS,
    responder_rows,
    unconfirmed_mark,
    write_event_plan,
    write_incident_sheet,
)
from geo.emergency import (
    SOURCES,
    EmergencyThresholds,
    aed_placement,
    emergency_hospitals,
    emergency_profiles,
    event_cover,
    place_origin,
    responders,
    unconfirmed_note,
)
from geo.errors import OneMapError
from geo.facilities import TimeSlot
from i18n import label, render_note, t
from i18n.names import place_name
from i18n.values import value_label
from layers.catalogue import CATALOGUE
from layers.limits import upload_workspace
from layers.records import INCIDENT_KINDS, PLACE_LAYERS
from layers.stores import Store
from office.incidents import incidents_on_map, record_incident
from ui import show, state
from ui.analysis import get_emergency
from ui.auth import active_account, write_store
from ui.formatting import format_measure
from ui.links import LinkField, number_in, one_of, text_of
from ui.map_settings import basemap_setting, report_entry
from ui.slots import CHOICES as SLOT_CHOICES
from ui.slots import slot_picker
from ui.tables import show_table
from webmap.folium_map import build_map, dot_marker, labelled_marker, route_line
from webmap.legend import LegendEntry

#: The page's inputs in its URL (?section=placement&aed=300&ambulance=600&method=exact&limit=60 …).
LINK = {"section": LinkField(state.EMERGENCY_SECTION, "profiles",
                             one_of(["profiles", "placement", "incident", "event"])),
        "slot": LinkField(state.EMERGENCY_SLOT, next(iter(SLOT_CHOICES)), one_of(list(SLOT_CHOICES))),
        "at": LinkField(state.EMERGENCY_SLOT + ".typed", "", text_of(40)),
        "aed": LinkField(state.EMERGENCY_AED_S, 240, number_in(60, 900, int)),
        "ambulance": LinkField(state.EMERGENCY_AMB_S, 720, number_in(180, 3600, int)),
        "method": LinkField(state.EMERGENCY_METHOD, "heuristic", one_of(["heuristic", "exact"])),
        "limit": LinkField(state.EMERGENCY_LIMIT, 30, number_in(5, 300, int))}
FAIL_COLOUR, OK_COLOUR = "#d62728", "#1a9641"


def _thresholds(lang: str) -> EmergencyThresholds:
    c1, c2 = st.columns(2)
    aed = c1.number_input(t("aed_round_trip_target", lang), 60, 900, step=30, key=state.EMERGENCY_AED_S)
    amb = c2.number_input(t("ambulance_target", lang), 180, 3600, step=60, key=state.EMERGENCY_AMB_S)
    return EmergencyThresholds(aed_round_trip_s=float(aed), ambulance_s=float(amb))


def _sources(lang: str) -> None:
    en = lang == "en"
    show.caption(t("threshold_sources", lang) + " " + SOURCES["aed_round_trip_s"][en] + "；" * (not en)
                 + "; " * en + SOURCES["ambulance_s"][en])


def _map(layers: dict, on_top: list, extra: list[LegendEntry], key: str, lang: str, fit=None) -> None:
    basemap, gcj02 = basemap_setting()
    drawn = {k: layers[k] for k in ("boundaries", "walk_network", "health_stations", "aeds", "hospitals")
             if layers.get(k) is not None and len(layers[k])}
    if fit is not None:  # room on the left and below for the legend, so no route hides under it
        x0, y0, x1, y1 = fit.to_crs(4326).total_bounds
        w, h = max(x1 - x0, 0.002), max(y1 - y0, 0.002)
        fit = gpd.GeoDataFrame(geometry=[shapely.box(x0 - 0.45 * w, y0 - 0.5 * h, x1 + 0.05 * w, y1 + 0.05 * h)],
                               crs=4326)
    m = build_map(drawn, lang=lang, height=540, on_top=on_top, legend_extra=extra, basemap=basemap, gcj02=gcj02,
                  fit=fit, report_entry=report_entry(lang))
    st_folium(m, key=key, height=540, use_container_width=True, returned_objects=[])


def _tools(store: Store, lang: str):
    """(finder, drive network, layers, venues) of the stored layers; ``None`` (and a word) without venues."""
    finder, drive, layers = get_emergency(store)
    venues = layers.get("venues")
    if venues is None or venues.empty:
        st.info(t("no_venues", lang))
        return None
    return finder, drive, layers, venues


def profiles_section(store: Store, lang: str) -> None:
    """Each venue's nearest AED, health station and ambulance against the thresholds; the failing ones ranked."""
    got = _tools(store, lang)
    if got is None:
        return
    finder, drive, layers, venues = got
    c1, c2 = st.columns([1, 2])
    with c1:
        slot = slot_picker(lang, state.EMERGENCY_SLOT)
    with c2:
        th = _thresholds(lang)
    if drive is None:
        st.warning(t("no_drive_network", lang))
    hospitals = layers.get("hospitals")
    usable = emergency_hospitals(hospitals) if hospitals is not None else None
    prof = emergency_profiles(finder, venues, drive=drive, slot=slot, thresholds=th, hospitals=usable)
    prof = prof.replace([np.inf, -np.inf], np.nan)  # nothing within reach: shown as a missing value
    prof["hospital"] = [unconfirmed_mark(place_name(h, lang), c, lang) if isinstance(h, str) else h
                        for h, c in zip(prof["hospital"], prof["hospital_confirmed"])]
    k = st.columns(4)
    k[0].metric(t("venues_checked", lang), len(prof))
    k[1].metric(t("venues_failing", lang), int(prof["fails"].sum()))
    k[2].metric(t("aed_too_far", lang), int((~prof["aed_ok"].astype(bool)).sum()))
    k[3].metric(t("ambulance_too_slow", lang), int((~prof["ambulance_ok"].astype(bool)).sum()))
    pts = venues.set_index(venues["feature_id"].astype(str)).geometry.representative_point()
    trip = t("aed_round_trip", lang)
    on_top = [dot_marker(pts[r.feature_id].y, pts[r.feature_id].x, radius=7, color=FAIL_COLOUR if r.fails else
                         OK_COLOUR, fill=True, fill_opacity=0.8, weight=1,
                         tooltip=f"{r.name} · {trip} {format_measure('count', r.aed_round_trip_s, lang)} s")
              for r in prof.itertuples()]
    extra = [LegendEntry("dot", FAIL_COLOUR, t("venue_fails", lang)),
             LegendEntry("dot", OK_COLOUR, t("venue_ok", lang))]
    left, right = st.columns([3, 2])
    with left:
        _map(layers, on_top, extra, "emergency_profiles_map", lang)
    with right:
        shown = prof.sort_values(["rank", "feature_id"], na_position="last")
        shown = shown.assign(ambulance_min=shown["ambulance_s"] / 60)
        show_table(shown, {
            "rank": (t("fail_rank", lang), "count"), "name": (t("venue_name", lang), "text"),
            "capacity": (t("capacity", lang), "count"), "aed_walk_m": (t("aed_walk", lang), "metres"),
            "aed_round_trip_s": (t("aed_round_trip", lang), "count"), "aed_ok": (t("aed_ok", lang), "label:ok"),
            "station_walk_m": (t("station_walk", lang), "metres"), "hospital": (t("hospital", lang), "text"),
            "ambulance_min": (t("ambulance_minutes", lang), "decimal"),
            "ambulance_ok": (t("ambulance_ok", lang), "label:ok")}, lang, key="emergency_profiles_table")
    if (said := unconfirmed_note(usable)) is not None:
        show.caption(render_note(said, lang))
    _sources(lang)


def _candidates(layers: dict, store: Store) -> gpd.GeoDataFrame:
    """Where a new AED may go: at every venue (its entrance point) and at the stored candidate sites."""
    parts = []
    venues = layers.get("venues")
    if venues is not None and len(venues):
        parts.append(gpd.GeoDataFrame({"feature_id": "at-" + venues["feature_id"].astype(str),
                                       "name": venues["name"], "origin": "venue"},
                                      geometry=venues.geometry.representative_point().to_numpy(), crs=4326))
    sites = store.layers.read("candidate_sites")
    if len(sites):
        parts.append(gpd.GeoDataFrame({"feature_id": sites["feature_id"].astype(str), "name": sites["name"],
                                       "origin": "candidate_site"},
                                      geometry=sites.geometry.representative_point().to_numpy(), crs=4326))
    if not parts:
        return gpd.GeoDataFrame({"feature_id": [], "name": [], "origin": []}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def placement_section(store: Store, lang: str) -> None:
    """The fewest new AEDs so every venue has one within the round trip (set covering)."""
    got = _tools(store, lang)
    if got is None:
        return
    finder, drive, layers, venues = got
    th = _thresholds(lang)
    c1, c2 = st.columns(2)
    method = c1.radio(t("solve_method", lang), ["heuristic", "exact"], horizontal=True, key=state.EMERGENCY_METHOD,
                      format_func=lambda k: t(f"method_{k}", lang))
    limit = c2.number_input(t("time_limit", lang), 5, 300, step=5, key=state.EMERGENCY_LIMIT)
    candidates = _candidates(layers, store)
    st.caption(t("aed_candidates", lang, n=len(candidates)))
    if not st.button(t("solve", lang), key="emergency_solve", type="primary"):
        return
    prof = emergency_profiles(finder, venues, thresholds=th)  # AEDs open at any time count as there
    plan = aed_placement(finder, venues, candidates, thresholds=th, existing_walk_m=prof["aed_walk_m"].to_numpy(),
                         method=method, time_limit=float(limit))
    chosen = candidates.iloc[plan.sites].reset_index(drop=True)
    k = st.columns(4)
    k[0].metric(t("new_aeds", lang), len(chosen))
    k[1].metric(t("venues_without_aed", lang), int((~prof["aed_ok"]).sum()))
    k[2].metric(t("plan_status", lang), format_measure("status", plan.status, lang))
    k[3].metric(t("plan_gap", lang), "—" if plan.gap is None else f"{plan.gap:.1%}")
    for note in plan.messages:
        show.caption(render_note(note, lang))
    on_top = [labelled_marker(p.y, p.x, tooltip=f"{j + 1}. {n}", icon_html=(
        f"<div style='background:{KIND_COLOURS['aeds']};color:#fff;border-radius:10px;width:20px;"
        f"text-align:center'>{j + 1}</div>")) for j, (p, n) in enumerate(zip(chosen.geometry, chosen["name"]))]
    left, right = st.columns([3, 2])
    with left:
        _map(layers, on_top, [LegendEntry("dot", KIND_COLOURS["aeds"], t("new_aed_sites", lang))],
             "emergency_placement_map", lang)
    with right:
        show_table(chosen.assign(k=range(1, len(chosen) + 1)), {
            "k": ("#", "count"), "name": (t("site_name", lang), "text"),
            "origin": (t("site_origin", lang), "label:aed_site")}, lang, key="emergency_placement_table")


def _place_choices(store: Store, layer: str) -> dict[str, str]:
    frame = store.layers.read(layer)
    name = CATALOGUE[layer].name_field or "feature_id"
    return {str(f): f"{n or f} ({f})" for f, n in zip(frame["feature_id"], frame[name])}


def _routes_on_map(table: gpd.GeoDataFrame, here: tuple[float, float], lang: str) -> tuple[list, list]:
    on_top = [route_line(g, color=KIND_COLOURS[r.kind], dashed=r.mode == "drive",
                         tooltip=f"{r.rank}. {r.name} · {value_label('responder_kind', r.kind, lang)} · "
                                 f"{int(r.seconds // 60)}:{int(r.seconds % 60):02d}")
              for r, g in zip(table.itertuples(), table.geometry)]
    on_top.append(labelled_marker(here[1], here[0], tooltip=t("incident_here", lang), icon_html=(
        "<div style='font-size:22px;line-height:22px'>★</div>")))
    extra = [LegendEntry("line", KIND_COLOURS["aeds"], t("legend_aed_route", lang)),
             LegendEntry("line", KIND_COLOURS["health_stations"], t("legend_station_route", lang)),
             LegendEntry("line", KIND_COLOURS["hospitals"], t("legend_drive_route", lang))]
    return on_top, extra


def clock_now() -> dt.datetime:
    """The server's time to the minute (one place, so that a test can move it)."""
    return dt.datetime.now().replace(second=0, microsecond=0)


def incident_section(store: Store, lang: str) -> None:
    """Record an incident at a place of one's own department and get the responders at once; the review map."""
    account = active_account()
    finder, drive, layers = get_emergency(store)
    own = [k for k in PLACE_LAYERS if account.can_write(k)]
    if not own:
        st.info(t("incident_not_allowed", lang))
    else:
        with st.form("incident_form"):
            c1, c2 = st.columns(2)
            layer = c1.selectbox(t("place_layer", lang), own, key=state.INCIDENT_LAYER,
                                 format_func=lambda k: label(CATALOGUE[k].label_zh, CATALOGUE[k].label_en, lang))
            choices = _place_choices(store, layer)
            place = c2.selectbox(t("place", lang), list(choices), format_func=choices.get, key=state.INCIDENT_PLACE)
            c3, c4, c5 = st.columns(3)
            kind = c3.selectbox(t("incident_kind", lang), list(INCIDENT_KINDS),
                                format_func=lambda k: value_label("incident_kind", k, lang))
            # The time typed stays what was typed: the fields are keyed and take "now" once, not at each rerun (a
            # default that changes with the clock made Streamlit treat them as new fields, and a typed 10:00
            # became the minute of the click).
            if state.INCIDENT_TIME not in st.session_state:
                now = clock_now()
                st.session_state[state.INCIDENT_DAY], st.session_state[state.INCIDENT_TIME] = now.date(), now.time()
            day = c4.date_input(t("incident_day", lang), key=state.INCIDENT_DAY)
            clock = c5.time_input(t("incident_time", lang), step=60, key=state.INCIDENT_TIME)
            where = st.text_input(t("where_in_place", lang), max_chars=60, placeholder=t("where_example", lang))
            sent = st.form_submit_button(t("record_and_link", lang), type="primary")
        if sent and place:
            try:
                row = record_incident(write_store(account), account, place_layer=layer, place_id=place,
                                      occurred_at=dt.datetime.combine(day, clock), incident_kind=kind,
                                      where_in_place=where)
            except OneMapError as exc:  # a refusal, shown in the page's language
                show.failure(exc, lang)
            else:
                st.session_state[state.INCIDENT_DONE] = row | {"place_name": choices.get(place, place)}
    row = st.session_state.get(state.INCIDENT_DONE)
    if row:
        _linkage(store, row, finder, drive, layers, lang)
    with st.expander(t("incident_review", lang)):
        _review(store, lang)


def _linkage(store: Store, row: dict, finder, drive, layers: dict, lang: str) -> None:
    """The recorded incident's responders, map and sheet; worked out once per incident and language (the
    searches and the PDF are not redone when the page reruns)."""
    key = (row["incident_id"], lang)
    made = st.session_state.get(state.INCIDENT_SHEET)
    if made is None or made[0] != key:
        when = dt.datetime.strptime(row["occurred_at"], "%Y-%m-%d %H:%M")
        slot = TimeSlot(when.weekday(), when.hour * 60 + when.minute)
        origin = place_origin(finder, store.layers.read(row["place_layer"]), row["place_id"])
        table = responders(finder, origin, layers, drive=drive, slot=slot)
        with upload_workspace(prefix="incident-") as folder:
            pdf = write_incident_sheet(row, row["place_name"], (origin.lon, origin.lat), table,
                                       folder / f"{t('incident_sheet_file', lang)}-{row['incident_id']}.pdf",
                                       streets=layers.get("walk_network"),
                                       recorded_by=active_account().username, lang=lang)
            made = (key, table, (origin.lon, origin.lat), pdf.name, pdf.read_bytes())
        st.session_state[state.INCIDENT_SHEET] = made
    _key, table, here, name, data = made
    show.success(t("incident_recorded", lang, id=row["incident_id"], place=row["place_name"]))
    st.error(t("call_120_first", lang))
    on_top, extra = _routes_on_map(table, here, lang)
    _map(layers, on_top, extra, "incident_map", lang, fit=table if len(table) else None)
    st.dataframe(responder_rows(table, lang), hide_index=True, width="stretch", key="incident_responders")
    st.download_button(t("download_incident_sheet", lang), data, file_name=name, mime="application/pdf",
                       key="incident_pdf", on_click="ignore")


def _review(store: Store, lang: str) -> None:
    today = dt.date.today()
    c1, c2 = st.columns(2)
    since = c1.date_input(t("since", lang), today - dt.timedelta(days=90), key=state.INCIDENT_SINCE)
    until = c2.date_input(t("until", lang), today, key=state.INCIDENT_UNTIL)
    got = incidents_on_map(store, since=since, until=until)
    if got.empty:
        st.caption(t("no_incidents", lang))
        return
    placed = got[got.geometry.notna()]
    on_top = [dot_marker(p.y, p.x, radius=7, color=FAIL_COLOUR, fill=True, fill_opacity=0.7, weight=1,
                         tooltip=f"{r.occurred_at} · {r.place_name} · "
                                 f"{value_label('incident_kind', r.incident_kind, lang)}")
              for r, p in zip(placed.itertuples(), placed.geometry)]
    basemap, gcj02 = basemap_setting()
    bounds = store.layers.read("boundaries")
    m = build_map({"boundaries": bounds} if len(bounds) else {}, lang=lang, height=420, on_top=on_top,
                  legend_extra=[LegendEntry("dot", FAIL_COLOUR, t("incidents_legend", lang))], basemap=basemap,
                  gcj02=gcj02)
    st_folium(m, key="incident_review_map", height=420, use_container_width=True, returned_objects=[])
    show_table(got, {"occurred_at": (t("incident_time", lang), "text"), "place_name": (t("place", lang), "text"),
                     "incident_kind": (t("incident_kind", lang), "label:incident_kind"),
                     "where_in_place": (t("where_in_place", lang), "text"),
                     "department": (t("department", lang), "label:department"),
                     "incident_id": (t("incident_id", lang), "text")}, lang, key="incident_review_table")


def event_section(store: Store, lang: str) -> None:
    """An event at a venue: the cover at its hours and the printable plan."""
    got = _tools(store, lang)
    if got is None:
        return
    finder, drive, layers, venues = got
    choices = _place_choices(store, "venues")
    with st.form("event_form"):
        c1, c2 = st.columns(2)
        venue = c1.selectbox(t("venue_name", lang), list(choices), format_func=choices.get, key=state.EVENT_VENUE)
        name = c2.text_input(t("event_name", lang), max_chars=40, key=state.EVENT_NAME)
        c3, c4, c5, c6 = st.columns(4)
        day = c3.date_input(t("event_day", lang), dt.date.today() + dt.timedelta(days=7), key=state.EVENT_DAY)
        start = c4.time_input(t("event_start", lang), dt.time(18, 0), step=900, key=state.EVENT_START)
        end = c5.time_input(t("event_end", lang), dt.time(21, 0), step=900, key=state.EVENT_END)
        attendance = c6.number_input(t("event_attendance", lang), 0, 200_000, 2000, 100, key=state.EVENT_PEOPLE)
        sent = st.form_submit_button(t("make_event_plan", lang), type="primary")
    if not sent:
        return
    try:
        origin = place_origin(finder, venues, venue)
        cover = event_cover(finder, origin, layers, day=day, start_minute=start.hour * 60 + start.minute,
                            end_minute=(end.hour * 60 + end.minute) or 1440, drive=drive)
    except OneMapError as exc:  # shown in the page's language
        show.failure(exc, lang)
        return
    event = {"name": name.strip() or t("event_default_name", lang), "venue": choices[venue].rsplit(" (", 1)[0],
             "day": day, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "attendance": attendance}
    on_top, extra = _routes_on_map(cover.responders, (origin.lon, origin.lat), lang)
    _map(layers, on_top, extra, "event_map", lang, fit=cover.responders if len(cover.responders) else None)
    rows = responder_rows(cover.responders, lang)
    rows[t("open_throughout", lang)] = [value_label("ok", v, lang) for v in cover.responders["open_through"]]
    st.dataframe(rows, hide_index=True, width="stretch", key="event_cover_table")
    with upload_workspace(prefix="event-") as folder:
        pdf = write_event_plan(event, cover, (origin.lon, origin.lat), folder / f"{t('event_plan_file', lang)}.pdf",
                               layers=layers, streets=layers.get("walk_network"), lang=lang)
        data = pdf.read_bytes()
    st.download_button(t("download_event_plan", lang), data, file_name=pdf.name, mime="application/pdf",
                       key="event_pdf", on_click="ignore")


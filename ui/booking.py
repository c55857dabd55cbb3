"""The booking page's three sections: a resident books (or cancels), staff run a resource's week, and a health
station turns a fitness test's outcome into booked courses (the service package)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from config.settings import settings
from exports.course_sheet import write_course_sheet
from exports.sheets import outbox_csv
from geo.definitions import metres_for, minutes_for
from geo.errors import OneMapError
from geo.notes import note
from i18n import render_note, t
from i18n.values import hours_text, value_label
from layers.limits import upload_workspace
from layers.records import EXERCISE_TYPES, INTENSITIES, TARGET_GROUPS
from layers.stores import Store
from office.bookings import BookingDesk
from office.service_package import (
    DAY_PARTS,
    Outcome,
    place_index,
    queue_message,
    recommend_courses,
    sms_text,
)
from ui import show, state
from ui.analysis import get_finder, layer_versions, records_version
from ui.auth import active_account, write_store
from ui.map_settings import basemap_setting, report_entry
from ui.operations import _station_choices
from ui.record_import import stored_layer
from ui.tables import show_table
from webmap.folium_map import build_map, labelled_marker

#: The record tables a desk is built from (a new version of any rebuilds it).
DESK_RECORDS = ("bookable", "courses", "closures")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.cache_resource(show_spinner=False, max_entries=4)
def _desk(_store: Store, store_key: str, versions: tuple, records: tuple) -> BookingDesk:
    return BookingDesk(_store)


def get_desk(store: Store) -> BookingDesk:
    """The booking desk over the stored resources (rebuilt when they change; bookings are always read live)."""
    return _desk(store, store.description, layer_versions(store),
                 tuple(records_version(store, k) for k in DESK_RECORDS))


def _said(outcome: str, lang: str) -> str:
    """What a booking outcome (``booked``, ``full``, ``wrong_code`` …) says in ``lang``."""
    return render_note(note("booking." + outcome), lang)


def _resource_label(desk: BookingDesk, rid: str, lang: str) -> str:
    res = desk.resources[rid]
    kind = value_label("resource_kind", res.kind, lang)
    place = res.place_name if res.kind == "course" else value_label("layer", res.place_layer, lang)
    return f"{res.title} · {place} · {kind}"


def _slot_label(starts_at: str, lang: str) -> str:
    when = datetime.fromisoformat(starts_at)
    return f"{when:%m-%d} {t('wd_' + WEEKDAYS[when.weekday()], lang)} {when:%H:%M}"


def _communities(store: Store) -> dict[str, tuple[str, float, float]]:
    bounds = stored_layer(store, "boundaries")
    if bounds is None:
        return {}
    comm = bounds[bounds["level"] == "community"]
    pts = comm.geometry.to_crs(4326).representative_point()
    return {str(c): (str(n), float(p.x), float(p.y)) for c, n, p in zip(comm["code"], comm["name"], pts)}


def resident_section(store: Store, lang: str) -> None:
    """Find a slot near home (map + list by walk), book it, or cancel with the code.

    Opened from a course sheet's QR code (``?resource=…&slot=…``, on a phone): the booking form comes first, then
    cancelling by code, and the map and list are folded below (a 390 px screen stacks everything)."""
    desk = get_desk(store)
    if not desk.resources:
        st.info(t("no_bookable", lang))
        return
    wanted = st.query_params.get("resource")
    from_qr = wanted in desk.resources
    if from_qr and st.session_state.get(state.BOOK_RESOURCE) is None:
        st.session_state[state.BOOK_RESOURCE] = wanted  # opened from a QR code: that course and slot
        st.session_state[state.BOOK_SLOT] = st.query_params.get("slot")
    if from_qr:
        _book_form(store, desk, list(desk.resources), lang)
        _cancel_form(desk, lang, expanded=True)  # open: on a phone a folded form folds again at every rerun
        with st.expander(t("browse_nearby", lang)):
            ids, walk, home, places = _filters(store, desk, lang)
            _map_and_list(store, desk, ids, walk, home, places, lang)
        return
    ids, walk, home, places = _filters(store, desk, lang)
    left, right = st.columns([3, 2])
    with left:
        _map_and_list(store, desk, ids, walk, home, places, lang)
    with right:
        _book_form(store, desk, ids or list(desk.resources), lang, home=home)
        _cancel_form(desk, lang, expanded=False)


def _filters(store: Store, desk: BookingDesk, lang: str) -> tuple[list[str], dict, str | None, dict]:
    """Home community, kind and walk: (resources in walking order, their walk in minutes, home, communities)."""
    places = _communities(store)
    c1, c2, c3 = st.columns([2, 1, 1])
    home = c1.selectbox(t("my_community", lang), [None, *places], key=state.BOOK_HOME,
                        format_func=lambda k: t("any_place", lang) if k is None else places[k][0])
    kind = c2.radio(t("resource_kind", lang), ["all", "facility", "course"], horizontal=True, key=state.BOOK_KIND,
                    format_func=lambda k: t("kind_all", lang) if k == "all" else value_label("resource_kind", k, lang))
    minutes = c3.slider(t("walk_minutes", lang), 5, 40, 20, 5, key=state.BOOK_MINUTES)
    ids = [r for r, res in desk.resources.items() if kind == "all" or res.kind == kind]
    walk = {}
    if home is not None:
        finder = get_finder(store)
        origin = finder.origin_at(places[home][1], places[home][2], label=places[home][0])
        dist = finder.distances(origin, limit_m=metres_for(minutes))
        where = place_index(finder)
        for rid in ids:
            i = where.get((desk.resources[rid].place_layer, desk.resources[rid].place_id))
            if i is not None and dist[i] < float("inf"):
                walk[rid] = minutes_for(dist[i])
        ids = sorted(walk, key=walk.get)
    return ids, walk, home, places


def _map_and_list(store: Store, desk: BookingDesk, ids: list[str], walk: dict, home: str | None, places: dict,
                  lang: str) -> None:
    listing = pd.DataFrame({"rank": range(1, len(ids) + 1), "title": [desk.resources[r].title for r in ids],
                            "kind": [desk.resources[r].kind for r in ids],
                            "place": [desk.resources[r].place_name for r in ids],
                            "walk": [walk.get(r) for r in ids],
                            "hours": [desk.resources[r].hours_text for r in ids]})
    on_top = [labelled_marker(desk.resources[r].lat, desk.resources[r].lon,
                              tooltip=f"{k}. {desk.resources[r].title}",
                              icon_html=f"<div class='bookable-rank' style='background:#6a51a3;color:#fff;"
                                        f"border-radius:10px;width:20px;text-align:center'>{k}</div>")
              for k, r in enumerate(ids, start=1) if desk.resources[r].lat is not None]
    if home is not None:
        on_top.append(labelled_marker(places[home][2], places[home][1], tooltip=places[home][0],
                                      icon_html="<div style='font-size:24px;color:#e31a1c'>★</div>"))
    basemap, gcj02 = basemap_setting()
    m = build_map({k: v for k in ("boundaries",) if (v := stored_layer(store, k)) is not None}, lang=lang,
                  height=420, on_top=on_top, basemap=basemap, gcj02=gcj02, report_entry=report_entry(lang))
    st_folium(m, key="booking_map", height=420, use_container_width=True, returned_objects=[])
    if listing.empty:
        st.info(t("no_bookable_near", lang))
    else:
        show_table(listing, {"rank": ("#", "count"), "title": (t("bookable", lang), "text"),
                             "kind": (t("resource_kind", lang), "label:resource_kind"),
                             "place": (t("place", lang), "text"), "walk": (t("walk_min", lang), "minutes"),
                             "hours": (t("booking_hours", lang), "hours")}, lang, key="bookable_table")


def _cancel_form(desk: BookingDesk, lang: str, *, expanded: bool) -> None:
    with st.expander(t("cancel_booking", lang), expanded=expanded):
        bid = st.text_input(t("booking_id", lang), key=state.CANCEL_ID)
        code = st.text_input(t("cancel_code", lang), key=state.CANCEL_CODE)
        if st.button(t("cancel_button", lang), key="cancel_go", disabled=not (bid and code), width="stretch"):
            got = desk.cancel(bid, code)
            (show.success if got.outcome == "cancelled" else show.warning)(_said(got.outcome, lang))


def _book_form(store: Store, desk: BookingDesk, ids: list[str], lang: str, *, home: str | None = None) -> None:
    if st.session_state.get(state.BOOK_RESOURCE) not in ids:
        st.session_state[state.BOOK_RESOURCE] = ids[0]
    rid = st.selectbox(t("bookable", lang), ids, key=state.BOOK_RESOURCE,
                       format_func=lambda r: _resource_label(desk, r, lang))
    res = desk.resources[rid]
    st.caption(t("resource_rules", lang, hours=hours_text(res.hours_text, lang), capacity=res.capacity,
                 days=res.days_ahead, most=res.max_active, cancel=res.cancel_hours,
                 who=value_label("who_may_book", res.who, lang)))
    free = desk.free_slots(rid)
    if free.empty:
        st.info(t("no_slots", lang))
        return
    starts = free["starts_at"].tolist()
    if st.session_state.get(state.BOOK_SLOT) not in starts:
        open_ = free.loc[free["free"] > 0, "starts_at"]
        st.session_state[state.BOOK_SLOT] = open_.iloc[0] if len(open_) else starts[0]
    row_of = free.set_index("starts_at")
    slot = st.selectbox(t("slot", lang), starts, key=state.BOOK_SLOT,
                        format_func=lambda s: t("slot_free", lang, when=_slot_label(s, lang),
                                                free=int(row_of.loc[s, "free"]), waiting=int(row_of.loc[s, "waiting"])))
    phone = st.text_input(t("phone", lang), key=state.BOOK_PHONE, help=t("phone_help", lang))
    area = home  # the community chosen above (its code starts with its street's)
    if res.who in ("street", "community") and home is None:
        area = st.text_input(t("area_code", lang), key=state.BOOK_AREA, help=t("area_help", lang, area=res.area_code))
    waitlist = st.checkbox(t("join_waitlist", lang), key=state.BOOK_WAIT)
    if st.button(t("book_button", lang), key="book_go", type="primary", disabled=not phone, width="stretch"):
        try:
            got = desk.book(rid, slot, phone, area_code=area, waitlist=waitlist)
        except OneMapError as exc:
            show.failure(exc, lang)
            return
        if got.cancel_code:
            show.success(t("booked_with_code", lang, what=_said(got.outcome, lang),
                           booking=got.row["booking_id"], code=got.cancel_code, when=_slot_label(slot, lang)))
        else:
            show.warning(_said(got.outcome, lang))


def staff_section(store: Store, lang: str) -> None:
    """A resource's week (places taken per slot), the day's bookings, check-in, no-shows, closed days and rules."""
    desk = get_desk(store)
    account = active_account()
    ids = [r for r, res in desk.resources.items()
           if account.role in ("admin",) or account.single_user or res.department == account.department]
    if not ids:
        st.info(t("no_own_bookable", lang))
        return
    c1, c2 = st.columns([2, 1])
    rid = c1.selectbox(t("bookable", lang), ids, key=state.STAFF_RESOURCE,
                       format_func=lambda r: _resource_label(desk, r, lang))
    today = date.today()
    week = c2.date_input(t("week_of", lang), today - timedelta(days=today.weekday()), key=state.STAFF_WEEK)
    monday = week - timedelta(days=week.weekday())
    res = desk.resources[rid]
    slots = desk.slots(rid, first=monday, days=7)
    taken = store.bookings.slots(resource_ids=[rid], first=monday.isoformat(),
                                 last=(monday + timedelta(days=7)).isoformat()).set_index("slot_id")["booked"]
    grid: dict[str, dict[str, str]] = {}
    for s in slots:
        col = f"{t('wd_' + WEEKDAYS[s.starts_at.weekday()], lang)} {s.starts_at:%m-%d}"
        grid.setdefault(f"{s.starts_at:%H:%M}", {})[col] = f"{int(taken.get(f'{rid}@{s.key}', 0))}/{res.capacity}"
    st.caption(t("week_grid", lang))
    if grid:
        frame = pd.DataFrame.from_dict(grid, orient="index").sort_index().fillna("—")
        frame.index.name = t("time", lang)
        st.dataframe(frame, width="stretch", key="week_grid")
    else:
        st.info(t("closed_week", lang))
    left, right = st.columns(2)
    with left:
        day = st.date_input(t("day", lang), today, key=state.STAFF_DAY)
        rows = store.bookings.list(resource_ids=[rid], first=day.isoformat(),
                                   last=(day + timedelta(days=1)).isoformat())
        own = account.single_user or account.role == "admin" or account.department == res.department
        masks = store.bookings.contacts(rows["booking_id"].tolist()) if own else {}
        rows["phone"] = rows["booking_id"].map(lambda b: masks.get(b, {}).get("phone_mask", "—"))
        rows["time"] = rows["starts_at"].str[11:16]
        show_table(rows, {"booking_id": (t("booking_id", lang), "text"), "time": (t("time", lang), "text"),
                          "status": (t("booking_status", lang), "label:booking_status"),
                          "phone": (t("phone_masked", lang), "text"), "channel": (t("channel", lang), "label:channel")},
                   lang, key="day_bookings")
        bid = st.text_input(t("booking_id", lang), key=state.STAFF_CHECKIN)
        b1, b2 = st.columns(2)
        if b1.button(t("check_in", lang), key="checkin_go", disabled=not bid):
            try:  # through the department's database role on PostGIS: the database checks it too
                desk.check_in(bid, department=None if (account.single_user or account.role == "admin")
                              else account.department, actor=account.username, through=write_store(account))
                show.success(t("checked_in", lang, booking=bid.upper()))
            except OneMapError as exc:
                show.failure(exc, lang)
        if b2.button(t("mark_no_shows", lang), key="noshow_go"):
            show.success(t("no_shows_marked", lang, n=desk.mark_no_shows()))
        if st.button(t("sync_usage", lang), key="sync_usage_go"):
            version = desk.sync_usage(first=today - timedelta(days=28), last=today - timedelta(days=1),
                                      user=account.username)
            show.success(t("usage_synced", lang, version=version))
    with right:
        st.caption(t("no_show_rates", lang))
        show_table(desk.no_show_rates(), {"title": (t("bookable", lang), "text"), "held": (t("held", lang), "count"),
                                          "no_shows": (t("no_shows", lang), "count"),
                                          "rate": (t("no_show_rate", lang), "percent")}, lang, key="no_show_table")
        _closures(store, desk, rid, account, lang)


def _closures(store: Store, desk: BookingDesk, rid: str, account, lang: str) -> None:
    res = desk.resources[rid]
    c = store.records.read("closures", with_department=True)
    mine = c[(c["resource_id"] == rid) | ((c["resource_id"] == "*") & (c["department"] == res.department))]
    st.caption(t("closed_days", lang))
    show_table(mine, {"first_day": (t("first_day", lang), "text"), "last_day": (t("last_day", lang), "text"),
                      "day_kind": (t("day_kind", lang), "label:day_kind"), "reason": (t("reason", lang), "text"),
                      "resource_id": (t("applies_to", lang), "text")}, lang, key="closures_table")
    with st.form("closure_form"):
        f1, f2 = st.columns(2)
        first = f1.date_input(t("first_day", lang), date.today() + timedelta(days=1))
        last = f2.date_input(t("last_day", lang), date.today() + timedelta(days=1))
        kind = st.selectbox(t("day_kind", lang), ["closed", "school_holiday", "public_holiday"],
                            format_func=lambda k: value_label("day_kind", k, lang))
        reason = st.text_input(t("reason", lang))
        whole = st.checkbox(t("whole_department", lang))
        if st.form_submit_button(t("add_closure", lang)):
            if last < first:
                show.warning(t("last_before_first", lang))
                return
            row = pd.DataFrame([{"resource_id": "*" if whole else rid, "first_day": first, "last_day": last,
                                 "day_kind": kind, "reason": reason or None, "source": "app"}])
            try:
                version = write_store(account).records.write("closures", row, mode="upsert", user=account.username,
                                                              source="app", department=res.department)
                show.success(t("closure_saved", lang, version=version))
            except OneMapError as exc:
                show.failure(exc, lang)


def package_section(store: Store, lang: str) -> None:
    """After a fitness test: outcome category → ranked courses with free slots → sheet with QR codes, SMS text."""
    desk = get_desk(store)
    finder = get_finder(store)
    choices = _station_choices(store)
    if not choices:
        st.info(t("no_stations", lang))
        return
    c1, c2, c3 = st.columns(3)
    fid = c1.selectbox(t("origin_station", lang), list(choices), key=state.PKG_STATION,
                       format_func=lambda k: choices[k][0])
    kinds = c2.multiselect(t("exercise_types", lang), list(EXERCISE_TYPES), key=state.PKG_TYPES,
                           format_func=lambda k: value_label("exercise_type", k, lang),
                           placeholder=t("any_exercise", lang))
    intensity = c3.selectbox(t("max_intensity", lang), list(INTENSITIES), index=1, key=state.PKG_INTENSITY,
                             format_func=lambda k: value_label("intensity", k, lang))
    c4, c5, c6, c7 = st.columns(4)
    group = c4.selectbox(t("target_group", lang), list(TARGET_GROUPS), index=TARGET_GROUPS.index("hypertension"),
                         key=state.PKG_GROUP,
                         format_func=lambda k: value_label("target_group", k, lang))
    minutes = c5.slider(t("walk_minutes", lang), 5, 40, 20, 5, key=state.PKG_MINUTES)
    days = c6.multiselect(t("can_come_days", lang), list(range(7)), default=list(range(7)), key=state.PKG_DAYS,
                          format_func=lambda d: t("wd_" + WEEKDAYS[d], lang))
    parts = c7.multiselect(t("can_come_parts", lang), list(DAY_PARTS), default=list(DAY_PARTS), key=state.PKG_PARTS,
                           format_func=lambda p: t("part_" + p, lang))
    st.caption(t("package_privacy", lang))
    origin = finder.origin_of_station(fid)
    plan = recommend_courses(desk, finder, origin, Outcome(tuple(kinds), intensity, group), minutes=minutes,
                             weekdays=tuple(days), parts=tuple(parts) or tuple(DAY_PARTS),
                             booking_url=_booking_url(), issuer=choices[fid][0])
    st.metric(t("courses_found", lang), len(plan.table))
    if plan.table.empty:
        st.info(t("no_courses", lang))
        return
    table = plan.table.assign(next_slot=[_slot_label(s[0], lang) for s in plan.table["next_slots"]])
    show_table(table, {"rank": ("#", "count"), "title": (t("course", lang), "text"),
                       "place_name": (t("place", lang), "text"), "walk_min": (t("walk_min", lang), "minutes"),
                       "schedule": (t("schedule", lang), "hours"), "next_slot": (t("next_free", lang), "text"),
                       "free_next": (t("free_places", lang), "count"),
                       "intensity": (t("intensity", lang), "label:intensity"),
                       "target_group": (t("target_group", lang), "label:target_group"),
                       "instructor_type": (t("instructor", lang), "label:instructor_type")}, lang,
               key="course_table")
    s1, s2 = st.columns(2)
    if s1.button(t("make_course_sheet", lang), key="course_sheet_go"):
        with upload_workspace(prefix="sheet-") as folder:
            pdf = write_course_sheet(plan, folder / "运动课程推荐单.pdf")
            data = pdf.read_bytes()
        st.download_button(t("download_sheet", lang), data, file_name=pdf.name, mime="application/pdf",
                           key="course_pdf", on_click="ignore")
    with s2:
        st.caption(t("sms_preview", lang))
        st.code(sms_text(plan), language=None, wrap_lines=True)
        phone = st.text_input(t("sms_phone", lang), key=state.PKG_PHONE)
        if st.button(t("queue_sms", lang), key="sms_go", disabled=not phone):
            try:
                mid, _text = queue_message(store, plan, phone)
                show.success(t("sms_queued", lang, id=mid))
            except OneMapError as exc:
                show.failure(exc, lang)
    _outbox(lang)


def _outbox(lang: str) -> None:
    """The department's queued messages as the SMS gateway's CSV (phones decrypted for the owner only)."""
    account = active_account()
    dept = account.department if account.role == "editor" else "health"
    through = write_store(account)  # on PostGIS the department's role reads its own messages only
    with st.expander(t("outbox", lang)):
        waiting = through.bookings.messages(department=dept, unexported_only=True)
        st.caption(t("outbox_waiting", lang, n=len(waiting), dept=value_label("department", dept, lang)))
        if st.button(t("outbox_export", lang), key="outbox_go", disabled=waiting.empty):
            data, ids = outbox_csv(through, department=dept)
            through.bookings.mark_exported(ids, now=datetime.now().isoformat(timespec="seconds"))
            st.download_button(t("outbox_download", lang, n=len(ids)), data, file_name="短信队列.csv",
                               mime="text/csv", key="outbox_csv", on_click="ignore")


def _booking_url() -> str:
    """The booking page's address as residents' phones reach it (``ONEMAP_PUBLIC_URL`` or this page's host)."""

    base = settings().public_url.rstrip("/")
    if not base:
        url = st.context.url or ""
        base = url.split("/", 3)[:3]
        base = "/".join(base) if len(base) == 3 else ""
    return f"{base}/booking"


__all__ = ["resident_section", "staff_section", "package_section", "get_desk"]

"""The field-report parts of the pages: the one map's report filter, the department inbox with the workflow,
the status look-up by code, and a report filed from the page (the map's 问题反馈 button files from the map).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.errors import OneMapError
from i18n import t
from i18n.values import value_label
from layers.catalogue import DEPARTMENTS, get_spec
from layers.stores import Store
from layers.stores.field_report_table import CLOSED, STATUSES
from office.accounts import Account
from office.field_reports import (
    ACTIONS,
    CATEGORIES,
    POINT_KINDS,
    REPORT_LAYERS,
    act,
    age_class,
    correct_feature,
    file_report,
    locate,
    may_act,
)
from office.photos import MAX_PHOTOS
from ui import show, state
from ui.auth import active_account, write_store
from ui.tables import prepare, show_table

OPEN = tuple(s for s in STATUSES if s not in CLOSED)
#: Fields of a feature a data-wrong report lets its holder correct here (text-like fields of the layer).
EDITABLE_TYPES = ("text", "hours", "int", "float")


def report_filters(reports: pd.DataFrame, lang: str) -> tuple | None:
    """The one map's sidebar choice of reports to draw: ``None`` (not drawn) or (departments, categories, statuses)."""
    st.subheader(t("field_reports", lang))
    if not st.checkbox(t("show_reports", lang, n=int((~reports["status"].isin(CLOSED)).sum())),
                       key=state.REPORTS_SHOWN):
        return None
    depts = st.multiselect(t("report_department", lang), list(DEPARTMENTS), default=list(DEPARTMENTS),
                           key=state.REPORTS_DEPTS, format_func=lambda d: value_label("department", d, lang))
    cats = st.multiselect(t("report_category", lang), list(CATEGORIES), default=list(CATEGORIES),
                          key=state.REPORTS_CATS, format_func=lambda c: value_label("category", c, lang))
    stats = st.multiselect(t("report_status", lang), list(STATUSES), default=list(OPEN), key=state.REPORTS_STATUS,
                           format_func=lambda s: value_label("report_status", s, lang))
    return tuple(depts), tuple(cats), tuple(stats)


def filtered_reports(reports: pd.DataFrame, choice: tuple) -> pd.DataFrame:
    """The reports of the chosen departments, categories and statuses."""
    depts, cats, stats = choice
    keep = reports["department"].isin(depts) & reports["category"].isin(cats) & reports["status"].isin(stats)
    return reports[keep]


def _holder_label(report: dict, lang: str) -> str:
    return value_label("department", report["department"], lang)


def _report_rows(reports: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    out = reports.copy()
    out["age"] = [age_class(r, now) for r in out.to_dict("records")] if len(out) else []
    out["place"] = out["place_name"].where(out["place_name"].notna(),
                                           out["lon"].round(5).astype(str) + ", " + out["lat"].round(5).astype(str))
    return out


def inbox_section(store: Store, lang: str) -> None:
    """The department's inbox: its reports by age, one opened with its photos and steps, and the workflow."""
    account = active_account()
    if not (account.single_user or account.role in ("admin", "editor")):
        st.info(t("inbox_editors_only", lang))
        return
    everyone = account.single_user or account.role == "admin"
    reports = store.field_reports.list()
    c1, c2, c3 = st.columns(3)
    if everyone:
        depts = c1.multiselect(t("report_department", lang), list(DEPARTMENTS), default=list(DEPARTMENTS),
                               key=state.INBOX_DEPTS, format_func=lambda d: value_label("department", d, lang))
    else:
        depts = [account.department]
        c1.markdown(f"**{t('inbox_of', lang, department=value_label('department', account.department, lang))}**")
    stats = c2.multiselect(t("report_status", lang), list(STATUSES), default=list(OPEN), key=state.INBOX_STATUS,
                           format_func=lambda s: value_label("report_status", s, lang))
    cats = c3.multiselect(t("report_category", lang), list(CATEGORIES), default=list(CATEGORIES),
                          key=state.INBOX_CATS, format_func=lambda c: value_label("category", c, lang))
    focus = st.session_state.get(state.INBOX_FOCUS)  # the report just moved stays in view, whatever its status now
    keep = reports["department"].isin(depts) & reports["status"].isin(stats) & reports["category"].isin(cats)
    mine = reports[keep | ((reports["report_id"] == focus) & (reports["department"].isin(depts) | everyone))]
    now = dt.datetime.now()
    rows = _report_rows(mine, now)
    if len(rows):
        counts = rows["age"].value_counts()
        k = st.columns(4)
        for col, age in zip(k, ("overdue", "due_soon", "on_time", "closed")):
            col.metric(value_label("age", age, lang), int(counts.get(age, 0)))
    show_table(rows, {"report_id": (t("report_code", lang), "text"), "category": (t("report_category", lang),
                                                                                  "label:category"),
                      "place": (t("report_place", lang), "text"),
                      "status": (t("report_status", lang), "label:report_status"),
                      "age": (t("report_age", lang), "label:age"),
                      "department": (t("report_department", lang), "label:department"),
                      "created_at": (t("report_filed_at", lang), "text"), "due_at": (t("report_due", lang), "text")},
               lang, key="inbox_table")
    if rows.empty:
        return
    code = st.selectbox(t("open_report", lang), list(rows["report_id"]), key=state.INBOX_REPORT,
                        format_func=lambda c: _choice_label(rows, c, lang))
    report = store.field_reports.get(code)
    if report is None:
        return
    _report_detail(store, report, lang)
    _workflow(store, account, report, lang)


def _choice_label(rows: pd.DataFrame, code: str, lang: str) -> str:
    row = rows.set_index("report_id").loc[code]
    return f"{code} · {value_label('category', row['category'], lang)} · {row['place']}"


def _report_detail(store: Store, report: dict, lang: str) -> None:
    left, right = st.columns([3, 2])
    with left:
        where = report["place_name"] or f"{report['lon']:.5f}, {report['lat']:.5f}"
        layer = value_label("layer", report["place_layer"], lang) if report["place_layer"] else t("map_point", lang)
        show.info(t("report_summary", lang, category=value_label("category", report["category"], lang),
                    place=where, layer=layer, status=value_label("report_status", report["status"], lang),
                    department=_holder_label(report, lang), filed=report["created_at"][:16],
                    due=report["due_at"][:16]))
        if report["body"]:
            st.text(report["body"])  # shown as the characters it is
        st.caption(t("report_steps", lang))
        _steps_table(store.field_reports.steps(report["report_id"]), lang, staff=True)
    with right:
        photos = store.field_reports.photos(report["report_id"])
        for k, jpeg in enumerate(photos, start=1):
            st.image(jpeg, caption=t("photo_n", lang, n=k), width="stretch")
        if not photos:
            st.caption(t("no_photos", lang))


def _workflow(store: Store, account: Account, report: dict, lang: str) -> None:
    moved = st.session_state.pop(state.REPORT_MOVED, None)
    if moved is not None:
        show.success(t("report_moved", lang, code=moved[0], status=value_label("report_status", moved[1], lang),
                       department=value_label("department", moved[2], lang)))
    if report["status"] in CLOSED:
        st.caption(t("report_closed", lang))
        return
    if not may_act(account, report):
        st.caption(t("report_not_yours", lang, department=_holder_label(report, lang)))
        return
    possible = [a for a, (allowed, _to, _r) in ACTIONS.items() if report["status"] in allowed]
    through = write_store(account)  # a department's database role on PostGIS: the database checks it too
    with st.form("report_workflow"):
        action = st.radio(t("report_action", lang), possible, horizontal=True,
                          format_func=lambda a: value_label("report_action", a, lang))
        reason = st.text_input(t("step_reason", lang), max_chars=500)
        others = [d for d in DEPARTMENTS if d != report["department"]]
        target = st.selectbox(t("reassign_to", lang), others,
                              format_func=lambda d: value_label("department", d, lang))
        go = st.form_submit_button(t("report_do", lang), type="primary")
    if go:
        try:
            row = act(through, account, report["report_id"], action, reason=reason,
                      to_department=target if action == "reassign" else None)
            st.session_state[state.REPORT_MOVED] = (row["report_id"], row["status"], row["department"])
            st.session_state[state.INBOX_FOCUS] = row["report_id"]
            st.rerun()  # the inbox and the report's steps as they are now
        except OneMapError as exc:
            show.failure(exc, lang)
    if report["category"] == "data_wrong" and report["place_layer"] and report["status"] in ("accepted",
                                                                                                "in_progress"):
        _correction(store, through, account, report, lang)


def _correction(store: Store, through: Store, account: Account, report: dict, lang: str) -> None:
    """The feature a data-wrong report is about, opened for its holder to correct (the audit names the report)."""
    spec = get_spec(report["place_layer"])
    frame = store.layers.read(report["place_layer"])
    hit = frame[frame["feature_id"].astype(str) == str(report["place_id"])]
    if hit.empty:
        show.warning(t("report_feature_gone", lang))
        return
    fields = [f for f in spec.fields if f.type in EDITABLE_TYPES and f.name in hit.columns]
    st.caption(t("correct_feature", lang, code=report["report_id"]))
    with st.form("report_correction"):
        values = {}
        for f in fields:
            current = hit[f.name].iloc[0]
            values[f.name] = st.text_input(f.label_en if lang == "en" else f.label_zh,
                                           "" if pd.isna(current) else str(current), key=f"correct.{f.name}")
        save = st.form_submit_button(t("save_correction", lang))
    if save:
        changes = {}
        for f in fields:
            current = hit[f.name].iloc[0]
            text = values[f.name].strip()
            if text != ("" if pd.isna(current) else str(current)):
                changes[f.name] = text or None
        if not changes:
            st.info(t("nothing_changed", lang))
            return
        try:
            correct_feature(store, account, report["report_id"], changes, write_store=through)
            show.success(t("correction_saved", lang, fields=", ".join(changes)))
        except OneMapError as exc:
            show.failure(exc, lang)


def status_section(store: Store, lang: str) -> None:
    """A report's status by its code: what anyone holding the code may see (no names of staff)."""
    code = st.text_input(t("report_code", lang), key=state.REPORT_LOOKUP).strip().upper()
    if not code:
        st.caption(t("lookup_hint", lang))
        return
    report = store.field_reports.get(code)
    if report is None:
        show.warning(t("report_unknown", lang, code=code))
        return
    show.info(t("report_summary", lang, category=value_label("category", report["category"], lang),
                place=report["place_name"] or f"{report['lon']:.5f}, {report['lat']:.5f}",
                layer=value_label("layer", report["place_layer"], lang) if report["place_layer"]
                else t("map_point", lang),
                status=value_label("report_status", report["status"], lang), department=_holder_label(report, lang),
                filed=report["created_at"][:16], due=report["due_at"][:16]))
    _steps_table(store.field_reports.steps(code), lang, staff=False)


def _steps_table(steps: pd.DataFrame, lang: str, *, staff: bool) -> None:
    """A report's steps as a plain table (a few rows, read as text); staff also see who acted and why."""
    columns = {"at": (t("step_at", lang), "text"), "status": (t("report_status", lang), "label:report_status"),
               "department": (t("report_department", lang), "label:department")}
    if staff:
        columns |= {"actor": (t("step_actor", lang), "label:person"), "reason": (t("step_reason", lang), "text")}
    shown, _config = prepare(steps, columns, lang)
    st.table(shown.set_index(t("step_at", lang)))


def file_section(store: Store, lang: str) -> None:
    """File a report from the page: on a stored facility chosen by name, or at a longitude and latitude."""
    account = active_account()
    st.caption(t("file_hint", lang))
    where = st.radio(t("report_where", lang), ["feature", "point"], horizontal=True, key=state.REPORT_WHERE,
                     format_func=lambda w: t(f"report_where_{w}", lang))
    stored = {i.name for i in store.layers.list()}
    layer = fid = lon = lat = None
    kind = "other"
    if where == "feature":
        layer = st.selectbox(t("layer", lang), [n for n in REPORT_LAYERS if n in stored], key=state.REPORT_LAYER,
                             format_func=lambda n: value_label("layer", n, lang))
    with st.form("file_report"):
        if where == "feature":
            frame = store.layers.read(layer) if layer else None
            if frame is not None and len(frame):
                spec = get_spec(layer)
                names = dict(zip(frame["feature_id"].astype(str), frame[spec.name_field or "feature_id"].astype(str)))
                brackets = "（）" if lang != "en" else "()"
                fid = st.selectbox(t("report_place", lang), list(names),
                                   format_func=lambda f: f"{names[f]}{brackets[0]}{f}{brackets[1]}")
        else:
            c1, c2 = st.columns(2)
            lon = c1.number_input(t("longitude", lang), value=None, format="%.6f")
            lat = c2.number_input(t("latitude", lang), value=None, format="%.6f")
            kind = st.selectbox(t("report_kind", lang), list(POINT_KINDS),
                                format_func=lambda k: value_label("point_kind", k, lang))
        category = st.selectbox(t("report_category", lang), list(CATEGORIES),
                                format_func=lambda c: value_label("category", c, lang))
        body = st.text_area(t("report_text", lang), max_chars=500)
        photos = st.file_uploader(t("report_photos", lang), type=["jpg", "jpeg", "png", "webp"],
                                  accept_multiple_files=True, help=t("photos_help", lang, n=MAX_PHOTOS))
        anonymous = st.checkbox(t("report_anonymous", lang)) if not account.single_user else False
        sent = st.form_submit_button(t("report_send", lang), type="primary")
    if not sent:
        return
    try:
        place, dept, area, name = locate(store, layer=layer, feature_id=fid, lon=lon, lat=lat, kind=kind)
        row = file_report(write_store(account), place=place, department=dept, area_code=area, place_name=name,
                          category=category, body=body, photos=[(f.getvalue(), f.name) for f in photos or []],
                          account=account, anonymous=anonymous)
        show.success(t("report_filed", lang, code=row["report_id"], department=value_label("department", dept, lang),
                       due=row["due_at"][:16]))
    except OneMapError as exc:
        show.failure(exc, lang)


__all__ = ["report_filters", "filtered_reports", "inbox_section", "status_section", "file_section"]

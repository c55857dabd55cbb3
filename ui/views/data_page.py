"""数据管理 / Data: stored layers, their version history, the catalogue, and importing a file."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import OneMapError
from i18n import label, t
from layers.catalogue import CATALOGUE, DEPARTMENTS
from layers.ingest import COORDINATE_SYSTEMS, commit_import, prepare_import, preview_changes
from ui import show, state
from ui.audit_view import audit_section
from ui.auth import active_account, write_store
from ui.store_access import get_store, read_layer_cached
from ui.uploads import saved_upload
from webmap.folium_map import LAYER_STYLES, build_map

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_data", lang))
show.caption(f"{t('store', lang)}: {store.description}")

infos = store.layers.list()
if not infos:
    st.info(t("no_layers", lang))
else:
    st.subheader(t("stored_layers", lang))
    table = pd.DataFrame([{
        t("layer", lang): f"{label(i.label_zh, i.label_en, lang)} ({i.name})",
        t("features", lang): i.n_features, t("layer_version", lang): i.layer_version,
        t("changed_by", lang): i.changed_by, t("changed_at", lang): i.changed_at,
    } for i in infos])
    st.dataframe(table, hide_index=True, width="stretch")
    names = sorted({i.name for i in infos})
    chosen = st.selectbox(t("choose_layer", lang), names, key="data_history_layer")
    st.subheader(t("history", lang))
    st.dataframe(store.history(chosen), hide_index=True, width="stretch")
    if chosen in CATALOGUE:
        audit_section(store, chosen, lang)

with st.expander(t("catalogue", lang)):
    for spec in CATALOGUE.values():
        dept = DEPARTMENTS[spec.department]
        st.markdown(f"**{label(spec.label_zh, spec.label_en, lang)}** `{spec.name}` — "
                    f"{t('department', lang)}: {label(dept[0], dept[1], lang)}; "
                    f"{t('geometry', lang)}: {', '.join(spec.geometry_types)}")
        st.dataframe(pd.DataFrame([{"field": f.name, "label": label(f.label_zh, f.label_en, lang),
                                    "type": f.type, "required": f.required,
                                    "choices": ", ".join(f.choices or ())} for f in spec.fields]),
                     hide_index=True, width="stretch")

st.subheader(t("upload", lang))
upload = st.file_uploader(t("upload_file", lang), key="data_upload",
                          type=["gpkg", "geojson", "json", "zip", "kml", "csv", "xlsx", "osm", "pbf", "tif", "tiff"])
u1, u2, u3 = st.columns(3)
target_layer = u1.selectbox(t("layer", lang), [n for n in CATALOGUE if n != "population"] + ["population"],
                            format_func=lambda n: f"{label(CATALOGUE[n].label_zh, CATALOGUE[n].label_en, lang)} ({n})",
                            key="data_upload_layer")
coord = u2.selectbox(t("coord_system", lang), list(COORDINATE_SYSTEMS), key="data_upload_crs")
crs_text = u3.text_input("CRS (EPSG)", value="", key="data_upload_epsg",
                         help="e.g. EPSG:4547 when the file declares none")
if upload is not None and st.button(t("check", lang), key="data_check"):
    try:
        with saved_upload(upload) as path:
            st.session_state[state.IMPORT_PLAN] = prepare_import(path, target_layer, coord_system=coord,
                                                                 crs=crs_text.strip() or None)
    except OneMapError as exc:
        st.session_state.pop(state.IMPORT_PLAN, None)
        show.error(str(exc))
plan = st.session_state.get(state.IMPORT_PLAN)
done = st.session_state.pop(state.IMPORT_DONE, None)
if done:
    show.success(done)
if plan is not None:
    m1, m2, m3 = st.columns(3)
    m1.metric(t("rows_read", lang), f"{plan.n_read:,}")
    m2.metric(t("rows_valid", lang), f"{plan.n_valid:,}")
    m3.metric(t("file_problems", lang), f"{len(plan.report.problems):,}")
    target = CATALOGUE[plan.layer]
    st.markdown(f"**{show.plain(plan.source)}** → {label(target.label_zh, target.label_en, lang)}")
    if plan.mapping.columns:
        st.caption(t("mapping", lang))
        st.dataframe(pd.DataFrame({"file": list(plan.mapping.columns), "→": list(plan.mapping.columns.values())}),
                     hide_index=True, width="stretch", key="data_mapping")
    for warning in plan.warnings:
        show.warning(warning)
    if not plan.report.ok:
        show.error(plan.report.summary(limit=20))
        st.dataframe(pd.DataFrame([{"row": q.row, "field": q.field, "value": str(q.value), "problem": q.message}
                                   for q in plan.report.problems]), hide_index=True, width="stretch",
                     key="data_problems")
    if len(plan.frame) and plan.frame.geometry.notna().any():
        preview = plan.frame[plan.frame.geometry.notna() & ~plan.frame.geometry.is_empty]
        context = {k: read_layer_cached(store, store.description, k, i.layer_version)
                   for k, i in {i.name: i for i in infos if i.kind == "vector"}.items() if k == "boundaries"}
        shown = {**context, plan.layer: preview} if plan.layer in LAYER_STYLES else context
        st_folium(build_map(shown, lang=lang, height=360, fit=preview), key="data_preview", height=360,
                  use_container_width=True, returned_objects=[])
    stored = next((i.n_features for i in infos if i.kind == "vector" and i.name == plan.layer), 0) or 0
    if stored:
        mode = st.radio(t("write_mode", lang, n=f"{stored:,}"), ["append", "upsert", "replace"], index=None,
                        format_func=lambda k: t(f"mode_{k}", lang), key="data_mode")
    else:
        mode = "append"
    keep = st.checkbox(t("valid_only", lang), key="data_keep_valid", disabled=plan.report.ok or plan.n_valid == 0,
                       value=False)
    change = None
    if mode is None:
        st.info(t("choose_mode", lang))
    elif plan.n_valid and (plan.report.ok or keep):
        try:
            change = preview_changes(store, plan, mode=mode, keep_valid=keep)
        except OneMapError as exc:
            show.error(str(exc))
    if change is not None:
        cols = st.columns(5)
        for col, key, value in zip(cols, ("change_added", "change_updated", "change_unchanged", "change_removed",
                                          "change_after"),
                                   (change.added, change.updated, change.unchanged, change.removed,
                                    change.stored_after)):
            col.metric(t(key, lang), f"{value:,}")
        if change.refused:
            st.error(t("append_refused", lang, n=change.clashes))
        elif change.removed:
            st.warning(t("replace_warning", lang, n=change.removed))
    if st.button(t("commit", lang), key="data_commit", type="primary",
                 disabled=change is None or change.refused):
        try:
            account = active_account()
            account.require_write(plan.layer)
            result = commit_import(write_store(account), plan, user=account.username, mode=mode, keep_valid=keep)
            st.session_state[state.IMPORT_DONE] = (f"{t('import_done', lang)}: {result.n_written} → "
                                                   f"{plan.layer} v{result.layer_version} ({result.n_total:,})")
            st.session_state.pop(state.IMPORT_PLAN, None)
            st.session_state.pop("data_mode", None)
            st.rerun()  # the stored-layers table and every figure on the page read the new version
        except OneMapError as exc:
            show.error(str(exc))

"""数据管理 / Data: stored layers, their version history, the catalogue, and importing a file."""

from __future__ import annotations


import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import OneMapError
from layers.catalogue import CATALOGUE, DEPARTMENTS
from layers.ingest import COORDINATE_SYSTEMS, commit_import, prepare_import
from ui import show, state
from ui.audit_view import audit_section
from ui.auth import active_account, write_store
from i18n import label, t
from webmap.folium_map import LAYER_STYLES, build_map
from ui.store_access import get_store
from ui.uploads import saved_upload

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
if plan is not None:
    st.markdown(f"**{show.plain(plan.source)} → {plan.layer}**: {plan.n_read} / {plan.n_valid}")
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
        st_folium(build_map({plan.layer: preview} if plan.layer in LAYER_STYLES else {}, lang=lang, height=360),
                  key="data_preview", height=360, use_container_width=True, returned_objects=[])
    c_all, c_valid = st.columns(2)
    for col, keep, text in ((c_all, False, "commit_all"), (c_valid, True, "commit_valid")):
        if col.button(t(text, lang), key=f"data_{text}", disabled=(not keep and not plan.report.ok)):
            try:
                account = active_account()
                account.require_write(plan.layer)
                result = commit_import(write_store(account), plan, user=account.username, keep_valid=keep)
                show.success(f"{t('import_done', lang)}: {result.n_written} → {plan.layer} v{result.layer_version}")
                st.session_state.pop(state.IMPORT_PLAN, None)
            except OneMapError as exc:
                show.error(str(exc))

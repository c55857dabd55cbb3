"""数据管理 / Data: stored layers, their version history, the catalogue, and importing a file."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import OneMapError
from i18n import label, render_note, t
from i18n.values import value_label
from layers.catalogue import CATALOGUE, DEPARTMENTS, LayerSpec
from layers.ingest import COORDINATE_SYSTEMS, commit_import, prepare_import, preview_changes
from layers.limits import upload_workspace
from layers.sync import prepare_sync
from ui import show, state
from ui.audit_view import audit_section
from ui.auth import active_account, write_store
from ui.formatting import geometry_label
from ui.reports import field_label, show_problems
from ui.store_access import get_store, read_layer_cached
from ui.tables import show_table
from ui.uploads import saved_upload
from webmap.folium_map import LAYER_STYLES, build_map


def catalogue_table(spec: LayerSpec, lang: str) -> str:
    """A layer's fields as a Markdown table: label, the column name a file uses (as code), type, required,
    choices (each label with the code a file writes)."""
    sep = "、" if lang != "en" else ", "
    head = [t("field_label", lang), t("field_column", lang), t("field_type", lang), t("field_required", lang),
            t("field_choices", lang)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in spec.fields:
        choices = sep.join(f"{value_label(f.name, c, lang)} `{c}`" for c in (f.choices or ()))
        rows.append(f"| {label(f.label_zh, f.label_en, lang)} | `{f.name}` | {t(f'type_{f.type}', lang)} | "
                    f"{value_label('required', bool(f.required), lang)} | {choices} |")
    return "\n".join(rows)


lang = state.lang()
store = get_store()
st.title(t("page_data", lang))
show.caption(f"{t('store', lang)}: {store.description}")

infos = store.layers.list()
if not infos:
    st.info(t("no_layers", lang))
else:
    st.subheader(t("stored_layers", lang))
    table = pd.DataFrame([{"layer": label(i.label_zh, i.label_en, lang), "kind": i.kind,
                           "features": i.n_features, "version": i.layer_version, "by": i.changed_by,
                           "at": i.changed_at} for i in infos])
    show_table(table, {"layer": (t("layer", lang), "text"), "kind": (t("layer_kind", lang), "label:kind"),
                       "features": (t("features", lang), "count"), "version": (t("layer_version", lang), "count"),
                       "by": (t("changed_by", lang), "label:person"), "at": (t("changed_at", lang), "datetime")},
               lang, key="data_layers")
    labels = {i.name: label(i.label_zh, i.label_en, lang) for i in infos}
    chosen = st.selectbox(t("choose_layer", lang), sorted(labels), key="data_history_layer", format_func=labels.get)
    st.subheader(t("history", lang))
    show_table(store.history(chosen), {"layer_version": (t("layer_version", lang), "count"),
                                       "action": (t("action", lang), "label:action"),
                                       "changed_by": (t("changed_by", lang), "label:person"),
                                       "changed_at": (t("changed_at", lang), "datetime"),
                                       "source": (t("source", lang), "text"),
                                       "n_written": (t("n_written", lang), "count"),
                                       "n_total": (t("features", lang), "count")}, lang, key="data_history")
    if chosen in CATALOGUE:
        audit_section(store, chosen, lang)

with st.expander(t("catalogue", lang)):
    for spec in CATALOGUE.values():
        dept = DEPARTMENTS[spec.department]
        geometries = ("、" if lang != "en" else ", ").join(geometry_label(g, lang) for g in spec.geometry_types)
        st.markdown(f"**{label(spec.label_zh, spec.label_en, lang)}** `{spec.name}` — "
                    f"{t('department', lang)}: {label(dept[0], dept[1], lang)}; {t('geometry', lang)}: {geometries}")
        st.markdown(catalogue_table(spec, lang))

st.subheader(t("upload", lang))
upload = st.file_uploader(t("upload_file", lang), key="data_upload",
                          type=["gpkg", "geojson", "json", "zip", "kml", "csv", "xlsx", "osm", "pbf", "tif", "tiff"])
u1, u2, u3 = st.columns(3)
target_layer = u1.selectbox(t("layer", lang), [n for n in CATALOGUE if n != "population"] + ["population"],
                            format_func=lambda n: label(CATALOGUE[n].label_zh, CATALOGUE[n].label_en, lang),
                            key="data_upload_layer")
coord = u2.selectbox(t("coord_system", lang), list(COORDINATE_SYSTEMS), key="data_upload_crs",
                     format_func=lambda k: t(f"crs_{k}", lang), help=t("crs_help", lang))
crs_text = u3.text_input(t("crs_code", lang), value="", key="data_upload_epsg", help=t("crs_code_help", lang),
                         placeholder="EPSG:4547")
if upload is not None and st.button(t("check", lang), key="data_check"):
    try:
        with saved_upload(upload) as path:
            st.session_state[state.IMPORT_PLAN] = prepare_import(path, target_layer, coord_system=coord,
                                                                 crs=crs_text.strip() or None)
    except OneMapError as exc:
        st.session_state.pop(state.IMPORT_PLAN, None)
        show.failure(exc, lang)
with st.expander(t("sync_title", lang)):
    st.caption(t("sync_help", lang))
    s1, s2 = st.columns([3, 1])
    sync_url = s1.text_input(t("sync_url", lang), key="data_sync_url", placeholder="10.2.3.4:5080")
    sync_collection = s2.text_input(t("sync_collection", lang), key="data_sync_collection", placeholder="venues")
    if st.button(t("sync_check", lang), key="data_sync", disabled=not (sync_url.strip() and sync_collection.strip())):
        try:
            with upload_workspace(prefix="sync-") as folder:
                st.session_state[state.IMPORT_PLAN] = prepare_sync(sync_url.strip(), sync_collection.strip(),
                                                                   target_layer, folder)
        except OneMapError as exc:
            st.session_state.pop(state.IMPORT_PLAN, None)
            show.failure(exc, lang)
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
        st.dataframe(pd.DataFrame({t("file_column", lang): list(plan.mapping.columns),
                                   t("field_label", lang): [field_label(plan.layer, c, lang)
                                                            for c in plan.mapping.columns.values()]}),
                     hide_index=True, width="stretch", key="data_mapping")
    for warning in plan.warnings:
        show.warning(render_note(warning, lang))
    if not plan.report.ok:
        show_problems(plan.report, lang, key="data_problems")
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
            show.failure(exc, lang)
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
            st.session_state[state.IMPORT_DONE] = t("import_result", lang, n=f"{result.n_written:,}",
                                                    layer=label(target.label_zh, target.label_en, lang),
                                                    version=result.layer_version, total=f"{result.n_total:,}")
            st.session_state.pop(state.IMPORT_PLAN, None)
            st.session_state.pop("data_mode", None)
            st.rerun()  # the stored-layers table and every figure on the page read the new version
        except OneMapError as exc:
            show.failure(exc, lang)

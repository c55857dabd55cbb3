"""数据管理 / Data: stored layers, their version history, and the layer catalogue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from layers.catalogue import CATALOGUE, DEPARTMENTS
from ui import state
from ui.i18n import label, t
from ui.store_access import get_store

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_data", lang))
st.caption(f"{t('store', lang)}: {store.description}")

infos = store.list_layers()
if not infos:
    st.info(t("no_layers", lang))
else:
    st.subheader(t("stored_layers", lang))
    table = pd.DataFrame([{
        t("layer", lang): f"{label(i.label_zh, i.label_en, lang)} ({i.name})",
        t("features", lang): i.n_features, t("layer_version", lang): i.layer_version,
        t("changed_by", lang): i.changed_by, t("changed_at", lang): i.changed_at,
    } for i in infos])
    st.dataframe(table, hide_index=True, use_container_width=True)
    names = sorted({i.name for i in infos})
    chosen = st.selectbox(t("choose_layer", lang), names, key="data_history_layer")
    st.subheader(t("history", lang))
    st.dataframe(store.history(chosen), hide_index=True, use_container_width=True)

with st.expander(t("catalogue", lang)):
    for spec in CATALOGUE.values():
        dept = DEPARTMENTS[spec.department]
        st.markdown(f"**{label(spec.label_zh, spec.label_en, lang)}** `{spec.name}` — "
                    f"{t('department', lang)}: {label(dept[0], dept[1], lang)}; "
                    f"{t('geometry', lang)}: {', '.join(spec.geometry_types)}")
        st.dataframe(pd.DataFrame([{"field": f.name, "label": label(f.label_zh, f.label_en, lang),
                                    "type": f.type, "required": f.required,
                                    "choices": ", ".join(f.choices or ())} for f in spec.fields]),
                     hide_index=True, use_container_width=True)

"""运营评估 / Operations: the health + fitness nearby finder, venue usage, the alliance's indicators."""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from ui import state
from ui.i18n import t
from ui.operations import indicators_tab, nearby_tab, usage_tab
from ui.store_access import get_store

lang = state.lang()
store = get_store()
st.title(t("app_title", lang) + " · " + t("page_operations", lang))
nearby, usage, indicators = st.tabs([t("tab_nearby", lang), t("tab_usage", lang), t("tab_indicators", lang)])
for tab, render in ((nearby, nearby_tab), (usage, usage_tab), (indicators, indicators_tab)):
    with tab:
        try:
            render(store, lang)
        except OneMapError as exc:
            st.error(t("analysis_error", lang) + str(exc))

"""运营评估 / Operations: the health + fitness nearby finder, venue usage, the alliance's indicators.

One section renders at a time (not tabs): a Leaflet map drawn in a hidden tab gets no size
and opens zoomed out to the whole world, and hidden sections would still be computed.
"""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from ui import show, state
from ui.links import keep, restore
from ui.operations import LINK, indicators_tab, nearby_tab, usage_tab
from ui.store_access import get_store

lang = state.lang()
store = get_store()
st.title(t("page_operations", lang))
SECTIONS = {"nearby": nearby_tab, "usage": usage_tab, "indicators": indicators_tab}
restore("operations", LINK)
section = st.radio(t("page_operations", lang), list(SECTIONS), horizontal=True, key=state.OPS_SECTION,
                   format_func=lambda k: t(f"tab_{k}", lang), label_visibility="collapsed")
try:
    SECTIONS[section](store, lang)
except OneMapError as exc:
    show.failure(exc, lang, prefix=t("analysis_error", lang))
keep("operations", LINK)

"""应急 / Emergency linkage: venue profiles against the AED and ambulance targets, where new AEDs go, an
incident's responders with their routes and the printable sheet, and an event-day plan.

One section renders at a time (see the operations page for why not tabs).
"""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from ui import show, state
from ui.emergency import LINK, event_section, incident_section, placement_section, profiles_section
from ui.links import keep, restore
from ui.store_access import get_store

lang = state.lang()
store = get_store()
st.title(t("page_emergency", lang))
SECTIONS = {"profiles": profiles_section, "placement": placement_section, "incident": incident_section,
            "event": event_section}
restore("emergency", LINK)
section = st.radio(t("page_emergency", lang), list(SECTIONS), horizontal=True, key=state.EMERGENCY_SECTION,
                   format_func=lambda k: t(f"tab_{k}", lang), label_visibility="collapsed")
try:
    SECTIONS[section](store, lang)
except OneMapError as exc:
    show.failure(exc, lang, prefix=t("analysis_error", lang))
keep("emergency", LINK)

"""问题反馈 / Field reports: a department's inbox with the workflow, a report filed from the page, and a
report's progress by its code.  Reports are filed on the map too (its 问题反馈 button).

One section renders at a time (see the operations page for why not tabs); editors and
administrators open on the inbox, everyone else on the form.
"""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from ui import show, state
from ui.auth import active_account
from ui.field_reports import file_section, inbox_section, status_section
from ui.store_access import get_store

lang = state.lang()
store = get_store()
st.title(t("page_reports", lang))
account = active_account()
SECTIONS = {"inbox": inbox_section, "file": file_section, "status": status_section}
if state.REPORT_SECTION not in st.session_state and not (account.single_user or account.role in ("admin", "editor")):
    st.session_state[state.REPORT_SECTION] = "file"
section = st.radio(t("page_reports", lang), list(SECTIONS), horizontal=True, key=state.REPORT_SECTION,
                   format_func=lambda k: t(f"reports_tab_{k}", lang), label_visibility="collapsed")
try:
    SECTIONS[section](store, lang)
except OneMapError as exc:
    show.failure(exc, lang, prefix=t("analysis_error", lang))

"""预约 / Booking: residents book open school fields, venues' courts and fitness courses; staff run a resource's
week; a health station turns a fitness test's outcome into courses with free slots (the service package).

One section renders at a time (see the operations page for why not tabs).  A QR code on a
course sheet opens this page with the course and slot chosen (``?resource=…&slot=…``).
"""

from __future__ import annotations

import streamlit as st

from geo.errors import OneMapError
from i18n import t
from ui import show, state
from ui.booking import package_section, resident_section, staff_section
from ui.store_access import get_store

#: On a phone (a resident opening a course sheet's QR code): targets a thumb can hit, text the browser will not
#: zoom into (the resident's buttons span their column: ui/booking.py).
PHONE_CSS = """<style>@media (max-width: 640px) {
  [data-testid^='stBaseButton'] { min-height: 48px; font-size: 1.05rem; }
  [data-testid='stTextInputRootElement'] input { min-height: 44px; font-size: 16px; }
  [data-testid='stSelectbox'] div[data-baseweb='select'] > div { min-height: 44px; }
}</style>"""

lang = state.lang()
store = get_store()
st.html(PHONE_CSS)
st.title(t("page_booking", lang))
SECTIONS = {"resident": resident_section, "staff": staff_section, "package": package_section}
section = st.radio(t("page_booking", lang), list(SECTIONS), horizontal=True, key=state.BOOK_SECTION,
                   format_func=lambda k: t(f"tab_{k}", lang), label_visibility="collapsed")
try:
    SECTIONS[section](store, lang)
except OneMapError as exc:
    show.failure(exc, lang, prefix=t("analysis_error", lang))

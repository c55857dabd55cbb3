"""The basemap setting of the sidebar, and the 问题反馈 button, as every page's map uses them."""

from __future__ import annotations

import folium
import streamlit as st

from geo.errors import OneMapError
from ui import show, state
from webmap.field_report_layer import ReportEntry
from webmap.folium_map import basemap_layer

#: The key the pages' maps sign their report form's link for (a published map uses its own).
REPORT_KEY = "field-reports"


def basemap_setting() -> tuple[folium.TileLayer | None, bool]:
    """The chosen basemap (None: the city's own layers) and whether its tiles are GCJ-02.

    A bad setting (Tianditu without a key, an XYZ URL without {z}/{x}/{y}) shows its
    message and falls back to no basemap.
    """
    try:
        basemap = basemap_layer(st.session_state.get(state.BASEMAP, "none"),
                                key=st.session_state.get(state.BASEMAP_KEY, ""),
                                url=st.session_state.get(state.BASEMAP_URL, ""))
    except OneMapError as exc:
        show.failure(exc, state.lang())
        basemap = None
    return basemap, basemap is not None and bool(st.session_state.get(state.BASEMAP_GCJ))


def report_entry(lang: str) -> ReportEntry:
    """The 问题反馈 button for a map drawn in a page: its form posts to ``/field-reports`` with a link signed for
    the signed-in account (the same within the hour, so the map is not drawn again on every rerun)."""
    import time

    from ui.auth import active_account
    from webmap.publish import signed_map_url

    account = active_account()
    if account.single_user:
        return ReportEntry(lang, query="", post_url="/" + REPORT_KEY)
    hour = time.time() // 3600 * 3600
    signed = signed_map_url(REPORT_KEY, account.username, now=hour).split("?", 1)[1]
    return ReportEntry(lang, query=f"?{signed}&k={REPORT_KEY}", post_url="/" + REPORT_KEY)

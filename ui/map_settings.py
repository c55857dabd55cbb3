"""The basemap setting of the sidebar, as every page's map uses it."""

from __future__ import annotations

import folium
import streamlit as st

from geo.errors import OneMapError
from ui import show, state
from webmap.folium_map import basemap_layer


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

"""The app's one connection to the configured store, cached across reruns and sessions."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from geo.errors import OneMapError
from i18n import t
from layers.stores import Store, open_store
from ui import show
from ui.state import lang


@st.cache_resource(show_spinner=False)
def _open(target: str | None) -> Store:
    return open_store(target)


def get_store() -> Store:
    """The configured store; on failure shows one clear message and stops the page."""
    try:
        return _open(None)
    except OneMapError as exc:
        show.error(t("store_error", lang()) + str(exc))
        st.stop()
        raise  # st.stop() raises; this line is never reached


@st.cache_data(show_spinner=False, max_entries=64)
def read_layer_cached(_store: Store, store_key: str, name: str, layer_version: int) -> gpd.GeoDataFrame:
    """A layer read once per (store, layer version): map events do not re-read the store."""
    return _store.layers.read(name)


@st.cache_data(show_spinner=False, max_entries=8)
def read_raster_cached(_store: Store, store_key: str, name: str, layer_version: int) -> bytes:
    """A raster layer's bytes, read once per version."""
    return _store.rasters.read(name)

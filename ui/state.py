"""Session-state keys in one place (no string keys scattered across pages)."""

from __future__ import annotations

import streamlit as st

LANG = "lang"
VISIBLE_LAYERS = "visible_layers"
SHOW_POPULATION = "show_population"


def lang() -> str:
    """The current language code ("zh" by default)."""
    return st.session_state.get(LANG, "zh")
COVERAGE_LAYER = "coverage.layer"
COVERAGE_CIRCLE = "coverage.circle"
COVERAGE_METHOD = "coverage.method"
COVERAGE_SLOT = "coverage.slot"
COVERAGE_LEVEL = "coverage.level"
COVERAGE_ZOOM = "coverage.zoom"
PLAN_ADDED = "planning.added_sites"
PLAN_RESULT = "planning.result"
IMPORT_PLAN = "data.import_plan"
IMPORT_DONE = "data.import_done"
BASEMAP = "basemap"
BASEMAP_KEY = "basemap.key"
BASEMAP_URL = "basemap.url"
BASEMAP_GCJ = "basemap.gcj02"
NEARBY_MODE = "nearby.mode"
NEARBY_MINUTES = "nearby.minutes"
NEARBY_SLOT = "nearby.slot"
NEARBY_STATION = "nearby.station"
NEARBY_COORDS = "nearby.coords"
NEARBY_SYSTEM = "nearby.system"
NEARBY_CLICK = "nearby.click"
USAGE_CATCHMENT = "usage.catchment"
USAGE_OVER = "usage.over"
USAGE_UNDER = "usage.under"
IND_LEVEL = "indicators.level"
IND_PERIOD = "indicators.period"
IND_TREND = "indicators.trend"
OPS_SECTION = "operations.section"
ACCOUNT = "auth.account"

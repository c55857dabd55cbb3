"""Session-state keys in one place (no string keys scattered across pages)."""

from __future__ import annotations

import streamlit as st

LANG = "lang"
VISIBLE_LAYERS = "visible_layers"
SHOW_POPULATION = "show_population"


def lang() -> str:
    """The current language code ("zh" by default)."""
    return st.session_state.get(LANG, "zh")

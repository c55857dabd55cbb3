"""健身一张图 / Fitness One Map — the Streamlit script: page config and navigation only (app.py serves it)."""

from pathlib import Path

import streamlit as st

from i18n import LANGUAGES, t
from ui import state
from ui.auth import current_account

st.set_page_config(page_title="健身一张图 · Fitness One Map", layout="wide",
                   page_icon=str(Path(__file__).parent / "static" / "favicon.png"))

with st.sidebar:
    st.radio(t("language", state.lang()), list(LANGUAGES), format_func=LANGUAGES.get,
             key=state.LANG, horizontal=True)

lang = state.lang()
current_account()  # with accounts in the store, every page waits for a sign-in
with st.sidebar.expander(t("basemap", lang)):
    st.selectbox(t("basemap", lang), ["none", "osm", "tianditu", "xyz"], key=state.BASEMAP,
                 format_func=lambda k: {"none": t("basemap_none", lang), "osm": "OpenStreetMap",
                                        "tianditu": "天地图 Tianditu", "xyz": "XYZ"}[k])
    if st.session_state.get(state.BASEMAP) == "tianditu":
        st.text_input(t("tianditu_key", lang), key=state.BASEMAP_KEY, type="password")
    if st.session_state.get(state.BASEMAP) == "xyz":
        st.text_input(t("xyz_url", lang), key=state.BASEMAP_URL)
        st.checkbox(t("gcj02_tiles", lang), key=state.BASEMAP_GCJ)
pages = [
    st.Page("views/one_map.py", title=t("page_one_map", lang), icon=":material/map:", url_path="one_map", default=True),
    st.Page("views/coverage_page.py", title=t("page_coverage", lang), icon=":material/radar:", url_path="coverage"),
    st.Page("views/planning_page.py", title=t("page_planning", lang), icon=":material/add_location:",
            url_path="planning"),
    st.Page("views/operations_page.py", title=t("page_operations", lang), icon=":material/health_and_safety:",
            url_path="operations"),
    st.Page("views/data_page.py", title=t("page_data", lang), icon=":material/database:", url_path="data"),
    st.Page("views/export_page.py", title=t("page_export", lang), icon=":material/download:", url_path="export"),
]
st.navigation(pages).run()

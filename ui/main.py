"""健身一张图 / Fitness One Map — the Streamlit script: page config and navigation only (app.py serves it)."""

from pathlib import Path

import streamlit as st

from i18n import LANGUAGES, t
from layers.limits import UploadLimits
from ui import show, state
from ui.auth import current_account
from ui.frontend_words import localise_frontend

st.set_page_config(page_title="健身一张图 · Fitness One Map", layout="wide",
                   page_icon=str(Path(__file__).parent / "static" / "favicon.png"))

if state.LANG not in st.session_state and st.query_params.get("lang") in LANGUAGES:
    st.session_state[state.LANG] = st.query_params["lang"]  # a link can open the app in a language: ?lang=en
with st.sidebar:
    st.radio(t("language", state.lang()), list(LANGUAGES), format_func=LANGUAGES.get,
             key=state.LANG, horizontal=True)

lang = state.lang()
# Less empty space above each page's title, so maps and tables start higher; Streamlit's own words on the
# file uploaders ("Upload", "… per file") replaced by ours in the page's language.
_UPLOAD = "[data-testid='stFileUploaderDropzone']"
st.html("<style>.block-container{padding-top:2.2rem}"
        f"{_UPLOAD} button [data-testid='stMarkdownContainer'] p{{font-size:0}}"
        f"{_UPLOAD} button [data-testid='stMarkdownContainer'] p::after{{content:'{t('upload_button', lang)}';"
        "font-size:14px}"
        f"{_UPLOAD} [data-testid='stFileUploaderDropzoneInstructions'] span{{font-size:0}}"
        f"{_UPLOAD} [data-testid='stFileUploaderDropzoneInstructions'] span::after"
        f"{{content:'{t('upload_limit', lang, mb=f'{UploadLimits.from_env().max_file_mb:g}')}';font-size:12px}}"
        "</style>")
with st.sidebar:
    localise_frontend(lang)  # Streamlit's own words ("Select all", the table toolbar) in the page's language
with st.sidebar.expander(t("basemap", lang)):
    st.selectbox(t("basemap", lang), ["none", "osm", "tianditu", "xyz"], key=state.BASEMAP,
                 format_func=lambda k: {"none": t("basemap_none", lang), "osm": "OpenStreetMap",
                                        "tianditu": t("basemap_tianditu", lang), "xyz": "XYZ"}[k])
    if st.session_state.get(state.BASEMAP) == "tianditu":
        st.text_input(t("tianditu_key", lang), key=state.BASEMAP_KEY, type="password")
    if st.session_state.get(state.BASEMAP) == "xyz":
        st.text_input(t("xyz_url", lang), key=state.BASEMAP_URL)
        st.checkbox(t("gcj02_tiles", lang), key=state.BASEMAP_GCJ)
one_map = st.Page("views/one_map.py", title=t("page_one_map", lang), icon=":material/map:", url_path="map",
                  default=True)
pages = [
    one_map,
    st.Page("views/coverage_page.py", title=t("page_coverage", lang), icon=":material/radar:", url_path="coverage"),
    st.Page("views/planning_page.py", title=t("page_planning", lang), icon=":material/add_location:",
            url_path="planning"),
    st.Page("views/operations_page.py", title=t("page_operations", lang), icon=":material/health_and_safety:",
            url_path="operations"),
    st.Page("views/booking_page.py", title=t("page_booking", lang), icon=":material/event_available:",
            url_path="booking"),
    st.Page("views/emergency_page.py", title=t("page_emergency", lang), icon=":material/emergency:",
            url_path="emergency"),
    st.Page("views/reports_page.py", title=t("page_reports", lang), icon=":material/report:", url_path="reports"),
    st.Page("views/data_page.py", title=t("page_data", lang), icon=":material/database:", url_path="data"),
    st.Page("views/export_page.py", title=t("page_export", lang), icon=":material/download:", url_path="export"),
]
# The default page lives at "/"; a link or bookmark to /one_map lands there too.
pages.append(st.Page(lambda: st.switch_page(one_map), title=t("page_one_map", lang), url_path="one_map",
                     visibility="hidden"))
try:
    current_account()  # with accounts in the store, every page waits for a sign-in
    st.navigation(pages).run()
except Exception as exc:  # the last line: a message in the page's language and a reference, never a traceback
    show.unexpected(exc, lang)

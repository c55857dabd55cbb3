"""健身一张图 / Fitness One Map — Streamlit entry: page config and navigation only."""

import streamlit as st

from ui import state
from ui.i18n import LANGUAGES, t

from pathlib import Path

st.set_page_config(page_title="健身一张图 · Fitness One Map", layout="wide",
                   page_icon=str(Path(__file__).parent / "static" / "favicon.png"))

with st.sidebar:
    st.radio(t("language", state.lang()), list(LANGUAGES), format_func=LANGUAGES.get,
             key=state.LANG, horizontal=True)

lang = state.lang()
pages = [
    st.Page("ui/pages/one_map.py", title=t("page_one_map", lang), icon=":material/map:", url_path="one_map", default=True),
    st.Page("ui/pages/data_page.py", title=t("page_data", lang), icon=":material/database:", url_path="data"),
]
st.navigation(pages).run()

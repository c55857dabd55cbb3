"""健身一张图 / Fitness One Map — the server: the Streamlit pages and the HTTP routes beside them.

``make demo`` (``streamlit run app.py``) serves ``ui/main.py`` (page config and navigation)
together with the published one-map files and their vector tiles behind the same sign-in (``/maps/…``,
``/tiles/…``) and the maps' field-report form (``POST /field-reports``): :mod:`services.app_routes`.
An installed wheel runs the same through ``onemap serve``.
"""

import streamlit as st

from config.log_setup import configure_logging
from services.app_routes import PAGES, ROUTES

configure_logging()
app = st.App(str(PAGES), routes=ROUTES)

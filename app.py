"""健身一张图 / Fitness One Map — the server: the Streamlit pages and the HTTP routes beside them.

``make demo`` (``streamlit run app.py``) serves ``ui/main.py`` (page config and navigation)
together with the published one-map files and their vector tiles behind the same sign-in (``/maps/…``,
``/tiles/…``) and the maps' field-report form (``POST /field-reports``).
"""

import streamlit as st

from config.log_setup import configure_logging
from services.field_report_route import ROUTES as REPORT_ROUTES
from services.published_maps import ROUTES

configure_logging()
app = st.App("ui/main.py", routes=[*ROUTES, *REPORT_ROUTES])

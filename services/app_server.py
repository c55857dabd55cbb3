"""The app's server as an installed wheel runs it (``onemap serve`` runs ``streamlit run`` on this file)."""

import streamlit as st

from config.log_setup import configure_logging
from services.app_routes import PAGES, ROUTES

configure_logging()
app = st.App(str(PAGES), routes=ROUTES)

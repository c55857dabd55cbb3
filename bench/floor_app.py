"""The floor's server: the bare page (ui/floor_page.py) with the app's own /maps route, nothing else."""

import streamlit as st

from services.published_maps import ROUTES

app = st.App("../ui/floor_page.py", routes=ROUTES)

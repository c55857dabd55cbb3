"""The floor's server: the bare page (bench/floor_page.py) with the app's own /maps route, nothing else."""

import streamlit as st

from services.published_maps import ROUTES

app = st.App("bench/floor_page.py", routes=ROUTES)

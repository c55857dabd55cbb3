"""The floor of ``make bench-one-map``: a bare Streamlit page holding only the published one-map in an iframe.

It sits beside ``ui/static`` so the map's Leaflet files are served exactly as for the app
(Streamlit serves the static folder next to the page script); ``bench/floor_app.py`` serves it.
"""

import streamlit as st

from config.settings import settings

st.iframe(f"/maps/{settings().bench_map_key}.html", height=800)

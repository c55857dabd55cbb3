"""The floor of ``make bench-one-map``: a bare Streamlit page holding only the published one-map in an iframe.

It sits beside ``ui/static`` so the map's Leaflet files are served exactly as for the app
(Streamlit serves the static folder next to the page script); ``bench/floor_app.py`` serves it.
"""

import os

import streamlit as st

st.iframe(f"/maps/{os.environ['ONEMAP_BENCH_MAP_KEY']}.html", height=800)

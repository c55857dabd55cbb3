"""The floor of bench_one_map: a bare Streamlit page holding only the published one-map in an iframe."""

import os

import streamlit as st

st.iframe(f"/maps/{os.environ['ONEMAP_BENCH_MAP_KEY']}.html", height=800)

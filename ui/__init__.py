"""The Streamlit front end: pages, folium map building, strings and session state."""

"""The analysis engine of the fitness one map: pure functions over GeoDataFrames and arrays.

Nothing in this package imports Streamlit or the layer stores, so the same code serves
the app, the command line, the notebooks and batch jobs.
"""

"""Streamlit-side helpers of the igmeta dashboard (state keys, cached wrappers, widgets).

The statistics live in the ``igmeta`` package, which never imports streamlit.
"""

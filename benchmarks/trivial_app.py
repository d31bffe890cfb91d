"""The Streamlit floor: the smallest app that does what an igmeta edit does.

A number input, a metric showing a value computed from it and a plotly scatter of 50
points. ``benchmarks/browser_floor.py`` runs it beside the dashboard, with the same
launcher and configuration, to time how fast any Streamlit app can show a new value on
this machine. Not part of the dashboard.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

#: Label of the number input and of the metric (the benchmark finds them by these).
INPUT_LABEL = "Value"
METRIC_LABEL = "Result"

value = st.number_input(INPUT_LABEL, value=1, step=1)
x = np.arange(50)
y = np.sin(x / 5.0) * value
st.metric(METRIC_LABEL, f"{float(y.sum()):.4f} (value {value})")
st.plotly_chart(go.Figure(go.Scatter(x=x, y=y, mode="markers")), key="scatter", theme=None)

"""Publication bias: contour-enhanced funnel plot, Egger, Begg and trim-and-fill."""

from __future__ import annotations

import streamlit as st

from ui import compute, compute_extra, state
from ui.bias_page import bias_controls, render_bias
from ui.bootstrap import require_app
from ui.components import engine_messages, provenance_banner

require_app()

table = state.get_table()
settings = state.get_settings()
bundle = compute.current_bundle(table, settings)

st.title("Publication bias and small-study effects")
provenance_banner(table)
engine_messages(bundle, table)

if bundle.result is not None:
    options = bias_controls(bundle)
    results = compute_extra.bias_results(
        table, settings.to_dict(), {"estimator": options.estimator}
    )
    render_bias(bundle, results, options)

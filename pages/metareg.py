"""Meta-regression: moderators from the study table, tests, bubble plot, predictions."""

from __future__ import annotations

import streamlit as st

from ui import compute, state
from ui.bootstrap import require_app
from ui.components import engine_messages, provenance_banner
from ui.metareg_page import render_metareg

require_app()

table = state.get_table()
settings = state.get_settings()
bundle = compute.current_bundle(table, settings)

st.title("Meta-regression")
provenance_banner(table)
engine_messages(bundle, table)
st.caption(
    "Does the effect change with a study characteristic? A mixed-effects meta-regression "
    "of the analysed studies (the sidebar's model, tau\u00b2 estimator and test) on "
    "columns of the study table, as metafor's rma(yi, vi, mods = ~ ...)."
)
if bundle.result is None:
    st.info("There is no pooled analysis for the current settings, so nothing to regress.")
else:
    render_metareg(bundle, table)

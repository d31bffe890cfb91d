"""Sensitivity: leave-one-out, cumulative meta-analysis, influence, GOSH, permutation test."""

from __future__ import annotations

import streamlit as st

from ui import compute, state
from ui.bootstrap import require_app
from ui.components import engine_messages, provenance_banner
from ui.sensitivity_page import (
    cumulative_panel,
    gosh_panel,
    influence_panel,
    leave_one_out_panel,
    permutation_panel,
)

require_app()

table = state.get_table()
bundle = compute.current_bundle(table, state.get_settings())

st.title("Sensitivity analyses")
provenance_banner(table)
engine_messages(bundle)

if bundle.result is not None:
    loo, cumulative, influence, gosh, permutation = st.tabs(
        ["Leave-one-out", "Cumulative", "Influence & Baujat", "GOSH plot", "Permutation test"]
    )
    with loo:
        leave_one_out_panel(table, bundle)
    with cumulative:
        cumulative_panel(table, bundle)
    with influence:
        influence_panel(table, bundle)
    with gosh:
        gosh_panel(table, bundle)
    with permutation:
        permutation_panel(table, bundle)

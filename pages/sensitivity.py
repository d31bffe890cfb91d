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
engine_messages(bundle, table)

if bundle.result is not None:
    # Only the open tab runs (a tab switch reruns the page): an edit redraws one panel.
    panels = {
        "Leave-one-out": leave_one_out_panel,
        "Cumulative": cumulative_panel,
        "Influence & Baujat": influence_panel,
        "GOSH plot": gosh_panel,
        "Permutation test": permutation_panel,
    }
    tabs = st.tabs(list(panels), key=state.SENSITIVITY_TAB, on_change="rerun")
    for tab, panel in zip(tabs, panels.values(), strict=True):
        if tab.open:
            with tab:
                panel(table, bundle)

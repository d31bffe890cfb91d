"""Certainty of evidence (GRADE): summary of findings and "what would it take"."""

from __future__ import annotations

import streamlit as st

from ui import compute, state
from ui.bootstrap import require_app
from ui.components import engine_messages, provenance_banner
from ui.grade_page import render_grade, render_what_if

require_app()

table = state.get_table()
bundle = compute.current_bundle(table, state.get_settings())

st.title("Certainty of evidence (GRADE)")
provenance_banner(table)
engine_messages(bundle, table)

if bundle.result is not None:
    inputs = render_grade(table, bundle)
    render_what_if(table, bundle, inputs)

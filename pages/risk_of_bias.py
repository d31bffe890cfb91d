"""Risk of bias: traffic light, weighted summary, "low risk of bias only" sensitivity."""

from __future__ import annotations

import streamlit as st

from ui import compute, state
from ui.bootstrap import require_app
from ui.components import engine_messages, provenance_banner
from ui.risk_of_bias_page import (
    checks_block,
    demo_block,
    low_risk_block,
    pick_tool,
    suggestions_block,
    summary_block,
    traffic_light_block,
)

require_app()

table = state.get_table()
bundle = compute.current_bundle(table, state.get_settings())

st.title("Risk of bias")
provenance_banner(table)
engine_messages(bundle, table)

tool = pick_tool(table)
if tool is None:
    st.info(
        "The study table has no risk-of-bias columns. Add RoB 2 columns (rob_d1 to rob_d5 "
        "and rob_overall, or headers such as D1 and Overall) or ROBINS-I columns (robins_d1 "
        "to robins_d7 and robins_overall); the templates on the Data page include the RoB 2 "
        "columns. Or load the illustrative demo below.",
        icon=":material/info:",
    )
else:
    checks_block(bundle, tool)
    traffic_light_block(table, tool)
    suggestions_block(table, tool)
    summary_block(bundle, table, tool)
    low_risk_block(bundle, table)
demo_block()

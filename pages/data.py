"""Data page: edit the study table, see its checks, upload a file, get a template."""

from __future__ import annotations

import streamlit as st

from ui import compute, data_page, grid, paste_box, state
from ui.bootstrap import require_app
from ui.components import live_result

require_app()

st.title("Study data")
top = st.container()
grid.editor_section()
paste_box.paste_section()
table = state.get_table()
with top:
    data_page.header(table)
    data_page.toolbar(table)
    live_result(compute.current_bundle(table, state.get_settings()))
data_page.checks_section(table)
st.divider()
data_page.upload_section()
data_page.templates_section()

"""Data page: edit the study table, see its checks, upload a file, get a template."""

from __future__ import annotations

import streamlit as st

from ui import data_page, state
from ui.bootstrap import require_app

require_app()

st.title("Study data")
top = st.container()
data_page.editor_section()
table = state.get_table()
with top:
    data_page.header(table)
    data_page.toolbar(table)
data_page.checks_section(table)
st.divider()
data_page.upload_section()
data_page.templates_section()

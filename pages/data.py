"""Data page: edit the study table, see its checks, upload a file, get a template."""

from __future__ import annotations

import streamlit as st

from ui import compute, data_page, grid, paste_box, state, upload
from ui.bootstrap import require_app
from ui.components import live_result
from ui.sidebar import table_inputs

require_app()


@st.fragment
def study_table() -> None:
    """Grid, paste box, live result and checks: one fragment, so that an edit in the grid
    reruns only this part of the page (not the sidebar, the navigation or the upload and
    template sections).

    An edit that changes what the sidebar reads from the table (the subgroup columns and
    their levels) reruns the whole app instead, so the sidebar never shows stale choices.
    """
    top = st.container()
    grid.editor_section()
    paste_box.paste_section()
    table = state.get_table()
    if table_inputs(table) != state.sidebar_inputs():
        st.rerun(scope="app")
    with top:
        data_page.header(table)
        data_page.toolbar(table)
        live_result(compute.current_bundle(table, state.get_settings()))
    data_page.checks_section(table)


st.title("Study data")
study_table()
st.divider()
upload.upload_section()
data_page.templates_section()

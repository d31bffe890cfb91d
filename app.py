"""igmeta dashboard: entry point (navigation, shared sidebar, session state).

Run with ``streamlit run app.py``. Pages live in ``pages/`` and only draw widgets and
results; statistics come from the ``igmeta`` package through ``ui.compute``.
"""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.sidebar import render_sidebar

st.set_page_config(
    page_title="igmeta \u2014 interactive meta-analysis", page_icon="\U0001f4ca", layout="wide"
)
state.init_state()

PAGES = [
    st.Page(
        "pages/analysis.py",
        title="Analysis (forest)",
        icon=":material/forest:",
        default=True,
        url_path="analysis",
    ),
    st.Page("pages/data.py", title="Data", icon=":material/table:", url_path="data"),
    st.Page(
        "pages/bias.py",
        title="Publication bias (funnel)",
        icon=":material/filter_alt:",
        url_path="bias",
    ),
    st.Page(
        "pages/sensitivity.py", title="Sensitivity", icon=":material/tune:", url_path="sensitivity"
    ),
    st.Page(
        "pages/methods.py", title="Methods & about", icon=":material/menu_book:", url_path="methods"
    ),
    st.Page(
        "pages/conventions.py",
        title="Why tools disagree",
        icon=":material/compare_arrows:",
        url_path="conventions",
    ),
]
page = st.navigation(PAGES)
render_sidebar(state.get_table(), state.get_data_type())
page.run()

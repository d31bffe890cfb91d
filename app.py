"""igmeta dashboard: entry point (navigation, shared sidebar, session state).

Run with ``streamlit run app.py``. Pages live in ``pages/`` and only draw widgets and
results; statistics come from the ``igmeta`` package through ``ui.compute``.
"""

from __future__ import annotations

import streamlit as st

from ui import autosave, bootstrap, memory, share, state
from ui.sidebar import render_sidebar

st.set_page_config(
    page_title="igmeta \u2014 interactive meta-analysis", page_icon="\U0001f4ca", layout="wide"
)
state.init_state()
# A shared link (?scenario=<id>) opens the dashboard on that saved analysis.
share.handle_query_params()
# Nothing lost: the URL's ?session= token brings back autosaved work (reload, restart).
autosave.start()

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
        "pages/metareg.py",
        title="Meta-regression",
        icon=":material/scatter_plot:",
        url_path="metareg",
    ),
    st.Page(
        "pages/risk_of_bias.py",
        title="Risk of bias",
        icon=":material/traffic:",
        url_path="risk-of-bias",
    ),
    st.Page(
        "pages/grade.py",
        title="Certainty (GRADE)",
        icon=":material/verified:",
        url_path="grade",
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
    st.Page(
        "pages/scenarios.py",
        title="Scenarios & sharing",
        icon=":material/share:",
        url_path="scenarios",
    ),
    st.Page(
        "pages/present.py", title="Presenter mode", icon=":material/slideshow:", url_path="present"
    ),
]
page = st.navigation(PAGES)
autosave.show_status()
render_sidebar(state.get_table(), state.get_data_type())
with bootstrap.app_run():
    page.run()
# The first complete run has imported everything: make the after-run GC cheap.
memory.freeze_startup_objects()

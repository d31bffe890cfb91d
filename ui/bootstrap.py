"""Make every page URL go through ``app.py``.

Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until the entry point has
called ``st.navigation`` once in the server process, a request for ``/<page>`` runs the
page script on its own (without ``app.py``, so without session state or sidebar). The
product layout fixes the folder name ``pages/``, so each page calls :func:`require_app`
first: in legacy mode it switches the process to ``st.navigation`` routing and reruns,
which runs ``app.py`` and then the requested page.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app() -> None:
    """Rerun through ``app.py`` when a page script was started on its own."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()

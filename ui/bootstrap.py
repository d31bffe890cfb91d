"""Make every page URL go through ``app.py``.

Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until the entry point has
called ``st.navigation`` in the server process, a request for ``/<page>`` runs the page
script on its own (without ``app.py``, so without session state or sidebar). The product
layout fixes the folder name ``pages/``, so each page calls :func:`require_app` first. In
legacy mode it switches the process to ``st.navigation`` routing and runs ``app.py`` in
the same script run (which runs the requested page), then stops the stand-alone run. No
rerun is needed, so the widget actions of this run (button clicks) are kept.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP_PATH = Path(__file__).resolve().parents[1] / "app.py"

#: Per script thread: whether the running page was started by ``app.py``.
_RUN = threading.local()


@contextmanager
def app_run() -> Iterator[None]:
    """Mark the page run inside it as started by ``app.py`` (``app.py`` wraps ``page.run()``).

    The process-wide legacy flag alone is not enough: sessions that opened a page URL at
    the same moment as the first one started in legacy mode before the first flipped the
    flag, and would otherwise run their page without ``app.py`` (no session state).
    """
    previous = getattr(_RUN, "active", False)
    _RUN.active = True
    try:
        yield
    finally:
        _RUN.active = previous


def require_app() -> None:
    """Run ``app.py`` instead when a page script was started on its own."""
    if PagesManager.uses_pages_directory or not getattr(_RUN, "active", False):
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()

"""Make every page URL go through ``app.py``.

Streamlit keeps a legacy mode for apps with a ``pages/`` folder: until the entry point has
called ``st.navigation`` in the server process, a request for ``/<page>`` runs the page
script on its own (without ``app.py``, so without session state or sidebar). The product
layout fixes the folder name ``pages/``, so each page calls :func:`require_app` first.
A page run that ``app.py`` did not start (no :func:`app_run` mark on this thread) runs
``app.py`` instead, in the same script run: its ``st.navigation`` call switches the
process to navigation routing (Streamlit's own public API does that; nothing private is
touched here) and runs the requested page; the stand-alone run then stops. No rerun is
needed, so the widget actions of this run (button clicks) are kept.
"""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

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
    if not getattr(_RUN, "active", False):
        runpy.run_path(str(APP_PATH), run_name="__main__")
        st.stop()

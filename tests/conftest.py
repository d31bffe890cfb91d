"""Test-session set-up shared by every test.

Autosaves and scenarios go to a temporary SQLite file (never the user's home folder), one
per pytest process: under pytest-xdist each worker makes its own, so parallel workers never
share a store. Servers started by the browser fixtures inherit the variable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

#: Set to the store path this file chose (not one the user gave), so that an xdist worker,
#: which inherits the controller's environment, knows it may choose its own.
_CHOSEN = "_IGMETA_TESTS_DB_PATH"


def pytest_configure(config):
    path = os.environ.get("IGMETA_DB_PATH")
    if path is None or path == os.environ.get(_CHOSEN):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        folder = Path(tempfile.mkdtemp(prefix=f"igmeta-tests-{worker}-"))
        os.environ["IGMETA_DB_PATH"] = os.environ[_CHOSEN] = str(folder / "igmeta.sqlite3")


@pytest.fixture()
def navigation_mode(monkeypatch):
    """Run ``app.py`` in AppTest as a live server does once ``st.navigation`` has run
    (no legacy ``pages/`` mode). Use with ``pytest.mark.usefixtures("navigation_mode")``."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


# Under pytest-xdist, one line per finished test file (file_progress.py); the store back
# ends (SQLite, and a throwaway PostgreSQL server started on first use).
from file_progress import (  # noqa: E402, F401
    pytest_runtest_logreport,
    pytest_sessionstart,
    pytest_xdist_node_collection_finished,
)
from store_backends import postgres_server, store_backend  # noqa: E402, F401

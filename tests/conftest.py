"""Test-session set-up shared by every test.

Autosaves and scenarios go to a temporary SQLite file (never the user's home folder);
servers started by the browser fixtures inherit the variable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config):
    if "IGMETA_DB_PATH" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="igmeta-tests-"))
        os.environ["IGMETA_DB_PATH"] = str(folder / "igmeta.sqlite3")


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


# The store back ends (SQLite, and a throwaway PostgreSQL server started on first use).
from store_backends import postgres_server, store_backend  # noqa: E402, F401

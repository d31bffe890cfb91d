"""Test-session set-up shared by every test.

Autosaves and scenarios go to a temporary SQLite file (never the user's home folder);
servers started by the browser fixtures inherit the variable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def pytest_configure(config):
    if "IGMETA_DB_PATH" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="igmeta-tests-"))
        os.environ["IGMETA_DB_PATH"] = str(folder / "igmeta.sqlite3")

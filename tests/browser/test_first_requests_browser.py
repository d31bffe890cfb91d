"""Several people opening a page URL at the same moment on a fresh server all get the app.

Streamlit starts a process with a ``pages/`` folder in its legacy mode; the first request
switches it to ``st.navigation`` (``ui.bootstrap``). Sessions whose first run began before
that switch must still run through ``app.py`` (session state, sidebar), not fail with
"st.session_state has no key".
"""

from __future__ import annotations

import tempfile

import pytest
from conftest import screenshot, wait_for_app

from devtools.local_server import start_server, stop_server

pytestmark = pytest.mark.browser

SESSIONS = 4


def test_simultaneous_first_visits_to_a_page_url(browser):
    with tempfile.TemporaryDirectory() as folder:
        proc, url = start_server({"IGMETA_DB_PATH": f"{folder}/store.sqlite3"})
        contexts = [
            browser.new_context(viewport={"width": 1280, "height": 720}) for _ in range(SESSIONS)
        ]
        try:
            pages = [context.new_page() for context in contexts]
            for page in pages:  # all requests sent before any first run has finished
                page.goto(f"{url}/scenarios", wait_until="commit", timeout=120_000)
            for index, page in enumerate(pages):
                page.set_default_timeout(120_000)
                wait_for_app(page)
                page.get_by_role("heading", name="Scenarios & sharing").wait_for()
                assert page.locator("[data-testid='stException']").count() == 0, index
                # The sidebar is there: the page ran inside app.py.
                assert page.locator("[data-testid='stSidebar']").get_by_text("Model").count() >= 1
            screenshot(pages[-1], "first_requests_scenarios")
        finally:
            for context in contexts:
                context.close()
            stop_server(proc)

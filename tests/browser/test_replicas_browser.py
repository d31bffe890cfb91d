"""Two replicas, one PostgreSQL store: a scenario saved through one server opens through the
other by its link (what a load balancer in front of several replicas relies on)."""

from __future__ import annotations

import pytest
from conftest import screenshot, start_server, stop_server, wait_for_app
from test_journal_club_browser import _choose, _context, _go, _metrics, _open

from igmeta.app.store import open_store
from igmeta.app.store.scenarios import summarise

pytestmark = pytest.mark.browser


def test_a_link_saved_on_one_replica_opens_on_another(browser, postgres_server):
    db_url = postgres_server.create_database()
    env = {"IGMETA_DB_URL": db_url, "IGMETA_DB_PATH": "/nonexistent/not-used.sqlite3"}
    servers = [start_server(env), start_server(env)]
    try:
        (_, url_a), (_, url_b) = servers
        context = _context(browser)
        page = context.new_page()
        _open(page, url_a)
        _choose(page, "Confidence level", "90%")
        before = _metrics(page)
        _go(page, "Scenarios & sharing", "Scenarios & sharing")
        page.get_by_role("button", name="Save and get a link").click()
        wait_for_app(page)
        page.get_by_text("The current analysis is the scenario").wait_for()
        link = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
        assert link.startswith(url_a) and "?scenario=" in link
        context.close()
        scenario_id = link.split("?scenario=", 1)[1]

        store = open_store(db_url)  # saved in PostgreSQL, not in a file of replica A
        try:
            saved = store.load(scenario_id)
        finally:
            store.close()
        assert saved.settings.level == 0.9

        context = _context(browser)  # another browser on replica B
        page = context.new_page()
        _open(page, f"{url_b}/?scenario={scenario_id}")
        page.get_by_text("Opened the shared scenario").wait_for()
        after = _metrics(page)
        assert after == before and after[0] == summarise(saved.run())["text"]
        assert not page.locator("[data-testid='stException']").count()
        screenshot(page, "replica_b_opens_link_from_replica_a")
        context.close()
    finally:
        for proc, _url in servers:
            stop_server(proc)

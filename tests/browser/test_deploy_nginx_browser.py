"""The deployment's load balancer, run for real: ``deploy/nginx.conf`` (Debian nginx, see
:mod:`devtools.local_nginx`) in front of two replicas sharing one PostgreSQL store.

What the compose deployment relies on, checked in a browser: a first visit gets a route
cookie and every later request of that browser (page, scripts, WebSocket) goes to one
replica; the app works through the proxy (WebSocket upgrade); a scenario saved there
opens by its link; when that replica dies, the same browser is moved to the other replica
on reload and its saved scenario is still there.
"""

from __future__ import annotations

import re

import pytest
from conftest import screenshot, start_server, stop_server, wait_for_app
from test_journal_club_browser import _choose, _context, _go, _metrics, _open

from devtools.local_nginx import LocalNginx, NginxUnavailable

pytestmark = pytest.mark.browser

ROUTE = "igmeta_route"


def _routes(log: str, cookie: str) -> set[str]:
    """Replicas (host:port) that served the requests carrying route ``cookie``."""
    served = set()
    for line in log.splitlines():
        status, upstream, sent, *_ = line.split(" ")
        if sent == cookie and upstream != "-" and status != "502":
            served.add(upstream.split(",")[-1].strip())
    return served


def test_nginx_routes_a_browser_to_one_replica_and_fails_over(browser, postgres_server):
    db_url = postgres_server.create_database()
    env = {"IGMETA_DB_URL": db_url, "IGMETA_DB_PATH": "/nonexistent/not-used.sqlite3"}
    servers = [start_server(env), start_server(env)]
    addresses = [url.removeprefix("http://") for _proc, url in servers]
    try:
        nginx = LocalNginx(addresses)
    except NginxUnavailable as exc:  # CI installs nginx (scripts/test.sh): never a skip
        for proc, _url in servers:
            stop_server(proc)
        pytest.fail(str(exc), pytrace=False)
    try:
        nginx.start()
        context = _context(browser)
        page = context.new_page()
        _open(page, nginx.url)
        cookie = next(c["value"] for c in context.cookies() if c["name"] == ROUTE)
        assert cookie

        _choose(page, "Confidence level", "90%")
        before = _metrics(page)
        _go(page, "Scenarios & sharing", "Scenarios & sharing")
        page.get_by_role("button", name="Save and get a link").click()
        wait_for_app(page)
        page.get_by_text("The current analysis is the scenario").wait_for()
        link = page.locator("[data-testid='stCode'] code").first.inner_text().strip()
        # The link is the address the user sees (the balancer), not a replica's.
        assert link.startswith(nginx.url + "/") and "?scenario=" in link, link

        # Every request of this browser so far -- page, static files -- went to one replica.
        (home,) = _routes(nginx.access_log(), cookie)
        assert home in addresses

        # That replica dies: the same browser, on reload, is served by the other one.
        dead = addresses.index(home)
        servers[dead][0].kill()
        servers[dead][0].wait(timeout=15)
        _open(page, link)
        page.get_by_text("Opened the shared scenario").wait_for()
        assert _metrics(page) == before
        assert not page.locator("[data-testid='stException']").count()
        after = _routes(nginx.access_log(), cookie) - {home}
        assert after == {addresses[1 - dead]}
        # The WebSocket went through the proxy, upgraded (101), to the replica of the
        # route (nginx logs a WebSocket when it closes: the reload closed the first one).
        log = nginx.access_log()
        assert re.search(rf"^101 {re.escape(home)} {cookie} GET /_stcore/stream", log, re.M), log
        screenshot(page, "deploy_nginx_failover")
        context.close()
    finally:
        nginx.stop()
        for proc, _url in servers:
            if proc.poll() is None:
                stop_server(proc)

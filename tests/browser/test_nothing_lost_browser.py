"""Nothing lost, in a real browser: a reload or a server restart brings the user's work back.

Each test starts its own Streamlit server on a fresh SQLite store (``IGMETA_DB_PATH`` in a
temporary folder). The user uploads a table and changes a sidebar setting; the page is
reloaded (a new Streamlit session: only the ``?session=`` token in the URL links it to the
old one) and the same numbers must come back; then the server is stopped, a new one is
started on the same store, the same URL is opened, and the same numbers must come back.
A link opened twice at once gets a copy under a new token (no shared autosave).

The helpers here (:func:`open_app`, :func:`go_to`, :func:`upload`, :func:`pooled`,
:func:`session_token`) are also used by the isolation and XSS browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import screenshot, start_server, stop_server, wait_for_app
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

UPLOADER = "[data-testid='stFileUploaderDropzoneInput']"
METRIC = "[data-testid='stMetricValue']"
RESTORED = "Restored your unsaved work from"
TOKEN_IN_URL = re.compile(r"[?&]session=([A-Za-z0-9_-]{16,64})")

PROPORTIONS = (
    "study,events,total\nAlpha 2001,12,40\nBeta 2004,30,52\nGamma 2008,9,61\nDelta 2015,44,70\n"
)


# --------------------------------------------------------------------------- helpers


def session_token(page) -> str:
    """The ``?session=`` token of the page's URL (waits until the app has put it there)."""
    page.wait_for_function("() => /[?&]session=/.test(window.location.search)")
    match = TOKEN_IN_URL.search(page.url)
    assert match, page.url
    return match.group(1)


def open_app(page, url: str) -> None:
    """Open ``url`` and wait for the first page of the app."""
    page.goto(url)
    wait_for_app(page)
    page.locator("h1").first.wait_for()
    wait_for_app(page)


def go_to(page, link: str, heading: str) -> None:
    """Follow a sidebar link within the session and wait for the page's title."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=link).first.click()
    wait_for_app(page)
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_for_app(page)


def upload(page, path: Path, expected_name: str | None = None) -> None:
    """Upload ``path`` on the Data page and use it as the study table."""
    go_to(page, "Data", "Study data")
    page.locator(UPLOADER).set_input_files(str(path))
    wait_for_app(page)
    page.get_by_role("button", name="Use this table").click()
    wait_for_app(page)
    page.get_by_text(f"Loaded '{expected_name or path.name}'").first.wait_for()
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox called ``label``."""
    page.get_by_role("combobox", name=label).click()
    wanted = page.get_by_role("option", name=option, exact=True)
    try:
        wanted.wait_for(timeout=2_000)
    except PlaywrightTimeout:  # the click only focused the box: open it from the keyboard
        page.keyboard.press("ArrowDown")
    wanted.click()
    wait_for_app(page)


def pooled(page) -> str:
    """The headline pooled estimate of the Analysis page."""
    page.locator(METRIC).first.wait_for()
    return page.locator(METRIC).first.inner_text()


def headline(page) -> list[str]:
    """Every headline metric of the Analysis page (estimate, p, k, I², tau²)."""
    page.locator(METRIC).first.wait_for()
    return page.locator(METRIC).all_inner_texts()


# --------------------------------------------------------------------------- tests


@pytest.fixture()
def store_env(tmp_path):
    """A fresh autosave store for one test's servers."""
    return {"IGMETA_DB_PATH": str(tmp_path / "store" / "igmeta.sqlite3")}


def test_reload_and_restart_bring_the_work_back(page, tmp_path, store_env):
    proc, url = start_server(store_env)
    try:
        open_app(page, url)
        token = session_token(page)
        bundled = headline(page)
        csv_path = tmp_path / "journal club.csv"
        csv_path.write_text(PROPORTIONS, "utf-8")
        upload(page, csv_path)
        go_to(page, "Analysis (forest)", "Meta-analysis")
        choose(page, "Proportion transform", "Logit")
        page.wait_for_timeout(500)
        mine = headline(page)
        assert mine != bundled
        assert session_token(page) == token  # navigation keeps the token

        # Reload: a new Streamlit session, same URL token -> the same numbers.
        page.reload()
        wait_for_app(page)
        page.get_by_text(RESTORED).first.wait_for()
        assert session_token(page) == token
        assert headline(page) == mine
        screenshot(page, "nothing_lost_after_reload")
    finally:
        stop_server(proc)

    # Restart: a new server process on the same store, the same URL -> the same numbers.
    proc, url = start_server(store_env)
    try:
        open_app(page, f"{url}/?session={token}")
        page.get_by_text(RESTORED).first.wait_for()
        assert session_token(page) == token
        assert headline(page) == mine
        transform = page.locator("[data-testid='stSelectbox']", has_text="Proportion transform")
        assert "Logit" in (transform.inner_text() + transform.locator("input").input_value())
        go_to(page, "Data", "Study data")
        page.get_by_text("journal club.csv").first.wait_for()
        screenshot(page, "nothing_lost_after_restart")
    finally:
        stop_server(proc)


def test_a_link_open_twice_gets_its_own_copy(browser, tmp_path, store_env):
    proc, url = start_server(store_env)
    first = browser.new_context(viewport={"width": 1440, "height": 1000})
    second = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = first.new_page()
        page.set_default_timeout(30_000)
        open_app(page, url)
        token = session_token(page)
        csv_path = tmp_path / "shared.csv"
        csv_path.write_text(PROPORTIONS, "utf-8")
        upload(page, csv_path)
        go_to(page, "Analysis (forest)", "Meta-analysis")
        mine = headline(page)

        # Someone opens the copied link while the first window is still open.
        other = second.new_page()
        other.set_default_timeout(30_000)
        open_app(other, f"{url}/?session={token}")
        other.get_by_text(RESTORED).first.wait_for()
        other_token = session_token(other)
        assert other_token != token
        assert headline(other) == mine

        # Their edits go to their own token: the first window's autosave is untouched.
        choose(other, "Proportion transform", "Raw proportion")
        other.wait_for_timeout(500)
        assert headline(other) != mine
        page.reload()
        wait_for_app(page)
        page.get_by_text(RESTORED).first.wait_for()
        assert headline(page) == mine
    finally:
        first.close()
        second.close()
        stop_server(proc)

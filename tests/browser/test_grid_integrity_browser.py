"""The study grid in Chromium: what is typed is stored exactly or flagged, never changed.

Each test types into the real grid (a Glide canvas: cells are found with
:mod:`devtools.data_grid`), then reads back what was *stored* through the page's
"Download CSV" button (the stored table, not the grid's own display) and the message of
the checks panel that names the row and the column. Waits are on conditions (text
appearing, the app idle); the only fixed waits are the short frames the canvas grid needs
inside the helpers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import time
from pathlib import Path

import pytest
from conftest import screenshot, wait_for_app
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from devtools.data_grid import ROW_HEIGHT, cell_centre, column_index, edit_cell, editor_grid

pytestmark = pytest.mark.browser

#: Generous waits: the machine running the tests may be busy.
SLOW = 60_000
EVENTS_T = "Events (treatment) \u00b7 ai"
TOTAL_T = "Total (treatment) \u00b7 n1i"
EVENTS_C = "Events (control) \u00b7 ci"


def open_data_page(page, server_url: str) -> None:
    """Open the app (the entry point runs once), then the Data page."""
    page.goto(server_url, timeout=SLOW)
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for(timeout=SLOW)
    page.goto(f"{server_url}/data", timeout=SLOW)
    wait_for_app(page)
    page.get_by_role("heading", name="Study data").wait_for(timeout=SLOW)
    wait_for_app(page)
    editor_grid(page)
    # Let the page settle (autosave token in the URL, no element left stale from the
    # first runs) before the first edit: an edit sent while the page is still being
    # redrawn can be lost in Streamlit's frontend (see the session note).
    page.wait_for_function("() => location.search.includes('session=')", timeout=SLOW)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=SLOW)
    wait_for_app(page)


def stored_rows(page) -> list[dict[str, str]]:
    """The stored study table, as the page's "Download CSV" button gives it.

    Waits for the app first: the button drawn by a run still going on would give the
    table of the run before.
    """
    wait_for_app(page)
    with page.expect_download(timeout=SLOW) as info:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def stored_rows_showing(page, check, timeout_s: float = 20.0) -> list[dict[str, str]]:
    """The stored table once ``check(rows)`` holds, downloaded again while it does not.

    Under a loaded machine (the suite runs files in parallel) a download clicked right
    after an edit's run has been seen, once, to return the table of the run before (the
    session note has the details). The edit must still arrive within ``timeout_s``; the
    last download is returned either way, so the caller's assertion shows what it held.
    """
    deadline = time.monotonic() + timeout_s
    rows = stored_rows(page)
    while not check(rows) and time.monotonic() < deadline:
        page.wait_for_timeout(1_000)
        rows = stored_rows(page)
    return rows


def expect_message(page, text: str) -> None:
    """Wait until the page holds ``text``.

    The checks panel's table is a canvas grid: its cells are in the grid's accessible
    table only once drawn, so the last grid on the page is scrolled into view first and
    the page's text content is searched.
    """
    deadline = time.monotonic() + SLOW / 1000
    while True:
        # The grid may be replaced by a run while it is scrolled to: then try again.
        with contextlib.suppress(PlaywrightError):
            page.locator("[data-testid='stDataFrame']").last.scroll_into_view_if_needed(
                timeout=5_000
            )
        if page.evaluate("(t) => document.body.textContent.includes(t)", text):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the page never showed {text!r}")
        page.wait_for_timeout(500)  # poll interval


def type_into(page, column: str, row: int, text: str) -> None:
    """Edit one cell and wait for the run it causes to finish."""
    edit_cell(page, column, row, text)
    wait_for_app(page)


def test_a_fraction_in_a_count_is_stored_as_typed_and_flagged(page, server_url):
    open_data_page(page, server_url)
    type_into(page, EVENTS_T, 1, "30.5")
    expect_message(page, "1 of 5 rows cannot be analysed")
    expect_message(page, "Row 1 (Jann 2020), column 'ai': '30.5' is not a whole number")
    rows = stored_rows_showing(page, lambda r: r[0]["ai"] == "30.5")
    assert rows[0]["ai"] == "30.5"  # not 305, not 30
    screenshot(page, "grid_fraction_flagged")


def test_scientific_notation_and_a_trailing_space_are_taken_as_their_value(page, server_url):
    open_data_page(page, server_url)
    type_into(page, TOTAL_T, 2, "1e3")
    expect_message(page, "'1e3' is stored as 1000")
    type_into(page, EVENTS_C, 3, "12 ")
    expect_message(page, "'12 ' is stored as 12")
    rows = stored_rows_showing(page, lambda r: (r[1]["n1i"], r[2]["ci"]) == ("1000", "12"))
    assert rows[1]["n1i"] == "1000"
    assert rows[2]["ci"] == "12"
    expect_message(page, "All 5 rows are valid")
    screenshot(page, "grid_read_as_numbers")


def test_text_in_a_number_cell_is_kept_and_flagged(page, server_url):
    open_data_page(page, server_url)
    type_into(page, EVENTS_T, 2, "twelve")
    expect_message(page, "Row 2 (Geerts 2021), column 'ai': 'twelve' is not a number.")
    type_into(page, TOTAL_T, 3, "12a")
    expect_message(page, "column 'n1i': '12a' is not a number.")
    expect_message(page, "2 of 5 rows cannot be analysed")
    rows = stored_rows_showing(page, lambda r: (r[1]["ai"], r[2]["n1i"]) == ("twelve", "12a"))
    assert rows[1]["ai"] == "twelve" and rows[2]["n1i"] == "12a"  # nothing blanked
    screenshot(page, "grid_text_flagged")


def test_first_keystrokes_in_a_new_row_are_kept(page, server_url):
    """A click on "+" then the study name typed at once: the run that "+" causes happens
    while the user types, the grid is not rebuilt under it, so nothing typed is lost.

    There is no wait for the app between "+" and the name, only for the browser's own
    cell editor (Glide opens it ~0.1 s after the click and drops synthetic keys sent
    before it, in the browser).
    """
    open_data_page(page, server_url)
    x, first_row_y = cell_centre(page, column_index(page, "Study"), 1)
    cell_editor = page.locator("#portal .gdg-input")
    page.mouse.click(x, first_row_y + 5 * ROW_HEIGHT)  # the grid's "+" row, under 5 rows
    cell_editor.wait_for()
    page.keyboard.type("New 2024", delay=30)
    expect(cell_editor).to_have_value("New 2024")
    page.keyboard.press("Tab")
    cell_editor.wait_for(state="detached")
    wait_for_app(page)
    expect_message(page, "\u2014 6 rows \u2014")
    expect_message(page, "Row 6 (New 2024), column 'ai': the value is missing")
    screenshot(page, "grid_new_row")
    new = stored_rows(page)[5]
    assert new["study"] == "New 2024" and new["include"] == "True"


def test_a_pasted_block_wider_than_the_grid_loses_nothing(page, server_url):
    """The grid drops pasted cells past its last column; the paste box keeps them."""
    open_data_page(page, server_url)
    page.get_by_text("Paste rows from a spreadsheet").click()
    block = (
        "Smith 2001\t3\t20\t1\t21\tRCT\t2001\tpain\t>=50%\tnote A\t7\nLee 2003\t30.5\t40\t12\t40"
    )
    page.get_by_label("Rows to add").fill(block)
    page.get_by_role("button", name="Add these rows").click()
    page.get_by_text("Added rows 6\u20137 from the pasted block").wait_for(timeout=SLOW)
    assert page.get_by_text("'pasted column 1', 'pasted column 2'").count() >= 1
    wait_for_app(page)
    expect_message(page, "Row 7 (Lee 2003), column 'ai': '30.5' is not a whole number")
    rows = stored_rows(page)
    assert [r["study"] for r in rows[5:]] == ["Smith 2001", "Lee 2003"]
    assert rows[5]["pasted column 1"] == "note A" and rows[5]["pasted column 2"] == "7"
    assert rows[6]["ai"] == "30.5"
    screenshot(page, "grid_pasted_block")


def test_a_subgroup_level_typed_in_the_grid_reaches_the_sidebar(page, server_url):
    """A grid edit reruns only the grid's fragment, except when the sidebar reads what
    changed: a new subgroup level must appear in the sidebar's subgroup choices."""
    page.set_viewport_size({"width": 2560, "height": 1000})  # the design column drawn too
    open_data_page(page, server_url)
    sidebar = page.locator("[data-testid='stSidebar']")
    option = page.get_by_role("option", name="design", exact=True)
    for _ in range(3):  # a run that redraws the sidebar closes a list just opened
        sidebar.get_by_role("combobox", name="Subgroup column").click()
        with contextlib.suppress(PlaywrightError):
            option.wait_for(timeout=5_000)
            break
        page.keyboard.press("Escape")
        wait_for_app(page)
    option.click()
    wait_for_app(page)
    sidebar.get_by_text("Subgroups included").wait_for(timeout=SLOW)
    assert sidebar.get_by_text("crossover").count() == 0
    type_into(page, "Subgroup (design)", 1, "crossover")
    sidebar.get_by_text("crossover").first.wait_for(timeout=SLOW)
    assert stored_rows(page)[0]["design"] == "crossover"
    screenshot(page, "grid_new_subgroup_level")

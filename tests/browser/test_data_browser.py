"""The Data page in a real browser: edit a count in the grid, upload and map a CSV.

The data editor is a canvas grid: a cell is found by clicking the first body row, moving
to the wanted column with the arrow keys (the column comes from the grid's accessible
header row), and reading where the grid opens its cell editor; the test then double-clicks
that position, types and presses Enter, as a user would.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from conftest import screenshot, wait_for_app
from playwright.sync_api import expect

from devtools.data_grid import edit_cell, editor_grid

pytestmark = pytest.mark.browser

#: Generous waits: the machine running the tests may be busy.
SLOW = 30_000

UPLOAD_CSV = (
    b"Trial;Year;IG responders;IG total;Placebo responders;Placebo group size;Notes\n"
    b"Alpha 2001;2001;12;40;5;38;first\n"
    b"Beta 2005;2005;7;25;3;26;\n"
    b"Gamma [x](http://example.com) 2010;2010;abc;30;4;31;typo\n"
    b"=1+2 Delta;2012;5;20;2;21;formula-like name\n"
)


def open_app(page, server_url: str, path: str = "") -> None:
    """Load the app at its root first (the entry point must run once), then ``path``."""
    page.goto(server_url)
    wait_for_app(page)
    page.get_by_role("heading", name="Meta-analysis").wait_for()
    if path:
        page.goto(f"{server_url}/{path}")
        wait_for_app(page)


def go_to(page, link: str, heading: str) -> None:
    """Follow a sidebar link within the session and wait for the page's title."""
    page.get_by_role("link", name=link).click()
    wait_for_app(page)
    page.get_by_role("heading", name=heading).wait_for()
    wait_for_app(page)


def grid(page):
    """The study-table editor (the first grid of the Data page)."""
    return editor_grid(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox called ``label``."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def pooled(page):
    """The pooled estimate shown on the Analysis page (a locator, for expect)."""
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Pooled").first
    return metric.locator("[data-testid='stMetricValue']")


def test_edit_count_changes_pooled_estimate(page, server_url):
    open_app(page, server_url)
    expect(pooled(page)).to_be_visible(timeout=SLOW)
    wait_for_app(page)
    before = pooled(page).inner_text()
    go_to(page, "Data", "Study data")
    edit_cell(page, "Events (treatment) \u00b7 ai", 1, "2")
    wait_for_app(page)
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_enabled(timeout=SLOW)
    go_to(page, "Analysis (forest)", "Meta-analysis")
    # (The AppTest suite checks that the number equals run_analysis for the edited table.)
    expect(pooled(page)).not_to_have_text(before, timeout=SLOW)
    # Back on the Data page the edit is still there (nothing lost by navigating).
    go_to(page, "Data", "Study data")
    expect(undo).to_be_enabled(timeout=SLOW)
    undo.click()
    expect(undo).to_be_disabled(timeout=SLOW)
    go_to(page, "Analysis (forest)", "Meta-analysis")
    expect(pooled(page)).to_have_text(before, timeout=SLOW)


def test_upload_csv_with_mapping(page, server_url, tmp_path):
    open_app(page, server_url, "data")
    page.get_by_role("heading", name="Study data").wait_for()
    path = tmp_path / "my studies.csv"
    path.write_bytes(UPLOAD_CSV)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    wait_for_app(page)
    page.get_by_text("Column mapping").first.wait_for()
    # The control group size is not recognised: pick it in the mapping step.
    wait_for_app(page)
    choose(page, "Total (control) \u00b7 n2i", "Placebo group size")
    page.get_by_text("Preview").first.wait_for()
    page.get_by_role("button", name="Use this table").click()
    wait_for_app(page)
    page.get_by_text("Loaded 'my studies.csv'").wait_for()
    # The upload is applied once: the uploader and the mapping step are gone.
    expect(page.get_by_text("Column mapping")).to_have_count(0)
    page.get_by_text("Source: Uploaded file 'my studies.csv' \u2014 4 rows").wait_for()
    header = grid(page).locator("th[role='columnheader']", has_text="Events (treatment)")
    header.first.wait_for(state="attached")
    # The bad cell is kept and flagged, with row and column named.
    page.get_by_text("1 of 4 rows cannot be analysed").wait_for()
    # Markdown in a study name is not rendered as a link.
    assert page.locator("a[href='http://example.com']").count() == 0
    # Downloads of the edited table: CSV is formula-safe, Excel opens.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert "'=1+2 Delta" in csv_text and "abc" in csv_text
    with page.expect_download() as info:
        page.get_by_role("button", name="Download Excel").click()
    assert info.value.suggested_filename == "igmeta_studies.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    cells = [row[0] for row in workbook["studies"].iter_rows(values_only=True)]
    assert cells[0] == "study" and "'=1+2 Delta" in cells
    page.wait_for_timeout(500)
    screenshot(page, "data_page")
    page.get_by_role("button", name="Undo").click()
    wait_for_app(page)
    page.get_by_text("All 5 rows are valid.").wait_for()

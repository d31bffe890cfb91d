"""Find a cell of Streamlit's data editor (a Glide canvas grid) in a Playwright page.

The grid draws on a canvas, so a cell is found by clicking the first cell of its row,
walking right with the arrow keys to the column (its position comes from the grid's
accessible header row), pressing Enter and reading where the grid opens its cell editor.
Used by the browser tests and the browser latency benchmark.
"""

from __future__ import annotations

__all__ = ["HEADER_HEIGHT", "ROW_HEIGHT", "cell_centre", "column_index", "editor_grid"]

#: Heights (CSS pixels) of the grid's header row and body rows.
HEADER_HEIGHT = 35
ROW_HEIGHT = 35


def editor_grid(page):
    """The first data grid of the page (the study-table editor on the Data page)."""
    editor = page.locator("[data-testid='stDataFrame']").first
    editor.wait_for()
    return editor


def column_index(page, column_label: str) -> int:
    """Position of the column headed ``column_label`` (0 = the row-number column)."""
    editor = editor_grid(page)
    editor.locator("th[role='columnheader']", has_text=column_label).wait_for(state="attached")
    return editor.locator("th[role='columnheader']").all_inner_texts().index(column_label)


def cell_centre(page, column: int, row: int = 1) -> tuple[float, float]:
    """Page coordinates of the centre of the cell in ``row`` (1-based) and ``column``."""
    editor = editor_grid(page)
    editor.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = editor.locator("[data-testid='data-grid-canvas']").bounding_box()
    page.mouse.click(box["x"] + 50, box["y"] + HEADER_HEIGHT + ROW_HEIGHT * (row - 0.5))
    for _ in range(column):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    cell = page.locator("#portal .gdg-input").bounding_box()
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)
    return cell["x"] + cell["width"] / 2, cell["y"] + cell["height"] / 2

"""Find a cell of Streamlit's data editor (a Glide canvas grid) in a Playwright page.

The grid draws on a canvas, so a cell is found by clicking the first cell of its row,
walking right with the arrow keys to the column (its position comes from the grid's
accessible header row), pressing Enter and reading where the grid opens its cell editor.
Used by the browser tests and the browser latency benchmark.
"""

from __future__ import annotations

__all__ = [
    "HEADER_HEIGHT",
    "ROW_HEIGHT",
    "cell_centre",
    "column_index",
    "edit_cell",
    "editor_grid",
    "grid_cell_texts",
]

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


def cell_centre(page, column: int, row: int = 1, attempts: int = 3) -> tuple[float, float]:
    """Page coordinates of the centre of the cell in ``row`` (1-based) and ``column``.

    On a busy machine the canvas may not take the first click (it is still being drawn),
    so the click is tried again, up to ``attempts`` times, until the cell editor opens.
    """
    editor = editor_grid(page)
    editor.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # one frame for the canvas after scrolling
    cell_editor = page.locator("#portal .gdg-input")
    for attempt in range(attempts):
        box = editor.locator("[data-testid='data-grid-canvas']").bounding_box()
        page.mouse.click(box["x"] + 50, box["y"] + HEADER_HEIGHT + ROW_HEIGHT * (row - 0.5))
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        try:
            cell_editor.wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: try again
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    cell = cell_editor.bounding_box()
    page.keyboard.press("Escape")
    cell_editor.wait_for(state="detached")
    return cell["x"] + cell["width"] / 2, cell["y"] + cell["height"] / 2


#: Milliseconds between keys and before Enter when editing a cell: a fast typist's pace.
TYPING_DELAY_MS = 30
PAUSE_BEFORE_ENTER_MS = 150


def edit_cell(page, column_label: str, row: int, text: str) -> None:
    """Double-click the cell of ``row`` (1-based) and ``column_label``, type, press Enter.

    Returns once the cell editor has closed; the caller waits for the app to finish the
    run the edit causes.
    """
    x, y = cell_centre(page, column_index(page, column_label), row)
    page.mouse.dblclick(x, y)
    cell_editor = page.locator("#portal .gdg-input")
    cell_editor.wait_for()
    page.wait_for_function(
        "() => document.activeElement === document.querySelector('#portal .gdg-input')"
    )
    # At a person's pace: the grid's cell editor keeps what is typed in React state, and
    # an Enter that arrives a few milliseconds after the last key (machine speed, never a
    # person's) can close the editor with the old value, so the edit is dropped.
    page.keyboard.type(text, delay=TYPING_DELAY_MS)
    page.wait_for_function(
        "(t) => document.querySelector('#portal .gdg-input')?.value === t", arg=text
    )
    page.wait_for_timeout(PAUSE_BEFORE_ENTER_MS)
    page.keyboard.press("Enter")
    cell_editor.wait_for(state="detached")


def grid_cell_texts(grid) -> list[str]:
    """Texts of the cells a grid exposes in its accessible table (the rows drawn)."""
    return grid.locator("td").all_inner_texts()

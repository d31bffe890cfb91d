"""Pasting a block of rows: igmeta.app.intake.paste and the Data page's paste box (AppTest).

The grid drops pasted cells past its last column in the browser; the paste box must keep
every cell, name the columns it added, and be one undoable step.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.intake.paste import MAX_BLOCK_CHARS, rows_from_block
from ui import state

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DATA = "pages/data.py"
COLUMNS = ["study", "ai", "n1i", "ci", "n2i", "design", "year"]


def test_block_without_header_fills_grid_order_and_keeps_extra_cells():
    block = "Smith 2001\t3\t20\t1\t21\tRCT\t2001\tnote A\t7\nLee 2003\t30.5\t40\t12 \t40"
    pasted = rows_from_block(block, COLUMNS)
    assert not pasted.header
    assert list(pasted.rows.columns) == [*COLUMNS, "pasted column 1", "pasted column 2"]
    assert pasted.rows.loc[0, "pasted column 1"] == "note A"
    assert pasted.rows.loc[1, "ai"] == "30.5" and pasted.rows.loc[1, "ci"] == "12 "
    assert pasted.rows.loc[1, "design"] is None
    assert pasted.added_columns == ("pasted column 1", "pasted column 2")
    assert "'pasted column 1', 'pasted column 2'" in pasted.messages[-1]


def test_block_with_header_goes_to_named_columns_and_adds_unknown_ones():
    block = "Study,N2I,ai,notes\nX,10,1,hello\n\nY,12,2,"
    pasted = rows_from_block(block, COLUMNS)
    assert pasted.header
    assert list(pasted.rows.columns) == ["study", "n2i", "ai", "notes"]
    assert pasted.rows["study"].tolist() == ["X", "Y"]
    assert pasted.added_columns == ("notes",)


def test_semicolons_and_quotes():
    pasted = rows_from_block('"Doe; Roe 2004";5;30', COLUMNS)
    assert pasted.rows.loc[0, "study"] == "Doe; Roe 2004"
    assert pasted.rows.loc[0, "n1i"] == "30"


@pytest.mark.parametrize("block", ["", "  \n\t\n", "x" * (MAX_BLOCK_CHARS + 1)])
def test_empty_or_huge_blocks_are_refused_with_a_message(block):
    with pytest.raises(ValueError, match="empty|upload the table as a file"):
        rows_from_block(block, COLUMNS)


def _data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(DATA)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.usefixtures("navigation_mode")
def test_paste_box_adds_rows_keeps_extra_columns_and_undoes_in_one_step():
    at = _data_page()
    before = at.session_state[state.TABLE].copy()
    at.text_area(key=state.PASTE_TEXT).input(
        # 9 grid columns (study, ai, n1i, ci, n2i, design, year, condition,
        # responder_definition) and 2 more cells in the first row.
        "Smith 2001\t3\t20\t1\t21\tRCT\t2001\tpain\t>=50%\tnote A\t7\nLee 2003\t30.5\t40\t12\t40"
    )
    at.button(key="paste_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.session_state[state.TABLE]
    assert len(table) == len(before) + 2
    added = table.iloc[len(before) :]
    assert added["study"].tolist() == ["Smith 2001", "Lee 2003"]
    assert "pasted column 1" in table.columns and "pasted column 2" in table.columns
    assert added["pasted column 1"].tolist()[0] == "note A"
    assert added["condition"].tolist()[0] == "pain"
    # 30.5 is kept as typed (the count column becomes text) and flagged by the checks.
    assert str(added["ai"].tolist()[1]) == "30.5"
    notices = " ".join(s.value for s in at.success)
    assert "Added rows 6\u20137" in notices and "pasted column 1" in notices
    messages = " ".join(str(m) for m in at.dataframe[-1].value.get("Message", []))
    assert "Row 7" in messages and "30.5" in messages
    assert at.text_area(key=state.PASTE_TEXT).value == ""
    # One undo removes the whole block.
    next(b for b in at.button if b.label == "Undo").click().run()
    assert len(at.session_state[state.TABLE]) == len(before)


@pytest.mark.usefixtures("navigation_mode")
def test_paste_box_explains_an_empty_block():
    at = _data_page()
    at.button(key="paste_add").click().run()
    assert any("pasted block is empty" in e.value for e in at.error)

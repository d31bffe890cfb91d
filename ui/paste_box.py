"""The Data page's "paste rows" box: a block copied from a spreadsheet, added as rows.

Pasting a block into the grid itself loses every cell past the grid's last column (the
grid's frontend drops them without telling the server). This box takes the block as text
and adds its rows through :func:`igmeta.app.intake.paste.rows_from_block`: cells are kept exactly as
typed, columns the table lacks are added and named in a message, and the change is one
undoable step. Invalid cells are then flagged by the checks like any typed cell.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.intake.paste import rows_from_block
from igmeta.app.intake.schema import INCLUDE_COLUMN
from igmeta.app.intake.upload import PROVENANCE_COLUMN
from ui import state
from ui.data_page import clean_table
from ui.grid import editor_column_order
from ui.text import plain

__all__ = ["add_pasted_rows", "paste_columns", "paste_section"]


def paste_columns(table: pd.DataFrame, data_type: str) -> list[str]:
    """Columns a block without a header row fills, in order (as the grid shows them,
    without the include tick box and the read-only provenance)."""
    skip = {INCLUDE_COLUMN, PROVENANCE_COLUMN}
    return [c for c in editor_column_order(table, data_type) if c not in skip]


def add_pasted_rows(text: str) -> str:
    """Add the rows of a pasted block to the stored table (undoable).

    Returns
    -------
    str
        What was done, for the user.

    Raises
    ------
    ValueError
        When the block is empty or too large (the message is for the user).
    """
    table, data_type = state.get_table(), state.get_data_type()
    pasted = rows_from_block(
        text, paste_columns(table, data_type), header_names=[str(c) for c in table.columns]
    )
    combined = pd.concat([table.astype(object), pasted.rows], ignore_index=True)
    state.set_table(clean_table(combined, data_type))
    first, last = len(table) + 1, len(combined)
    rows = f"row {first}" if first == last else f"rows {first}\u2013{last}"
    return (
        f"Added {rows} from the pasted block. "
        + " ".join(pasted.messages)
        + (" Undo removes them.")
    )


def _on_add() -> None:
    text = str(st.session_state.get(state.PASTE_TEXT) or "")
    try:
        state.set_notice(add_pasted_rows(text))
    except ValueError as exc:
        state.set_paste_error(str(exc))
        return
    st.session_state[state.PASTE_TEXT] = ""


def paste_section() -> None:
    """An expander with the paste box and its button."""
    with st.expander("Paste rows from a spreadsheet (every column kept)"):
        st.caption(
            "Paste a block copied from Excel, a CSV or another table (tab, semicolon or "
            "comma separated). With a header row, cells go to the columns it names; "
            "without one they fill the columns in the grid's order (study, then the data "
            "columns). Columns the table does not have are added, never dropped, and "
            "every cell is kept as typed; the checks then flag anything that is not usable."
        )
        st.text_area(
            "Rows to add",
            key=state.PASTE_TEXT,
            height=140,
            placeholder="Smith 2001\t3\t20\t1\t21",
        )
        st.button("Add these rows", key="paste_add", on_click=_on_add)
        problem = state.pop_paste_error()
        if problem:
            st.error(plain(problem), icon=":material/error:")

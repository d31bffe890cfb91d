"""The study grid of the Data page: every cell kept as typed, one script run per edit.

Design (issue 11)
-----------------
*Cells as typed.* Columns of numbers (the data type's columns, ``year`` and any extra
column stored as numbers) are **text** columns in the grid. Glide's number column changes
what is typed without saying so (``30.5`` with a step of 1 becomes ``305``, ``twelve``
becomes blank); a text cell keeps exactly what was typed and igmeta's own parser
(:func:`igmeta.app.intake.io.parse_numbers` via :func:`igmeta.app.intake.cells.number_column`)
reads it. A cell that is a number is stored with its exact value: ``1e3`` is stored as 1000 and
``12 `` as 12 (scientific notation is accepted because it *is* exactly that number; a note under the
grid says how such cells were read). Anything else (``twelve``, ``12a``, ``1e400``) is
stored as typed and flagged by :func:`igmeta.app.intake.validation.validate_table` with its row and
column, as are fractions, negative or huge counts and events above the total: the row
stays in the table and is left out of the analysis with the reason shown.

*One run per edit.* The grid's ``on_change`` callback (:func:`apply_edits`) reads the
grid's edit state (``edited_rows``/``added_rows``/``deleted_rows``), applies it to the
table the grid was built from and stores the result with
``state.set_table(..., from_editor=True)`` before the script runs, so the header, live
result, undo button and checks drawn in that same run already show the new table; there is
no ``st.rerun()``.

*No rebuild while typing.* A ``num_rows="dynamic"`` editor is identified by its input
data, so any change of that input (a refreshed status column, renumbered rows) makes a new
widget and throws away whatever the user is typing at that moment, e.g. the first
keystrokes in a row just added with "+". The grid therefore has **no status column**: the
checks of every row are computed from the stored table and shown right under the grid in
the same run (:func:`ui.data_page.checks_section`). The grid is rebuilt from the stored
table only

1. when the table changed outside the grid (undo, redo, reset, upload, a click in the
   forest plot: :func:`ui.state.set_table` bumps the editor key);
2. after rows were deleted (the bin icon, so the user is not typing), so that the row
   numbers of the grid match the checks again;
3. on a later run that the grid did not cause (any other button or setting), when what it
   shows differs from what is stored (``1e3`` then shows as ``1000``; added rows get
   their numbers).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.intake.cells import same_table
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COLUMN_DESCRIPTIONS,
    GROUP_COLUMN,
    INCLUDE_COLUMN,
    STUDY_COLUMN,
)
from igmeta.app.intake.upload import PROVENANCE_COLUMN, column_label, numeric_targets
from igmeta.app.intake.validation import is_missing_cell
from igmeta.risk_of_bias import TOOLS
from ui import state
from ui.data_page import clean_table, column_title, styled
from ui.text import plain

__all__ = [
    "apply_delta",
    "apply_edits",
    "editor_column_config",
    "editor_column_order",
    "editor_section",
    "grid_input",
    "has_edits",
    "number_columns",
    "read_as_notes",
    "table_from_grid",
]

#: Index column identifier of Streamlit's data editor (row numbers).
INDEX_ID = "_index"
#: At most this many "read as" notes are listed under the grid.
MAX_NOTES = 8


# --------------------------------------------------------------------------- the grid's input


def number_columns(table: pd.DataFrame, data_type: str) -> list[str]:
    """Columns shown as text but stored as numbers: the type's numbers, year, numeric extras."""
    targets = set(numeric_targets(data_type))
    columns = []
    for column in table.columns:
        dtype = table[column].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if column in targets or numeric:
            columns.append(column)
    return columns


def _number_text(value: object) -> str | None:
    """A stored cell as the grid shows it: ``12``, ``30.5``, ``1e+308``; text unchanged."""
    if is_missing_cell(value):
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(value)


def grid_input(table: pd.DataFrame, data_type: str) -> pd.DataFrame:
    """The grid's input: number columns as text, include as nullable bool, rows from 1."""
    shown = table.reset_index(drop=True).copy()
    for column in number_columns(shown, data_type):
        cells = [_number_text(v) for v in shown[column].to_numpy(dtype=object)]
        shown[column] = pd.Series(cells, index=shown.index, dtype="str")
    if INCLUDE_COLUMN in shown.columns and pd.api.types.is_bool_dtype(shown[INCLUDE_COLUMN]):
        # Nullable, so that a row added in the grid (include still blank) fits the column.
        shown[INCLUDE_COLUMN] = shown[INCLUDE_COLUMN].astype("boolean")
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


# --------------------------------------------------------------------------- edits


def has_edits(widget_state: object) -> bool:
    """Whether a data editor's widget state holds any edit, added or deleted row."""
    if not isinstance(widget_state, Mapping):
        return False
    return any(widget_state.get(part) for part in ("edited_rows", "added_rows", "deleted_rows"))


def apply_delta(shown: pd.DataFrame, delta: Mapping) -> pd.DataFrame:
    """The grid's input with its edit state applied, cells exactly as typed.

    Same order as Streamlit: cell edits (by row position), then added rows, then deleted
    rows (positions of the input's rows). Columns the table does not have are ignored (the
    grid cannot create columns).
    """
    frame = shown.reset_index(drop=True).astype(object)
    columns = list(frame.columns)
    for row, changes in (delta.get("edited_rows") or {}).items():
        position = int(row)
        for column, value in changes.items():
            if column in columns and 0 <= position < len(frame):
                frame.iat[position, columns.index(column)] = value
    added = [[row.get(column) for column in columns] for row in (delta.get("added_rows") or [])]
    if added:
        frame = pd.concat([frame, pd.DataFrame(added, columns=columns, dtype=object)])
        frame = frame.reset_index(drop=True)
    deleted = [int(p) for p in (delta.get("deleted_rows") or []) if 0 <= int(p) < len(shown)]
    if deleted:
        frame = frame.drop(index=deleted).reset_index(drop=True)
    return frame


def table_from_grid(grid: pd.DataFrame, base: pd.DataFrame, data_type: str) -> pd.DataFrame:
    """The table to store from what the grid shows (numbers read, text kept as typed)."""
    numbers = number_columns(base, data_type)
    table = clean_table(grid, data_type, numbers=numbers)
    for column in table.columns:
        text = column in base.columns and pd.api.types.is_string_dtype(base[column].dtype)
        if text and column not in numbers and column != INCLUDE_COLUMN:
            cells = table[column].to_numpy(dtype=object)
            table[column] = pd.Series(
                [None if is_missing_cell(v) else str(v) for v in cells], dtype="str"
            )
    return table


def _marker(key: str, delta: Mapping) -> tuple[str, str]:
    """What identifies an edit state already stored."""
    return key, json.dumps(delta, sort_keys=True, default=str)


def apply_edits(key: str, data_type: str) -> bool:
    """Store the grid's edit state as the study table (the grid's on_change callback).

    Idempotent: an edit state already stored is not stored again, so the page may call it
    too (it then stores edit states set without the callback, as the AppTest tests do).
    After a deletion the grid is rebuilt (see the module notes).

    Returns
    -------
    bool
        True when an edit state not stored before was handled.
    """
    delta = st.session_state.get(key)
    if not has_edits(delta):
        return False
    marker = _marker(key, delta)
    if state.grid_applied() == marker:
        return False
    state.set_grid_applied(marker)
    base = state.editor_base()
    table = table_from_grid(apply_delta(grid_input(base, data_type), delta), base, data_type)
    current = state.get_table()
    if not same_table(table, current):
        state.set_table(table, from_editor=True)
    if delta.get("deleted_rows"):
        state.refresh_editor()
    return True


def _on_edit(key: str, data_type: str) -> None:
    """The grid's on_change callback: store the edit before the script runs."""
    apply_edits(key, data_type)
    state.mark_grid_edited()


def _cells(frame: pd.DataFrame) -> list[list[object]]:
    """Cells as the grid shows them (text, bool or None), row by row."""
    rows = frame.astype(object).to_numpy().tolist()
    return [[None if is_missing_cell(v) else v for v in row] for row in rows]


def _shows_stale(key: str, data_type: str) -> bool:
    """Whether the grid shows something other than the stored table (see module notes)."""
    delta = st.session_state.get(key)
    base = state.editor_base()
    if not has_edits(delta):
        # Unchanged grid: stale only when the table was replaced without set_table.
        if base is state.get_table():
            return False
        delta = {}
    shown = apply_delta(grid_input(base, data_type), delta)
    stored = grid_input(state.get_table(), data_type).reset_index(drop=True)
    return list(shown.columns) != list(stored.columns) or _cells(shown) != _cells(stored)


def read_as_notes(grid: pd.DataFrame, table: pd.DataFrame, data_type: str) -> list[str]:
    """Cells whose text differs from the number stored, e.g. ``'1e3'`` stored as 1000."""
    notes: list[str] = []
    if len(grid) != len(table):
        return notes
    stored = grid_input(table, data_type).reset_index(drop=True)
    for column in number_columns(table, data_type):
        if column not in grid.columns:
            continue
        typed = grid[column].to_numpy(dtype=object)
        shown = stored[column].to_numpy(dtype=object)
        for position, (before, after) in enumerate(zip(typed, shown, strict=True)):
            if is_missing_cell(before) or is_missing_cell(after) or str(before) == str(after):
                continue
            notes.append(
                f"Row {position + 1}, column {column_title(column, data_type)}: "
                f"'{before}' is stored as {after}."
            )
    return notes


# --------------------------------------------------------------------------- the widget


def editor_column_config(table: pd.DataFrame, data_type: str) -> dict[str, object]:
    """Labels, help and types of the grid's columns (numbers are text columns)."""
    cc = st.column_config
    config: dict[str, object] = {
        INDEX_ID: cc.NumberColumn(
            "Row", help="Row number, as used in the checks below.", disabled=True, pinned=True
        ),
    }
    numbers = set(number_columns(table, data_type))
    for column in table.columns:
        if not isinstance(column, str):
            continue
        label = column_label(column, data_type)
        described = COLUMN_DESCRIPTIONS.get(column)
        if column == INCLUDE_COLUMN:
            config[column] = cc.CheckboxColumn(
                label, help=f"{described} Untick to leave a study out.", default=True
            )
        elif column == STUDY_COLUMN:
            config[column] = cc.TextColumn(label, help=described, width="medium")
        elif column == PROVENANCE_COLUMN:
            config[column] = cc.TextColumn(
                "Provenance",
                help="Where the row comes from: 'sourced' from the paper, or 'reconstructed' "
                "(chosen to reproduce the published pooled result). Read-only.",
                disabled=True,
            )
        elif column in _ROB_VOCABULARY:
            config[column] = _rob_column(table[column], _ROB_LABELS[column], described)
        elif column in numbers:
            what = f"{column}: {described} " if described else ""
            config[column] = cc.TextColumn(
                label,
                help=f"{what}Type a number; it is stored exactly as its value, and anything "
                "else is kept as typed and flagged in the checks below.",
            )
        elif column == GROUP_COLUMN:
            config[column] = cc.TextColumn(label, help=described)
    return config


#: Risk-of-bias column -> its judgements (select boxes in the grid), and its grid label.
_ROB_VOCABULARY = {column: tool.judgements for tool in TOOLS for column in tool.columns}
_ROB_LABELS = {
    column: f"{tool.name} {short} \u00b7 {column}"
    for tool in TOOLS
    for column, short in zip(tool.columns, tool.short_names, strict=True)
}


def _rob_column(cells: pd.Series, label: str, described: str | None):
    """A select box of the tool's judgements; other values already in the column stay
    among the options, so a cell typed outside the vocabulary is shown and kept."""
    if isinstance(cells, pd.DataFrame):
        cells = cells.iloc[:, 0]
    vocabulary = _ROB_VOCABULARY[str(cells.name)]
    typed = [_number_text(v) for v in cells.to_numpy(dtype=object)]
    others = sorted({t for t in typed if t is not None and t not in vocabulary})
    return st.column_config.SelectboxColumn(
        label,
        help=f"{described} Values outside the list are kept and flagged in the checks below.",
        options=[*vocabulary, *others],
    )


def editor_column_order(table: pd.DataFrame, data_type: str) -> list[str]:
    """Study, include, the type's numbers, the other columns, and read-only ones last.

    Read-only columns go last so that a block pasted across the grid is not silently
    skipped by one in the middle.
    """
    first = [STUDY_COLUMN, INCLUDE_COLUMN, *CANONICAL_COLUMNS.get(data_type, ())]
    present = [c for c in first if c in table.columns]
    rest = [c for c in table.columns if c not in present and c != PROVENANCE_COLUMN]
    last = [PROVENANCE_COLUMN] if PROVENANCE_COLUMN in table.columns else []
    return [*present, *rest, *last]


def editor_section() -> None:
    """The study table in an editable grid; cells read as numbers are listed under it."""
    data_type = state.get_data_type()
    edited_now = state.pop_grid_edited()
    edited_now = apply_edits(state.editor_key(), data_type) or edited_now
    if not edited_now and _shows_stale(state.editor_key(), data_type):
        state.refresh_editor()
    key = state.editor_key()
    base = state.editor_base()
    shown = grid_input(base, data_type)
    st.data_editor(
        styled(shown),
        key=key,
        on_change=_on_edit,
        args=(key, data_type),
        num_rows="dynamic",
        hide_index=False,
        column_config=editor_column_config(base, data_type),
        column_order=editor_column_order(base, data_type),
        disabled=[PROVENANCE_COLUMN],
        width="stretch",
        placeholder="",
    )
    delta = st.session_state.get(key)
    if has_edits(delta):
        notes = read_as_notes(apply_delta(shown, delta), state.get_table(), data_type)
        if notes:
            more = len(notes) - MAX_NOTES
            text = " ".join(plain(note) for note in notes[:MAX_NOTES])
            st.caption(f"Read as numbers: {text}" + (f" (+{more} more)" if more > 0 else ""))
    st.caption(
        "Double-click a cell to edit it; add a row with **+** under the table, delete rows "
        "by ticking them on the left and pressing the bin icon. Cells are kept exactly as "
        "typed; the checks right below name every cell that is not a usable number. Every "
        "change is kept and can be undone."
    )

"""The Data page: header, toolbar, row checks, templates.

The page script (``pages/data.py``) only calls the section functions here, the grid of
:mod:`ui.grid` and the upload of :mod:`ui.upload`. The decisions are
:mod:`igmeta.app.intake`'s (row status texts, typed cells, column labels, the upload's
mapping); this module draws them and caches the checks.

No user text (file names, column names, study names, cells) is rendered as Markdown
unescaped: tables go through ``st.dataframe``/``st.data_editor``, messages through
:func:`ui.text.plain`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from igmeta.app.intake.cells import include_column, is_count, number_column
from igmeta.app.intake.row_status import STATUS_INVALID, STATUS_WARNING, row_statuses
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COLUMN_DESCRIPTIONS,
    COMMON_COLUMNS,
    DATA_TYPE_LABELS,
    DATA_TYPES,
    INCLUDE_COLUMN,
    REQUIRED_COLUMN_SETS,
    STUDY_COLUMN,
    template_csv_bytes,
    template_frame,
)
from igmeta.app.intake.upload import (
    PROVENANCE_COLUMN,
    column_label,
    numeric_targets,
    required_columns_text,
)
from igmeta.app.intake.validation import ValidationReport, validate_table
from igmeta.app.outputs.safe_export import to_excel_bytes, to_safe_csv_bytes
from igmeta.datasets import is_reconstructed
from igmeta.risk_of_bias import ROB_COLUMNS
from ui import state
from ui.text import plain

__all__ = [
    "STATUS_COLUMN",
    "annotate",
    "check_summary",
    "checks_section",
    "clean_table",
    "column_title",
    "header",
    "issues_table",
    "row_status",
    "styled",
    "templates_section",
    "toolbar",
    "validate_cached",
]

#: Name of the computed status column in the editor (never stored in the table).
STATUS_COLUMN = "__igmeta_row_status__"
#: Tables with more cells than this are shown without cell colours (pandas' Styler limit).
MAX_STYLED_CELLS = 200_000
_CACHE = {"max_entries": 16, "ttl": 1800, "show_spinner": False}

_SEVERITY_COLOURS = {"error": "#fde2e1", "warning": "#fff3cd", "info": "#e7f1fb"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


# --------------------------------------------------------------------------- row status


@st.cache_data(**_CACHE)
def validate_cached(table: pd.DataFrame, data_type: str) -> ValidationReport:
    """Cached :func:`igmeta.app.intake.validation.validate_table` (decimal point)."""
    return validate_table(table, data_type)


def row_status(table: pd.DataFrame, data_type: str) -> list[str]:
    """One short status text per row (:func:`igmeta.app.intake.row_status.row_statuses`)."""
    return row_statuses(validate_cached(table, data_type), len(table))


def annotate(table: pd.DataFrame, data_type: str) -> pd.DataFrame:
    """The editor's input: the table with a status column first and 1-based row numbers."""
    shown = table.reset_index(drop=True).copy()
    if INCLUDE_COLUMN in shown.columns and pd.api.types.is_bool_dtype(shown[INCLUDE_COLUMN]):
        # Nullable, so that a row added in the grid (include still blank) fits the column.
        shown[INCLUDE_COLUMN] = shown[INCLUDE_COLUMN].astype("boolean")
    shown.insert(0, STATUS_COLUMN, pd.Series(row_status(table, data_type), dtype="str"))
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


def _status_style(value: object) -> str:
    """Cell style of the status column: red for invalid rows, amber for warnings."""
    text = str(value)
    if text.startswith(STATUS_INVALID):
        return f"background-color: {_SEVERITY_COLOURS['error']}; color: #8a1c1c"
    if text.startswith(STATUS_WARNING):
        return f"background-color: {_SEVERITY_COLOURS['warning']}; color: #6b4e00"
    return "color: #2e7d32"


def _provenance_style(value: object) -> str:
    """Reconstructed rows of the bundled data stand out in the provenance column."""
    if str(value).strip().casefold() == "reconstructed":
        return f"background-color: {_SEVERITY_COLOURS['warning']}; font-style: italic"
    return ""


def styled(shown: pd.DataFrame) -> Styler | pd.DataFrame:
    """The editor's input with the read-only status (and provenance) cells coloured.

    Streamlit applies Styler colours to read-only columns only, which is what is wanted.
    """
    if shown.size > MAX_STYLED_CELLS:
        return shown  # colours are a nicety; very large tables are shown plain
    if STATUS_COLUMN not in shown.columns and PROVENANCE_COLUMN not in shown.columns:
        return shown  # nothing to colour: a Styler would only cost time on every run
    styler = shown.style
    if STATUS_COLUMN in shown.columns:
        styler = styler.map(_status_style, subset=[STATUS_COLUMN])
    if PROVENANCE_COLUMN in shown.columns:
        styler = styler.map(_provenance_style, subset=[PROVENANCE_COLUMN])
    return styler


# --------------------------------------------------------------------------- cleaning


def clean_table(
    frame: pd.DataFrame, data_type: str, numbers: Iterable[object] = ()
) -> pd.DataFrame:
    """What an editor returned, ready to store.

    Drops the computed status column, numbers rows from 0, reads the include flag as bool
    (a new row is included) and turns a text column of the data type's numbers (or of
    ``numbers``, e.g. extra columns stored as numbers) back into numbers once every cell
    in it is a number; a column with a cell that is not a number stays text, with the
    numbers written with a decimal point and the other cells exactly as typed.
    Idempotent.
    """
    table = frame.drop(columns=[STATUS_COLUMN], errors="ignore").reset_index(drop=True)
    targets = set(numeric_targets(data_type)) | set(numbers)
    for position, column in enumerate(table.columns):
        values = table.iloc[:, position]
        if column == INCLUDE_COLUMN:
            table.isetitem(position, include_column(values))
        elif column in targets and not pd.api.types.is_numeric_dtype(values.dtype):
            table.isetitem(position, number_column(values, whole_as_int=is_count(column))[0])
    return table


# --------------------------------------------------------------------------- header


def header(table: pd.DataFrame) -> None:
    """Where the table comes from, a one-off notice, and the reconstructed rows."""
    notice = state.pop_notice()
    if notice:
        st.success(plain(notice), icon=":material/check_circle:")
    data_type = state.get_data_type()
    st.caption(
        f"Source: {plain(state.get_source())} \u2014 "
        f"{len(table)} rows \u2014 {plain(DATA_TYPE_LABELS.get(data_type, data_type))}"
    )
    reconstructed = int(is_reconstructed(table).sum())
    if reconstructed:
        st.info(
            f"{reconstructed} of {len(table)} rows are marked *reconstructed* in the "
            "Provenance column: their counts were chosen to reproduce the published pooled "
            "results and are not taken from the original papers (see *Methods & about*).",
            icon=":material/info:",
        )


def toolbar(table: pd.DataFrame) -> None:
    """Undo, redo, reset (with confirmation) and downloads of the edited table."""
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.button(
            "Undo",
            icon=":material/undo:",
            disabled=not state.can_undo(),
            help="Undo the last change to the table.",
        ):
            state.undo()
            st.rerun()
        if st.button(
            "Redo",
            icon=":material/redo:",
            disabled=not state.can_redo(),
            help="Re-apply the change you undid.",
        ):
            state.redo()
            st.rerun()
        with st.popover("Reset to the bundled IG data", icon=":material/restart_alt:"):
            st.warning(
                "This replaces the current table with the bundled immunoglobulin (IG) data. "
                "Your table is not lost: **Undo** brings it back.",
                icon=":material/warning:",
            )
            if st.button("Yes, replace my table", type="primary", icon=":material/restart_alt:"):
                state.reset_to_bundled()
                state.set_notice("The bundled IG data were restored. Undo brings back your table.")
                st.rerun()
        # Downloads sit left, next to the other actions: the grid's own toolbar appears
        # at its top right on hover and would cover buttons placed there.
        st.download_button(
            "Download CSV",
            data=lambda: to_safe_csv_bytes(table),
            file_name="igmeta_studies.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help="The table as CSV (UTF-8). Cells that a spreadsheet would run as a formula "
            "are written as text.",
        )
        st.download_button(
            "Download Excel",
            data=lambda: to_excel_bytes({"studies": table}),
            file_name="igmeta_studies.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            on_click="ignore",
            help="The table as an Excel workbook (.xlsx), formula-safe.",
        )


# --------------------------------------------------------------------------- checks


def _issue_frame(report: ValidationReport) -> pd.DataFrame:
    """The issues with readable column names, errors first within the table order.

    The study name is part of each message, so it has no column of its own; the column is
    named as in the grid's header too (``ai · Events (treatment)``).
    """
    issues = report.issues.copy()
    issues["_rank"] = issues["severity"].map(_SEVERITY_RANK).fillna(3)
    issues["_row"] = issues["row"].astype("Float64").fillna(0)
    issues = issues.sort_values(["_row", "_rank"], kind="stable")
    rows = ["table" if pd.isna(row) else str(int(row)) for row in issues["row"]]
    return pd.DataFrame(
        {
            "Row": rows,
            "Column": [column_title(c, report.data_type) for c in issues["column"]],
            "Severity": issues["severity"].to_numpy(),
            "Message": issues["message"].to_numpy(),
        }
    ).reset_index(drop=True)


def column_title(column: str, data_type: str) -> str:
    """``ai · Events (treatment)`` for a column with a label, else the column's name."""
    label = column_label(column, data_type)
    if not column or label == column:
        return column
    name = label.split(" \u00b7 ")[0]
    return f"{column} \u00b7 {name}"


def _colour_rows(row: pd.Series) -> list[str]:
    colour = _SEVERITY_COLOURS.get(str(row["Severity"]), "")
    return [f"background-color: {colour}" if colour else ""] * len(row)


def issues_table(report: ValidationReport, *, height: int | str = "auto") -> None:
    """Every issue with row, column and message, coloured by severity."""
    frame = _issue_frame(report)
    st.dataframe(
        frame.style.apply(_colour_rows, axis=1) if frame.size <= MAX_STYLED_CELLS else frame,
        hide_index=True,
        width="stretch",
        height=height,
        column_config={
            "Row": st.column_config.TextColumn(
                "Row", width=60, help="Row number in the table; 'table': the whole table."
            ),
            "Column": st.column_config.TextColumn("Column", width=170),
            "Severity": st.column_config.TextColumn("Severity", width=80),
            "Message": st.column_config.TextColumn("Message", width=700),
        },
    )


def check_summary(report: ValidationReport, size: int) -> None:
    """Counts of valid and invalid rows and the overall verdict."""
    valid = int(np.asarray(report.row_valid, bool).sum())
    invalid = size - valid
    cols = st.columns(4)
    cols[0].metric("Rows", size)
    cols[1].metric("Valid rows", valid)
    cols[2].metric("Invalid rows", invalid)
    cols[3].metric("Warnings", report.count("warning"))
    if invalid:
        st.error(
            f"{invalid} of {size} rows cannot be analysed and are left out of the analysis. "
            "They stay in the table as typed: fix the cells named below (row and column).",
            icon=":material/error:",
        )
    elif report.count("warning"):
        st.warning(
            "All rows can be analysed; some cells deserve a second look (below).",
            icon=":material/warning:",
        )
    else:
        st.success(f"All {size} rows are valid.", icon=":material/check_circle:")


def checks_section(table: pd.DataFrame) -> None:
    """The validation panel of the current table."""
    st.subheader("Checks")
    report = validate_cached(table, state.get_data_type())
    check_summary(report, len(table))
    if not report.issues.empty:
        issues_table(report)


# --------------------------------------------------------------------------- templates


def _column_docs(data_type: str) -> pd.DataFrame:
    """Column, label, meaning and whether it is required, for one data type."""
    required_sets = [set(group) for group in REQUIRED_COLUMN_SETS.get(data_type, ())]
    always = set.intersection(*required_sets) if required_sets else set()
    rows = []
    for column in (*COMMON_COLUMNS, *CANONICAL_COLUMNS.get(data_type, ()), *ROB_COLUMNS):
        if column in always:
            need = "required"
        elif any(column in group for group in required_sets):
            need = "required in one of the sets"
        elif column == STUDY_COLUMN:
            need = "recommended"
        else:
            need = "optional"
        rows.append(
            {
                "column": column,
                "shown as": column_label(column, data_type),
                "meaning": COLUMN_DESCRIPTIONS.get(column, ""),
                "needed": need,
            }
        )
    return pd.DataFrame(rows)


@st.cache_data(max_entries=2 * len(DATA_TYPES), show_spinner=False)
def template_parts(data_type: str) -> tuple[pd.DataFrame, pd.DataFrame, bytes]:
    """Column docs, example table and CSV template of one data type (cached)."""
    return _column_docs(data_type), template_frame(data_type), template_csv_bytes(data_type)


def templates_section() -> None:
    """Downloadable CSV templates and the expected formats, built only while open."""
    box = st.expander(
        "Templates and expected formats",
        icon=":material/description:",
        key=state.TEMPLATES_OPEN,
        on_change="rerun",
    )
    if not box.open:
        return  # collapsed: no tables, no CSVs
    with box:
        st.markdown(
            "One row per study. Column names may differ from these: the upload lets you "
            "say which column is which. Empty cells are missing values; `include` accepts "
            "TRUE/FALSE, yes/no, 1/0 (blank means TRUE). Extra columns are kept."
        )
        tabs = st.tabs([t.capitalize() for t in DATA_TYPES])
        for tab, data_type in zip(tabs, DATA_TYPES, strict=True):
            docs, example, csv_bytes = template_parts(data_type)
            with tab:
                st.markdown(
                    f"**{DATA_TYPE_LABELS[data_type]}.** Needs the columns "
                    f"{plain(required_columns_text(data_type))}."
                )
                st.dataframe(docs, hide_index=True, width="stretch")
                st.caption("Example")
                st.dataframe(example, hide_index=True, width="stretch")
                st.download_button(
                    f"Download the {data_type} template (CSV)",
                    data=csv_bytes,
                    file_name=f"igmeta_template_{data_type}.csv",
                    mime="text/csv",
                    icon=":material/download:",
                    on_click="ignore",
                )
